"""Administrators: find users, set their plan and end date, correct their credits."""

from __future__ import annotations

from litestar import Controller, get, post
from litestar.params import FromPath, FromQuery
from litestar.plugins.htmx import HTMXRequest
from litestar.response import Template

from app.accounts import admin_users
from app.billing import plans
from app.errors import AppError, NotFound
from app.web.auth import admin_required


def _card(
    request: HTMXRequest, user, *, error: str = "", notice: str = "", form: str = "", values: dict | None = None
) -> Template:
    """The user's card alone (htmx swaps it in place) or the page around it (plain form posts)."""
    context = {
        "users": [user],
        "q": user.email,
        "plans": list(plans.PLANS.values()),
        "card": {"user_id": user.id, "error": error, "notice": notice, "form": form, "values": values or {}},
    }
    status = 422 if error else 200
    if request.htmx:
        return Template("partials/accounts/_admin_user.html", context={**context, "user": user}, status_code=status)
    return Template("pages/accounts/admin_users.html", context=context, status_code=status)


class AdminUsersController(Controller):
    path = "/admin/users"
    guards = [admin_required]
    include_in_schema = False

    @get("/", name="admin:users")
    async def index(self, request: HTMXRequest, q: FromQuery[str] = "") -> Template:
        users = await admin_users.search_users(q)
        context = {"users": users, "q": q, "plans": list(plans.PLANS.values()), "card": {}}
        template = "partials/accounts/_admin_results.html" if request.htmx else "pages/accounts/admin_users.html"
        return Template(template, context=context, headers={"Vary": "HX-Request"})

    @post("/{user_id:int}/plan", name="admin:user-plan", status_code=200)
    async def set_plan(self, request: HTMXRequest, user_id: FromPath[int]) -> Template:
        data = await request.form()
        try:
            user = await admin_users.set_plan_from_form(
                user_id, data.get("plan", ""), data.get("end_date", ""), data.get("grant") == "on"
            )
        except NotFound:
            raise
        except AppError as exc:
            user = await admin_users.get_user_or_404(user_id)
            return _card(request, user, error=exc.detail, form="plan", values=dict(data))
        info = plans.plan_info(user.subscription_plan)
        return _card(request, user, notice=f"Now on the {info.title} plan.", form="plan")

    @post("/{user_id:int}/credits", name="admin:user-credits", status_code=200)
    async def grant(self, request: HTMXRequest, user_id: FromPath[int]) -> Template:
        data = await request.form()
        try:
            user = await admin_users.grant_from_form(user_id, data.get("amount", ""), data.get("reason", ""))
        except NotFound:
            raise
        except AppError as exc:
            user = await admin_users.get_user_or_404(user_id)
            return _card(request, user, error=exc.detail, form="credits", values=dict(data))
        return _card(request, user, notice=f"Balance is now {user.credits:,} credits.", form="credits")
