"""The Stripe emulator, driven over HTTP by the real `stripe` SDK; its webhooks checked by the SDK's verifier."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import httpx
import pytest
import stripe
from litestar import Litestar, Request, Response, post

from tests.emulators import run_stripe_emulator, serve_asgi

SECRET = "whsec_emulator_tests_0123456789"
CATALOGUE = [
    {"id": "price_basic_test", "name": "Basic", "unit_amount": 1900, "interval": "month", "lookup_key": "basic"},
    {"id": "price_pro_test", "name": "Pro", "unit_amount": 4900, "interval": "month", "lookup_key": "pro"},
    {"id": "price_pack_test", "name": "1,000 credits", "unit_amount": 900},
]


class Receiver:
    """A webhook endpoint that verifies each delivery with the SDK, as the app does, and keeps the events."""

    def __init__(self, secret: str = SECRET):
        self.secret, self.events, self.rejected, self.lock = secret, [], 0, threading.Lock()

        @post("/hook", status_code=200)
        async def hook(request: Request) -> Response:
            try:
                event = stripe.Webhook.construct_event(
                    await request.body(), request.headers.get("stripe-signature"), self.secret
                )
            except (stripe.SignatureVerificationError, ValueError):
                with self.lock:
                    self.rejected += 1
                return Response({"error": "bad signature"}, status_code=400)
            with self.lock:
                self.events.append(event)
            return Response({"received": True})

        self.app = Litestar([hook], openapi_config=None)

    def types(self) -> list[str]:
        return [e.type for e in self.events]

    def of(self, kind: str) -> list:
        return [e for e in self.events if e.type == kind]


@pytest.fixture
def receiver() -> Iterator[tuple[Receiver, str]]:
    hook = Receiver()
    with serve_asgi(hook.app) as root:
        yield hook, f"{root}/hook"


@pytest.fixture
def emulator(receiver):
    hook, url = receiver
    with run_stripe_emulator(forward_to=url, webhook_secret=SECRET, catalogue=CATALOGUE) as (root, app):
        yield root, app, hook


def sdk(root: str, key: str = "sk_test_emulator") -> stripe.StripeClient:
    return stripe.StripeClient(key, base_addresses={"api": root}, max_network_retries=0)


def subscribe(
    client: stripe.StripeClient,
    price: str = "price_basic_test",
    card: str = "4242424242424242",
    email: str = "ada@example.com",
):
    """A customer who went through Checkout and clicked Subscribe; returns (customer, session, redirect)."""
    customer = client.v1.customers.create({"email": email, "metadata": {"user_id": "7"}})
    session = client.v1.checkout.sessions.create(
        {
            "mode": "subscription",
            "customer": customer.id,
            "line_items": [{"price": price, "quantity": 1}],
            "success_url": "https://shop.example/billing/done?session_id={CHECKOUT_SESSION_ID}",
            "cancel_url": "https://shop.example/pricing",
            "client_reference_id": "7",
            "subscription_data": {"metadata": {"user_id": "7"}},
        }
    )
    page = httpx.get(session.url)
    assert page.status_code == 200
    paid = httpx.post(session.url, data={"email": "", "card_number": card, "exp": "12 / 34", "cvc": "123"})
    return customer, session, paid


def test_subscription_checkout_pays_on_the_hosted_page_and_signs_its_webhooks(emulator):
    root, _, hook = emulator
    client = sdk(root)
    customer, session, paid = subscribe(client)

    assert session.url.startswith(f"{root}/c/pay/cs_test_") and session.status == "open"
    assert paid.status_code == 303
    assert paid.headers["location"] == f"https://shop.example/billing/done?session_id={session.id}"
    done = client.v1.checkout.sessions.retrieve(session.id, {"expand": ["line_items", "subscription"]})
    assert (done.status, done.payment_status) == ("complete", "paid")
    assert done.line_items.data[0].price.id == "price_basic_test"
    sub = done.subscription
    assert sub.status == "active" and sub.customer == customer.id and sub.metadata["user_id"] == "7"
    item = sub["items"].data[0]
    assert item.price.id == "price_basic_test" and item.current_period_end > item.current_period_start
    invoice = client.v1.invoices.retrieve(done.invoice)
    assert invoice.status == "paid" and invoice.amount_paid == 1900 and invoice.billing_reason == "subscription_create"
    assert invoice.parent.subscription_details.subscription == sub.id
    assert invoice.lines.data[0].pricing.price_details.price == "price_basic_test"
    # Every event arrived, verified by the SDK with the endpoint's secret, in the order it was raised.
    assert hook.rejected == 0
    assert hook.types().index("invoice.paid") < hook.types().index("checkout.session.completed")
    completed = hook.of("checkout.session.completed")[0].data.object
    assert not [k for k in completed.to_dict() if k.startswith("_")]  # only Stripe's fields go out
    assert completed.id == session.id and completed.subscription == sub.id
    assert client.v1.events.retrieve(hook.of("invoice.paid")[0].id).data.object.id == invoice.id


def test_a_declined_card_changes_nothing_and_says_so(emulator):
    root, _, hook = emulator
    client = sdk(root)
    _, session, paid = subscribe(client, card="4000 0000 0000 0002")
    assert paid.status_code == 402 and "Your card was declined." in paid.text
    assert client.v1.checkout.sessions.retrieve(session.id).status == "open"
    assert client.v1.subscriptions.list({"customer": session.customer}).data == []
    assert "checkout.session.completed" not in hook.types()


def test_a_credit_pack_and_its_refund(emulator):
    root, _, hook = emulator
    client = sdk(root)
    customer = client.v1.customers.create({"email": "bo@example.com"})
    session = client.v1.checkout.sessions.create(
        {
            "mode": "payment",
            "customer": customer.id,
            "line_items": [{"price": "price_pack_test", "quantity": 1}],
            "success_url": "https://shop.example/done",
            "metadata": {"pack": "small"},
        }
    )
    assert httpx.post(session.url, data={"card_number": "4242424242424242"}).status_code == 303
    session = client.v1.checkout.sessions.retrieve(session.id)
    assert session.payment_status == "paid" and session.payment_intent.startswith("pi_")
    intent = client.v1.payment_intents.retrieve(session.payment_intent)
    assert intent.status == "succeeded" and intent.amount == 900

    refund = client.v1.refunds.create({"payment_intent": intent.id})
    assert refund.status == "succeeded" and refund.amount == 900
    charge = hook.of("charge.refunded")[0].data.object
    assert charge.payment_intent == intent.id and charge.refunded and charge.amount_refunded == 900
    with pytest.raises(stripe.InvalidRequestError, match="already been refunded"):
        client.v1.refunds.create({"payment_intent": intent.id})
    with pytest.raises(stripe.InvalidRequestError, match="recurring price"):
        client.v1.checkout.sessions.create(
            {"mode": "payment", "success_url": "https://x/", "line_items": [{"price": "price_basic_test"}]}
        )


def test_the_portal_changes_plan_cancels_and_the_period_end_ends_it(emulator):
    root, _, hook = emulator
    client = sdk(root)
    customer, session, _ = subscribe(client)
    sub_id = client.v1.checkout.sessions.retrieve(session.id).subscription
    portal = client.v1.billing_portal.sessions.create(
        {"customer": customer.id, "return_url": "https://shop.example/account"}
    )
    with httpx.Client(follow_redirects=True) as browser:
        page = browser.get(portal.url)
        assert "Basic" in page.text and "Select Pro" in page.text
        changed = browser.post(f"{portal.url}/plan", data={"subscription": sub_id, "price": "price_pro_test"})
        assert "Your plan has been updated." in changed.text
        sub = client.v1.subscriptions.retrieve(sub_id)
        assert sub["items"].data[0].price.id == "price_pro_test"
        upgrade = client.v1.invoices.retrieve(sub.latest_invoice)
        assert upgrade.billing_reason == "subscription_update" and upgrade.status == "paid"
        assert {line.pricing.price_details.price for line in upgrade.lines.data} == {
            "price_basic_test",
            "price_pro_test",
        }
        updated = hook.of("customer.subscription.updated")[-1].data
        assert updated.previous_attributes["items"]["data"][0]["price"]["id"] == "price_basic_test"

        cancelled = browser.post(f"{portal.url}/cancel", data={"subscription": sub_id})
        assert "stays active until the end of the period" in cancelled.text
    sub = client.v1.subscriptions.retrieve(sub_id)
    assert sub.status == "active" and sub.cancel_at_period_end and sub.cancel_at
    httpx.post(f"{root}/_emulator/subscriptions/{sub_id}/renew", json={}).raise_for_status()
    ended = client.v1.subscriptions.retrieve(sub_id)
    assert ended.status == "canceled" and ended.ended_at
    assert hook.of("customer.subscription.deleted")[0].data.object.id == sub_id


def test_renewals_are_invoiced_and_a_failing_card_leaves_the_subscription_past_due(emulator):
    root, _, hook = emulator
    client = sdk(root)
    _, session, _ = subscribe(client)
    sub_id = client.v1.checkout.sessions.retrieve(session.id).subscription
    httpx.post(f"{root}/_emulator/subscriptions/{sub_id}/renew", json={}).raise_for_status()
    renewal = hook.of("invoice.paid")[-1].data.object
    assert renewal.billing_reason == "subscription_cycle" and renewal.amount_paid == 1900

    httpx.post(f"{root}/_emulator/subscriptions/{sub_id}/renew", json={"fail": True}).raise_for_status()
    failed = hook.of("invoice.payment_failed")[0].data.object
    assert failed.status == "open" and failed.attempt_count == 1
    assert client.v1.subscriptions.retrieve(sub_id).status == "past_due"
    assert len(client.v1.invoices.list({"subscription": sub_id}).data) == 3


def test_events_can_be_held_released_out_of_order_and_delivered_twice_at_once(emulator):
    root, _, hook = emulator
    client = sdk(root)
    httpx.post(f"{root}/_emulator/webhooks/hold").raise_for_status()
    subscribe(client)
    assert hook.events == []
    held = httpx.get(f"{root}/_emulator/events").json()["data"]
    assert held and all(e["held"] for e in held)
    released = httpx.post(f"{root}/_emulator/webhooks/release", json={"order": "reverse"}).json()["delivered"]
    assert [e.id for e in hook.events] == released == [e["id"] for e in reversed(held)]

    paid = hook.of("invoice.paid")[0]
    answer = httpx.post(f"{root}/_emulator/events/{paid.id}/deliver", json={"copies": 2}).json()
    assert [a["status"] for a in answer["attempts"]] == [200, 200]
    assert [e.id for e in hook.of("invoice.paid")] == [paid.id] * 3


def test_endpoints_made_through_the_api_get_their_own_secret(emulator):
    root, _, _ = emulator
    client = sdk(root)
    other = Receiver(secret="whsec_wrong")
    with serve_asgi(other.app) as other_root:
        endpoint = client.v1.webhook_endpoints.create(
            {"url": f"{other_root}/hook", "enabled_events": ["customer.created"]}
        )
        assert endpoint.secret.startswith("whsec_")
        client.v1.customers.create({"email": "cy@example.com"})
        assert other.rejected == 1 and other.events == []  # signed with its own secret, not ours
        other.secret = endpoint.secret
        client.v1.customers.create({"email": "di@example.com"})
        assert [e.type for e in other.events] == ["customer.created"]


def test_api_errors_are_stripes(emulator):
    root, _, _ = emulator
    with pytest.raises(stripe.AuthenticationError):
        sdk(root, "pk_test_publishable").v1.customers.list()
    with pytest.raises(stripe.AuthenticationError):
        stripe.StripeClient("sk_test_x", base_addresses={"api": root}).v1.customers.list({}, {"api_key": "sk_live_no"})
    as_curl = httpx.get(f"{root}/v1/prices/price_pro_test", auth=("sk_test_curl", ""))  # curl -u sk_test_...:
    assert as_curl.status_code == 200 and as_curl.json()["unit_amount"] == 4900
    assert httpx.get(f"{root}/v1/prices").status_code == 401
    client = sdk(root)
    with pytest.raises(stripe.InvalidRequestError) as missing:
        client.v1.customers.retrieve("cus_nobody")
    assert missing.value.http_status == 404 and missing.value.code == "resource_missing"
    with pytest.raises(stripe.InvalidRequestError) as no_mode:
        client.v1.checkout.sessions.create({"success_url": "https://x/", "line_items": [{"price": "price_pro_test"}]})
    assert no_mode.value.param == "mode"
    first = client.v1.customers.create({"email": "same@example.com"}, {"idempotency_key": "k-1"})
    again = client.v1.customers.create({"email": "same@example.com"}, {"idempotency_key": "k-1"})
    assert first.id == again.id
    with pytest.raises(stripe.IdempotencyError):
        client.v1.customers.create({"email": "other@example.com"}, {"idempotency_key": "k-1"})
    assert [p.id for p in client.v1.prices.list({"lookup_keys": ["pro"]}).data] == ["price_pro_test"]


async def test_the_async_client_works_too(emulator):
    root, _, _ = emulator
    client = stripe.StripeClient("sk_test_async", base_addresses={"api": root}, http_client=stripe.HTTPXClient())
    customer = await client.v1.customers.create_async({"email": "async@example.com"})
    fetched = await client.v1.customers.retrieve_async(customer.id)
    assert fetched.email == "async@example.com"


def test_mounted_in_development_only_and_never_with_a_real_key(settings):
    from app.emulators.mount import emulator_routes

    def mounted(s) -> bool:
        return any("/_emulators/stripe" in r.paths for r in emulator_routes(s))

    assert mounted(settings) and settings.stripe_api_url.endswith("/_emulators/stripe")
    assert not mounted(settings.model_copy(update={"app_env": "production"}))
    real = settings.model_copy(update={"stripe_secret_key": "sk_live_x"})
    assert not mounted(real) and real.stripe_api_url is None
