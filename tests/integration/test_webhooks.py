"""Webhooks for API clients, end to end: endpoints registered through the API and the pages, deliveries
from the embedded worker to a local HTTP receiver, verified with the `standardwebhooks` library;
retries after 500s, the test event, switching off after repeated failures, and the SSRF guard."""

from __future__ import annotations

import json

import pytest
from standardwebhooks.webhooks import Webhook

from app.config import get_settings
from app.tables import EmailMessages, Notifications, WebhookAttempts, WebhookDeliveries, WebhookEndpoints
from app.webhooks import dispatch
from tests.billing_factories import make_user
from tests.jobs_support import FAST_JOBS, api_user, unique_prompt, wait_for, wait_for_final
from tests.studio_factories import csrf, sign_in
from tests.webhook_receiver import webhook_receiver


@pytest.fixture
def fast(openai_emulator, monkeypatch):
    for name, value in FAST_JOBS.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("OPENAI_BASE_URL", openai_emulator)
    monkeypatch.setenv("WEBHOOK_RETRY_BASE_SECONDS", "0.05")
    monkeypatch.setenv("WEBHOOK_MAX_ATTEMPTS", "3")
    monkeypatch.setenv("WEBHOOK_DISABLE_AFTER_FAILURES", "3")


async def register(client, headers, url: str, events=("video.completed", "video.failed")) -> dict:
    answer = await client.post("/api/v1/webhooks", json={"url": url, "events": list(events)}, headers=headers)
    assert answer.status_code == 201, answer.text
    return answer.json()


async def deliveries_of(endpoint_id: int) -> list[WebhookDeliveries]:
    return (
        await WebhookDeliveries.objects()
        .where(WebhookDeliveries.endpoint == endpoint_id)
        .order_by(WebhookDeliveries.id)
    )


async def settled(endpoint_id: int, count: int = 1):
    rows = await deliveries_of(endpoint_id)
    return rows if len(rows) >= count and all(r.status != "pending" for r in rows) else None


async def test_registering_answers_an_id_and_a_secret_and_checks_the_input(fast, client):
    user, headers = await api_user()
    created = await register(client, headers, "https://hooks.example.com/adsvideo")
    assert created["id"] > 0 and created["secret"].startswith("whsec_")
    assert created["events"] == ["video.completed", "video.failed"] and created["enabled"] is True
    bad = await client.post(
        "/api/v1/webhooks", json={"url": "ftp://x.example/", "events": ["video.completed"]}, headers=headers
    )
    assert bad.status_code == 422 and "https://" in bad.json()["detail"]
    unknown = await client.post(
        "/api/v1/webhooks", json={"url": "https://x.example/", "events": ["video.exploded"]}, headers=headers
    )
    assert unknown.status_code == 422 and unknown.json()["code"] == "unknown_event"
    _, other = await api_user()
    assert (await client.delete(f"/api/v1/webhooks/{created['id']}", headers=other)).status_code == 404
    assert [e["id"] for e in (await client.get("/api/v1/webhooks", headers=headers)).json()] == [created["id"]]
    assert (await client.delete(f"/api/v1/webhooks/{created['id']}", headers=headers)).status_code == 204


async def test_a_finished_video_is_delivered_signed_and_the_library_verifies_it(fast, client):
    user, headers = await api_user(credits=500)
    with webhook_receiver() as receiver:
        endpoint = await register(client, headers, receiver.url)
        body = {"prompt": unique_prompt("Webhook me"), "model": "sora-2", "duration": 4, "resolution": "1280x720"}
        video_id = (await client.post("/api/v1/videos/generate", json=body, headers=headers)).json()["id"]
        assert (await wait_for_final(video_id)).status == "completed"
        [request] = receiver.wait_for(1)
    event = Webhook(endpoint["secret"]).verify(request.body, request.headers)
    assert event["type"] == "video.completed"
    assert event["data"]["id"] == video_id and event["data"]["status"] == "completed"
    assert event["data"]["video_url"].startswith("/media/videos/")
    [row] = await wait_for(lambda: settled(endpoint["id"]), what="the delivery settled")
    assert (row.status, row.attempts, row.last_status_code) == ("succeeded", 1, 200)


async def test_500s_are_retried_with_the_same_id_until_the_receiver_takes_it(fast, client):
    user, headers = await api_user()
    with webhook_receiver(statuses=[500, 500]) as receiver:
        endpoint = await register(client, headers, receiver.url)
        await dispatch.emit(user.id, "video.completed", {"id": 1})
        requests = receiver.wait_for(3)
    assert len({r.headers["webhook-id"] for r in requests}) == 1
    for request in requests:
        Webhook(endpoint["secret"]).verify(request.body, request.headers)
    [row] = await wait_for(lambda: settled(endpoint["id"]), what="the delivery settled")
    assert (row.status, row.attempts) == ("succeeded", 3)
    attempts = (
        await WebhookAttempts.objects().where(WebhookAttempts.delivery == row.id).order_by(WebhookAttempts.number)
    )
    assert [(a.number, a.status_code) for a in attempts] == [(1, 500), (2, 500), (3, 200)]
    assert (
        await WebhookEndpoints.objects().where(WebhookEndpoints.id == endpoint["id"]).first()
    ).consecutive_failures == 0


async def test_the_test_event_button_and_the_delivery_log(fast, client):
    user = await make_user()
    await sign_in(client, user)
    headers = await csrf(client)
    with webhook_receiver() as receiver:
        created = await client.post(
            "/account/webhooks",
            data={"url": receiver.url, "events": "video.failed"},
            headers=headers,
            follow_redirects=False,
        )
        assert created.status_code == 303
        detail_path = created.headers["location"]
        endpoint_id = int(detail_path.rsplit("/", 1)[1])
        tested = await client.post(f"{detail_path}/test", headers=headers, follow_redirects=False)
        assert tested.status_code == 303
        [request] = receiver.wait_for(1)
    secret = (await WebhookEndpoints.objects().where(WebhookEndpoints.id == endpoint_id).first()).secret
    assert Webhook(secret).verify(request.body, request.headers)["type"] == "webhook.test"
    await wait_for(lambda: settled(endpoint_id), what="the test delivery settled")
    page = await client.get(detail_path)
    assert "webhook.test" in page.text and "#1: 200" in page.text and "Delivered" in page.text
    bad = await client.post("/account/webhooks", data={"url": "not a url", "events": "video.failed"}, headers=headers)
    assert bad.status_code == 422 and "must start with https://" in bad.text


async def test_an_endpoint_that_keeps_failing_is_switched_off_and_its_owner_emailed(fast, client):
    user, headers = await api_user()
    with webhook_receiver(default_status=503) as receiver:
        endpoint = await register(client, headers, receiver.url)
        await dispatch.emit(user.id, "video.failed", {"id": 2})
        receiver.wait_for(3)

        async def switched_off():
            row = await WebhookEndpoints.objects().where(WebhookEndpoints.id == endpoint["id"]).first()
            return row if not row.enabled else None

        row = await wait_for(switched_off, what="the endpoint switched off")
        assert "3 failed deliveries in a row" in row.disabled_reason and "503" in row.disabled_reason
        await dispatch.emit(user.id, "video.failed", {"id": 3})  # nothing goes to a switched-off endpoint
    assert len(receiver.requests) == 3
    note = await Notifications.objects().where(Notifications.user == user.id).first()
    assert note.kind == "webhook_disabled" and receiver.url in note.body
    mail = await wait_for(
        lambda: EmailMessages.objects().where(EmailMessages.user == user.id).first(), what="the email"
    )
    assert mail.subject == "A webhook endpoint was switched off"
    listed = (await client.get("/api/v1/webhooks", headers=headers)).json()[0]
    assert listed["enabled"] is False


async def test_in_production_a_target_resolving_to_a_private_address_is_refused_at_delivery(fast, client, monkeypatch):
    user, _ = await api_user()
    with webhook_receiver() as receiver:
        # Registered when its name pointed elsewhere; now it resolves to loopback (DNS rebinding).
        endpoint = WebhookEndpoints(
            user=user.id,
            url=receiver.url.replace("127.0.0.1", "localhost"),
            events="video.completed",
            secret="whsec_" + "QUJD" * 8,
        )
        await endpoint.save()
        delivery_id = await dispatch._create(endpoint.id, "video.completed", {"id": 4})
        monkeypatch.setenv("APP_ENV", "production")
        get_settings.cache_clear()
        try:
            await dispatch.deliver(delivery_id)
        finally:
            monkeypatch.setenv("APP_ENV", "test")
            get_settings.cache_clear()
        assert receiver.requests == []
    [attempt] = await WebhookAttempts.objects().where(WebhookAttempts.delivery == delivery_id)
    assert attempt.status_code is None and "private or reserved address" in attempt.error
    assert json.loads((await deliveries_of(endpoint.id))[0].payload)["data"] == {"id": 4}


async def test_in_production_registering_an_internal_target_is_refused(fast, client, monkeypatch):
    user, headers = await api_user()
    monkeypatch.setenv("APP_ENV", "production")
    get_settings.cache_clear()
    try:
        from app.errors import ValidationFailed
        from app.webhooks import endpoints

        for url in ("http://127.0.0.1:9000/x", "http://localhost/x", "http://169.254.169.254/latest/meta-data"):
            with pytest.raises(ValidationFailed):
                await endpoints.create(user.id, url, ["video.completed"])
    finally:
        monkeypatch.setenv("APP_ENV", "test")
        get_settings.cache_clear()


@pytest.fixture
def redis_worker(fast, monkeypatch):
    """The production shape: Dramatiq on the real Redis, a worker consuming from it."""
    import uuid

    import redis
    from dramatiq import Worker

    from tests.brokers import switch_broker, use_broker
    from tests.services import REDIS_URL, require

    require("redis")
    redis.Redis.from_url(REDIS_URL).flushdb()
    monkeypatch.setenv("REDIS_URL", REDIS_URL)
    monkeypatch.setenv("REDIS_CHANNEL_PREFIX", f"t{uuid.uuid4().hex[:8]}:")
    get_settings.cache_clear()
    worker = Worker(use_broker(REDIS_URL), worker_threads=2, worker_timeout=100)
    worker.start()
    try:
        yield
    finally:
        worker.stop(timeout=10_000)
        switch_broker(None)
        redis.Redis.from_url(REDIS_URL).flushdb()


@pytest.mark.redis
async def test_retries_go_through_the_redis_broker_with_their_delay(redis_worker, settings):
    user = await make_user()
    with webhook_receiver(statuses=[500]) as receiver:
        endpoint = WebhookEndpoints(
            user=user.id, url=receiver.url, events="video.completed", secret="whsec_" + "QUJD" * 8
        )
        await endpoint.save()
        await dispatch.emit(user.id, "video.completed", {"id": 5})
        first, second = receiver.wait_for(2)
    assert first.headers["webhook-id"] == second.headers["webhook-id"]
    [row] = await wait_for(lambda: settled(endpoint.id), what="the delivery settled")
    assert (row.status, row.attempts, row.last_status_code) == ("succeeded", 2, 200)


async def test_a_delivery_whose_message_was_lost_is_queued_again_by_the_reconciler(fast, client):
    from datetime import UTC, datetime, timedelta

    from app.videos.reconciler import reconcile

    user = await make_user()
    with webhook_receiver() as receiver:
        endpoint = WebhookEndpoints(
            user=user.id, url=receiver.url, events="video.completed", secret="whsec_" + "QUJD" * 8
        )
        await endpoint.save()
        # Written, but its message never reached the broker (a restart of the in-process one, say).
        delivery_id = await dispatch._create(endpoint.id, "video.completed", {"id": 6})
        await WebhookDeliveries.update(
            {WebhookDeliveries.next_attempt_at: datetime.now(UTC) - timedelta(hours=1)}
        ).where(WebhookDeliveries.id == delivery_id)
        fresh = await dispatch._create(endpoint.id, "video.completed", {"id": 7})  # not overdue: left alone
        await reconcile()
        [request] = receiver.wait_for(1)
        assert json.loads(request.body)["data"] == {"id": 6}
        assert await dispatch.requeue_overdue() == []  # claimed once

    async def delivered():
        row = await WebhookDeliveries.objects().where(WebhookDeliveries.id == delivery_id).first()
        return row if row.status == "succeeded" else None

    assert (await wait_for(delivered, what="the lost delivery delivered")).attempts == 1
    untouched = await WebhookDeliveries.objects().where(WebhookDeliveries.id == fresh).first()
    assert (untouched.status, untouched.attempts) == ("pending", 0)
