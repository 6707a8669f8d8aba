"""A user's webhook endpoints: register (URL + events → id and signing secret), list, remove, re-enable."""

from __future__ import annotations

from dataclasses import dataclass

from app.config import get_settings
from app.errors import NotFound, ValidationFailed
from app.tables import WebhookAttempts, WebhookDeliveries, WebhookEndpoints
from app.webhooks.signing import new_secret
from app.webhooks.targets import InvalidTarget, parse_target, refuse_private_literal

EVENTS = ("video.completed", "video.failed", "batch.completed")
TEST_EVENT = "webhook.test"
MAX_ENDPOINTS = 10
LOG_LIMIT = 50


@dataclass(frozen=True)
class DeliveryLog:
    delivery: WebhookDeliveries
    attempts: list[WebhookAttempts]


def clean_events(events: list[str] | None) -> list[str]:
    chosen = [e.strip() for e in (events or []) if e and e.strip()]
    unknown = sorted(set(chosen) - set(EVENTS))
    if unknown:
        raise ValidationFailed(
            f"Unknown event {', '.join(unknown)}; choose from {', '.join(EVENTS)}.", code="unknown_event"
        )
    if not chosen:
        raise ValidationFailed("Choose at least one event.", code="no_events")
    return [e for e in EVENTS if e in chosen]


def clean_url(url: str) -> str:
    try:
        target = parse_target(url)
        if get_settings().is_production:
            refuse_private_literal(target)
    except InvalidTarget as exc:
        raise ValidationFailed(str(exc), code="invalid_url") from None
    return target.url


async def create(user_id: int, url: str, events: list[str] | None) -> WebhookEndpoints:
    """A new endpoint; its `secret` is shown to the user (and kept to sign every delivery)."""
    url, chosen = clean_url(url), clean_events(events)
    if await WebhookEndpoints.count().where(WebhookEndpoints.user == user_id) >= MAX_ENDPOINTS:
        raise ValidationFailed(f"You can register at most {MAX_ENDPOINTS} endpoints.", code="too_many_endpoints")
    row = WebhookEndpoints(user=user_id, url=url, events=" ".join(chosen), secret=new_secret())
    await row.save()
    return row


async def list_for(user_id: int) -> list[WebhookEndpoints]:
    return await WebhookEndpoints.objects().where(WebhookEndpoints.user == user_id).order_by(WebhookEndpoints.id)


async def get(user_id: int, endpoint_id: int) -> WebhookEndpoints:
    row = (
        await WebhookEndpoints.objects()
        .where((WebhookEndpoints.id == endpoint_id) & (WebhookEndpoints.user == user_id))
        .first()
    )
    if row is None:
        raise NotFound("No such webhook endpoint.", code="webhook_not_found")
    return row


async def delete(user_id: int, endpoint_id: int) -> None:
    await get(user_id, endpoint_id)
    await WebhookEndpoints.delete().where(WebhookEndpoints.id == endpoint_id)


async def enable(user_id: int, endpoint_id: int) -> WebhookEndpoints:
    """Switch an endpoint back on after it was disabled (its failure count starts again)."""
    await get(user_id, endpoint_id)
    await WebhookEndpoints.update(
        {
            WebhookEndpoints.enabled: True,
            WebhookEndpoints.disabled_reason: None,
            WebhookEndpoints.consecutive_failures: 0,
        }
    ).where(WebhookEndpoints.id == endpoint_id)
    return await get(user_id, endpoint_id)


async def delivery_log(user_id: int, endpoint_id: int, limit: int = LOG_LIMIT) -> list[DeliveryLog]:
    """The endpoint's latest deliveries, newest first, each with its attempts and their response codes."""
    await get(user_id, endpoint_id)
    deliveries = (
        await WebhookDeliveries.objects()
        .where(WebhookDeliveries.endpoint == endpoint_id)
        .order_by(WebhookDeliveries.id, ascending=False)
        .limit(limit)
    )
    ids = [d.id for d in deliveries]
    attempts = (
        await WebhookAttempts.objects().where(WebhookAttempts.delivery.is_in(ids)).order_by(WebhookAttempts.id)
        if ids
        else []
    )
    by_delivery: dict[int, list[WebhookAttempts]] = {}
    for attempt in attempts:
        by_delivery.setdefault(attempt.delivery, []).append(attempt)
    return [DeliveryLog(d, by_delivery.get(d.id, [])) for d in deliveries]
