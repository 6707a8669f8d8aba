"""Error handlers: JSON `{detail, code, status_code}` under /api, an error page or fragment elsewhere."""

from __future__ import annotations

import logging
from urllib.parse import quote

from litestar import Request, Response
from litestar.exceptions import HTTPException, ValidationException
from litestar.exceptions.http_exceptions import RequestEntityTooLarge
from litestar.response import Redirect, Template
from litestar.status_codes import HTTP_500_INTERNAL_SERVER_ERROR

from app.errors import AppError
from app.media.backend import StorageError

log = logging.getLogger("adsvideo.errors")

CODES = {
    400: "bad_request",
    401: "not_authenticated",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    413: "payload_too_large",
    415: "unsupported_media_type",
    416: "range_not_satisfiable",
    422: "validation_error",
    429: "rate_limited",
    500: "internal_error",
    503: "service_unavailable",
}
TITLES = {
    401: "Please sign in",
    403: "Not allowed",
    404: "Page not found",
    429: "Too many requests",
    500: "Something went wrong",
    503: "Temporarily unavailable",
}


def _validation_detail(exc: ValidationException) -> str:
    parts = []
    for item in exc.extra or []:
        if isinstance(item, dict):
            key = item.get("key") or item.get("source") or ""
            message = item.get("message", "")
            parts.append(f"{key}: {message}" if key else message)
    return "; ".join(p for p in parts if p) or str(exc.detail or "Invalid request.")


def describe(exc: Exception) -> tuple[int, str, str, dict[str, str]]:
    """(status, code, detail, headers) for any exception."""
    if isinstance(exc, AppError):
        return exc.status_code, exc.code, exc.detail, dict(getattr(exc, "headers", None) or {})
    if isinstance(exc, ValidationException):
        return 422, "validation_error", _validation_detail(exc), {}
    if isinstance(exc, RequestEntityTooLarge):
        from app.config import get_settings

        limit = get_settings().max_upload_mb
        return 413, "file_too_large", f"The upload is larger than {limit} MB, the most we accept.", {}
    if isinstance(exc, StorageError):
        log.error("storage failed: %s", exc)
        return (
            503,
            "storage_unavailable",
            "Our file storage is not answering right now. Please try again shortly.",
            {"Retry-After": "30"},
        )
    if isinstance(exc, HTTPException):
        status = exc.status_code
        detail = exc.detail if isinstance(exc.detail, str) and exc.detail else TITLES.get(status, "Error")
        return status, CODES.get(status, "error"), detail, dict(exc.headers or {})
    backstop = _backstop(exc)
    if backstop is not None:
        return backstop
    log.exception("unhandled error", exc_info=exc)
    return HTTP_500_INTERNAL_SERVER_ERROR, "internal_error", "Something went wrong on our side.", {}


def _backstop(exc: Exception) -> tuple[int, str, str, dict[str, str]] | None:
    """Failures that come from the input or from a dependency being away, never a bug of ours to hide
    behind a 500. The edge checks (`app.web.input_guard`) catch these first; this is the safety net."""
    from redis.exceptions import ConnectionError as RedisConnectionError
    from redis.exceptions import TimeoutError as RedisTimeoutError

    if isinstance(exc, (RedisConnectionError, RedisTimeoutError)):
        log.warning("redis unavailable: %s", exc)
        return (
            503,
            "service_unavailable",
            "A service we depend on is unavailable. Please try again in a minute.",
            {"Retry-After": "30"},
        )
    if isinstance(exc, RecursionError):
        return 400, "bad_request", "The request is nested too deeply.", {}
    if isinstance(exc, OverflowError) or _is_asyncpg_data_error(exc):
        log.info("input refused by the database: %s", exc)
        return 422, "validation_error", "A value sent is out of range or contains characters we cannot store.", {}
    return None


def _is_asyncpg_data_error(exc: Exception) -> bool:
    from asyncpg.exceptions import DataError
    from asyncpg.exceptions._base import (
        DataError as ArgumentError,  # a value asyncpg cannot encode
    )

    return isinstance(exc, (DataError, ArgumentError))


def is_api(request: Request) -> bool:
    return request.url.path.startswith("/api/")


def handle_exception(request: Request, exc: Exception) -> Response:
    status, code, detail, headers = describe(exc)
    if is_api(request):
        body = {"detail": detail, "code": code, "status_code": status}
        upgrade = getattr(exc, "upgrade_url", None)
        if upgrade:  # where a client sends its user to get (or renew) a plan
            from app.config import get_settings

            body["upgrade_url"] = f"{get_settings().base_url}{upgrade}"
        return Response(body, status_code=status, headers=headers)
    htmx = request.headers.get("hx-request") == "true"
    if status == 401:
        login = f"{request.app.route_reverse('auth:login')}?next={quote(_next_path(request), safe='/')}"
        if htmx:
            return Response(None, status_code=204, headers={"HX-Redirect": login})
        return Redirect(login)
    # An error may name the page that fixes it (e.g. pricing for a missing plan): (route name, label).
    fix = getattr(exc, "fix", None)
    context = {"status": status, "code": code, "detail": detail, "title": TITLES.get(status, "Error"), "fix": fix}
    if htmx:
        # Show the message in the toast area instead of swapping an error page into the target.
        return Template(
            "partials/_toast.html",
            context={"level": "error", "message": detail, "fix": fix},
            status_code=status,
            headers={"HX-Retarget": "#toasts", "HX-Reswap": "beforeend", **headers},
        )
    template = f"errors/{status}.html" if status in (403, 404, 500) else "errors/error.html"
    return Template(template, context=context, status_code=status, headers=headers)


def _next_path(request: Request) -> str:
    current = request.headers.get("hx-current-url")
    if current:
        from urllib.parse import urlsplit

        parts = urlsplit(current)
        return parts.path + (f"?{parts.query}" if parts.query else "")
    return request.url.path + (f"?{request.url.query}" if request.url.query else "")


EXCEPTION_HANDLERS = {Exception: handle_exception}
