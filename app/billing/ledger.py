"""The credit ledger: the only way a balance changes.

Every change is one conditional UPDATE of `users.credits` (it never goes below zero) plus one
`credit_transactions` row, in one transaction; so `users.credits` always equals the sum of the rows.
"""

from __future__ import annotations

from dataclasses import dataclass

from app.errors import AppError
from app.ops import observe
from app.tables import CreditTransactions, LedgerReason, Users


class InsufficientCreditsException(AppError):
    """The seed's 402: the balance does not cover the change."""

    status_code = 402
    code = "insufficient_credits"
    default_detail = "You do not have enough credits for this."
    fix = ("account:index", "See your credits")  # the route of the page that sorts it out


InsufficientCredits = InsufficientCreditsException


@dataclass(frozen=True)
class Entry:
    user_id: int
    delta: int
    balance_after: int
    transaction_id: int


async def apply(
    user_id: int,
    delta: int,
    reason: LedgerReason,
    *,
    video_id: int | None = None,
    charge_seq: int = 0,
    note: str = "",
    reference: str | None = None,
) -> Entry:
    """Change a balance by `delta` and record it; raise InsufficientCredits if it would go below zero.

    Unique indexes make a second debit or refund for the same (video, charge) fail inside the
    transaction, which rolls the balance change back with it.
    """
    if not isinstance(delta, int) or isinstance(delta, bool):
        raise TypeError("credits are whole numbers")
    async with Users._meta.db.transaction():
        rows = (
            await Users.update({Users.credits: Users.credits + delta})
            .where((Users.id == user_id) & (Users.credits >= -delta))
            .returning(Users.credits)
        )
        if not rows:
            raise InsufficientCredits()
        balance = rows[0]["credits"]
        inserted = await CreditTransactions.insert(
            CreditTransactions(
                user=user_id,
                delta=delta,
                reason=LedgerReason(reason).value,
                video=video_id,
                charge_seq=charge_seq,
                balance_after=balance,
                note=note,
                reference=reference,
            )
        ).returning(CreditTransactions.id)
    observe.credits_changed(LedgerReason(reason).value, delta)
    return Entry(user_id=user_id, delta=delta, balance_after=balance, transaction_id=inserted[0]["id"])
