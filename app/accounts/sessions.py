"""Page sessions, stored server-side only when something is put in them.

A request without a session cookie costs no store access and gets no cookie back; a session is
written (and its cookie sent) only when its data changed. Signing in gets a brand-new session id, so
a planted cookie can't be taken over. When the store (Redis) is unreachable the request goes on
without a session, and pages that need one answer 503 (`session_unavailable`).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from litestar import Request
from litestar.connection import ASGIConnection
from litestar.datastructures import Cookie, MutableScopeHeaders
from litestar.middleware import DefineMiddleware
from litestar.middleware.session.server_side import (
    ServerSideSessionBackend,
    ServerSideSessionConfig,
)
from litestar.types import ASGIApp, Message, Receive, Scope, Send
from litestar.types.empty import Empty
from litestar.utils.dataclass import extract_dataclass_items
from redis.exceptions import RedisError

from app.errors import AppError

log = logging.getLogger("adsvideo.sessions")

SESSION_COOKIE = "adsvideo_session"
# scope["state"] keys
_LOADED = "session_loaded"  # (cookie id, serialised data) read at the start of the request
_ROTATE = "session_rotate"  # give the session a new id when it is stored
_DOWN = "session_unavailable"

STORE_ERRORS = (RedisError, OSError)


class SessionUnavailable(AppError):
    status_code = 503
    code = "session_unavailable"
    default_detail = "Signing in is unavailable for a moment. Please try again in a minute."


def session_is_down(scope: Scope) -> bool:
    return bool(scope.get("state", {}).get(_DOWN))


class LazySessionBackend(ServerSideSessionBackend):
    async def load_from_connection(self, connection: ASGIConnection) -> dict[str, Any]:
        session_id = connection.cookies.get(self.config.key)
        state = connection.scope.setdefault("state", {})
        if not session_id or session_id == "null":
            return {}
        store = self.config.get_store_from_app(connection.scope["app"])
        try:
            data = await self.get(session_id, store=store)
        except STORE_ERRORS as exc:
            log.warning("session store unreachable: %s", exc)
            state[_DOWN] = True
            return {}
        state[_LOADED] = (session_id, data)
        return self.deserialize_data(data) if data is not None else {}

    async def store_in_message(self, scope_session: Any, message: Message, connection: ASGIConnection) -> None:
        scope = connection.scope
        state = scope.setdefault("state", {})
        if state.get(_DOWN):
            return
        loaded_id, loaded_data = state.get(_LOADED) or (None, None)
        if scope_session is Empty or not scope_session:
            if not loaded_id:
                return
        elif loaded_id and not state.get(_ROTATE) and self.serialize_data(scope_session, scope) == loaded_data:
            return  # unchanged: the common case, decided before anything else is prepared
        store = self.config.get_store_from_app(scope["app"])
        headers = MutableScopeHeaders.from_message(message)
        cookie_params = dict(extract_dataclass_items(self.config, exclude_none=True, include=Cookie.__dict__.keys()))
        try:
            if scope_session is Empty or not scope_session:
                if loaded_id:
                    await self.delete(loaded_id, store=store)
                    headers.add(
                        "Set-Cookie",
                        Cookie(value="null", key=self.config.key, expires=0, **cookie_params).to_header(header=""),
                    )
                return
            data = self.serialize_data(scope_session, scope)
            session_id = loaded_id if loaded_id and not state.get(_ROTATE) else self.generate_session_id()
            await self.set(session_id=session_id, data=data, store=store)
        except STORE_ERRORS as exc:
            log.warning("session not stored, the store is unreachable: %s", exc)
            return
        headers.add("Set-Cookie", Cookie(value=session_id, key=self.config.key, **cookie_params).to_header(header=""))


class LazySessionMiddleware:
    """Loads the session into `scope["session"]` and stores it when the response starts."""

    def __init__(self, app: ASGIApp, backend: LazySessionBackend) -> None:
        self.app = app
        self.backend = backend

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or _excluded(scope, self.backend.config.exclude):
            await self.app(scope, receive, send)
            return
        connection = ASGIConnection(scope, receive=receive, send=send)
        scope["session"] = await self.backend.load_from_connection(connection)

        async def wrapped_send(message: Message) -> None:
            if message["type"] == "http.response.start":
                await self.backend.store_in_message(scope.get("session"), message, connection)
            await send(message)

        await self.app(scope, receive, wrapped_send)


def _excluded(scope: Scope, patterns: str | list[str] | None) -> bool:
    if not patterns:
        return False
    path = scope["path"]
    return any(path.startswith(p) for p in ([patterns] if isinstance(patterns, str) else patterns))


@dataclass
class LazySessionConfig(ServerSideSessionConfig):
    """`ServerSideSessionConfig` whose middleware stores a session only when it holds something.

    `exclude` lists path prefixes that never touch the session (health, API, static and public media).
    """

    _backend_class = LazySessionBackend  # type: ignore[assignment]

    @property
    def middleware(self) -> DefineMiddleware:
        return DefineMiddleware(LazySessionMiddleware, backend=self._backend_class(config=self))


async def require_store(request: Request) -> None:
    """503 (`session_unavailable`) now, rather than a session silently lost, when the store is away."""
    if session_is_down(request.scope):
        raise SessionUnavailable()
    try:
        await request.app.stores.get("sessions").exists("probe")
    except STORE_ERRORS as exc:
        raise SessionUnavailable() from exc


async def start_session(request: Request, data: dict[str, Any]) -> None:
    """Replace the session (data and id) with `data`; 503 when the session store is unreachable."""
    store = request.app.stores.get("sessions")
    loaded_id, _ = request.scope.get("state", {}).get(_LOADED) or (None, None)
    try:
        if loaded_id:
            await store.delete(loaded_id)
        else:
            await store.exists("probe")
    except STORE_ERRORS as exc:
        raise SessionUnavailable() from exc
    if session_is_down(request.scope):
        raise SessionUnavailable()
    request.scope.setdefault("state", {})[_ROTATE] = True
    request.set_session(data)


def end_session(request: Request) -> None:
    request.clear_session()
