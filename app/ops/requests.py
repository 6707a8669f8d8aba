"""Per request: an id (from `X-Request-ID` or made, echoed back), metrics by route template, one log line.

`RequestContext` wraps the whole ASGI app, so 404s and errors raised before routing are counted too.
`UserContext` runs inside Litestar after authentication and adds the signed-in user's id (never the
email) to the log context and, when error tracking is on, to the error report with the request id.
"""

from __future__ import annotations

import logging
import time
from typing import Any

import sentry_sdk
from litestar.middleware import MiddlewareProtocol
from litestar.types import ASGIApp, Message, Receive, Scope, Send

from app.ops import context, metrics

log = logging.getLogger("adsvideo.http")

HEADER = "x-request-id"
UNMATCHED = "unmatched"
# Routes polled by machines: logged at DEBUG so they don't drown the rest (still counted).
QUIET_PREFIXES = ("/healthz", "/readyz", "/metrics", "/static/")


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope.get("headers", []):
        if key == name:
            return value.decode("latin-1")
    return None


class RequestContext:
    """ASGI wrapper (outermost): request id, HTTP metrics and the request's log line."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        outer = context.current()
        request_id = context.accept_request_id(_header(scope, HEADER.encode()))
        context.bind(request_id=request_id)
        scope.setdefault("state", {})["request_id"] = request_id
        started = time.perf_counter()
        status = {"code": 500, "sent": False}

        async def send_with_id(message: Message) -> None:
            if message["type"] == "http.response.start" and not status["sent"]:
                status.update(code=message["status"], sent=True)
                message = {**message, "headers": [*message.get("headers", []), (HEADER.encode(), request_id.encode())]}
                metrics.HTTP_DURATION.labels(scope["method"], _route(scope)).observe(time.perf_counter() - started)
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            route = _route(scope)
            metrics.HTTP_REQUESTS.labels(scope["method"], route, str(status["code"])).inc()
            quiet = scope["path"].startswith(QUIET_PREFIXES) and status["code"] < 400
            log.log(
                logging.DEBUG if quiet else logging.INFO,
                "request",
                extra={
                    "method": scope["method"],
                    "route": route,
                    "status": status["code"],
                    "duration_ms": round((time.perf_counter() - started) * 1000, 1),
                },
            )
            context.clear()
            context.bind(**outer)


def _route(scope: Scope) -> str:
    """The route template (`/videos/{video_id}`), never the raw path (bounded label values)."""
    return scope.get("path_template") or UNMATCHED


class UserContext(MiddlewareProtocol):
    """Litestar middleware, after authentication: the user id for logs and error reports."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        user: Any = scope.get("user")
        user_id = getattr(user, "id", None)
        if user_id is not None:
            context.bind(user_id=user_id)
        if sentry_sdk.get_client().is_active():  # its integration gave this request a scope of its own
            request_id = scope.get("state", {}).get("request_id")
            if request_id:
                sentry_sdk.set_tag("request_id", request_id)
            sentry_sdk.set_user({"id": str(user_id)} if user_id is not None else None)
        await self.app(scope, receive, send)
