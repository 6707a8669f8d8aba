"""Keep the header's credits chip current: htmx responses that change a balance carry it out of band."""

from __future__ import annotations

from litestar import Request
from litestar.response import Template

from app.accounts import users as users_service
from app.web.templating import render


async def credits_chip(user_id: int) -> str:
    """The header's credits element, marked for an out-of-band swap."""
    user = await users_service.get_user(user_id)
    return render("partials/_header_credits.html", credits=user.credits if user else 0, oob=True)


async def with_credits_oob(request: Request, template: Template) -> Template:
    """`template` with the fresh credits chip appended (htmx swaps it into the header by id)."""
    template.context = {**(template.context or {}), "credits_oob": await credits_chip(request.user.id)}
    return template
