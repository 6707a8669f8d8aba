"""The billing commands, run through click against the test database."""

from __future__ import annotations

import asyncio

import pytest
from click.testing import CliRunner

from app.billing.cli import check_ledger, grant_credits, set_plan
from app.tables import CreditTransactions, Users
from tests.billing_factories import balance, make_user

pytestmark = pytest.mark.usefixtures("settings")


def sync(query):
    """Run a Piccolo query (awaitable, not a coroutine) from a synchronous test."""

    async def main():
        return await query

    return asyncio.run(main())


def run(command, *args: str):
    return CliRunner().invoke(command, list(args))


def test_check_ledger_passes_then_finds_a_corrupted_balance():
    user = asyncio.run(make_user(credits=100, email="ok@example.com"))
    result = run(check_ledger)
    assert result.exit_code == 0, result.output
    assert "Every balance matches" in result.output

    sync(Users.update({Users.credits: 250}).where(Users.id == user.id))
    result = run(check_ledger)
    assert result.exit_code != 0
    assert "ok@example.com" in result.output and "250" in result.output and "100" in result.output


def test_grant_credits_adds_and_removes_with_a_reason():
    user = asyncio.run(make_user(credits=100, email="ada@example.com"))
    result = run(grant_credits, "ada@example.com", "50", "--reason", "Goodwill")
    assert result.exit_code == 0, result.output
    result = run(grant_credits, "ada@example.com", "-120", "--reason", "Correction")
    assert result.exit_code == 0, result.output
    assert asyncio.run(balance(user.id)) == 30
    assert run(check_ledger).exit_code == 0


def test_grant_credits_refuses_to_go_below_zero():
    user = asyncio.run(make_user(credits=100, email="bob@example.com"))
    result = run(grant_credits, "bob@example.com", "-101", "--reason", "Too much")
    assert result.exit_code == 1
    assert "below zero" in result.output
    assert asyncio.run(balance(user.id)) == 100


def test_grant_credits_needs_a_known_user_and_a_reason():
    assert run(grant_credits, "nobody@example.com", "5", "--reason", "x").exit_code == 1
    asyncio.run(make_user(email="cy@example.com"))
    assert run(grant_credits, "cy@example.com", "5").exit_code != 0
    assert run(grant_credits, "cy@example.com", "5", "--reason", " ").exit_code == 1


def test_set_plan_assigns_the_plan_and_its_grant():
    user = asyncio.run(make_user(credits=100, plan="free", ends_in_days=None, email="dee@example.com"))
    result = run(set_plan, "dee@example.com", "pro", "--months", "2")
    assert result.exit_code == 0, result.output
    stored = sync(Users.objects().where(Users.id == user.id).first())
    assert (stored.subscription_plan, stored.subscription_status, stored.credits) == ("pro", "active", 5100)
    grants = sync(CreditTransactions.count().where(CreditTransactions.reason == "plan_grant"))
    assert grants == 1
    assert run(set_plan, "dee@example.com", "gold").exit_code != 0


@pytest.mark.parametrize(
    "database_url",
    [pytest.param("sqlite", id="sqlite"), pytest.param("postgres", id="postgres", marks=pytest.mark.postgres)],
    indirect=True,
)
def test_python_m_app_check_ledger_exits_non_zero_on_a_corrupted_balance(database_url, tmp_path):
    """The real command, in its own process, against the test database."""
    import os
    import subprocess
    import sys

    asyncio.run(make_user(credits=100, email="good@example.com"))
    bad = asyncio.run(make_user(credits=100, email="bad@example.com"))
    env = {**os.environ, "DATABASE_URL": database_url, "ADSVIDEO_ENV_FILE": "", "MEDIA_ROOT": str(tmp_path)}

    def check() -> subprocess.CompletedProcess:
        return subprocess.run(
            [sys.executable, "-m", "app", "check-ledger"], env=env, capture_output=True, text=True, timeout=120
        )

    ok = check()
    assert ok.returncode == 0, ok.stderr
    sync(Users.update({Users.credits: Users.credits + 1}).where(Users.id == bad.id))
    broken = check()
    assert broken.returncode != 0
    assert "bad@example.com" in broken.stderr and "good@example.com" not in broken.stderr
    assert "off by +1" in broken.stderr
