"""Email and webhook jobs: thin actors over `app.notifications.emails` and `app.webhooks.dispatch`.

The services decide whether and when to try again (their own backoff, recorded on the row), so
Dramatiq's retries are off; a later try is the same message sent again with a delay.
"""

from __future__ import annotations

import dramatiq

from app.notifications import emails
from app.webhooks import dispatch

# Longer than an SMTP or HTTP timeout, far shorter than the video job's.
TIME_LIMIT_MS = 120_000


@dramatiq.actor(actor_name=emails.SEND_ACTOR, max_retries=0, time_limit=TIME_LIMIT_MS)
async def send_email(email_id: int) -> None:
    delay = await emails.deliver(email_id)
    if delay is not None:
        emails.enqueue(email_id, delay)


@dramatiq.actor(actor_name=dispatch.DELIVER_ACTOR, max_retries=0, time_limit=TIME_LIMIT_MS)
async def deliver_webhook(delivery_id: int) -> None:
    delay = await dispatch.deliver(delivery_id)
    if delay is not None:
        dispatch.enqueue(delivery_id, delay)
