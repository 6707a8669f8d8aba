"""POST /billing/stripe/webhook: where Stripe delivers its events (no session, no CSRF: the signature is the proof)."""

from __future__ import annotations

from litestar import Controller, Request, Response, post

from app.billing import stripe_events
from app.config import get_settings
from app.errors import AppError


class StripeWebhookController(Controller):
    include_in_schema = False

    @post("/billing/stripe/webhook", name="billing:stripe-webhook", status_code=200)
    async def receive(self, request: Request) -> Response:
        """200 once the event is handled (or was before); any other answer makes Stripe deliver it again."""
        try:
            outcome = await stripe_events.handle(
                await request.body(), request.headers.get("stripe-signature"), get_settings()
            )
        except AppError as exc:  # Stripe reads JSON, not our error pages
            return Response({"detail": exc.detail, "code": exc.code}, status_code=exc.status_code)
        return Response({"received": True, "outcome": outcome})
