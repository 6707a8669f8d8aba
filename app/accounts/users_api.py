"""/api/v1/users: the caller's profile and credits."""

from __future__ import annotations

import msgspec
from litestar import Controller, Request, delete, get, patch, put
from litestar.params import JSONBody

from app.accounts import users as users_service
from app.accounts.schemas import CreditsOut, ProfileUpdate, UserOut, user_out
from app.limits.rates import RATE_LIMIT_OPT
from app.media.upload_limits import read_file_field
from app.media.uploads import require_file
from app.web.auth import user_required
from app.web.openapi import BEARER, MultipartUpload, error_responses


class UsersController(Controller):
    path = "/api/v1/users"
    tags = ["users"]
    guards = [user_required]
    security = BEARER

    @get("/profile", name="api:users-profile", summary="The signed-in user's profile")
    async def profile(self, request: Request) -> UserOut:
        return user_out(request.user)

    @patch(
        "/profile",
        name="api:users-profile-update",
        summary="Change your name (or clear your avatar with avatar_url null)",
    )
    async def update_profile(self, request: Request, data: JSONBody[ProfileUpdate]) -> UserOut:
        user = await users_service.update_profile(
            request.user.id,
            name=None if data.name is msgspec.UNSET else data.name,
            avatar_url=None if data.avatar_url is msgspec.UNSET else (data.avatar_url or ""),
        )
        return user_out(user)

    @put(
        "/avatar",
        name="api:users-avatar",
        summary="Upload a new avatar picture",
        operation_class=MultipartUpload,
        opt={RATE_LIMIT_OPT: "upload"},
        responses=error_responses(413, 422, 429),
    )
    async def upload_avatar(self, request: Request) -> UserOut:
        """A JPEG, PNG or WebP in the multipart field `file`; stored here as a 256×256 picture (the
        profile's `avatar_url`). Pictures are never linked from other sites."""
        data, _ = await read_file_field(request)
        return user_out(await users_service.set_avatar(request.user.id, require_file(data)))

    @delete("/avatar", name="api:users-avatar-remove", status_code=200, summary="Remove your avatar picture")
    async def remove_avatar(self, request: Request) -> UserOut:
        return user_out(await users_service.remove_avatar(request.user.id))

    @get("/credits", name="api:users-credits", summary="The signed-in user's credit balance")
    async def credits(self, request: Request) -> CreditsOut:
        user = request.user
        return CreditsOut(
            credits=user.credits,
            subscription_plan=user.subscription_plan,
            subscription_status=user.subscription_status,
        )
