"""Email and privacy preferences, and the signed one-click unsubscribe links in every email."""

from __future__ import annotations

import base64
import hashlib
import hmac
from dataclasses import dataclass

from app.config import get_settings
from app.errors import NotFound
from app.showcase import home_cache
from app.tables import NotificationKind, Users

# Which preference lets each kind of notification send an email (None: in-app only).
EMAIL_PREFERENCE: dict[str, str | None] = {
    NotificationKind.video_ready.value: "email_video_updates",
    NotificationKind.video_failed.value: "email_video_updates",
    NotificationKind.batch_ready.value: "email_video_updates",
    NotificationKind.payment_problem.value: "email_account_alerts",
    NotificationKind.webhook_disabled.value: "email_account_alerts",
    NotificationKind.credits_granted.value: None,
}
PREFERENCE_LABELS = {
    "email_video_updates": "emails when a video or batch is ready or fails",
    "email_account_alerts": "emails about your account (payments, webhooks)",
}


@dataclass(frozen=True)
class Preferences:
    email_video_updates: bool
    email_account_alerts: bool
    show_in_creators: bool


def _signature(user_id: int, preference: str) -> str:
    key = get_settings().secret_key.encode()
    digest = hmac.new(key, f"unsubscribe:{user_id}:{preference}".encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest[:18]).decode()


def unsubscribe_token(user_id: int, preference: str) -> str:
    return f"{user_id}.{preference}.{_signature(user_id, preference)}"


def unsubscribe_url(user_id: int, preference: str) -> str:
    return f"{get_settings().base_url}/unsubscribe/{unsubscribe_token(user_id, preference)}"


def read_token(token: str) -> tuple[int, str]:
    """(user id, preference) of a genuine token; NotFound for anything else."""
    parts = (token or "").split(".")
    if len(parts) == 3 and parts[0].isdigit() and parts[1] in PREFERENCE_LABELS:
        user_id, preference = int(parts[0]), parts[1]
        if hmac.compare_digest(parts[2], _signature(user_id, preference)):
            return user_id, preference
    raise NotFound("This unsubscribe link is not valid.", code="unsubscribe_not_found")


async def unsubscribe(token: str) -> tuple[Users, str]:
    """Turn off the preference a token names (idempotent); the user and the preference's label."""
    user_id, preference = read_token(token)
    await Users.update({getattr(Users, preference): False}).where(Users.id == user_id)
    user = await Users.objects().where(Users.id == user_id).first()
    if user is None:
        raise NotFound("This unsubscribe link is not valid.", code="unsubscribe_not_found")
    return user, PREFERENCE_LABELS[preference]


def of(user: Users) -> Preferences:
    return Preferences(user.email_video_updates, user.email_account_alerts, user.show_in_creators)


async def update(user_id: int, prefs: Preferences) -> Preferences:
    before = await Users.select(Users.show_in_creators).where(Users.id == user_id).first()
    await Users.update(
        {
            Users.email_video_updates: prefs.email_video_updates,
            Users.email_account_alerts: prefs.email_account_alerts,
            Users.show_in_creators: prefs.show_in_creators,
        }
    ).where(Users.id == user_id)
    if before and before["show_in_creators"] != prefs.show_in_creators:
        await home_cache.invalidate()  # the home page's creators strip must follow at once
    return prefs
