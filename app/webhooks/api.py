"""/api/v1/webhooks: register endpoints (answers the id and the signing secret), list, remove, test."""

from __future__ import annotations

from datetime import datetime

import msgspec
from litestar import Controller, Request, delete, get, post
from litestar.params import FromPath, JSONBody

from app.tables import WebhookEndpoints
from app.web.auth import user_required
from app.web.openapi import BEARER, error_responses
from app.webhooks import dispatch, endpoints


class WebhookIn(msgspec.Struct, forbid_unknown_fields=True):
    """`events`: any of video.completed, video.failed, batch.completed."""

    url: str
    events: list[str]


class WebhookOut(msgspec.Struct):
    id: int
    url: str
    events: list[str]
    secret: str
    enabled: bool
    disabled_reason: str | None
    created_at: datetime


class TestOut(msgspec.Struct):
    delivery_id: int


def webhook_out(row: WebhookEndpoints) -> WebhookOut:
    return WebhookOut(
        id=row.id,
        url=row.url,
        events=row.events.split(),
        secret=row.secret,
        enabled=row.enabled,
        disabled_reason=row.disabled_reason,
        created_at=row.created_at,
    )


class WebhooksApiController(Controller):
    path = "/api/v1/webhooks"
    tags = ["webhooks"]
    guards = [user_required]
    security = BEARER

    @post(
        "/",
        name="api:webhooks-create",
        status_code=201,
        responses=error_responses(401, 422),
        summary="Register an endpoint; answers its id and signing secret",
    )
    async def create(self, request: Request, data: JSONBody[WebhookIn]) -> WebhookOut:
        """Deliveries are signed in the Standard Webhooks format (`webhook-id`, `webhook-timestamp`,
        `webhook-signature`) with the `secret` answered here; verify them with any Standard Webhooks library."""
        return webhook_out(await endpoints.create(request.user.id, data.url, data.events))

    @get("/", name="api:webhooks-list", responses=error_responses(401), summary="Your webhook endpoints")
    async def list_endpoints(self, request: Request) -> list[WebhookOut]:
        return [webhook_out(r) for r in await endpoints.list_for(request.user.id)]

    @delete(
        "/{endpoint_id:int}",
        name="api:webhooks-delete",
        status_code=204,
        responses=error_responses(401, 404),
        summary="Remove an endpoint",
    )
    async def remove(self, request: Request, endpoint_id: FromPath[int]) -> None:
        await endpoints.delete(request.user.id, endpoint_id)

    @post(
        "/{endpoint_id:int}/test",
        name="api:webhooks-test",
        status_code=202,
        responses=error_responses(401, 404),
        summary="Send a webhook.test event to an endpoint",
    )
    async def test(self, request: Request, endpoint_id: FromPath[int]) -> TestOut:
        return TestOut(delivery_id=await dispatch.send_test(request.user.id, endpoint_id))
