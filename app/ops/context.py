"""What every log line and error report is about: the request id, the user id and, in a job, the video id.

Kept in context variables (through structlog's), so they follow a request through `await`s and
threads started with a copied context, and are empty again outside of it.
"""

from __future__ import annotations

import re
import uuid
from typing import Any

import structlog

# A request id we accept from a client or a proxy: short and harmless in a log line.
_VALID_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:-]{1,64}$")
# The fields a job carries from the request that enqueued it.
CARRIED = ("request_id", "user_id")


def new_request_id() -> str:
    return uuid.uuid4().hex


def accept_request_id(value: str | None) -> str:
    """The client's `X-Request-ID` when it is a sane token, otherwise a fresh one."""
    if value and _VALID_REQUEST_ID.match(value):
        return value
    return new_request_id()


def bind(**fields: Any) -> None:
    structlog.contextvars.bind_contextvars(**{k: v for k, v in fields.items() if v is not None})


def clear() -> None:
    structlog.contextvars.clear_contextvars()


def current() -> dict[str, Any]:
    return structlog.contextvars.get_contextvars()


def carried() -> dict[str, Any]:
    """The part of the current context a job should carry (for the message options)."""
    fields = current()
    return {name: fields[name] for name in CARRIED if fields.get(name) is not None}
