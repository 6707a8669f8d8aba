"""Fault injection shared by the emulators: `[fault:kind]` / `[fault:kindxN]` markers in a prompt, or the
same tokens, comma-separated, in an `x-emulator-fault` header; request faults count down per prompt."""

from __future__ import annotations

import re
import threading

_MARKER = re.compile(r"\[fault:([a-z0-9-]+?)(?:x(\d+))?\]", re.IGNORECASE)
_TOKEN = re.compile(r"^([a-z0-9-]+?)(?:x(\d+))?$", re.IGNORECASE)
REQUEST_FAULTS = {"429", "500", "502", "503"}


def parse_faults(text: str, header: str | None, known: set[str]) -> dict[str, int]:
    """Fault kinds (among `known`) with their counts, from the markers in `text` and the header."""
    found: dict[str, int] = {}
    for kind, count in _MARKER.findall(text or ""):
        if kind.lower() in known:
            found[kind.lower()] = int(count or 1)
    for token in (header or "").split(","):
        match = _TOKEN.match(token.strip())
        if match and match.group(1).lower() in known:
            found[match.group(1).lower()] = int(match.group(2) or 1)
    return found


def caption_of(text: str) -> str:
    """The prompt as people wrote it: fault markers removed."""
    return " ".join(_MARKER.sub(" ", text or "").split())


class RequestFaults:
    """How many of each request fault a prompt still has to answer with (counted per prompt, per emulator)."""

    def __init__(self) -> None:
        self._left: dict[tuple[str, str], int] = {}
        self._lock = threading.Lock()

    def take(self, faults: dict[str, int], prompt: str) -> str | None:
        """The request fault this call must answer with, counting it down; None when it must succeed."""
        with self._lock:
            for kind in sorted(REQUEST_FAULTS & faults.keys()):
                key = (kind, prompt)
                left = self._left.setdefault(key, faults[kind])
                if left > 0:
                    self._left[key] = left - 1
                    return kind
        return None
