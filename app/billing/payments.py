"""Paying through Stripe: Checkout for a plan or a credit pack, the customer portal, invoices for /account.

Nothing here changes a plan or a balance: Stripe's webhooks do (app/billing/stripe_events.py), so a
payment counts once however the payer comes back.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

import stripe

from app.billing import stripe_api
from app.billing.catalogue import Offer, format_money, pack_offer, plan_offer
from app.billing.plans import plan_info
from app.config import Settings
from app.errors import Conflict, NotFound, ValidationFailed
from app.tables import Plan, SubscriptionStatus, Users

DONE_PATH = "/billing/done"


def _has_live_subscription(user: Users) -> bool:
    return bool(user.stripe_subscription_id) and user.subscription_status in (
        SubscriptionStatus.active.value,
        SubscriptionStatus.past_due.value,
    )


def choose_offer(plan: str | None, pack: str | None) -> Offer:
    """The offer a form or API body asks for: exactly one of a plan or a pack."""
    plan, pack = (plan or "").strip().lower(), (pack or "").strip().lower()
    if bool(plan) == bool(pack):
        raise ValidationFailed("Choose either a plan (basic or pro) or a credit pack, not both and not neither.")
    return plan_offer(plan) if plan else pack_offer(pack)


async def _customer_id(user: Users, settings: Settings) -> str:
    """The user's Stripe customer, made on first use (a lost race keeps the winner's)."""
    if user.stripe_customer_id:
        return user.stripe_customer_id
    try:
        customer = await stripe_api.client(settings).v1.customers.create_async(
            {"email": user.email, "name": user.name or "", "metadata": {"user_id": str(user.id)}}
        )
    except stripe.StripeError as exc:
        raise stripe_api.unavailable(exc, "creating a customer") from None
    await Users.update({Users.stripe_customer_id: customer.id}).where(
        (Users.id == user.id) & Users.stripe_customer_id.is_null()
    )
    row = await Users.select(Users.stripe_customer_id).where(Users.id == user.id).first()
    user.stripe_customer_id = row["stripe_customer_id"]
    return user.stripe_customer_id


async def start_checkout(user: Users, offer: Offer, settings: Settings) -> str:
    """A Checkout Session for `offer`; returns the URL to send the user to."""
    if offer.kind == "plan" and _has_live_subscription(user):
        current = plan_info(user.subscription_plan).title
        raise Conflict(
            f"You already have the {current} plan. Change or cancel it in the billing portal "
            "(Account → Manage billing)."
        )
    if offer.kind == "pack":
        info = plan_info(user.subscription_plan)
        if not info.can_generate or user.subscription_status != SubscriptionStatus.active.value:
            raise Conflict("Credit packs are for the Basic and Pro plans. Choose a plan first.")
    price = offer.price_id(settings)
    if not price:
        raise stripe_api.PaymentsUnavailable(f"{offer.setting.upper()} is not set.")
    customer = await _customer_id(user, settings)
    meta = {"user_id": str(user.id), "offer": offer.key}
    params: dict = {
        "mode": "subscription" if offer.kind == "plan" else "payment",
        "customer": customer,
        "line_items": [{"price": price, "quantity": 1}],
        "success_url": f"{settings.base_url}{DONE_PATH}?session_id={{CHECKOUT_SESSION_ID}}",
        "cancel_url": f"{settings.base_url}/pricing",
        "client_reference_id": str(user.id),
        "metadata": meta,
    }
    if offer.kind == "plan":
        params["subscription_data"] = {"metadata": meta}
    else:
        params["payment_intent_data"] = {"metadata": meta}
    try:
        session = await stripe_api.client(settings).v1.checkout.sessions.create_async(params)
    except stripe.StripeError as exc:
        raise stripe_api.unavailable(exc, "creating a checkout session") from None
    return session.url


async def portal_url(user: Users, settings: Settings) -> str:
    """The customer portal for this user (change plan, card, cancel), returning to /account."""
    if not user.stripe_customer_id:
        raise Conflict("You have no billing account yet: choose a plan on the pricing page first.")
    try:
        session = await stripe_api.client(settings).v1.billing_portal.sessions.create_async(
            {"customer": user.stripe_customer_id, "return_url": f"{settings.base_url}/account"}
        )
    except stripe.StripeError as exc:
        raise stripe_api.unavailable(exc, "opening the customer portal") from None
    return session.url


@dataclass(frozen=True)
class CheckoutOutcome:
    kind: str  # "plan" or "pack"
    title: str
    paid: bool
    applied: bool  # our records already show it (the webhook has arrived)


async def checkout_outcome(user: Users, session_id: str, settings: Settings) -> CheckoutOutcome:
    """What a Checkout Session the user came back from did (404 for someone else's session)."""
    if not session_id.startswith("cs_"):
        raise NotFound("No such checkout.")
    try:
        session = await stripe_api.client(settings).v1.checkout.sessions.retrieve_async(session_id)
    except stripe.InvalidRequestError:
        raise NotFound("No such checkout.") from None
    except stripe.StripeError as exc:
        raise stripe_api.unavailable(exc, "reading a checkout session") from None
    if session.client_reference_id != str(user.id) or session.customer != user.stripe_customer_id:
        raise NotFound("No such checkout.")
    key = session.to_dict().get("metadata", {}).get("offer", "")
    from app.billing.catalogue import PACK_OFFERS, PLAN_OFFERS

    offer = next((o for o in (*PLAN_OFFERS.values(), *PACK_OFFERS.values()) if o.key == key), None)
    title = offer.title if offer else "your purchase"
    paid = session.payment_status == "paid"
    if session.mode == "subscription":
        applied = user.stripe_subscription_id == session.subscription and user.subscription_plan != Plan.free.value
        return CheckoutOutcome("plan", title, paid, applied)
    from app.tables import CreditPurchases

    applied = await CreditPurchases.exists().where(CreditPurchases.checkout_session_id == session.id)
    return CheckoutOutcome("pack", title, paid, applied)


@dataclass(frozen=True)
class InvoiceLine:
    number: str
    date: datetime
    amount: str
    status: str
    url: str | None


async def invoices(user: Users, settings: Settings, limit: int = 12) -> list[InvoiceLine] | None:
    """The user's latest invoices with the links Stripe hosts; None when Stripe cannot be reached."""
    if not user.stripe_customer_id:
        return []
    try:
        listing = await stripe_api.client(settings).v1.invoices.list_async(
            {"customer": user.stripe_customer_id, "limit": limit}
        )
    except stripe.StripeError as exc:
        stripe_api.unavailable(exc, "listing invoices")
        return None
    return [
        InvoiceLine(
            number=i.number or i.id,
            date=datetime.fromtimestamp(i.created, UTC),
            amount=format_money(i.amount_paid if i.status == "paid" else i.amount_due),
            status=i.status or "",
            url=i.hosted_invoice_url,
        )
        for i in listing.data
    ]
