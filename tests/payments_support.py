"""A shop to pay in: the real app under uvicorn (its own database) and a Stripe emulator on its own port,
whose webhooks go to the app's endpoint, signed with the app's secret. Helpers click through Checkout."""

from __future__ import annotations

import contextlib
import re
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import asyncpg
import httpx
import stripe

from app import db
from app.billing.catalogue import emulator_catalogue
from app.config import get_settings
from tests.conftest import run_blocking
from tests.e2e.conftest import LiveServer, start_server, stop_server
from tests.emulators import run_stripe_emulator
from tests.services import POSTGRES_URL, require

WEBHOOK_SECRET = "whsec_payments_tests_0123456789abcdef"


@dataclass
class Shop:
    server: LiveServer
    stripe_url: str
    database_url: str

    @property
    def url(self) -> str:
        return self.server.url

    def sdk(self) -> stripe.StripeClient:
        return stripe.StripeClient("sk_test_payments", base_addresses={"api": self.stripe_url}, max_network_retries=0)

    def run(self, coro):
        """Run a coroutine against the shop's database (from the test's thread)."""
        db.bind_engine(db.make_engine(self.database_url))
        return run_blocking(coro)

    def control(self, path: str, body: dict | None = None) -> dict:
        response = httpx.post(f"{self.stripe_url}/_emulator/{path}", json=body or {}, timeout=30)
        response.raise_for_status()
        return response.json()

    def event_json(self, event_id: str) -> str:
        """An event exactly as Stripe's API returns it (the body a webhook delivery carries)."""
        response = httpx.get(
            f"{self.stripe_url}/v1/events/{event_id}", headers={"Authorization": "Bearer sk_test_payments"}
        )
        response.raise_for_status()
        return response.text

    def events(self, kind: str | None = None) -> list[dict]:
        params = {"type": kind} if kind else {}
        return httpx.get(f"{self.stripe_url}/_emulator/events", params=params).json()["data"]


@contextlib.contextmanager
def open_shop(tmp: Path, backend: str) -> Iterator[Shop]:
    with contextlib.ExitStack() as stack:
        if backend == "postgres":
            require("postgres")
            name = f"adsvideo_pay_{uuid.uuid4().hex[:10]}"
            run_blocking(_postgres("CREATE DATABASE", name))
            stack.callback(lambda: run_blocking(_postgres("DROP DATABASE IF EXISTS", name, " WITH (FORCE)")))
            database_url = f"{POSTGRES_URL.rpartition('/')[0]}/{name}"
        else:
            database_url = f"sqlite:///{tmp}/shop.db"
        stripe_url, _ = stack.enter_context(run_stripe_emulator(catalogue=emulator_catalogue()))
        server = start_server(
            tmp,
            DATABASE_URL=database_url,
            STRIPE_API_BASE=stripe_url,
            STRIPE_WEBHOOK_SECRET=WEBHOOK_SECRET,
            MOCK_GENERATION_SECONDS="0",
        )
        stack.callback(stop_server, server)
        stack.callback(lambda: print(f"\n--- {backend} server log (tail) ---\n" + server.log.read_text()[-6000:]))
        httpx.post(
            f"{stripe_url}/_emulator/webhooks",
            json={"url": f"{server.url}/billing/stripe/webhook", "secret": WEBHOOK_SECRET},
        ).raise_for_status()
        yield Shop(server=server, stripe_url=stripe_url, database_url=database_url)
    get_settings.cache_clear()


async def _postgres(command: str, name: str, suffix: str = "") -> None:
    conn = await asyncpg.connect(POSTGRES_URL)
    try:
        await conn.execute(f'{command} "{name}"{suffix}')
    finally:
        await conn.close()


def new_email() -> str:
    return f"pay-{uuid.uuid4().hex[:8]}@example.com"


def signed_in(shop: Shop, email: str | None = None) -> httpx.Client:
    """A browser-like client signed in through the Google emulator mounted in the app."""
    client = httpx.Client(base_url=shop.url, timeout=30)
    r = client.get(
        "/auth/login", params={"login_hint": email or new_email(), "next": "/account"}, follow_redirects=True
    )
    assert r.status_code == 200 and r.url.path == "/account", (r.status_code, r.url)
    return client


def csrf_token(client: httpx.Client, path: str = "/pricing") -> str:
    page = client.get(path)
    match = re.search(r'name="_csrf_token" value="([^"]+)"', page.text)
    assert match, f"no CSRF token on {path}"
    return match.group(1)


def start_checkout(client: httpx.Client, **choice: str) -> httpx.Response:
    """POST /billing/checkout (plan=... or pack=...) as the pricing page's form does."""
    return client.post("/billing/checkout", data={**choice, "_csrf_token": csrf_token(client)})


def pay(checkout_url: str, card: str = "4242 4242 4242 4242") -> httpx.Response:
    """Click Pay on the emulator's hosted checkout page (the form works without JavaScript)."""
    page = httpx.get(checkout_url)
    assert page.status_code == 200 and "Pay with card" in page.text
    return httpx.post(checkout_url, data={"email": "", "card_number": card, "exp": "12 / 34", "cvc": "123"})


def buy(shop: Shop, client: httpx.Client, **choice: str) -> httpx.Response:
    """Checkout, Pay, and back to the app's page that says what happened."""
    started = start_checkout(client, **choice)
    assert started.status_code == 303, started.text
    paid = pay(started.headers["location"])
    assert paid.status_code == 303, paid.text
    back = paid.headers["location"]
    assert back.startswith(f"{shop.url}/billing/done?session_id=cs_test_")
    return client.get(back.removeprefix(shop.url))


async def user_row(email: str) -> dict:
    from app.tables import Users

    return await Users.select().where(Users.email == email).first()


async def ledger_rows(email: str) -> list[dict]:
    from app.tables import CreditTransactions, Users

    user = await Users.select(Users.id).where(Users.email == email).first()
    return (
        await CreditTransactions.select().where(CreditTransactions.user == user["id"]).order_by(CreditTransactions.id)
    )
