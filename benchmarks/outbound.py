"""Outbound traffic on loopback: signed webhook deliveries to a local receiver, and emails to a local SMTP server.

python -m benchmarks.run outbound
"""

from __future__ import annotations

import asyncio
import tempfile
import time
from pathlib import Path

N_WEBHOOKS = 300
N_EMAILS = 200
CONCURRENCY = 20


async def _receiver(scope, receive, send) -> None:
    if scope["type"] != "http":
        return
    while (await receive()).get("more_body"):
        pass
    await send({"type": "http.response.start", "status": 204, "headers": []})
    await send({"type": "http.response.body", "body": b""})


async def _timed(call, n: int, concurrency: int) -> tuple[list[float], float]:
    gate = asyncio.Semaphore(concurrency)
    latencies: list[float] = []

    async def one(i: int) -> None:
        async with gate:
            start = time.perf_counter()
            await call(i)
            latencies.append(time.perf_counter() - start)

    start = time.perf_counter()
    await asyncio.gather(*(one(i) for i in range(n)))
    return latencies, time.perf_counter() - start


async def _webhooks(url: str, report) -> None:
    from app.webhooks.delivery import post_event
    from app.webhooks.signing import new_message_id, new_secret

    secret, body = new_secret(), '{"type":"video.completed","data":{"id":1}}'

    async def deliver(_: int) -> None:
        attempt = await post_event(url, secret, new_message_id(), body, allow_private=True, timeout=10)
        assert attempt.ok, attempt.error

    for concurrency in (1, CONCURRENCY):
        latencies, elapsed = await _timed(deliver, N_WEBHOOKS, concurrency)
        report(f"webhook delivery, {concurrency} at a time", latencies, elapsed)


async def _emails(directory: Path, report) -> None:
    from app.config import Settings
    from app.emulators.mail import start_smtp_outbox
    from app.notifications.compose import OutgoingEmail, build_message
    from app.notifications.smtp import send

    server = start_smtp_outbox(directory)
    try:
        settings = Settings(_env_file=None, smtp_host=server.hostname, smtp_port=server.port, smtp_security="none")
        email = OutgoingEmail(
            to="bench@example.com",
            subject="Your video is ready",
            text="t" * 400,
            html="<p>" + "h" * 1200 + "</p>",
            unsubscribe_url="https://adsvideo.example/u/x",
        )

        async def mail(_: int) -> None:
            await send(build_message(email, sender=settings.mail_from), settings)

        for concurrency in (1, CONCURRENCY):
            latencies, elapsed = await _timed(mail, N_EMAILS, concurrency)
            report(f"email over SMTP, {concurrency} at a time", latencies, elapsed)
    finally:
        server.stop()


def bench_outbound(report) -> None:
    from tests.emulators import serve_asgi

    with serve_asgi(_receiver) as root, tempfile.TemporaryDirectory() as tmp:
        asyncio.run(_webhooks(f"{root}/hooks", report))
        asyncio.run(_emails(Path(tmp), report))
