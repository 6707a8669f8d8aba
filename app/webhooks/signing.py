"""Standard Webhooks signatures (`webhook-id`, `webhook-timestamp`, `webhook-signature`) via `standardwebhooks`."""

from __future__ import annotations

import base64
import secrets
from datetime import UTC, datetime

from standardwebhooks.webhooks import Webhook

SECRET_PREFIX = "whsec_"


def new_secret() -> str:
    """A fresh signing secret in the usual `whsec_<base64>` form (24 random bytes)."""
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(24)).decode()


def new_message_id() -> str:
    """A unique id for one event; retries of it keep the id, so receivers can drop duplicates."""
    return f"msg_{secrets.token_urlsafe(18)}"


def signed_headers(secret: str, message_id: str, body: str, *, at: datetime | None = None) -> dict[str, str]:
    """The three Standard Webhooks headers for `body`, signed now (or `at`)."""
    at = at or datetime.now(UTC)
    return {
        "webhook-id": message_id,
        "webhook-timestamp": str(int(at.timestamp())),
        "webhook-signature": Webhook(secret).sign(message_id, at, body),
    }
