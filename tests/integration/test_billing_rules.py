"""The seed's generation checks, debits, refunds, admin corrections, plans and prices, against a real database."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from app.billing import charges, ledger, plans
from app.billing.charges import (
    AlreadyCharged,
    InsufficientCreditsException,
    SubscriptionExpiredException,
    SubscriptionRequiredException,
)
from app.billing.pricing import PRICES, price_for
from app.errors import AuthenticationRequired, ValidationFailed
from app.tables import CreditTransactions, Users
from tests.billing_factories import balance, make_user, make_video

pytestmark = pytest.mark.usefixtures("settings")


# --- the five checks, in the seed's order -------------------------------------------------------


async def test_not_signed_in_is_401():
    with pytest.raises(AuthenticationRequired) as err:
        await charges.check_can_generate(None, 100)
    assert err.value.status_code == 401


async def test_free_plan_is_403_subscription_required_even_with_credits():
    user = await make_user(credits=1000, plan="free", ends_in_days=None)
    with pytest.raises(SubscriptionRequiredException) as err:
        await charges.check_can_generate(user, 100)
    assert (err.value.status_code, err.value.code) == (403, "subscription_required")


async def test_cancelled_status_is_403_subscription_expired():
    user = await make_user(status="cancelled")
    with pytest.raises(SubscriptionExpiredException) as err:
        await charges.check_can_generate(user, 100)
    assert (err.value.status_code, err.value.code) == (403, "subscription_expired")


async def test_ended_subscription_is_403_and_marked_expired():
    user = await make_user(ends_in_days=-1)
    with pytest.raises(SubscriptionExpiredException) as err:
        await charges.check_can_generate(user, 100)
    assert (err.value.status_code, err.value.code) == (403, "subscription_expired")
    stored = await Users.select(Users.subscription_status).where(Users.id == user.id).first()
    assert stored["subscription_status"] == "expired"


async def test_expiry_is_checked_before_credits():
    user = await make_user(credits=0, ends_in_days=-1)
    with pytest.raises(SubscriptionExpiredException):
        await charges.check_can_generate(user, 100)


async def test_too_few_credits_is_402_insufficient_credits():
    user = await make_user(credits=99)
    with pytest.raises(InsufficientCreditsException) as err:
        await charges.check_can_generate(user, 100)
    assert (err.value.status_code, err.value.code) == (402, "insufficient_credits")
    assert "100" in err.value.detail and "99" in err.value.detail


async def test_active_paid_plan_with_enough_credits_passes():
    user = await make_user(credits=100)
    await charges.check_can_generate(user, 100)


def test_ledger_and_seed_402_are_one_error():
    assert ledger.InsufficientCredits is InsufficientCreditsException


# --- debit ---------------------------------------------------------------------------------------


async def test_debit_takes_the_price_and_records_it():
    user = await make_user(credits=250)
    video = await make_video(user.id)
    entry = await charges.debit(user.id, video, 1, 100)
    assert entry.balance_after == 150 and await balance(user.id) == 150
    row = await CreditTransactions.select().where(CreditTransactions.id == entry.transaction_id).first()
    assert (row["delta"], row["reason"], row["video_id"], row["charge_seq"]) == (-100, "generation", video, 1)


async def test_debit_never_goes_below_zero():
    user = await make_user(credits=50)
    video = await make_video(user.id)
    with pytest.raises(InsufficientCreditsException):
        await charges.debit(user.id, video, 1, 100)
    assert await balance(user.id) == 50
    assert await CreditTransactions.count().where(CreditTransactions.reason == "generation") == 0


async def test_same_charge_cannot_be_debited_twice():
    user = await make_user(credits=500)
    video = await make_video(user.id)
    await charges.debit(user.id, video, 1, 100)
    with pytest.raises(AlreadyCharged) as err:
        await charges.debit(user.id, video, 1, 100)
    assert err.value.status_code == 409
    assert await balance(user.id) == 400
    # a retry is a new charge of the same video and may be debited
    await charges.debit(user.id, video, 2, 100)
    assert await balance(user.id) == 300


@pytest.mark.parametrize("price", [0, -5, 1.5])
async def test_debit_rejects_prices_that_are_not_positive_whole_numbers(price):
    user = await make_user(credits=100)
    video = await make_video(user.id)
    with pytest.raises(ValidationFailed):
        await charges.debit(user.id, video, 1, price)
    assert await balance(user.id) == 100


# --- refund --------------------------------------------------------------------------------------


async def test_refund_gives_back_exactly_what_was_charged_once():
    user = await make_user(credits=1000)
    video = await make_video(user.id, model="sora-2-pro")
    await charges.debit(user.id, video, 1, 600)
    assert await charges.refund(video, 1) is True
    assert await balance(user.id) == 1000
    assert await charges.refund(video, 1) is False
    assert await balance(user.id) == 1000
    refunds = await CreditTransactions.select().where(CreditTransactions.reason == "refund")
    assert [(r["delta"], r["video_id"], r["charge_seq"]) for r in refunds] == [(600, video, 1)]


async def test_refund_without_a_charge_does_nothing():
    user = await make_user(credits=100)
    video = await make_video(user.id)
    assert await charges.refund(video, 1) is False
    assert await balance(user.id) == 100


async def test_refund_only_touches_its_own_charge():
    user = await make_user(credits=500)
    video = await make_video(user.id)
    await charges.debit(user.id, video, 1, 100)
    await charges.debit(user.id, video, 2, 100)
    assert await charges.refund(video, 2) is True
    assert await balance(user.id) == 400
    assert await charges.refund(video, 1) is True
    assert await balance(user.id) == 500


# --- admin corrections -------------------------------------------------------------------------


async def test_admin_grant_adds_and_removes_with_a_reason():
    user = await make_user(credits=100)
    await charges.grant(user.id, 50, "Sorry about the outage")
    await charges.grant(user.id, -30, "Duplicate grant")
    assert await balance(user.id) == 120
    rows = await CreditTransactions.select(CreditTransactions.delta, CreditTransactions.note).where(
        CreditTransactions.reason == "admin"
    )
    assert [(r["delta"], r["note"]) for r in rows] == [(50, "Sorry about the outage"), (-30, "Duplicate grant")]


async def test_admin_grant_never_takes_a_balance_below_zero():
    user = await make_user(credits=40)
    with pytest.raises(ValidationFailed) as err:
        await charges.grant(user.id, -41, "Correction")
    assert "below zero" in err.value.detail and "40" in err.value.detail
    assert await balance(user.id) == 40


@pytest.mark.parametrize(("amount", "note"), [(0, "x"), (10, ""), (10, "   ")])
async def test_admin_grant_needs_an_amount_and_a_reason(amount, note):
    user = await make_user(credits=40)
    with pytest.raises(ValidationFailed):
        await charges.grant(user.id, amount, note)
    assert await balance(user.id) == 40


# --- ledger check and history ------------------------------------------------------------------


async def test_ledger_mismatches_finds_a_corrupted_balance_only():
    good = await make_user(credits=100)
    bad = await make_user(credits=100)
    assert await charges.ledger_mismatches() == []
    await Users.update({Users.credits: 7}).where(Users.id == bad.id)
    found = await charges.ledger_mismatches()
    assert [(m.user_id, m.credits, m.ledger_sum) for m in found] == [(bad.id, 7, 100)]
    assert good.id not in [m.user_id for m in found]


async def test_history_is_newest_first_in_words_and_paginated():
    user = await make_user(credits=1000)
    video = await make_video(user.id)
    await charges.debit(user.id, video, 1, 100)
    await charges.refund(video, 1)
    await charges.grant(user.id, 5, "Goodwill")
    await plans.set_plan(user, "pro")
    page = await charges.ledger_page(user.id, page=1, per_page=3)
    assert [line.description for line in page.lines] == [
        "Pro plan — monthly credits",
        "Adjustment by an administrator: Goodwill",
        f"Refund for video #{video}",
    ]
    assert page.has_more and page.balance == 6005
    rest = await charges.ledger_page(user.id, page=2, per_page=3)
    assert [line.description for line in rest.lines] == [f"Video #{video}", "Welcome credits"]
    assert not rest.has_more


# --- plans ---------------------------------------------------------------------------------------


async def test_set_plan_activates_dates_and_grants_monthly_credits():
    user = await make_user(credits=100, plan="free", status="expired", ends_in_days=None)
    updated = await plans.set_plan(user, "basic", months=3)
    assert (updated.subscription_plan, updated.subscription_status) == ("basic", "active")
    now = datetime.now(timezone.utc)
    assert updated.subscription_start_date <= now
    assert timedelta(days=88) < updated.subscription_end_date - now < timedelta(days=93)
    assert updated.credits == 1100
    grant = await CreditTransactions.select().where(CreditTransactions.reason == "plan_grant").first()
    assert (grant["delta"], grant["note"]) == (1000, "basic")
    await charges.check_can_generate(updated, 100)


async def test_set_plan_free_clears_the_dates_and_grants_nothing():
    user = await make_user(credits=100)
    updated = await plans.set_plan(user, "free")
    assert updated.subscription_plan == "free" and updated.subscription_end_date is None
    assert updated.credits == 100


async def test_set_plan_rejects_unknown_plans_and_past_end_dates():
    user = await make_user(credits=100)
    with pytest.raises(ValidationFailed):
        await plans.set_plan(user, "platinum")
    with pytest.raises(ValidationFailed):
        await plans.set_plan(user, "pro", end_date=datetime.now(timezone.utc) - timedelta(days=1))
    stored = await Users.objects().where(Users.id == user.id).first()
    assert stored.subscription_plan == "basic" and stored.credits == 100


def test_plans_unlock_models_and_sizes():
    assert plans.allowed("free", "sora-2", "1280x720")[0] is False
    assert plans.allowed("basic", "sora-2", "1280x720") == (True, "")
    assert plans.allowed("basic", "gen4_turbo", "720x1280") == (True, "")
    ok, reason = plans.allowed("basic", "sora-2-pro", "1280x720")
    assert not ok and "Pro plan" in reason
    ok, reason = plans.allowed("basic", "sora-2-pro", "1792x1024")
    assert not ok and "Pro plan" in reason
    ok, reason = plans.allowed("pro", "sora-2", "1792x1024")  # only Sora 2 Pro makes the large sizes
    assert not ok and "1792x1024" in reason
    assert plans.allowed("pro", "sora-2-pro", "1024x1792") == (True, "")


def test_add_months_keeps_the_day_or_the_month_end():
    jan31 = datetime(2027, 1, 31, tzinfo=timezone.utc)
    assert plans.add_months(jan31, 1) == datetime(2027, 2, 28, tzinfo=timezone.utc)
    assert plans.add_months(jan31, 13) == datetime(2028, 2, 29, tzinfo=timezone.utc)


# --- prices ---------------------------------------------------------------------------------------


def test_prices_are_whole_credits_and_sora_2_four_seconds_costs_100():
    assert price_for("sora-2", 4) == 100
    assert price_for("sora-2-pro", 12) == 900
    assert price_for("gen4_turbo", 10) == 120
    assert all(isinstance(p, int) for d in PRICES.values() for p in d.values())


@pytest.mark.parametrize(
    ("model", "duration", "words"), [("sora-3", 4, "Unknown model"), ("sora-2", 5, "4 s, 8 s, 12 s")]
)
def test_unknown_price_combinations_are_422_with_a_reason(model, duration, words):
    with pytest.raises(ValidationFailed) as err:
        price_for(model, duration)
    assert err.value.status_code == 422 and words in err.value.detail


@pytest.mark.parametrize(
    ("reason", "video", "note", "words"),
    [
        ("signup", None, "Welcome credits", "Welcome credits"),
        ("generation", 12, "", "Video #12"),
        ("refund", 12, "", "Refund for video #12"),
        ("plan_grant", None, "basic", "Basic plan — monthly credits"),
        ("plan_grant", None, "pro plan", "Pro plan — monthly credits"),  # the demo seed's wording
        ("admin", None, "Outage", "Adjustment by an administrator: Outage"),
    ],
)
def test_ledger_reasons_in_words(reason, video, note, words):
    assert charges.describe_entry(reason, video, note) == words
