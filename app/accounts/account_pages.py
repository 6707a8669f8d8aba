"""/account: profile (edited in place with htmx), plan and credits."""

from __future__ import annotations

from litestar import Controller, Request, get, post
from litestar.params import URLEncodedBody
from litestar.response import Redirect, Response, Template

from app.accounts import users as users_service
from app.errors import ValidationFailed
from app.limits.rates import RATE_LIMIT_OPT
from app.media.upload_limits import read_file_field
from app.media.uploads import require_file
from app.ops import usage
from app.web.auth import user_required

FORM = "partials/accounts/_profile_form.html"


class AccountController(Controller):
    include_in_schema = False
    guards = [user_required]

    @get("/account", name="account:index")
    async def index(self, request: Request) -> Template:
        user = request.user
        return Template(
            "pages/accounts/account.html",
            context={
                "account": user,
                "form": {"name": user.name, "avatar_url": user.avatar_url or ""},
                "errors": {},
                "usage": await usage.user_usage(user.id),
            },
        )

    @post("/account/avatar", name="account:avatar", opt={RATE_LIMIT_OPT: "upload"})
    async def avatar(self, request: Request) -> Response:
        """Upload a new picture (multipart `file`), or remove it (`remove` set); back to the account page."""
        data, fields = await read_file_field(request)
        user = request.user
        try:
            if fields.get("remove"):
                user = await users_service.remove_avatar(user.id)
            else:
                user = await users_service.set_avatar(user.id, require_file(data))
        except ValidationFailed as exc:
            form = {"name": user.name, "avatar_url": user.avatar_url or ""}
            context = {"account": user, "form": form, "errors": {"avatar": exc.detail}}
            return Template("pages/accounts/account.html", context=context, status_code=422)
        return Redirect("/account", status_code=303)

    @post("/account/profile", name="account:profile")
    async def update_profile(self, request: Request, data: URLEncodedBody[dict[str, str]]) -> Response:
        form = {"name": data.get("name", ""), "avatar_url": request.user.avatar_url or ""}
        htmx = bool(request.headers.get("hx-request"))
        try:
            user = await users_service.update_profile(request.user.id, name=form["name"])
        except users_service.ProfileInvalid as exc:
            context = {"account": request.user, "form": form, "errors": exc.errors}
            return Template(FORM if htmx else "pages/accounts/account.html", context=context, status_code=422)
        if not htmx:
            return Redirect(request.app.route_reverse("account:index"), status_code=303)
        context = {
            "account": user,
            "form": {"name": user.name, "avatar_url": user.avatar_url or ""},
            "errors": {},
            "saved": True,
            "oob_avatar": True,
        }
        return Template(FORM, context=context, status_code=200)
