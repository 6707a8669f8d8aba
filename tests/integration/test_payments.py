"""Paying through Stripe, end to end: the real app under uvicorn, the real `stripe` SDK, the Stripe emulator over
HTTP delivering signed webhooks; on SQLite and on PostgreSQL."""

from __future__ import annotations

import concurrent.futures
from datetime import UTC, datetime

import httpx
import pytest

from app.billing.catalogue import PACK_OFFERS, PLAN_OFFERS
from app.emulators.stripe_webhooks import sign
from tests.payments_support import (
    WEBHOOK_SECRET,
    buy,
    csrf_token,
    ledger_rows,
    new_email,
    open_shop,
    pay,
    signed_in,
    start_checkout,
    user_row,
)

BASIC, PRO = PLAN_OFFERS["basic"].credits, PLAN_OFFERS["pro"].credits
PACK = PACK_OFFERS["medium"]


@pytest.fixture(scope="module", params=["sqlite", "postgres"])
def shop(request, tmp_path_factory):
    with open_shop(tmp_path_factory.mktemp(f"shop-{request.param}"), request.param) as opened:
        yield opened


async def notification_kinds(email: str) -> list[str]:
    from app.tables import Notifications

    rows = (
        await Notifications.select(Notifications.kind)
        .where(Notifications.user.email == email)
        .where(Notifications.kind != "credits_granted")
    )
    return [row["kind"] for row in rows]


def trial_image_id(shop) -> int:
    async def first():
        from app.tables import TrialImages

        return (await TrialImages.select(TrialImages.id).first())["id"]

    return shop.run(first())


def generate(shop, client: httpx.Client) -> httpx.Response:
    """Submit the studio form (no JavaScript): a 4 s Sora 2 video of a trial image."""
    return client.post(
        "/create",
        data={
            "_csrf_token": csrf_token(client, "/create"),
            "prompt": "A red sneaker",
            "model": "sora-2",
            "duration": "4",
            "size": "1280x720",
            "trial_image_id": str(trial_image_id(shop)),
        },
    )


def subscribe(shop, plan: str = "basic") -> tuple[str, httpx.Client, dict]:
    email = new_email()
    client = signed_in(shop, email)
    done = buy(shop, client, plan=plan)
    assert done.status_code == 200, done.text
    return email, client, shop.run(user_row(email))


def test_a_free_user_pays_for_basic_gets_its_credits_and_can_generate(shop):
    email = new_email()
    client = signed_in(shop, email)
    blocked = generate(shop, client)
    assert blocked.status_code == 403 and "Free plan cannot generate" in blocked.text
    before = shop.run(user_row(email))["credits"]

    done = buy(shop, client, plan="basic")
    assert "You are on the Basic plan" in done.text
    user = shop.run(user_row(email))
    assert (user["subscription_plan"], user["subscription_status"]) == ("basic", "active")
    assert user["credits"] == before + BASIC and f"{before + BASIC:,}" in done.text
    assert user["stripe_subscription_id"].startswith("sub_")
    assert user["subscription_end_date"] > datetime.now(UTC)
    grant = shop.run(ledger_rows(email))[-1]
    assert (grant["delta"], grant["reason"]) == (BASIC, "subscription")
    assert grant["reference"].startswith("invoice:in_")

    made = generate(shop, client)
    assert made.status_code == 303 and made.headers["location"].startswith("/videos/")
    account = client.get("/account")
    assert "Renews on" in account.text and "Manage billing" in account.text
    invoices = client.get("/account/invoices", headers={"HX-Request": "true"})
    assert "EMU-" in invoices.text and "$19" in invoices.text and "/i/in_" in invoices.text


def test_a_renewal_grants_once_and_redelivery_changes_nothing(shop):
    email, _, user = subscribe(shop)
    shop.control(f"subscriptions/{user['stripe_subscription_id']}/renew")
    renewed = shop.run(user_row(email))
    assert renewed["credits"] == user["credits"] + BASIC
    period_end = (
        shop.sdk().v1.subscriptions.retrieve(user["stripe_subscription_id"])["items"].data[0].current_period_end
    )
    assert renewed["subscription_end_date"] == datetime.fromtimestamp(period_end, UTC)

    paid = [e for e in shop.events("invoice.paid") if e["attempts"]][-1]
    again = shop.control(f"events/{paid['id']}/deliver", {"copies": 3})  # three at the same time
    assert [a["status"] for a in again["attempts"]] == [200, 200, 200]
    assert shop.run(user_row(email))["credits"] == renewed["credits"]
    grants = [r for r in shop.run(ledger_rows(email)) if r["reason"] == "subscription"]
    assert len(grants) == 2 and len({r["reference"] for r in grants}) == 2


def test_the_same_event_posted_twice_concurrently_grants_once(shop):
    """Deliveries racing in from two connections: the event id's unique row lets one of them through."""
    email, _, user = subscribe(shop)
    shop.control("webhooks/hold")
    shop.control(f"subscriptions/{user['stripe_subscription_id']}/renew")
    held = [e for e in shop.events("invoice.paid") if e["held"]]
    assert len(held) == 1
    payload = shop.event_json(held[0]["id"])

    def post() -> httpx.Response:
        headers = {"Stripe-Signature": sign(payload, WEBHOOK_SECRET), "Content-Type": "application/json"}
        return httpx.post(f"{shop.url}/billing/stripe/webhook", content=payload, headers=headers, timeout=30)

    with concurrent.futures.ThreadPoolExecutor(max_workers=4) as pool:
        answers = list(pool.map(lambda _: post(), range(4)))
    assert [a.status_code for a in answers] == [200] * 4
    assert sorted(a.json()["outcome"] == "duplicate" for a in answers) == [False, True, True, True]
    shop.control("webhooks/release")
    assert shop.run(user_row(email))["credits"] == user["credits"] + BASIC


def test_events_out_of_order_end_in_the_right_state(shop):
    email = new_email()
    client = signed_in(shop, email)
    before = shop.run(user_row(email))["credits"]
    shop.control("webhooks/hold")
    started = start_checkout(client, plan="pro")
    paid = pay(started.headers["location"])
    assert paid.status_code == 303
    assert shop.run(user_row(email))["subscription_plan"] == "free"  # nothing delivered yet
    waiting = client.get(paid.headers["location"].removeprefix(shop.url))
    assert "Waiting for Stripe's confirmation" in waiting.text and 'hx-trigger="every 2s"' in waiting.text
    shop.control("webhooks/release", {"order": "reverse"})  # checkout.session.completed first, customer.created last
    user = shop.run(user_row(email))
    assert (user["subscription_plan"], user["subscription_status"]) == ("pro", "active")
    assert user["credits"] == before + PRO
    confirmed = client.get(paid.headers["location"].removeprefix(shop.url), headers={"HX-Request": "true"})
    assert 'data-state="applied"' in confirmed.text and "You are on the Pro plan" in confirmed.text


def test_a_failed_renewal_and_a_cancellation_end_the_plan_with_403_subscription_expired(shop):
    email, client, user = subscribe(shop)
    shop.control(f"subscriptions/{user['stripe_subscription_id']}/renew", {"fail": True})
    failed = shop.run(user_row(email))
    assert failed["subscription_status"] == "past_due" and failed["credits"] == user["credits"]
    assert failed["subscription_end_date"] <= datetime.now(UTC)
    refused = generate(shop, client)
    assert refused.status_code == 403 and "payment for your Basic plan failed" in refused.text
    assert "Update your card" in client.get("/create").text
    assert shop.run(notification_kinds(email)) == ["payment_problem"]  # told once, in the bell (and by email)

    email, client, user = subscribe(shop)
    portal = client.post("/billing/portal", data={"_csrf_token": csrf_token(client, "/account")})
    assert portal.status_code == 303
    cancelled = httpx.post(
        f"{portal.headers['location']}/cancel", data={"subscription": user["stripe_subscription_id"]}
    )
    assert cancelled.status_code == 303
    pending = shop.run(user_row(email))
    assert pending["subscription_status"] == "active" and pending["subscription_cancel_at"] is not None
    assert "Ends on" in client.get("/account").text
    shop.control(f"subscriptions/{user['stripe_subscription_id']}/renew")  # the period ends
    ended = shop.run(user_row(email))
    assert ended["subscription_status"] == "cancelled" and ended["subscription_end_date"] <= datetime.now(UTC)
    assert ended["credits"] == user["credits"]  # no renewal grant after a cancellation
    refused = generate(shop, client)
    assert refused.status_code == 403 and "cancelled" in refused.text


def test_a_pack_purchase_and_its_refund(shop):
    email, client, user = subscribe(shop)
    done = buy(shop, client, pack="medium")
    assert f"the {PACK.title} pack is in your balance" in done.text
    bought = shop.run(user_row(email))
    assert bought["credits"] == user["credits"] + PACK.credits
    row = shop.run(ledger_rows(email))[-1]
    assert (row["reason"], row["delta"]) == ("purchase", PACK.credits)

    sdk = shop.sdk()
    intent = sdk.v1.checkout.sessions.list({"customer": user["stripe_customer_id"], "limit": 1}).data[0].payment_intent
    sdk.v1.refunds.create({"payment_intent": intent})
    refunded = shop.run(user_row(email))
    assert refunded["credits"] == user["credits"]
    row = shop.run(ledger_rows(email))[-1]
    assert (row["reason"], row["delta"]) == ("pack_refund", -PACK.credits)
    assert "credits taken back" in row["note"]


def test_a_refund_never_takes_the_balance_below_zero(shop):
    email, client, user = subscribe(shop)
    buy(shop, client, pack="small")

    async def spend_almost_everything():
        from app.billing import ledger
        from app.tables import LedgerReason

        row = await user_row(email)
        await ledger.apply(row["id"], -(row["credits"] - 100), LedgerReason.admin, note="spent")

    shop.run(spend_almost_everything())
    sdk = shop.sdk()
    intent = sdk.v1.checkout.sessions.list({"customer": user["stripe_customer_id"], "limit": 1}).data[0].payment_intent
    sdk.v1.refunds.create({"payment_intent": intent})
    assert shop.run(user_row(email))["credits"] == 0
    row = shop.run(ledger_rows(email))[-1]
    assert row["delta"] == -100 and "balance does not go below zero" in row["note"]


def test_a_bad_signature_is_refused_and_changes_nothing(shop):
    email, _, user = subscribe(shop)
    shop.control("webhooks/hold")
    shop.control(f"subscriptions/{user['stripe_subscription_id']}/renew")
    held = next(e for e in shop.events("invoice.paid") if e["held"])
    payload = shop.event_json(held["id"])
    url = f"{shop.url}/billing/stripe/webhook"
    forged = httpx.post(url, content=payload, headers={"Stripe-Signature": sign(payload, "whsec_not_ours")})
    missing = httpx.post(url, content=payload)
    tampered = httpx.post(
        url, content=payload.replace('"paid"', '"void"', 1), headers={"Stripe-Signature": sign(payload, WEBHOOK_SECRET)}
    )
    for answer in (forged, missing, tampered):
        assert answer.status_code == 400 and answer.json()["code"] == "bad_signature"
    assert shop.run(user_row(email))["credits"] == user["credits"]
    shop.control("webhooks/release")
    assert shop.run(user_row(email))["credits"] == user["credits"] + BASIC


def test_the_portal_moves_basic_to_pro_and_grants_the_difference(shop):
    email, client, user = subscribe(shop)
    portal = client.post("/billing/portal", data={"_csrf_token": csrf_token(client, "/account")})
    page = httpx.get(portal.headers["location"])
    assert "Select AdsVideo Pro" in page.text
    changed = httpx.post(
        f"{portal.headers['location']}/plan",
        data={"subscription": user["stripe_subscription_id"], "price": "price_emu_pro_monthly"},
    )
    assert changed.status_code == 303
    upgraded = shop.run(user_row(email))
    assert upgraded["subscription_plan"] == "pro" and upgraded["subscription_status"] == "active"
    assert upgraded["credits"] == user["credits"] + (PRO - BASIC)

    admin_email = new_email()
    admin = signed_in(shop, admin_email)
    shop.server.cli("create-admin", admin_email)
    card = admin.get("/admin/users/", params={"q": email})
    assert f"Stripe subscription {user['stripe_subscription_id']}" in card.text and "renews" in card.text
    # Every grant, purchase and refund so far (this shop's whole module) is in the ledger.
    assert "Every balance matches its ledger." in shop.server.cli("check-ledger")


def test_checkout_refusals_are_clear(shop):
    _, client, _ = subscribe(shop)
    again = start_checkout(client, plan="pro")
    assert again.status_code == 409 and "billing portal" in again.text
    free = signed_in(shop)
    assert start_checkout(free, pack="small").status_code == 409
    assert start_checkout(free, pack="huge").status_code == 422
    assert start_checkout(free).status_code == 422
    other = signed_in(shop)
    session = shop.sdk().v1.checkout.sessions.list({"limit": 1}).data[0]
    assert other.get(f"/billing/done?session_id={session.id}").status_code == 404


def test_the_api_starts_a_checkout_for_a_plan_or_a_pack(shop):
    email = new_email()
    signed_in(shop, email)

    async def bearer():
        from app.accounts import tokens

        return {"Authorization": f"Bearer {(await tokens.issue_pair((await user_row(email))['id'])).access_token}"}

    headers = shop.run(bearer())
    url = f"{shop.url}/api/v1/billing/checkout"
    started = httpx.post(url, json={"plan": "pro"}, headers=headers)
    assert started.status_code == 200 and started.json()["url"].startswith(f"{shop.stripe_url}/c/pay/cs_test_")
    assert pay(started.json()["url"]).status_code == 303
    assert shop.run(user_row(email))["subscription_plan"] == "pro"
    pack = httpx.post(url, json={"pack": "large"}, headers=headers)
    assert pack.status_code == 200 and "/c/pay/" in pack.json()["url"]
    for body, status in (
        ({"plan": "gold"}, 422),
        ({"plan": "pro", "pack": "small"}, 422),
        ({}, 422),
        ({"plan": "basic"}, 409),
        ({"pack": 5}, 422),
    ):
        refused = httpx.post(url, json=body, headers=headers)
        assert refused.status_code == status and refused.json()["detail"], (body, refused.text)
    assert httpx.post(url, json={"plan": "pro"}).status_code == 401
