"""/api/v1/users: the caller's profile and credits."""

from __future__ import annotations

from datetime import datetime

import msgspec
from litestar import Controller, Request, get, patch
from litestar.params import JSONBody

from app.accounts import users as users_service
from app.tables import Users
from app.web.auth import user_required
from app.web.openapi import BEARER


class UserOut(msgspec.Struct):
    id: int
    email: str
    name: str
    avatar_url: str | None
    credits: int
    subscription_plan: str
    subscription_status: str
    subscription_start_date: datetime | None
    subscription_end_date: datetime | None
    is_admin: bool
    created_at: datetime


def user_out(user: Users) -> UserOut:
    return UserOut(
        id=user.id,
        email=user.email,
        name=user.name,
        avatar_url=user.avatar_url,
        credits=user.credits,
        subscription_plan=user.subscription_plan,
        subscription_status=user.subscription_status,
        subscription_start_date=user.subscription_start_date,
        subscription_end_date=user.subscription_end_date,
        is_admin=user.is_admin,
        created_at=user.created_at,
    )


class ProfileUpdate(msgspec.Struct, forbid_unknown_fields=True):
    """Editable fields only; email and Google id come from Google and cannot be changed here."""

    name: str | msgspec.UnsetType = msgspec.UNSET
    avatar_url: str | None | msgspec.UnsetType = msgspec.UNSET


class CreditsOut(msgspec.Struct):
    credits: int
    subscription_plan: str
    subscription_status: str


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
