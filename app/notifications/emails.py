"""Emails: written as rows with the event that causes them, sent by the `send_email` job, retried
with backoff when the SMTP server fails — never in the way of the work that caused them."""

from __future__ import annotations

import logging
from datetime import UTC, datetime

import dramatiq

from app.config import get_settings
from app.notifications import preferences
from app.notifications.compose import OutgoingEmail, build_message, new_message_id
from app.notifications.smtp import MailNotSent, mail_enabled, send
from app.tables import EmailMessages, Users
from app.web.templating import render

log = logging.getLogger("adsvideo.mail")

SEND_ACTOR = "send_email"


def enqueue(email_id: int, delay_seconds: float = 0) -> None:
    """Queue the send job (by name: services do not import actors). A broker failure is logged: the row stays
    queued and is visible in the database."""
    try:
        actor = dramatiq.get_broker().get_actor(SEND_ACTOR)
        actor.send_with_options(args=(email_id,), delay=int(delay_seconds * 1000) or None)
    except Exception:
        log.exception("could not queue email %s", email_id)


def absolute(link: str | None) -> str | None:
    if not link:
        return None
    return link if link.startswith(("http://", "https://")) else get_settings().base_url + link


def render_notification(
    *,
    to: str,
    title: str,
    body: str,
    link: str | None,
    action_label: str,
    unsubscribe: str | None,
    preference_label: str | None,
) -> OutgoingEmail:
    context = {
        "title": title,
        "body": body,
        "action_url": absolute(link),
        "action_label": action_label,
        "unsubscribe_url": unsubscribe,
        "preference_label": preference_label,
        "account_url": absolute("/account#preferences"),
        "home_url": get_settings().base_url + "/",
    }
    return OutgoingEmail(
        to=to,
        subject=title,
        text=render("emails/notification.txt", **context),
        html=render("emails/notification.html", **context),
        unsubscribe_url=unsubscribe,
    )


async def queue_notification(
    user_id: int, kind: str, *, title: str, body: str, link: str | None, action_label: str = "Open"
) -> int | None:
    """Write (and enqueue) the email for a notification, if its kind emails and the user wants it."""
    preference = preferences.EMAIL_PREFERENCE.get(kind)
    if preference is None or not mail_enabled(get_settings()):
        return None
    user = await Users.objects().where(Users.id == user_id).first()
    if user is None or not user.email or not getattr(user, preference):
        return None
    email = render_notification(
        to=user.email,
        title=title,
        body=body,
        link=link,
        action_label=action_label,
        unsubscribe=preferences.unsubscribe_url(user_id, preference),
        preference_label=preferences.PREFERENCE_LABELS[preference],
    )
    return await queue(email, kind=kind, user_id=user_id)


async def queue(email: OutgoingEmail, *, kind: str, user_id: int | None = None) -> int:
    row = EmailMessages(
        user=user_id,
        to_address=email.to,
        kind=kind,
        subject=email.subject,
        text_body=email.text,
        html_body=email.html,
        unsubscribe_url=email.unsubscribe_url,
        message_id=new_message_id(get_settings().mail_from),
    )
    await row.save()
    enqueue(row.id)
    return row.id


def retry_delay(attempts: int) -> float:
    """Seconds before the next try after `attempts` failed ones: the backoff, doubled each time."""
    return get_settings().mail_retry_backoff_seconds * 2 ** (attempts - 1)


async def deliver(email_id: int) -> float | None:
    """Send one queued email. Returns the seconds to wait before trying again, or None when done
    (sent, refused for good, out of attempts, or nothing to do)."""
    settings = get_settings()
    row = (
        await EmailMessages.objects().where((EmailMessages.id == email_id) & (EmailMessages.status == "queued")).first()
    )
    if row is None:
        return None
    if not mail_enabled(settings):
        await _finish(email_id, "skipped", "no SMTP server is configured")
        return None
    email = OutgoingEmail(
        to=row.to_address,
        subject=row.subject,
        text=row.text_body,
        html=row.html_body,
        unsubscribe_url=row.unsubscribe_url,
    )
    attempts = row.attempts + 1
    try:
        await send(build_message(email, sender=settings.mail_from, message_id=row.message_id), settings)
    except MailNotSent as exc:
        final = exc.permanent or attempts >= settings.mail_max_attempts
        await EmailMessages.update(
            {
                EmailMessages.attempts: attempts,
                EmailMessages.last_error: str(exc)[:2000],
                EmailMessages.status: "failed" if final else "queued",
            }
        ).where(EmailMessages.id == email_id)
        log.warning("email %s not sent (attempt %d%s): %s", email_id, attempts, ", giving up" if final else "", exc)
        return None if final else retry_delay(attempts)
    await EmailMessages.update(
        {
            EmailMessages.attempts: attempts,
            EmailMessages.status: "sent",
            EmailMessages.sent_at: datetime.now(UTC),
            EmailMessages.last_error: None,
        }
    ).where(EmailMessages.id == email_id)
    return None


async def _finish(email_id: int, status: str, reason: str) -> None:
    await EmailMessages.update({EmailMessages.status: status, EmailMessages.last_error: reason}).where(
        EmailMessages.id == email_id
    )
