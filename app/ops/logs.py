"""Log set-up: one JSON object per line (`LOG_FORMAT=json`) or readable lines (the default), through `logging`.

Every record — ours, Litestar's, uvicorn's, Dramatiq's — goes through the same structlog processors:
the context (request id, user id, video id) is added, secrets and emails are scrubbed, and the line
is rendered once. Uvicorn's access log is switched off: the request middleware logs each request
with its route, status, duration and ids instead (and never the query string).
"""

from __future__ import annotations

import logging
import sys
from typing import Any

import structlog

from app.ops import redact

_FIXED = {"event", "level", "logger", "timestamp", "request_id", "user_id", "video_id"}
_HANDLER_NAME = "adsvideo-ops"


def _scrub(_: Any, __: str, event_dict: dict[str, Any]) -> dict[str, Any]:
    for key, item in list(event_dict.items()):
        if key in _FIXED:
            if isinstance(item, str):
                event_dict[key] = redact.text(item)
            continue
        event_dict[key] = redact.value(item, key)
    return event_dict


def _drop_internal(_: Any, __: str, event_dict: dict[str, Any]) -> dict[str, Any]:
    event_dict.pop("_record", None)
    event_dict.pop("_from_structlog", None)
    event_dict.pop("color_message", None)  # uvicorn's copy of the message with terminal colours
    # Set on the record by another handler's formatter (a test runner's); the event already says it.
    event_dict.pop("message", None)
    event_dict.pop("asctime", None)
    return event_dict


def _formatter(fmt: str) -> logging.Formatter:
    pre_chain = [
        structlog.contextvars.merge_contextvars,
        structlog.stdlib.add_log_level,
        structlog.stdlib.add_logger_name,
        structlog.stdlib.ExtraAdder(),
        structlog.processors.TimeStamper(fmt="iso", utc=True),
    ]
    if fmt == "json":
        final = [
            _drop_internal,
            structlog.processors.format_exc_info,
            _scrub,
            structlog.processors.JSONRenderer(default=str),
        ]
    else:
        final = [
            _drop_internal,
            structlog.processors.format_exc_info,
            _scrub,
            structlog.dev.ConsoleRenderer(colors=False, exception_formatter=structlog.dev.plain_traceback),
        ]
    return structlog.stdlib.ProcessorFormatter(foreign_pre_chain=pre_chain, processors=final)


def setup_logging(fmt: str = "console", level: str = "INFO", *, secrets: list[str | None] | None = None) -> None:
    """Send every log record to stderr in `fmt` ("json" or "console"); safe to call again."""
    redact.register_secrets(secrets or [])
    handler = logging.StreamHandler(sys.stderr)
    handler.set_name(_HANDLER_NAME)
    handler.setFormatter(_formatter(fmt))
    root = logging.getLogger()
    for old in list(root.handlers):
        # Ours from an earlier call, and plain stream handlers (`logging.basicConfig`'s, which the
        # `dramatiq` command installs); other handlers (a test runner's capture) stay.
        if old.get_name() == _HANDLER_NAME or type(old) is logging.StreamHandler:
            root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level.upper())
    logging.captureWarnings(True)  # library warnings become log lines too, not bare text on stderr
    for name in ("uvicorn", "uvicorn.error", "litestar", "dramatiq"):
        logger = logging.getLogger(name)
        logger.handlers.clear()
        logger.propagate = True
    access = logging.getLogger("uvicorn.access")
    access.handlers.clear()
    access.propagate = False
    access.disabled = True
    structlog.configure(
        processors=[
            structlog.contextvars.merge_contextvars,
            structlog.stdlib.add_log_level,
            structlog.stdlib.ProcessorFormatter.wrap_for_formatter,
        ],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=True,
    )
