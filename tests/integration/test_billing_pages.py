"""Pricing, the credit history and the admin users page, through HTTP."""

from __future__ import annotations

import re

import pytest
from litestar.params import FromPath

from app.billing import charges
from app.tables import CreditTransactions, Users
from tests.billing_factories import balance, make_user, make_video


async def sign_in(client, user) -> None:
    await client.set_session_data({"user_id": user.id})


async def csrf(client) -> dict[str, str]:
    await client.get("/pricing")
    return {"x-csrftoken": client.cookies.get("csrftoken")}


HX = {"HX-Request": "true"}


# --- /pricing -------------------------------------------------------------------------------------


async def test_pricing_compares_plans_packs_and_prices(client):
    r = await client.get("/pricing")
    assert r.status_code == 200
    for text in (
        "Free",
        "Basic",
        "Pro",
        "1,000",
        "5,000",
        "Sora 2 Pro",
        "1792×1024",
        "Runway Gen-4 Turbo",
        "$19</strong> / month",
        "$49</strong> / month",
        "$9</strong> once",
        "Credit packs",
        "up to 2 at once",
        "up to 4 at once",
    ):
        assert text in r.text
    main = r.text.split('id="main"')[1]
    assert "<form" not in main and "Sign in to choose Basic" in main  # signed out: nothing to buy yet
    assert re.search(
        r'id="price-sora-2">\s*<td><strong>Sora 2</strong>.*?<td>4 s</td>\s*<td class="num">100</td>', r.text, re.S
    )


async def test_pricing_marks_the_signed_in_users_plan(client, settings):
    user = await make_user(plan="pro")
    await sign_in(client, user)
    r = await client.get("/pricing")
    assert 'class="plan-card plan-current" id="plan-pro"' in r.text
    # An administrator's plan has no Stripe subscription: the buttons start a checkout (packs are open to it).
    assert 'name="plan" value="basic"' in r.text and 'name="pack" value="small"' in r.text


async def test_a_free_user_is_offered_plans_but_not_packs(client, settings):
    await sign_in(client, await make_user(plan="free"))
    r = await client.get("/pricing")
    assert 'data-testid="choose-basic"' in r.text and 'data-testid="choose-pro"' in r.text
    assert 'name="pack"' not in r.text and "Packs need an active Basic or Pro plan." in r.text


# --- /account/ledger ------------------------------------------------------------------------------


async def test_ledger_page_shows_balance_and_history_in_words(client, settings):
    user = await make_user(credits=500)
    video = await make_video(user.id)
    await charges.debit(user.id, video, 1, 100)
    await charges.refund(video, 1)
    await charges.grant(user.id, -50, "Test correction")
    await sign_in(client, user)

    r = await client.get("/account/ledger")
    assert r.status_code == 200 and "<html" in r.text
    assert "450" in r.text
    for words in (
        "Welcome credits",
        f"Video #{video}",
        f"Refund for video #{video}",
        "Adjustment by an administrator: Test correction",
    ):
        assert words in r.text
    assert r.headers["vary"] == "HX-Request"


async def test_ledger_fragment_for_htmx_pages_through_history(client, settings):
    user = await make_user(credits=100)
    for n in range(25):
        await charges.grant(user.id, 1, f"grant {n}")
    await sign_in(client, user)

    first = await client.get("/account/ledger", headers=HX)
    assert first.status_code == 200
    assert first.text.strip().startswith('<section id="ledger"') and "<html" not in first.text
    assert "grant 24<" in first.text and "grant 5<" in first.text and "grant 4<" not in first.text
    assert 'hx-get="/account/ledger?page=2"' in first.text

    second = await client.get("/account/ledger?page=2", headers=HX)
    assert "grant 4<" in second.text and "Welcome credits" in second.text
    assert "Older" not in second.text and 'hx-get="/account/ledger?page=1"' in second.text


async def test_ledger_needs_sign_in(client):
    r = await client.get("/account/ledger", follow_redirects=False)
    assert r.status_code in (302, 303) and r.headers["location"].startswith("/auth/login?next=/account/ledger")


async def test_ledger_shows_only_your_own_history(client, settings):
    me = await make_user(credits=100)
    other = await make_user(credits=100)
    await charges.grant(other.id, 7, "secret bonus for someone else")
    await sign_in(client, me)
    r = await client.get("/account/ledger")
    assert "secret bonus" not in r.text


# --- /admin/users ---------------------------------------------------------------------------------


async def test_admin_page_refuses_non_admins(client, settings):
    user = await make_user()
    await sign_in(client, user)
    assert (await client.get("/admin/users")).status_code == 403
    headers = await csrf(client)
    r = await client.post(f"/admin/users/{user.id}/credits", data={"amount": "1000", "reason": "me"}, headers=headers)
    assert r.status_code == 403
    assert await balance(user.id) == 100


async def test_admin_page_needs_sign_in(client):
    r = await client.get("/admin/users", follow_redirects=False)
    assert r.status_code in (302, 303)


async def test_admin_searches_by_email_or_name(client, settings):
    admin = await make_user(is_admin=True, email="boss@example.com", name="The Boss")
    await make_user(email="ada@shop.example", name="Ada Lovelace")
    await make_user(email="bob@else.example", name="Bob")
    await sign_in(client, admin)

    r = await client.get("/admin/users?q=LOVELACE")
    assert r.status_code == 200 and "ada@shop.example" in r.text and "bob@else.example" not in r.text
    r = await client.get("/admin/users?q=else.example", headers=HX)
    assert r.text.strip().startswith('<div id="admin-results"') and "bob@else.example" in r.text
    r = await client.get("/admin/users?q=nobody-like-this")
    assert "No user matches" in r.text


async def test_admin_sets_plan_and_end_date(client, settings):
    admin = await make_user(is_admin=True)
    user = await make_user(credits=100, plan="free", ends_in_days=None)
    await sign_in(client, admin)
    headers = {**await csrf(client), **HX}

    r = await client.post(
        f"/admin/users/{user.id}/plan", data={"plan": "pro", "end_date": "2099-12-31", "grant": "on"}, headers=headers
    )
    assert r.status_code == 200
    assert r.text.strip().startswith(f'<article class="admin-user" id="user-{user.id}"')
    assert "Now on the Pro plan" in r.text
    stored = await Users.objects().where(Users.id == user.id).first()
    assert (stored.subscription_plan, stored.subscription_status, stored.credits) == ("pro", "active", 5100)
    assert stored.subscription_end_date.strftime("%Y-%m-%d") == "2099-12-31"


async def test_admin_plan_errors_show_in_place_and_change_nothing(client, settings):
    admin = await make_user(is_admin=True)
    user = await make_user(credits=100, plan="basic")
    await sign_in(client, admin)
    headers = {**await csrf(client), **HX}

    r = await client.post(
        f"/admin/users/{user.id}/plan", data={"plan": "pro", "end_date": "2001-01-01"}, headers=headers
    )
    assert r.status_code == 422 and "must be in the future" in r.text and 'class="field-error"' in r.text
    r = await client.post(
        f"/admin/users/{user.id}/plan", data={"plan": "pro", "end_date": "next week"}, headers=headers
    )
    assert r.status_code == 422 and "YYYY-MM-DD" in r.text
    stored = await Users.objects().where(Users.id == user.id).first()
    assert (stored.subscription_plan, stored.credits) == ("basic", 100)


async def test_admin_grants_and_removes_credits_with_a_reason(client, settings):
    admin = await make_user(is_admin=True)
    user = await make_user(credits=100)
    await sign_in(client, admin)
    headers = {**await csrf(client), **HX}

    r = await client.post(
        f"/admin/users/{user.id}/credits", data={"amount": "250", "reason": "Launch gift"}, headers=headers
    )
    assert r.status_code == 200 and "Balance is now 350 credits" in r.text
    r = await client.post(f"/admin/users/{user.id}/credits", data={"amount": "-400", "reason": "Oops"}, headers=headers)
    assert r.status_code == 422 and "below zero" in r.text
    assert 'value="-400"' in r.text and 'value="Oops"' in r.text  # what the admin typed is kept
    r = await client.post(f"/admin/users/{user.id}/credits", data={"amount": "ten", "reason": "x"}, headers=headers)
    assert r.status_code == 422 and "whole number" in r.text
    assert await balance(user.id) == 350
    notes = await CreditTransactions.select(CreditTransactions.note).where(CreditTransactions.reason == "admin")
    assert [n["note"] for n in notes] == ["Launch gift"]


async def test_admin_form_without_htmx_renders_the_page(client, settings):
    admin = await make_user(is_admin=True)
    user = await make_user(credits=100, email="plain@example.com")
    await sign_in(client, admin)
    token = (await csrf(client))["x-csrftoken"]
    r = await client.post(
        f"/admin/users/{user.id}/credits", data={"amount": "5", "reason": "Plain form", "_csrf_token": token}
    )
    assert r.status_code == 200 and "<html" in r.text and "plain@example.com" in r.text
    assert await balance(user.id) == 105


async def test_admin_post_without_csrf_is_refused(client, settings):
    admin = await make_user(is_admin=True)
    user = await make_user(credits=100)
    await sign_in(client, admin)
    r = await client.post(f"/admin/users/{user.id}/credits", data={"amount": "5", "reason": "x"})
    assert r.status_code == 403
    assert await balance(user.id) == 100


async def test_admin_unknown_user_is_404(client, settings):
    admin = await make_user(is_admin=True)
    await sign_in(client, admin)
    headers = await csrf(client)
    r = await client.post("/admin/users/999999/credits", data={"amount": "5", "reason": "x"}, headers=headers)
    assert r.status_code == 404


# --- how the seed's errors reach people -----------------------------------------------------------


@pytest.fixture
def raising_app(settings):
    """A route under /api/ and a page that raise the seed's errors, added to a real app of its own (its
    error handlers, and the routes the error page links to; the shared test app stays untouched)."""
    from litestar import get

    from app.asgi import create_app

    app = create_app(settings)

    errors = {
        "required": charges.SubscriptionRequiredException(),
        "expired": charges.SubscriptionExpiredException(),
        "credits": charges.InsufficientCreditsException("This video costs 100 credits and you have 40."),
    }

    @get("/api/v1/boom/{kind:str}")
    async def api(kind: FromPath[str]) -> None:
        raise errors[kind]

    @get("/boom/{kind:str}")
    async def page(kind: FromPath[str]) -> None:
        raise errors[kind]

    app.register(api)
    app.register(page)
    return app


@pytest.mark.parametrize(
    ("kind", "status", "code"),
    [
        ("required", 403, "subscription_required"),
        ("expired", 403, "subscription_expired"),
        ("credits", 402, "insufficient_credits"),
    ],
)
async def test_seed_errors_are_json_under_api_and_pages_link_to_the_fix(raising_app, kind, status, code):
    from litestar.testing import AsyncTestClient

    async with AsyncTestClient(app=raising_app) as c:
        r = await c.get(f"/api/v1/boom/{kind}")
        assert r.status_code == status
        assert r.json()["code"] == code and r.json()["status_code"] == status and r.json()["detail"]
        assert r.json().get("upgrade_url", "").endswith("/pricing") == (status == 403)
        page = await c.get(f"/boom/{kind}")
        assert page.status_code == status
        fix = "/account" if kind == "credits" else "/pricing"
        assert f'href="{fix}"' in page.text
