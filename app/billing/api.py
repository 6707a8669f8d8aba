"""/api/v1/billing: start a Stripe Checkout for a plan or a credit pack."""

from __future__ import annotations

import msgspec
from litestar import Controller, Request, post
from litestar.params import JSONBody

from app.billing import payments
from app.config import get_settings
from app.web.auth import user_required
from app.web.openapi import BEARER, error_responses


class CheckoutRequest(msgspec.Struct, forbid_unknown_fields=True):
    """Exactly one of `plan` (`basic` or `pro`, billed monthly) or `pack` (`small`, `medium`, `large`)."""

    plan: str | None = None
    pack: str | None = None


class CheckoutOut(msgspec.Struct):
    url: str  # send the user here to pay (Stripe's hosted checkout page)


class BillingApiController(Controller):
    path = "/api/v1/billing"
    tags = ["billing"]

    @post(
        "/checkout",
        name="api:billing-checkout",
        status_code=200,
        guards=[user_required],
        security=BEARER,
        responses=error_responses(401, 409, 422, 502),
        summary="Start paying for a plan or a credit pack",
    )
    async def checkout(self, request: Request, data: JSONBody[CheckoutRequest]) -> CheckoutOut:
        """A Stripe Checkout Session for the plan or pack; open its `url` in a browser. The plan or the
        credits are yours once Stripe confirms the payment (a few seconds after paying)."""
        offer = payments.choose_offer(data.plan, data.pack)
        return CheckoutOut(url=await payments.start_checkout(request.user, offer, get_settings()))
