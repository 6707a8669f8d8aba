"""Who is asking: the page session for pages, a bearer token for /api; guards that require one.

The two never mix: /api/ ignores the session cookie (so it needs no CSRF) and pages ignore
`Authorization` headers.
"""

from __future__ import annotations

from typing import Any

from litestar.connection import ASGIConnection
from litestar.handlers.base import BaseRouteHandler
from litestar.middleware import AbstractAuthenticationMiddleware, AuthenticationResult

from app.accounts import tokens
from app.accounts import users as users_service
from app.accounts.sessions import SessionUnavailable, session_is_down
from app.errors import AuthenticationRequired, Forbidden


async def authenticate_bearer(authorization: str | None) -> tuple[Any, AuthenticationRequired | None]:
    """(user, None) for a valid access token; (None, why not) otherwise (None, None when absent)."""
    if not authorization:
        return None, None
    scheme, _, token = authorization.strip().partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return None, tokens.InvalidToken("Send the access token as `Authorization: Bearer <token>`.")
    try:
        claims = tokens.decode_access_token(token.strip())
    except tokens.InvalidToken as exc:
        return None, exc
    user = await users_service.get_user_of_live_family(claims.user_id, claims.family)
    if user is not None:
        return user, None
    if not await tokens.family_is_active(claims.family):
        return None, tokens.InvalidToken("This session was signed out. Sign in again.", code="token_revoked")
    return None, tokens.InvalidToken("The account for this token no longer exists.")


async def user_from_bearer(authorization: str | None) -> Any:
    """The user a bearer access token names; None when absent or not valid."""
    user, _ = await authenticate_bearer(authorization)
    return user


class AuthMiddleware(AbstractAuthenticationMiddleware):
    """Sets `request.user` (a Users row or None); never rejects by itself — guards do."""

    async def authenticate_request(self, connection: ASGIConnection) -> AuthenticationResult:
        if connection.url.path.startswith("/api/"):
            user, error = await authenticate_bearer(connection.headers.get("authorization"))
            if error is not None:
                connection.scope.setdefault("state", {})["auth_error"] = error
            return AuthenticationResult(user=user, auth=None)
        user_id = connection.scope.get("session", {}).get("user_id") if connection.scope.get("session") else None
        user = await users_service.get_user(int(user_id)) if user_id else None
        return AuthenticationResult(user=user, auth="session" if user else None)


# Guards are coroutines: Litestar runs a plain function in a worker thread, a hop on every request.
async def user_required(connection: ASGIConnection, _: BaseRouteHandler) -> None:
    if connection.scope["method"] == "OPTIONS":
        return  # OPTIONS only answers which methods exist (`Allow`); it reads nothing
    if connection.scope.get("user") is None:
        if session_is_down(connection.scope):
            raise SessionUnavailable()
        error = connection.scope.get("state", {}).get("auth_error")
        raise error if error is not None else AuthenticationRequired()


async def admin_required(connection: ASGIConnection, _: BaseRouteHandler) -> None:
    await user_required(connection, _)
    if connection.scope["method"] == "OPTIONS":
        return
    if not connection.user.is_admin:
        raise Forbidden("This page is for administrators.")
