"""Billing rules: may this user generate, take the price, give it back once, admin corrections.

Every balance change goes through `ledger.apply`; the database's unique indexes make a second
debit or refund for the same (video, charge) impossible, whatever retries or races happen.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from datetime import UTC, datetime

import asyncpg

from app.billing import ledger
from app.billing.ledger import InsufficientCredits, InsufficientCreditsException
from app.billing.plans import plan_info
from app.errors import (
    AppError,
    AuthenticationRequired,
    Conflict,
    NotFound,
    ValidationFailed,
)
from app.tables import CreditTransactions, LedgerReason, Plan, SubscriptionStatus, Users

__all__ = [
    "InsufficientCredits",
    "InsufficientCreditsException",
    "SubscriptionExpiredException",
    "SubscriptionRequiredException",
    "check_can_generate",
    "debit",
    "describe_entry",
    "grant",
    "ledger_mismatches",
    "ledger_page",
    "refund",
]


class SubscriptionRequiredException(AppError):
    """The seed's 403 for the free plan."""

    status_code = 403
    code = "subscription_required"
    default_detail = "Generating videos needs a Basic or Pro plan."
    fix = ("billing:pricing", "Choose a plan")
    upgrade_url = "/pricing"  # named in the API's 403 body


class SubscriptionExpiredException(AppError):
    """The seed's 403 for a subscription that is not active or has ended."""

    status_code = 403
    code = "subscription_expired"
    default_detail = "Your subscription has expired. Renew it to generate videos."
    fix = ("billing:pricing", "Renew your plan")
    upgrade_url = "/pricing"


class AlreadyCharged(Conflict):
    code = "already_charged"
    default_detail = "This video has already been charged."


def _is_unique_violation(exc: BaseException) -> bool:
    if isinstance(exc, asyncpg.UniqueViolationError):
        return True
    return isinstance(exc, sqlite3.IntegrityError) and "UNIQUE" in str(exc)


async def check_can_generate(user: Users | None, price: int) -> None:
    """The seed's five checks, in its order; raises the first that fails.

    An ended subscription is marked `expired` on the way, so the rest of the app sees it too.
    """
    if user is None:
        raise AuthenticationRequired("Sign in to generate videos.")
    if user.subscription_plan == Plan.free.value:
        raise SubscriptionRequiredException(
            "The Free plan cannot generate videos. Choose the Basic or Pro plan to start."
        )
    if user.subscription_status == SubscriptionStatus.past_due.value:
        raise SubscriptionExpiredException(
            f"The payment for your {plan_info(user.subscription_plan).title} plan failed. "
            "Update your card in the billing portal to keep generating."
        )
    if user.subscription_status != SubscriptionStatus.active.value:
        raise SubscriptionExpiredException(
            f"Your {plan_info(user.subscription_plan).title} plan is {user.subscription_status}. "
            "Renew it to generate videos."
        )
    end = user.subscription_end_date
    if end is not None:
        if end.tzinfo is None:
            end = end.replace(tzinfo=UTC)
        if end <= datetime.now(UTC):
            await Users.update({Users.subscription_status: SubscriptionStatus.expired.value}).where(Users.id == user.id)
            user.subscription_status = SubscriptionStatus.expired.value
            raise SubscriptionExpiredException(
                f"Your {plan_info(user.subscription_plan).title} plan ended on "
                f"{end.strftime('%d %b %Y')}. Renew it to generate videos."
            )
    if user.credits < price:
        raise InsufficientCreditsException(f"This video costs {price:,} credits and you have {user.credits:,}.")


def _check_amount(value: int, what: str) -> None:
    if not isinstance(value, int) or isinstance(value, bool):
        raise ValidationFailed(f"{what} must be a whole number of credits.")


async def debit(user_id: int, video_id: int, charge_seq: int, price: int) -> ledger.Entry:
    """Take `price` credits for one charge of a video; 402 if the balance does not cover it,
    409 if that charge was already taken (the balance is untouched either way)."""
    _check_amount(price, "The price")
    if price <= 0:
        raise ValidationFailed("The price must be more than zero credits.")
    try:
        return await ledger.apply(user_id, -price, LedgerReason.generation, video_id=video_id, charge_seq=charge_seq)
    except InsufficientCreditsException:
        raise InsufficientCreditsException(f"This video costs {price:,} credits and your balance is lower.") from None
    except Exception as exc:
        if _is_unique_violation(exc):
            raise AlreadyCharged() from None
        raise


async def refund(video_id: int, charge_seq: int) -> bool:
    """Give back what one charge of a video took. True if this call refunded it; False when
    there was nothing to refund or it was already refunded (safe to repeat, also concurrently)."""
    charge = (
        await CreditTransactions.select(CreditTransactions.user, CreditTransactions.delta)
        .where(
            (CreditTransactions.video == video_id)
            & (CreditTransactions.charge_seq == charge_seq)
            & (CreditTransactions.reason == LedgerReason.generation.value)
        )
        .first()
    )
    if charge is None or charge["delta"] >= 0:
        return False
    already = await CreditTransactions.exists().where(
        (CreditTransactions.video == video_id)
        & (CreditTransactions.charge_seq == charge_seq)
        & (CreditTransactions.reason == LedgerReason.refund.value)
    )
    if already:
        return False
    try:
        await ledger.apply(
            charge["user_id"], -charge["delta"], LedgerReason.refund, video_id=video_id, charge_seq=charge_seq
        )
    except Exception as exc:
        if _is_unique_violation(exc):
            return False  # another worker refunded it between our check and our insert
        raise
    return True


async def grant(user_id: int, amount: int, note: str) -> ledger.Entry:
    """An administrator's correction: add (or, if negative, remove) credits with a reason."""
    _check_amount(amount, "The amount")
    note = (note or "").strip()
    if amount == 0:
        raise ValidationFailed("Enter a number of credits other than zero.")
    if not note:
        raise ValidationFailed("Give a reason; the user sees it in their credit history.")
    if len(note) > 200:
        raise ValidationFailed("Keep the reason under 200 characters.")
    try:
        entry = await ledger.apply(user_id, amount, LedgerReason.admin, note=note)
    except InsufficientCreditsException:
        row = await Users.select(Users.credits).where(Users.id == user_id).first()
        if row is None:
            raise NotFound("No such user.") from None
        raise ValidationFailed(
            f"That would take the balance below zero: it is {row['credits']:,} credits, "
            f"so at most {row['credits']:,} can be removed."
        ) from None
    if amount > 0:
        await announce_grant(user_id, amount, note)
    return entry


async def announce_grant(user_id: int, amount: int, why: str) -> None:
    """Tell the user (in the bell) that credits were added."""
    from app.notifications.inbox import notify

    await notify(
        user_id,
        "credits_granted",
        title=f"{amount:,} credits were added to your balance",
        body=why,
        link="/account#ledger",
    )


@dataclass(frozen=True)
class Mismatch:
    user_id: int
    email: str
    credits: int
    ledger_sum: int


async def ledger_mismatches() -> list[Mismatch]:
    """Every user whose balance differs from the sum of their ledger rows (should be none)."""
    rows = await Users.raw(
        "SELECT u.id, u.email, u.credits, COALESCE(SUM(t.delta), 0) AS ledger_sum "
        "FROM users u LEFT JOIN credit_transactions t ON t.user_id = u.id "
        "GROUP BY u.id, u.email, u.credits "
        "HAVING u.credits <> COALESCE(SUM(t.delta), 0) ORDER BY u.id"
    )
    return [Mismatch(r["id"], r["email"], int(r["credits"]), int(r["ledger_sum"])) for r in rows]


def describe_entry(reason: str, video_id: int | None, note: str) -> str:
    """A ledger row in words, as the user reads it in their history."""
    video = f"video #{video_id}" if video_id else "a deleted video"
    if reason == LedgerReason.signup.value:
        return "Welcome credits"
    if reason == LedgerReason.generation.value:
        return f"Video #{video_id}" if video_id else "A deleted video"
    if reason == LedgerReason.refund.value:
        return f"Refund for {video}"
    if reason == LedgerReason.plan_grant.value:
        try:  # the note names the plan ("basic", or "basic plan" from the demo seed)
            title = plan_info((note or "").split(" ")[0].lower()).title
        except ValidationFailed:
            title = "Plan"
        return f"{title} plan — monthly credits"
    if reason == LedgerReason.admin.value:
        return f"Adjustment by an administrator: {note}" if note else "Adjustment by an administrator"
    if reason in (LedgerReason.subscription.value, LedgerReason.purchase.value, LedgerReason.pack_refund.value):
        return note or reason  # payments write their own sentence
    return reason


@dataclass(frozen=True)
class LedgerLine:
    id: int
    created_at: datetime
    delta: int
    balance_after: int
    reason: str
    video_id: int | None
    description: str


@dataclass(frozen=True)
class LedgerPage:
    lines: list[LedgerLine]
    page: int
    has_more: bool
    balance: int


async def ledger_page(user_id: int, page: int = 1, per_page: int = 20) -> LedgerPage:
    """One page of a user's credit history, newest first."""
    page = max(1, page)
    rows = (
        await CreditTransactions.select(
            CreditTransactions.id,
            CreditTransactions.created_at,
            CreditTransactions.delta,
            CreditTransactions.balance_after,
            CreditTransactions.reason,
            CreditTransactions.video,
            CreditTransactions.note,
        )
        .where(CreditTransactions.user == user_id)
        .order_by(CreditTransactions.id, ascending=False)
        .limit(per_page + 1)
        .offset((page - 1) * per_page)
    )
    balance = await Users.select(Users.credits).where(Users.id == user_id).first()
    lines = [
        LedgerLine(
            id=r["id"],
            created_at=r["created_at"],
            delta=r["delta"],
            balance_after=r["balance_after"],
            reason=r["reason"],
            video_id=r["video_id"],
            description=describe_entry(r["reason"], r["video_id"], r["note"]),
        )
        for r in rows[:per_page]
    ]
    return LedgerPage(
        lines=lines, page=page, has_more=len(rows) > per_page, balance=balance["credits"] if balance else 0
    )
