"""Pricing, paying (Checkout, the portal, the page people return to) and the signed-in user's history."""

from __future__ import annotations

from litestar import Controller, get, post
from litestar.params import FromQuery, URLEncodedBody
from litestar.plugins.htmx import HTMXRequest
from litestar.response import Redirect, Template

from app.billing import catalogue, charges, model_catalogue, payments, plans
from app.config import get_settings
from app.web.auth import user_required
from app.web.params import PageNumber


class BillingController(Controller):
    include_in_schema = False

    @get("/pricing", name="billing:pricing")
    async def pricing(self, request: HTMXRequest) -> Template:
        return Template(
            "pages/billing/pricing.html",
            context={
                "plans": list(plans.PLANS.values()),
                "offers": catalogue.PLAN_OFFERS,
                "packs": catalogue.PACK_OFFERS,
                "models": model_catalogue.MODELS,
                "model_names": plans.MODEL_NAMES,
                "size_names": plans.SIZE_NAMES,
                "notice": request.query_params.get("notice"),
                "in_flight": {p.value: get_settings().jobs_in_flight_cap(p.value) for p in plans.PLANS},
            },
        )

    @post("/billing/checkout", name="billing:checkout", guards=[user_required], status_code=303)
    async def checkout(self, request: HTMXRequest, data: URLEncodedBody[dict[str, str]]) -> Redirect:
        """Off to Stripe's hosted checkout page for the chosen plan or pack."""
        offer = payments.choose_offer(data.get("plan"), data.get("pack"))
        return Redirect(await payments.start_checkout(request.user, offer, get_settings()), status_code=303)

    @post("/billing/portal", name="billing:portal", guards=[user_required], status_code=303)
    async def portal(self, request: HTMXRequest) -> Redirect:
        """Off to Stripe's customer portal: change plan, update the card, cancel, see invoices."""
        return Redirect(await payments.portal_url(request.user, get_settings()), status_code=303)

    @get("/billing/done", name="billing:done", guards=[user_required])
    async def done(self, request: HTMXRequest, session_id: FromQuery[str] = "") -> Template:
        """Where Checkout sends the payer back: what happened and the balance now (with htmx, the status part)."""
        outcome = await payments.checkout_outcome(request.user, session_id, get_settings())
        template = "partials/billing/_done.html" if request.htmx else "pages/billing/done.html"
        return Template(
            template,
            context={"outcome": outcome, "account": request.user, "session_id": session_id},
            headers={"Vary": "HX-Request"},
        )

    @get("/account/invoices", name="billing:invoices", guards=[user_required])
    async def invoices(self, request: HTMXRequest) -> Template:
        """The invoices section of /account (loaded by htmx; Stripe hosts each invoice)."""
        lines = await payments.invoices(request.user, get_settings())
        return Template("partials/billing/_invoices.html", context={"invoices": lines, "account": request.user})

    @get("/account/ledger", name="billing:ledger", guards=[user_required])
    async def ledger(self, request: HTMXRequest, page: FromQuery[PageNumber] = 1) -> Template:
        """The whole page, or with HX-Request just the `#ledger` section (for paging and /account)."""
        history = await charges.ledger_page(request.user.id, page)
        template = "partials/billing/_ledger.html" if request.htmx else "pages/billing/ledger.html"
        return Template(template, context={"history": history}, headers={"Vary": "HX-Request"})
