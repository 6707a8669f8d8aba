"""Pricing and the signed-in user's credit history."""

from __future__ import annotations

from litestar import Controller, get
from litestar.params import FromQuery
from litestar.plugins.htmx import HTMXRequest
from litestar.response import Template

from app.billing import charges, plans
from app.billing.pricing import PRICES
from app.web.auth import user_required


class BillingController(Controller):
    include_in_schema = False

    @get("/pricing", name="billing:pricing")
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

    @get("/account/ledger", name="billing:ledger", guards=[user_required])
    async def ledger(self, request: HTMXRequest, page: FromQuery[int] = 1) -> Template:
        """The whole page, or with HX-Request just the `#ledger` section (for paging and /account)."""
        history = await charges.ledger_page(request.user.id, page)
        template = "partials/billing/_ledger.html" if request.htmx else "pages/billing/ledger.html"
        return Template(template, context={"history": history}, headers={"Vary": "HX-Request"})
