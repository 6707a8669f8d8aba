"""/api/v1/users: the caller's profile and credits."""

from __future__ import annotations

import msgspec
from litestar import Controller, Request, get, patch
from litestar.params import JSONBody

from app.accounts import users as users_service
from app.accounts.schemas import CreditsOut, ProfileUpdate, UserOut, user_out
from app.web.auth import user_required
from app.web.openapi import BEARER


class UsersController(Controller):
    path = "/api/v1/users"
    tags = ["users"]
    guards = [user_required]
    security = BEARER

    @get("/profile", name="api:users-profile", summary="The signed-in user's profile")
    async def profile(self, request: Request) -> UserOut:
        return user_out(request.user)

    @patch("/profile", name="api:users-profile-update", summary="Change name and avatar URL")
    async def update_profile(self, request: Request, data: JSONBody[ProfileUpdate]) -> UserOut:
        user = await users_service.update_profile(
            request.user.id,
            name=None if data.name is msgspec.UNSET else data.name,
            avatar_url=None if data.avatar_url is msgspec.UNSET else (data.avatar_url or ""),
        )
        return user_out(user)

    @get("/credits", name="api:users-credits", summary="The signed-in user's credit balance")
    async def credits(self, request: Request) -> CreditsOut:
        user = request.user
        return CreditsOut(
            credits=user.credits,
            subscription_plan=user.subscription_plan,
            subscription_status=user.subscription_status,
        )
