"""Public user information: the newest creators for the home page strip (names and avatars only)."""

from __future__ import annotations

from litestar import Controller, Request, Response, get

from app.accounts import users
from app.accounts.users import RecentUsers
from app.web.caching import public_json


class PublicUsersApiController(Controller):
    path = "/api/v1/users"
    tags = ["users"]

    @get("/recent", name="api:users-recent")
    async def recent(self, request: Request) -> Response[RecentUsers]:
        """The five newest users (display name and avatar, never an email) and the total number of users."""
        return public_json(request, await users.recent_users())
