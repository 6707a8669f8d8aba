"""/account: profile (edited in place with htmx), plan and credits."""

from __future__ import annotations

from litestar import Controller, Request, get, post
from litestar.params import URLEncodedBody
from litestar.response import Redirect, Response, Template

from app.accounts import users as users_service
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
            context={"account": user, "form": {"name": user.name, "avatar_url": user.avatar_url or ""}, "errors": {},
                     "usage": await usage.user_usage(user.id)},
        )

    @post("/account/profile", name="account:profile")
    async def update_profile(self, request: Request, data: URLEncodedBody[dict[str, str]]) -> Response:
        form = {"name": data.get("name", ""), "avatar_url": data.get("avatar_url", "")}
        htmx = bool(request.headers.get("hx-request"))
        try:
            user = await users_service.update_profile(request.user.id, **form)
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
