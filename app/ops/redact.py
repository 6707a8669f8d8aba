"""Keep secrets and personal data out of logs and error reports.

Two layers: fields whose *name* says they are sensitive are replaced whole, and every string is
scanned for things that look like an email address, a bearer token, a JWT or a `key=value` secret.
Known secret values (the app's keys) are registered at start-up and replaced wherever they appear.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

REDACTED = "[redacted]"
SENSITIVE_KEYS = re.compile(
    r"pass(word)?|secret|token|authorization|cookie|session|csrf|api[-_]?key|credential|email|dsn|signature",
    re.IGNORECASE,
)
_PATTERNS = [
    # credentials in a URL (postgres://user:password@host)
    (re.compile(r"(://[^:/@\s]+:)[^@\s]+@"), r"\1" + REDACTED + "@"),
    # e-mail addresses
    (re.compile(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}"), "[email]"),
    # JWTs (three base64url parts, the first one a JSON header)
    (re.compile(r"eyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]*"), REDACTED),
    # Authorization header values
    (re.compile(r"(?i)\b(bearer|basic)\s+[A-Za-z0-9._~+/=-]{8,}"), r"\1 " + REDACTED),
    # key=value / key: value pairs whose key is sensitive (query strings, cookies, repr()s)
    (
        re.compile(
            r"(?i)\b([\w-]*(?:token|secret|password|api[-_]?key|session|csrf|cookie)[\w-]*)"
            r"(['\"]?\s*[=:]\s*['\"]?)([^\s&;,'\"]{4,})"
        ),
        r"\1\2" + REDACTED,
    ),
    # the OAuth callback's one-time code and state in a query string
    (re.compile(r"([?&](?:code|state)=)[^&\s\"']+"), r"\1" + REDACTED),
]
_known: set[str] = set()


def register_secrets(values: Iterable[str | None]) -> None:
    """Values (keys, API secrets) that must never appear in a log line, whatever field they are in."""
    _known.update(v for v in values if v and len(v) >= 8)


def text(value: str) -> str:
    for secret in _known:
        if secret in value:
            value = value.replace(secret, REDACTED)
    for pattern, replacement in _PATTERNS:
        value = pattern.sub(replacement, value)
    return value


def value(item: Any, key: str | None = None) -> Any:
    """`item` with sensitive fields replaced and every string scanned, recursively."""
    if key is not None and SENSITIVE_KEYS.search(key) and item not in (None, "", [], {}):
        return REDACTED
    if isinstance(item, str):
        return text(item)
    if isinstance(item, dict):
        return {k: value(v, str(k)) for k, v in item.items()}
    if isinstance(item, (list, tuple)):
        return type(item)(value(v) for v in item)
    return item
