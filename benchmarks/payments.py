"""Stripe webhook handling on this machine: first deliveries (verify, read the subscription from the
emulator over HTTP, grant in one transaction), redeliveries (verify, found, nothing changes) and one
event delivered many times at once (exactly one grant). SQLite, the real SDK, the emulator on loopback.

    python -m benchmarks.payments [N]
"""

from __future__ import annotations

import asyncio
import os
import socket
import sys
import tempfile
import threading
import time

import httpx

RENEWALS = int(sys.argv[1]) if len(sys.argv) > 1 else 100
SECRET = "whsec_benchmark"


def _serve(app) -> str:
    import uvicorn

    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    server = uvicorn.Server(uvicorn.Config(app, lifespan="off", log_level="warning", access_log=False))
    threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True).start()
    while not server.started:
        time.sleep(0.02)
    return f"http://127.0.0.1:{sock.getsockname()[1]}"


def _events(root: str, kind: str) -> list[str]:
    """Raw event bodies, exactly as a webhook delivery carries them."""
    ids = [e["id"] for e in httpx.get(f"{root}/_emulator/events", params={"type": kind}).json()["data"]]
    auth = {"Authorization": "Bearer sk_test_bench"}
    return [httpx.get(f"{root}/v1/events/{i}", headers=auth).text for i in ids]


async def _run(root: str) -> None:
    import stripe

    from app.billing import stripe_events
    from app.config import get_settings
    from app.emulators.stripe_webhooks import sign
    from app.migrate import migrate
    from app.tables import CreditTransactions, Users

    await migrate()
    settings = get_settings()
    sdk = stripe.StripeClient("sk_test_bench", base_addresses={"api": root})
    customer = sdk.v1.customers.create({"email": "bench@example.com"})
    user = Users(email="bench@example.com", stripe_customer_id=customer.id)
    await user.save()
    session = sdk.v1.checkout.sessions.create(
        {
            "mode": "subscription",
            "customer": customer.id,
            "success_url": "http://127.0.0.1/done",
            "line_items": [{"price": "price_emu_basic_monthly"}],
        }
    )
    assert httpx.post(session.url, data={"card_number": "4242424242424242"}).status_code == 303
    sub = sdk.v1.checkout.sessions.retrieve(session.id).subscription
    for _ in range(RENEWALS - 1):
        httpx.post(f"{root}/_emulator/subscriptions/{sub}/renew", json={}).raise_for_status()
    payloads = _events(root, "invoice.paid")

    async def deliver(payload: str) -> str:
        return await stripe_events.handle(payload.encode(), sign(payload, SECRET), settings)

    for label in ("first delivery", "redelivery (duplicate)"):
        start = time.perf_counter()
        outcomes = [await deliver(p) for p in payloads]
        elapsed = time.perf_counter() - start
        print(
            f"invoice.paid, {label:<24} {len(payloads) / elapsed:8.1f} events/s   "
            f"{elapsed / len(payloads) * 1000:6.1f} ms each   ({sum(o == 'duplicate' for o in outcomes)} duplicates)"
        )

    httpx.post(f"{root}/_emulator/subscriptions/{sub}/renew", json={}).raise_for_status()
    last = _events(root, "invoice.paid")[-1]
    before = await CreditTransactions.count().where(CreditTransactions.user == user.id)
    start = time.perf_counter()
    outcomes = await asyncio.gather(*(deliver(last) for _ in range(20)), return_exceptions=True)
    elapsed = time.perf_counter() - start
    grants = await CreditTransactions.count().where(CreditTransactions.user == user.id) - before
    errors = sum(isinstance(o, Exception) for o in outcomes)
    print(f"one event x20 at once{'':<19} {elapsed * 1000:8.1f} ms total   {grants} grant, {errors} errors")


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        from app.billing.catalogue import emulator_catalogue
        from app.emulators.stripe import create_stripe_emulator

        root = _serve(create_stripe_emulator(catalogue=emulator_catalogue()))
        os.environ.update(
            DATABASE_URL=f"sqlite:///{tmp}/bench.db",
            STRIPE_API_BASE=root,
            STRIPE_WEBHOOK_SECRET=SECRET,
            ADSVIDEO_ENV_FILE="",
        )
        from app import db
        from app.config import get_settings

        get_settings.cache_clear()
        db.bind_engine(db.make_engine(os.environ["DATABASE_URL"]))
        asyncio.run(_run(root))


if __name__ == "__main__":
    main()
