"""Who is asking: the page session for pages, a bearer token for /api; guards that require one."""

from __future__ import annotations

from typing import Any

from litestar.connection import ASGIConnection
from litestar.handlers.base import BaseRouteHandler
from litestar.middleware import AbstractAuthenticationMiddleware, AuthenticationResult

from app.errors import AuthenticationRequired, Forbidden
from app.services import users as users_service


async def user_from_bearer(authorization: str | None) -> Any:
    """The user a bearer access token names (the sign-in issue fills this in); None when absent."""
    return None


class AuthMiddleware(AbstractAuthenticationMiddleware):
    """Sets `request.user` (a Users row or None); never rejects by itself — guards do."""

    async def authenticate_request(self, connection: ASGIConnection) -> AuthenticationResult:
        if connection.url.path.startswith("/api/"):
            user = await user_from_bearer(connection.headers.get("authorization"))
            return AuthenticationResult(user=user, auth="bearer" if user else None)
        user_id = connection.scope.get("session", {}).get("user_id") if connection.scope.get("session") else None
        user = await users_service.get_user(int(user_id)) if user_id else None
        return AuthenticationResult(user=user, auth="session" if user else None)


def user_required(connection: ASGIConnection, _: BaseRouteHandler) -> None:
    if connection.user is None:
        raise AuthenticationRequired()


def admin_required(connection: ASGIConnection, _: BaseRouteHandler) -> None:
    user_required(connection, _)
    if not connection.user.is_admin:
        raise Forbidden("This page is for administrators.")
