"""In-app notifications: `notify` (anyone may call it), the list, marking read, the live bell count."""

from __future__ import annotations

import logging
from datetime import UTC, datetime

from app.notifications import emails
from app.tables import NotificationKind, Notifications, Users
from app.videos import progress

log = logging.getLogger("adsvideo.notifications")

LIST_LIMIT = 50
MAX_IDS = 200


async def notify(
    user: Users | int,
    kind: NotificationKind | str,
    *,
    title: str,
    body: str = "",
    link: str | None = None,
    video_id: int | None = None,
    email: bool = True,
    action_label: str = "Open",
    once: str | None = None,
) -> Notifications | None:
    """Tell a user something: a notification in the bell, and an email when the kind sends one and the
    user's preferences allow it. The email is queued, never sent here, so callers are never delayed.
    `once`: a key; a second notification with the same key is not made (None is returned)."""
    user_id = user if isinstance(user, int) else user.id
    kind = NotificationKind(kind).value
    try:
        async with Notifications._meta.db.transaction():
            row = Notifications(
                user=user_id, kind=kind, title=title[:200], body=body, link=link, video=video_id, dedupe_key=once
            )
            await row.save()
            counted = (
                await Users.update({Users.unread_notifications: Users.unread_notifications + 1})
                .where(Users.id == user_id)
                .returning(Users.unread_notifications)
            )
    except Exception:
        if once and await Notifications.exists().where(Notifications.dedupe_key == once):
            return None  # told already (two finishing at once both got here; the unique key kept one)
        raise
    if email:
        try:
            await emails.queue_notification(user_id, kind, title=title, body=body, link=link, action_label=action_label)
        except Exception:  # the notification stands even if its email could not be queued
            log.exception("could not queue the email for notification %s", row.id)
    if counted:
        await progress.publish_to_user(user_id, {"type": "notification", "unread": counted[0]["unread_notifications"]})
    return row


async def recent(user_id: int, limit: int = LIST_LIMIT) -> list[Notifications]:
    """The user's notifications, newest first."""
    return (
        await Notifications.objects()
        .where(Notifications.user == user_id)
        .order_by(Notifications.id, ascending=False)
        .limit(limit)
    )


async def unread_count(user_id: int) -> int:
    row = await Users.select(Users.unread_notifications).where(Users.id == user_id).first()
    return row["unread_notifications"] if row else 0


async def mark_read(user_id: int, ids: list[int] | None = None) -> int:
    """Mark the given notifications (or all) read; returns the unread count after."""
    where = (Notifications.user == user_id) & Notifications.read_at.is_null()
    if ids is not None:
        if not ids:
            return await unread_count(user_id)
        where &= Notifications.id.is_in(list(dict.fromkeys(ids))[:MAX_IDS])
    async with Notifications._meta.db.transaction():
        await Notifications.update({Notifications.read_at: datetime.now(UTC)}).where(where)
        # Recounted rather than decremented, so the counter can never drift.
        unread = await Notifications.count().where((Notifications.user == user_id) & Notifications.read_at.is_null())
        await Users.update({Users.unread_notifications: unread}).where(Users.id == user_id)
    await progress.publish_to_user(user_id, {"type": "notification", "unread": unread})
    return unread
