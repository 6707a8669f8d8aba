"""Races on one balance: concurrent debits never overspend or double-charge; refunds happen once.

Runs on SQLite and on PostgreSQL; on PostgreSQL the requests use a pool of real concurrent connections.
"""

from __future__ import annotations

import asyncio

import pytest

from app import db
from app.billing import charges
from app.billing.charges import AlreadyCharged, InsufficientCreditsException
from app.tables import CreditTransactions
from tests.billing_factories import balance, make_user, make_video

BACKENDS = [
    pytest.param("sqlite", id="sqlite"),
    pytest.param("postgres", id="postgres", marks=pytest.mark.postgres),
]
pytestmark = pytest.mark.parametrize("database_url", BACKENDS, indirect=True)


@pytest.fixture
async def engine(settings):
    """The bound engine; on PostgreSQL with a pool so the racing requests hold separate connections."""
    engine = db.current_engine()
    if db.is_postgres(engine):
        await engine.start_connection_pool(min_size=20, max_size=20)
    yield engine
    await db.close_pool(engine)


async def _ledger_sum(user_id: int) -> int:
    rows = await CreditTransactions.select(CreditTransactions.delta).where(CreditTransactions.user == user_id)
    return sum(r["delta"] for r in rows)


async def test_fifty_simultaneous_debits_against_a_balance_for_three(engine):
    user = await make_user(credits=350)
    videos = [await make_video(user.id) for _ in range(50)]

    results = await asyncio.gather(*(charges.debit(user.id, video, 1, 100) for video in videos), return_exceptions=True)

    succeeded = [r for r in results if not isinstance(r, BaseException)]
    refused = [r for r in results if isinstance(r, BaseException)]
    assert len(succeeded) == 3
    assert all(isinstance(r, InsufficientCreditsException) for r in refused), refused[:3]
    assert await balance(user.id) == 50
    assert await _ledger_sum(user.id) == 50
    assert sorted(r.balance_after for r in succeeded) == [50, 150, 250]
    assert await CreditTransactions.count().where(CreditTransactions.reason == "generation") == 3
    assert await charges.ledger_mismatches() == []


async def test_simultaneous_debits_of_one_charge_take_it_once(engine):
    user = await make_user(credits=5000)
    video = await make_video(user.id)

    results = await asyncio.gather(*(charges.debit(user.id, video, 1, 100) for _ in range(20)), return_exceptions=True)

    assert sum(not isinstance(r, BaseException) for r in results) == 1
    assert all(isinstance(r, AlreadyCharged) for r in results if isinstance(r, BaseException))
    assert await balance(user.id) == 4900
    assert await _ledger_sum(user.id) == 4900


async def test_refund_twice_and_concurrently_makes_one_refund_row(engine):
    user = await make_user(credits=300)
    video = await make_video(user.id)
    await charges.debit(user.id, video, 1, 300)
    assert await balance(user.id) == 0

    results = await asyncio.gather(*(charges.refund(video, 1) for _ in range(20)))
    assert results.count(True) == 1 and results.count(False) == 19
    assert await charges.refund(video, 1) is False

    refunds = await CreditTransactions.select(CreditTransactions.delta).where(
        (CreditTransactions.reason == "refund") & (CreditTransactions.video == video)
    )
    assert [r["delta"] for r in refunds] == [300]
    assert await balance(user.id) == 300
    assert await charges.ledger_mismatches() == []


async def test_the_database_itself_refuses_a_second_refund_row(engine):
    """Even code that skips charges.refund's checks cannot refund a charge twice."""
    from app.billing import ledger

    user = await make_user(credits=100)
    video = await make_video(user.id)
    await charges.debit(user.id, video, 1, 100)
    await ledger.apply(user.id, 100, "refund", video_id=video, charge_seq=1)
    with pytest.raises(Exception) as err:
        await ledger.apply(user.id, 100, "refund", video_id=video, charge_seq=1)
    assert charges._is_unique_violation(err.value)
    assert await balance(user.id) == 100
    assert await _ledger_sum(user.id) == 100
