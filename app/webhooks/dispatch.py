"""Events out to webhook endpoints: one delivery per endpoint and event, sent by the `deliver_webhook`
job, retried with exponential backoff over hours; repeated failures switch the endpoint off (with an email)."""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime, timedelta
from typing import Any

import dramatiq

from app.config import get_settings
from app.tables import NotificationKind, WebhookAttempts, WebhookDeliveries, WebhookEndpoints
from app.webhooks import endpoints
from app.webhooks.delivery import post_event
from app.webhooks.signing import new_message_id

log = logging.getLogger("adsvideo.webhooks")

DELIVER_ACTOR = "deliver_webhook"
# A pending delivery this far past its attempt time lost its message (an in-process broker restarted, or the
# broker refused it): the reconciler queues it again. A receiver may then see an id twice, which the Standard
# Webhooks contract expects it to drop.
OVERDUE_SECONDS = 300


def enqueue(delivery_id: int, delay_seconds: float = 0) -> None:
    try:
        actor = dramatiq.get_broker().get_actor(DELIVER_ACTOR)
        actor.send_with_options(args=(delivery_id,), delay=int(delay_seconds * 1000) or None)
    except Exception:
        log.exception("could not queue webhook delivery %s", delivery_id)


def retry_delay(attempts: int) -> float:
    """Seconds before the next try after `attempts` failed ones (×4 each time: 30 s, 2 min, 8 min, ...)."""
    return get_settings().webhook_retry_base_seconds * 4 ** (attempts - 1)


def envelope(event_type: str, data: dict[str, Any]) -> str:
    return json.dumps(
        {"type": event_type, "timestamp": datetime.now(UTC).isoformat(), "data": data}, separators=(",", ":")
    )


async def _create(endpoint_id: int, event_type: str, data: dict[str, Any]) -> int:
    row = WebhookDeliveries(
        endpoint=endpoint_id,
        message_id=new_message_id(),
        event_type=event_type,
        payload=envelope(event_type, data),
        next_attempt_at=datetime.now(UTC),
    )
    await row.save()
    return row.id


async def emit(user_id: int, event_type: str, data: dict[str, Any]) -> list[int]:
    """Queue `event_type` for each of the user's enabled endpoints that subscribed to it."""
    rows = await WebhookEndpoints.select(WebhookEndpoints.id, WebhookEndpoints.events).where(
        (WebhookEndpoints.user == user_id) & (WebhookEndpoints.enabled == True)
    )
    ids = [await _create(r["id"], event_type, data) for r in rows if event_type in r["events"].split()]
    for delivery_id in ids:
        enqueue(delivery_id)
    return ids


async def send_test(user_id: int, endpoint_id: int) -> int:
    """A `webhook.test` event to one endpoint (also a disabled one: it is how you check a fix)."""
    endpoint = await endpoints.get(user_id, endpoint_id)
    delivery_id = await _create(
        endpoint.id, endpoints.TEST_EVENT, {"message": "A test event from AdsVideo.", "endpoint_id": endpoint.id}
    )
    enqueue(delivery_id)
    return delivery_id


async def deliver(delivery_id: int) -> float | None:
    """One attempt at one delivery. Returns seconds until the next attempt, or None when it is settled."""
    settings = get_settings()
    delivery = (
        await WebhookDeliveries.objects()
        .where((WebhookDeliveries.id == delivery_id) & (WebhookDeliveries.status == "pending"))
        .first()
    )
    if delivery is None:
        return None
    endpoint = await WebhookEndpoints.objects().where(WebhookEndpoints.id == delivery.endpoint).first()
    is_test = delivery.event_type == endpoints.TEST_EVENT
    if endpoint is None or (not endpoint.enabled and not is_test):
        await _settle(delivery_id, "failed")
        return None
    attempt = await post_event(
        endpoint.url,
        endpoint.secret,
        delivery.message_id,
        delivery.payload,
        allow_private=not settings.is_production,
        timeout=settings.webhook_timeout_seconds,
    )
    number = delivery.attempts + 1
    await WebhookAttempts(
        delivery=delivery_id,
        number=number,
        status_code=attempt.status_code,
        error=attempt.error,
        duration_ms=attempt.duration_ms,
        response_excerpt=attempt.response_excerpt,
    ).save()
    if attempt.ok:
        await WebhookDeliveries.update(
            {
                WebhookDeliveries.status: "succeeded",
                WebhookDeliveries.attempts: number,
                WebhookDeliveries.last_status_code: attempt.status_code,
                WebhookDeliveries.completed_at: datetime.now(UTC),
                WebhookDeliveries.next_attempt_at: None,
            }
        ).where(WebhookDeliveries.id == delivery_id)
        await WebhookEndpoints.update({WebhookEndpoints.consecutive_failures: 0}).where(
            WebhookEndpoints.id == endpoint.id
        )
        return None
    final = number >= settings.webhook_max_attempts or is_test
    delay = None if final else retry_delay(number)
    await WebhookDeliveries.update(
        {
            WebhookDeliveries.status: "failed" if final else "pending",
            WebhookDeliveries.attempts: number,
            WebhookDeliveries.last_status_code: attempt.status_code,
            WebhookDeliveries.completed_at: datetime.now(UTC) if final else None,
            WebhookDeliveries.next_attempt_at: None if final else datetime.now(UTC) + timedelta(seconds=delay),
        }
    ).where(WebhookDeliveries.id == delivery_id)
    if not is_test:
        await _count_failure(endpoint, attempt.error or "failed")
    return delay


async def requeue_overdue(limit: int = 100) -> list[int]:
    """Queue again every pending delivery whose attempt is overdue; the claim (moving its attempt time)
    means two reconcilers never queue the same one."""
    now = datetime.now(UTC)
    cutoff = now - timedelta(seconds=OVERDUE_SECONDS)
    overdue = (WebhookDeliveries.status == "pending") & (WebhookDeliveries.next_attempt_at < cutoff)
    rows = (
        await WebhookDeliveries.select(WebhookDeliveries.id).where(overdue).order_by(WebhookDeliveries.id).limit(limit)
    )
    requeued = []
    for row in rows:
        claimed = (
            await WebhookDeliveries.update({WebhookDeliveries.next_attempt_at: now})
            .where((WebhookDeliveries.id == row["id"]) & overdue)
            .returning(WebhookDeliveries.id)
        )
        if claimed:
            enqueue(row["id"])
            requeued.append(row["id"])
    return requeued


async def _settle(delivery_id: int, status: str) -> None:
    await WebhookDeliveries.update(
        {
            WebhookDeliveries.status: status,
            WebhookDeliveries.completed_at: datetime.now(UTC),
            WebhookDeliveries.next_attempt_at: None,
        }
    ).where(WebhookDeliveries.id == delivery_id)


async def _count_failure(endpoint: WebhookEndpoints, error: str) -> None:
    """One more failure in a row; at the limit the endpoint is switched off and its owner told."""
    limit = get_settings().webhook_disable_after_failures
    rows = (
        await WebhookEndpoints.update(
            {
                WebhookEndpoints.consecutive_failures: WebhookEndpoints.consecutive_failures + 1,
            }
        )
        .where(WebhookEndpoints.id == endpoint.id)
        .returning(WebhookEndpoints.consecutive_failures)
    )
    if not rows or rows[0]["consecutive_failures"] < limit:
        return
    reason = f"Switched off after {limit} failed deliveries in a row (last: {error})."
    switched = (
        await WebhookEndpoints.update({WebhookEndpoints.enabled: False, WebhookEndpoints.disabled_reason: reason})
        .where((WebhookEndpoints.id == endpoint.id) & (WebhookEndpoints.enabled == True))
        .returning(WebhookEndpoints.id)
    )
    if not switched:
        return  # another delivery got there first
    await WebhookDeliveries.update(
        {
            WebhookDeliveries.status: "failed",
            WebhookDeliveries.completed_at: datetime.now(UTC),
            WebhookDeliveries.next_attempt_at: None,
        }
    ).where(
        (WebhookDeliveries.endpoint == endpoint.id)
        & (WebhookDeliveries.status == "pending")
        & (WebhookDeliveries.event_type != endpoints.TEST_EVENT)
    )
    from app.notifications.inbox import notify

    await notify(
        endpoint.user,
        NotificationKind.webhook_disabled,
        title="A webhook endpoint was switched off",
        body=f"We stopped sending events to {endpoint.url}. {reason} Fix the receiver, then switch it "
        "back on from your webhook settings.",
        link="/account/webhooks",
        action_label="Open webhook settings",
    )
