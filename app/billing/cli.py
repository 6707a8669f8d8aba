"""Billing commands for `python -m app`: set-plan, grant-credits, check-ledger."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import TypeVar

import click

from app import db
from app.accounts.users import get_user_by_email
from app.billing import charges, plans
from app.config import get_settings
from app.errors import AppError
from app.tables import Users

T = TypeVar("T")


def _run(work: Callable[[], Awaitable[T]]) -> T:
    """Run `work` against DATABASE_URL; an AppError becomes a clear message and exit code 1."""

    async def main() -> T:
        db.bind_engine(db.make_engine(get_settings().database_url))
        try:
            return await work()
        finally:
            await db.close_pool(db.current_engine())

    try:
        return asyncio.run(main())
    except AppError as exc:
        raise click.ClickException(exc.detail) from None


async def _user(email: str) -> Users:
    user = await get_user_by_email(email)
    if user is None:
        raise click.ClickException(f"No user with the email {email}.")
    return user


@click.command("set-plan")
@click.argument("email")
@click.argument("plan", type=click.Choice(["free", "basic", "pro"]))
@click.option("--months", type=click.IntRange(1, 120), default=1, show_default=True, help="Length of the plan.")
@click.option("--grant/--no-grant", default=True, show_default=True, help="Credit one month of the plan's credits now.")
def set_plan(email: str, plan: str, months: int, grant: bool) -> None:
    """Put the user with EMAIL on PLAN (free, basic or pro), active from now."""

    async def work() -> Users:
        return await plans.set_plan(await _user(email), plan, months, grant=grant)

    user = _run(work)
    until = f" until {user.subscription_end_date:%Y-%m-%d}" if user.subscription_end_date else ""
    click.echo(f"{user.email}: {plan}{until}; balance {user.credits:,} credits.")


# ignore_unknown_options lets a negative AMOUNT ("-50") through as the argument it is.
@click.command("grant-credits", context_settings={"ignore_unknown_options": True})
@click.argument("email")
@click.argument("amount", type=int)
@click.option("--reason", required=True, help="Why; the user sees it in their credit history.")
def grant_credits(email: str, amount: int, reason: str) -> None:
    """Add AMOUNT credits to EMAIL's balance (a negative AMOUNT removes them, never below zero)."""

    async def work():
        return await charges.grant((await _user(email)).id, amount, reason)

    entry = _run(work)
    click.echo(f"{email}: {amount:+,} credits; balance {entry.balance_after:,}.")


@click.command("check-ledger")
def check_ledger() -> None:
    """Check that every balance equals the sum of that user's ledger; exit 1 if one does not."""
    mismatches = _run(charges.ledger_mismatches)
    if not mismatches:
        click.echo("Every balance matches its ledger.")
        return
    for m in mismatches:
        click.echo(
            f"user {m.user_id} <{m.email}>: balance {m.credits:,} but the ledger sums to {m.ledger_sum:,} "
            f"(off by {m.credits - m.ledger_sum:+,})",
            err=True,
        )
    raise click.ClickException(f"{len(mismatches)} balance(s) do not match the ledger.")


COMMANDS = [set_plan, grant_credits, check_ledger]
