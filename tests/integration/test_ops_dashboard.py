"""The admin dashboard and per-user usage: exact figures from known rows, the page's charts and tables,
who may see it; and the same page over 100,000 seeded videos (render time printed, queries counted)."""

from __future__ import annotations

import re
import time
from datetime import UTC, datetime, timedelta

import pytest

from app.billing import ledger
from app.ops import usage
from app.tables import CreditPurchases, LedgerReason, Users, Videos
from benchmarks.dashboard import counting_queries, seed_history
from tests.billing_factories import make_user
from tests.studio_factories import sign_in

NOW = datetime.now(UTC)


async def video(
    user_id: int,
    *,
    status: str,
    model: str = "sora-2",
    provider: str = "openai",
    ago: timedelta,
    took: float | None = None,
    reason: str | None = None,
) -> int:
    created = NOW - ago
    row = Videos(
        user=user_id,
        prompt="A mug",
        model=model,
        provider=provider,
        duration=4,
        resolution="1280x720",
        status=status,
        error_message=reason,
        created_at=created,
        completed_at=created + timedelta(seconds=took) if took is not None else None,
    )
    await row.save()
    return row.id


@pytest.fixture
async def history(settings):
    """Two users today, one 10 days ago, one 40 days ago (outside the window); their videos and credits."""
    ada = await make_user(credits=1_000)
    bob = await make_user(credits=500)
    old = await make_user(credits=100)
    await Users.update({Users.created_at: NOW - timedelta(days=40)}).where(Users.id == old.id)
    await Users.update({Users.created_at: NOW - timedelta(days=10)}).where(Users.id == bob.id)
    for took in (30, 60, 90, 120):  # today: median 90 (nearest rank), p95 120
        await video(ada.id, status="completed", ago=timedelta(minutes=5), took=took)
    await video(ada.id, status="failed", ago=timedelta(minutes=3), reason="Blocked by moderation.")
    await video(bob.id, status="completed", model="gen4_turbo", provider="runway", ago=timedelta(days=10), took=300)
    await video(
        bob.id,
        status="failed",
        model="gen4_turbo",
        provider="runway",
        ago=timedelta(days=10),
        reason="Blocked by moderation.",
    )
    await video(
        bob.id, status="failed", model="gen4_turbo", provider="runway", ago=timedelta(days=11), reason="Took too long."
    )
    await video(bob.id, status="pending", ago=timedelta(minutes=1))
    await video(old.id, status="completed", ago=timedelta(days=45), took=10)
    charge = await video(ada.id, status="completed", ago=timedelta(minutes=1), took=15)
    await ledger.apply(ada.id, -100, LedgerReason.generation, video_id=charge, charge_seq=1)
    await ledger.apply(ada.id, 100, LedgerReason.refund, video_id=charge, charge_seq=1)
    await ledger.apply(bob.id, -250, LedgerReason.generation, video_id=charge, charge_seq=2)
    await CreditPurchases(
        user=ada.id, checkout_session_id="cs_test_1", pack="starter", credits=500, amount=1900, currency="usd"
    ).save()
    old_purchase = CreditPurchases(
        user=old.id,
        checkout_session_id="cs_test_2",
        pack="starter",
        credits=500,
        amount=1900,
        currency="usd",
        created_at=NOW - timedelta(days=50),
    )
    await old_purchase.save()
    return ada, bob, old


async def test_the_figures_are_exact(history):
    ada, bob, _ = history
    d = await usage.dashboard()
    assert (d.signups.today, d.signups.month) == (1, 2)  # ada today, bob 10 days ago
    assert (d.active_users.today, d.active_users.month) == (2, 2)
    assert (d.made.today, d.made.month) == (5, 6)
    assert (d.failed.today, d.failed.month) == (1, 3)
    sora = next(m for m in d.models if m.model == "sora-2")
    assert (sora.made.month, sora.failed.month, sora.in_flight) == (5, 1, 1)
    runway = next(p for p in d.providers if p["provider"] == "runway")
    assert (runway["finished"], runway["failed"]) == (3, 2)
    assert sorted((r["reason"], r["count"]) for r in d.failure_reasons) == [
        ("Blocked by moderation.", 1),
        ("Blocked by moderation.", 1),
        ("Took too long.", 1),
    ]
    assert d.generation_seconds["today"] == {"p50": 60.0, "p95": 120.0}  # 15, 30, 60, 90, 120
    assert d.generation_seconds["month"]["p95"] == 300.0
    assert (d.credits["charged"].today, d.credits["refunded"].today) == (350, 100)
    assert d.credits["granted"].month == 1_000 + 500 + 100  # the three sign-up grants, written now
    assert d.waiting == 1 and d.oldest_waiting_seconds >= 60
    assert d.revenue == {"usd": usage.Pair(1900, 1900)}


async def test_a_users_month_counts_their_videos_by_model_and_credits_spent(history):
    ada, bob, _ = history
    mine = await usage.user_usage(ada.id)
    assert [(m["model"], m["completed"], m["failed"]) for m in mine.by_model] == [("sora-2", 5, 1)]
    assert (mine.credits_charged, mine.credits_refunded, mine.credits_spent) == (100, 100, 0)
    theirs = await usage.user_usage(bob.id)
    assert theirs.credits_spent == 250


async def test_the_page_draws_each_chart_with_its_table_and_refreshes_by_htmx(history, client):
    admin = await make_user(is_admin=True)
    await sign_in(client, admin)
    page = await client.get("/admin")
    assert page.status_code == 200
    html = page.text
    assert html.count('class="chart-svg"') == 3 and html.count('class="chart-data"') == 3
    assert len(re.findall(r"<rect [^>]*class=\"bar-", html)) >= 4
    assert 'hx-trigger="every 30s"' in html
    assert 'data-figure="revenue-today-usd">19.00<' in html
    fragment = await client.get("/admin", headers={"HX-Request": "true"})
    assert fragment.status_code == 200 and fragment.text.lstrip().startswith('<div id="dashboard"')
    assert "<html" not in fragment.text and fragment.headers["vary"] == "HX-Request"
    ada, _, _ = history
    user_page = await client.get(f"/admin/users/{ada.id}")
    assert user_page.status_code == 200 and "Usage this month" in user_page.text
    assert "sora-2" in user_page.text


async def test_only_administrators_see_the_dashboard(settings, client):
    user = await make_user()
    assert (await client.get("/admin", follow_redirects=False)).status_code in (302, 303)
    await sign_in(client, user)
    assert (await client.get("/admin")).status_code == 403
    assert (await client.get(f"/admin/users/{user.id}")).status_code == 403
    admin = await make_user(is_admin=True)
    await sign_in(client, admin)
    assert (await client.get("/admin/users/987654")).status_code == 404


async def test_the_account_page_shows_the_users_own_month(history, client):
    ada, _, _ = history
    await sign_in(client, ada)
    page = await client.get("/account")
    assert page.status_code == 200
    assert 'data-figure="credits-spent">0<' in page.text and "sora-2" in page.text


async def test_a_year_of_100_000_videos(settings, client, capsys):
    started = time.perf_counter()
    await seed_history(100_000)
    seeded = time.perf_counter() - started
    admin = await make_user(is_admin=True)
    await sign_in(client, admin)
    with counting_queries() as figures_queries:
        started = time.perf_counter()
        figures = await usage.dashboard()
        figures_ms = (time.perf_counter() - started) * 1000
    with counting_queries() as page_queries:
        started = time.perf_counter()
        page = await client.get("/admin")
        page_ms = (time.perf_counter() - started) * 1000
    assert page.status_code == 200 and figures.made.month > 5_000
    # The query count is fixed by the page, not by the data.
    assert len(figures_queries) <= 16 and len(page_queries) <= len(figures_queries) + 4
    with capsys.disabled():
        print(
            f"\n[dashboard, {settings.database_url.split(':')[0]}] 100,000 videos seeded in {seeded:.1f} s; "
            f"figures {figures_ms:.0f} ms in {len(figures_queries)} queries; "
            f"page {page_ms:.0f} ms in {len(page_queries)} queries"
        )
