"""The words a person sees for a video: a title and a file name from its prompt, the studio's names for
its model and size, and whether trying the same request again can help."""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

from app.billing.plans import SIZE_NAMES

TITLE_MAX = 60
FILE_STEM_MAX = 60


@lru_cache(maxsize=1)
def _model_names() -> dict[str, str]:
    from app.providers.registry import all_models

    return {model.id: model.name for model in all_models()}


def model_name(model_id: str) -> str:
    """ "Sora 2 Pro" for `sora-2-pro`, as the studio lists it (the id for a model no longer offered)."""
    return _model_names().get(model_id, model_id)


def size_name(resolution: str) -> str:
    """ "720×1280 portrait" for `720x1280`."""
    return SIZE_NAMES.get(resolution, resolution.replace("x", "×"))


def video_title(prompt: str) -> str:
    """The prompt's first sentence, cut at a word boundary: "A red sneaker on wet sand"."""
    text = " ".join((prompt or "").split())
    first = re.split(r"(?<=[.!?])\s", text, maxsplit=1)[0].rstrip(".!?,;: ")
    if len(first) <= TITLE_MAX:
        return first or "Untitled video"
    cut = first[:TITLE_MAX].rsplit(" ", 1)[0].rstrip(",;: ")
    return f"{cut}…"


def file_name(prompt: str, extension: str = "mp4") -> str:
    """A download name from the prompt: `a-red-sneaker-on-wet-sand.mp4` (ASCII, lower case, hyphens)."""
    ascii_text = unicodedata.normalize("NFKD", prompt or "").encode("ascii", "ignore").decode()
    words = re.findall(r"[a-z0-9]+", ascii_text.lower())
    stem = ""
    for word in words:
        if len(stem) + len(word) + 1 > FILE_STEM_MAX:
            break
        stem = f"{stem}-{word}" if stem else word
    return f"{stem or 'adsvideo'}.{extension}"


def retry_may_help(error_message: str | None) -> bool:
    """True when the failure was the service's (busy, too slow): the same request may work later.

    Anything else — moderation, an invalid request, a broken reference — fails the same way again.
    """
    from app.videos.pipeline import TRANSIENT_FAILURES

    return error_message in TRANSIENT_FAILURES


FILTERS = {
    "model_name": model_name,
    "size_name": size_name,
    "video_title": video_title,
    "file_name": file_name,
    "retry_may_help": retry_may_help,
}
