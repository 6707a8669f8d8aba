"""The Stripe client (the official SDK, async over httpx) and what its failures mean to a user."""

from __future__ import annotations

import asyncio
import logging
import weakref

import stripe

from app.config import Settings
from app.errors import AppError

log = logging.getLogger("adsvideo.billing")
EMULATOR_API_KEY = "sk_test_adsvideo_local_emulator"


class PaymentsUnavailable(AppError):
    status_code = 502
    code = "payments_unavailable"
    default_detail = "Payments are unavailable right now. Nothing was charged; try again in a minute."


# One client per event loop (its httpx pool belongs to the loop) and per key and address.
_clients: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def client(settings: Settings) -> stripe.StripeClient:
    """The SDK client for these settings; call its `*_async` methods."""
    key, base = settings.stripe_secret_key or EMULATOR_API_KEY, settings.stripe_api_url
    per_loop = _clients.setdefault(asyncio.get_running_loop(), {})
    if (key, base) not in per_loop:
        per_loop[(key, base)] = stripe.StripeClient(
            key,
            base_addresses={"api": base} if base else None,
            http_client=stripe.HTTPXClient(timeout=20),
            max_network_retries=2,
        )
    return per_loop[(key, base)]


def webhook_secret(settings: Settings) -> str:
    if settings.stripe_webhook_secret:
        return settings.stripe_webhook_secret
    if settings.use_stripe_emulator:
        from app.emulators.stripe import EMULATOR_WEBHOOK_SECRET

        return EMULATOR_WEBHOOK_SECRET
    raise PaymentsUnavailable("STRIPE_WEBHOOK_SECRET is not set.")


def unavailable(exc: stripe.StripeError, doing: str) -> PaymentsUnavailable:
    """Log what Stripe said; tell the user only what they can act on."""
    log.warning("stripe call failed while %s: %s", doing, exc)
    return PaymentsUnavailable()
