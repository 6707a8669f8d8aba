"""Stripe's webhooks: verified by the SDK, each event handled once, in whatever order they arrive.

An event's row in `stripe_events` (unique event id) is written in the same transaction as what the
event changes (the user's plan, ledger rows, a pack purchase), so a redelivery — even two at once —
finds it and changes nothing. Subscription events read the subscription from Stripe before deciding,
so an old event arriving late cannot undo a newer state. Credits come from paid invoices (each
invoice once: the ledger's `reference` is unique) and from paid pack checkouts; a refunded pack takes
its credits back, never below zero.
"""

from __future__ import annotations

import logging
import sqlite3
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime

import asyncpg
import stripe

from app.billing import ledger, stripe_api
from app.billing.catalogue import PACK_OFFERS, Offer, offer_for_price
from app.billing.ledger import InsufficientCredits
from app.config import Settings
from app.errors import AppError
from app.tables import (
    CreditPurchases,
    CreditTransactions,
    LedgerReason,
    StripeEvents,
    SubscriptionStatus,
    Users,
)

log = logging.getLogger("adsvideo.billing")

STATUS = {  # Stripe subscription status -> ours
    "active": SubscriptionStatus.active,
    "trialing": SubscriptionStatus.active,
    "past_due": SubscriptionStatus.past_due,
    "unpaid": SubscriptionStatus.past_due,
    "canceled": SubscriptionStatus.cancelled,
    "incomplete_expired": SubscriptionStatus.cancelled,
}


class BadSignature(AppError):
    status_code = 400
    code = "bad_signature"
    default_detail = "The Stripe-Signature header is missing or does not match this payload."


def _unique_violation(exc: BaseException) -> bool:
    if isinstance(exc, asyncpg.UniqueViolationError):
        return True
    return isinstance(exc, sqlite3.IntegrityError) and "UNIQUE" in str(exc)


def _when(ts: int | None) -> datetime | None:
    return datetime.fromtimestamp(ts, UTC) if ts else None


def _day(ts: int | None) -> str:
    return datetime.fromtimestamp(ts, UTC).strftime("%d %b %Y") if ts else ""


Apply = Callable[[], Awaitable[str]]  # runs inside the event's transaction; returns the outcome


@dataclass
class Prepared:
    user_id: int | None
    apply: Apply


async def handle(payload: bytes, signature: str | None, settings: Settings) -> str:
    """Verify and handle one delivery; returns what happened (`duplicate` for an event seen before)."""
    try:
        event = stripe.Webhook.construct_event(payload, signature or "", stripe_api.webhook_secret(settings))
    except (stripe.SignatureVerificationError, ValueError):
        raise BadSignature() from None
    if await StripeEvents.exists().where(StripeEvents.event_id == event.id):
        return "duplicate"
    prepare = HANDLERS.get(event.type)
    prepared = await prepare(event.data.object.to_dict(), settings) if prepare else Prepared(None, _ignored)
    try:
        async with Users._meta.db.transaction():
            await StripeEvents.insert(StripeEvents(event_id=event.id, type=event.type, user=prepared.user_id))
            outcome = await prepared.apply()
            await StripeEvents.update({StripeEvents.outcome: outcome}).where(StripeEvents.event_id == event.id)
    except Exception as exc:
        if _unique_violation(exc) and await StripeEvents.exists().where(StripeEvents.event_id == event.id):
            return "duplicate"  # the same event, delivered at the same time, won the insert
        raise
    log.info("stripe event %s %s: %s", event.id, event.type, outcome)
    if event.type == "invoice.payment_failed" and prepared.user_id is not None:
        await _tell_payment_failed(prepared.user_id)
    return outcome


async def _tell_payment_failed(user_id: int) -> None:
    """Once per failed invoice (a redelivery never gets here): the bell, and an email if the user wants it."""
    from app.notifications.inbox import notify

    try:
        await notify(
            user_id,
            "payment_problem",
            title="Your payment did not go through",
            body="We could not charge your card for your plan, so generating is paused. Update your card to carry on.",
            link="/account#plan",
            action_label="Update your card",
        )
    except Exception:  # the event is handled; telling the user is a courtesy that must not fail it
        log.exception("could not notify user %s of a failed payment", user_id)


async def _ignored() -> str:
    return "ignored"


def _nothing(outcome: str) -> Prepared:
    async def apply() -> str:
        return outcome

    return Prepared(None, apply)


async def _user_for(customer_id: str | None, metadata: dict | None) -> int | None:
    """Our user behind a Stripe customer (or, failing that, the user id we put in the metadata)."""
    if customer_id:
        row = await Users.select(Users.id).where(Users.stripe_customer_id == customer_id).first()
        if row:
            return row["id"]
    user_id = str((metadata or {}).get("user_id", ""))
    if user_id.isdigit():
        row = await Users.select(Users.id, Users.stripe_customer_id).where(Users.id == int(user_id)).first()
        if row and row["stripe_customer_id"] in (None, customer_id):
            return row["id"]
    return None


async def _subscription(subscription_id: str, settings: Settings):
    try:
        sub = await stripe_api.client(settings).v1.subscriptions.retrieve_async(subscription_id)
    except stripe.StripeError as exc:
        raise stripe_api.unavailable(exc, "reading a subscription") from None
    return sub.to_dict()


async def _apply_subscription(user_id: int, sub, settings: Settings) -> str:
    """Make the user's plan, status and dates say what the subscription (as Stripe has it now) says."""
    status = STATUS.get(sub["status"])
    if status is None:  # incomplete: the first payment has not gone through yet
        return f"subscription {sub['status']}"
    user = (
        await Users.select(Users.stripe_subscription_id, Users.subscription_status).where(Users.id == user_id).first()
    )
    current = user["stripe_subscription_id"]
    if current and current != sub["id"] and status is SubscriptionStatus.cancelled:
        return "an older subscription ended; the current one is untouched"
    item = sub["items"]["data"][0]
    offer = offer_for_price(settings, item["price"]["id"])
    if status is SubscriptionStatus.active:
        end = item["current_period_end"]
    elif status is SubscriptionStatus.past_due:
        end = item["current_period_start"]  # paid through the start of the unpaid period
    else:
        end = sub.get("ended_at") or sub.get("cancel_at") or item["current_period_end"]
    cancel_at = sub.get("cancel_at") if status is SubscriptionStatus.active else None
    values = {
        Users.stripe_subscription_id: sub["id"],
        Users.subscription_status: status.value,
        Users.subscription_start_date: _when(sub.get("start_date")),
        Users.subscription_end_date: _when(end),
        Users.subscription_cancel_at: _when(cancel_at),
    }
    if offer is not None and offer.kind == "plan":
        values[Users.subscription_plan] = offer.key
    else:
        log.warning("subscription %s has price %s, which maps to no plan", sub["id"], item["price"]["id"])
    await Users.update(values).where(Users.id == user_id)
    return f"{offer.key if offer else '?'} {status.value} until {_day(end)}"


async def _grant(user_id: int, credits: int, reference: str, note: str) -> str:
    if credits <= 0:
        return "no credits due"
    if await CreditTransactions.exists().where(CreditTransactions.reference == reference):
        return "credits already granted"
    await ledger.apply(user_id, credits, LedgerReason.subscription, note=note, reference=reference)
    return f"+{credits} credits"


# -- the events ------------------------------------------------------------------------------------------


async def checkout_completed(session: dict, settings: Settings) -> Prepared:
    user_id = await _user_for(session.get("customer"), session.get("metadata"))
    if user_id is None:
        return _nothing("no user for this customer")
    if session.get("mode") == "subscription" and session.get("subscription"):
        sub = await _subscription(session["subscription"], settings)

        async def apply_subscription() -> str:
            return await _apply_subscription(user_id, sub, settings)

        return Prepared(user_id, apply_subscription)
    if session.get("mode") != "payment" or session.get("payment_status") != "paid":
        return _nothing(f"checkout {session.get('mode')} {session.get('payment_status')}")
    key = (session.get("metadata") or {}).get("offer", "")
    offer: Offer | None = next((o for o in PACK_OFFERS.values() if o.key == key), None)
    if offer is None:
        return _nothing(f"unknown offer {key!r}")

    async def apply_purchase() -> str:
        await CreditPurchases.insert(
            CreditPurchases(
                user=user_id,
                checkout_session_id=session["id"],
                payment_intent_id=session.get("payment_intent"),
                pack=offer.key,
                credits=offer.credits,
                amount=session.get("amount_total") or 0,
                currency=session.get("currency") or "usd",
            )
        )
        await ledger.apply(
            user_id,
            offer.credits,
            LedgerReason.purchase,
            note=f"Bought the {offer.title} pack",
            reference=f"purchase:{session['id']}",
        )
        return f"+{offer.credits} credits (pack)"

    return Prepared(user_id, apply_purchase)


def _invoice_credits(invoice: dict, settings: Settings) -> tuple[int, str]:
    """The credits a paid invoice grants, and the ledger's sentence for them.

    A period's invoice grants its plan's monthly credits; a mid-period upgrade's proration invoice
    grants the difference between the new plan's and the old plan's."""
    plus, minus, titles = 0, 0, []
    for line in invoice["lines"]["data"]:
        details = (line.get("pricing") or {}).get("price_details") or {}
        offer = offer_for_price(settings, details.get("price"))
        if offer is None or offer.kind != "plan":
            continue
        if line["amount"] >= 0:
            plus += offer.credits
            titles.append(offer.title)
        else:
            minus += offer.credits
    period = f"{_day(invoice.get('period_start'))} – {_day(invoice.get('period_end'))}"
    if invoice.get("billing_reason") == "subscription_update":
        return max(0, plus - minus), f"Upgrade to {' + '.join(titles) or 'a new plan'} — extra monthly credits"
    return plus, f"{' + '.join(titles) or 'Plan'} plan — monthly credits ({period})"


async def invoice_paid(invoice: dict, settings: Settings) -> Prepared:
    parent = invoice.get("parent") or {}
    details = parent.get("subscription_details") or {}
    if not details.get("subscription"):
        return _nothing("not a subscription invoice")
    user_id = await _user_for(invoice.get("customer"), details.get("metadata"))
    if user_id is None:
        return _nothing("no user for this customer")
    sub = await _subscription(details["subscription"], settings)
    credits, note = _invoice_credits(invoice, settings)

    async def apply() -> str:
        state = await _apply_subscription(user_id, sub, settings)
        granted = await _grant(user_id, credits, f"invoice:{invoice['id']}", note)
        return f"{state}; {granted}"

    return Prepared(user_id, apply)


async def subscription_changed(obj: dict, settings: Settings) -> Prepared:
    """`invoice.payment_failed` and `customer.subscription.*`: apply the subscription as it is now."""
    if obj.get("object") == "invoice":
        details = (obj.get("parent") or {}).get("subscription_details") or {}
        sub_id, metadata = details.get("subscription"), details.get("metadata")
    else:
        sub_id, metadata = obj["id"], obj.get("metadata")
    if not sub_id:
        return _nothing("no subscription")
    user_id = await _user_for(obj.get("customer"), metadata)
    if user_id is None:
        return _nothing("no user for this customer")
    sub = await _subscription(sub_id, settings)

    async def apply() -> str:
        return await _apply_subscription(user_id, sub, settings)

    return Prepared(user_id, apply)


async def charge_refunded(charge: dict, settings: Settings) -> Prepared:
    """A refunded pack gives back its share of credits (all of them for a full refund), never below zero."""
    purchase = None
    if charge.get("payment_intent"):
        purchase = (
            await CreditPurchases.objects().where(CreditPurchases.payment_intent_id == charge["payment_intent"]).first()
        )
    if purchase is None:
        return _nothing("not a credit pack")
    owed_total = purchase.credits * charge["amount_refunded"] // max(1, charge["amount"])
    title = next((o.title for o in PACK_OFFERS.values() if o.key == purchase.pack), purchase.pack)

    async def apply() -> str:
        moved = (
            await CreditPurchases.update({CreditPurchases.credits_refunded: owed_total})
            .where((CreditPurchases.id == purchase.id) & (CreditPurchases.credits_refunded < owed_total))
            .returning(CreditPurchases.id)
        )
        if not moved:
            return "nothing more to take back"
        due = owed_total - purchase.credits_refunded
        for _ in range(3):  # a generation may spend credits between our read and our update
            row = await Users.select(Users.credits).where(Users.id == purchase.user).first()
            take = min(due, row["credits"])
            note = f"Refund of the {title} pack: {take:,} credits taken back"
            if take < due:
                note += f" ({due:,} were due; the balance does not go below zero)"
            try:
                await ledger.apply(
                    purchase.user,
                    -take,
                    LedgerReason.pack_refund,
                    note=note,
                    reference=f"pack_refund:{charge['id']}:{owed_total}",
                )
            except InsufficientCredits:
                continue
            return f"-{take} credits (pack refund)"
        raise RuntimeError("the balance kept changing while taking a refunded pack back")

    return Prepared(purchase.user, apply)


HANDLERS: dict[str, Callable[[dict, Settings], Awaitable[Prepared]]] = {
    "checkout.session.completed": checkout_completed,
    "invoice.paid": invoice_paid,
    "invoice.payment_failed": subscription_changed,
    "customer.subscription.created": subscription_changed,
    "customer.subscription.updated": subscription_changed,
    "customer.subscription.deleted": subscription_changed,
    "charge.refunded": charge_refunded,
}
