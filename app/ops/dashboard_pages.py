"""The admin dashboard (/admin) and a user's admin page with their usage."""

from __future__ import annotations

from litestar import Controller, get
from litestar.params import FromPath
from litestar.plugins.htmx import HTMXRequest
from litestar.response import Template

from app.accounts import admin_users
from app.billing import plans
from app.config import get_settings
from app.ops import usage
from app.ops.dashboard_view import dashboard_context
from app.web.auth import admin_required


class AdminDashboardController(Controller):
    path = "/admin"
    guards = [admin_required]
    include_in_schema = False

    @get("/", name="admin:dashboard")
    async def dashboard(self, request: HTMXRequest) -> Template:
        """The whole page, or (htmx, on its timer) the figures alone."""
        context = dashboard_context(await usage.dashboard(), get_settings().dashboard_refresh_seconds)
        template = "partials/ops/_dashboard.html" if request.htmx else "pages/ops/dashboard.html"
        return Template(template, context=context, headers={"Vary": "HX-Request", "Cache-Control": "no-store"})

    @get("/users/{user_id:int}", name="admin:user")
    async def user(self, user_id: FromPath[int]) -> Template:
        """One user: their plan and credit forms, and what they used this month."""
        user = await admin_users.get_user_or_404(user_id)
        context = {
            "user": user,
            "users": [user],
            "plans": list(plans.PLANS.values()),
            "card": {},
            "usage": await usage.user_usage(user.id),
        }
        return Template("pages/ops/admin_user.html", context=context)
