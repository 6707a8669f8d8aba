"""/api/v1/notifications: the caller's notifications, newest first, and marking them read."""

from __future__ import annotations

from datetime import datetime

import msgspec
from litestar import Controller, Request, get, post
from litestar.params import JSONBody

from app.notifications import inbox
from app.web.auth import user_required
from app.web.openapi import BEARER, error_responses


class NotificationOut(msgspec.Struct):
    id: int
    kind: str
    title: str
    body: str
    link: str | None
    video_id: int | None
    read: bool
    created_at: datetime


class NotificationListOut(msgspec.Struct):
    items: list[NotificationOut]
    unread: int


class MarkReadRequest(msgspec.Struct, forbid_unknown_fields=True):
    """`ids`: the notifications to mark read; leave it out to mark all of them."""

    ids: list[int] | None = None


class UnreadOut(msgspec.Struct):
    unread: int


class NotificationsApiController(Controller):
    path = "/api/v1/notifications"
    tags = ["notifications"]
    guards = [user_required]
    security = BEARER

    @get(
        "/",
        name="api:notifications-list",
        responses=error_responses(401),
        summary="Your latest notifications, newest first",
    )
    async def list_notifications(self, request: Request) -> NotificationListOut:
        items = await inbox.recent(request.user.id)
        return NotificationListOut(
            items=[
                NotificationOut(
                    id=n.id,
                    kind=n.kind,
                    title=n.title,
                    body=n.body,
                    link=n.link,
                    video_id=n.video,
                    read=n.read_at is not None,
                    created_at=n.created_at,
                )
                for n in items
            ],
            unread=await inbox.unread_count(request.user.id),
        )

    @post(
        "/read",
        name="api:notifications-read",
        status_code=200,
        responses=error_responses(401, 400),
        summary="Mark notifications read (all of them without `ids`)",
    )
    async def mark_read(self, request: Request, data: JSONBody[MarkReadRequest | None] = None) -> UnreadOut:
        ids = data.ids if data is not None else None
        return UnreadOut(unread=await inbox.mark_read(request.user.id, ids))
