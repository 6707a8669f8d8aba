"""Pricing and the signed-in user's credit history."""

from __future__ import annotations

from litestar import Controller, get
from litestar.plugins.htmx import HTMXRequest
from litestar.params import FromQuery
from litestar.response import Template

from app.pricing import PRICES
from app.services import billing, plans
from app.web.auth import user_required


class BillingController(Controller):
    include_in_schema = False

    @get("/pricing", name="pricing")
    async def pricing(self, request: HTMXRequest) -> Template:
        return Template(
            "pages/billing/pricing.html",
            context={
                "plans": list(plans.PLANS.values()),
                "prices": PRICES,
                "model_names": plans.MODEL_NAMES,
                "size_names": plans.SIZE_NAMES,
            },
        )

    @get("/account/ledger", name="account-ledger", guards=[user_required])
    async def ledger(self, request: HTMXRequest, page: FromQuery[int] = 1) -> Template:
        """The whole page, or with HX-Request just the `#ledger` section (for paging and /account)."""
        history = await billing.ledger_page(request.user.id, page)
        template = "partials/account/_ledger.html" if request.htmx else "pages/account/ledger.html"
        return Template(template, context={"history": history}, headers={"Vary": "HX-Request"})
