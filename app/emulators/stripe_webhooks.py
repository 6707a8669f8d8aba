"""Webhook delivery for the Stripe emulator, signed exactly as Stripe signs.

Each endpoint has a secret `whsec_...`; a delivery is a JSON POST with
`Stripe-Signature: t=<unix time>,v1=<hex HMAC-SHA256 of "<t>.<body>" keyed with the secret>`.
Events go out in the order they were raised, right after the request that raised them (the request
answers once they are delivered, so a page the payer returns to already sees them). On demand:
hold events and release them in any order, or deliver one event again, several copies at once.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import secrets
import time
from dataclasses import dataclass, field
from typing import Any

import httpx

DELIVERY_TIMEOUT = 30.0
USER_AGENT = "Stripe/1.0 (+https://stripe.com/docs/webhooks)"


def sign(payload: str, secret: str, timestamp: int | None = None) -> str:
    """The `Stripe-Signature` header value for `payload` (the exact bytes sent)."""
    timestamp = int(time.time()) if timestamp is None else timestamp
    digest = hmac.new(secret.encode(), f"{timestamp}.{payload}".encode(), hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={digest}"


def new_secret() -> str:
    return "whsec_" + secrets.token_urlsafe(24).replace("-", "").replace("_", "")[:32]


@dataclass
class Endpoint:
    id: str
    url: str
    secret: str
    enabled_events: list[str] = field(default_factory=lambda: ["*"])
    created: int = field(default_factory=lambda: int(time.time()))
    status: str = "enabled"

    def wants(self, event_type: str) -> bool:
        if self.status != "enabled":
            return False
        return any(
            p == "*" or p == event_type or (p.endswith(".*") and event_type.startswith(p[:-1]))
            for p in self.enabled_events
        )

    def api_object(self, *, with_secret: bool = False) -> dict[str, Any]:
        body: dict[str, Any] = {
            "id": self.id,
            "object": "webhook_endpoint",
            "url": self.url,
            "enabled_events": self.enabled_events,
            "status": self.status,
            "created": self.created,
            "livemode": False,
            "api_version": None,
            "metadata": {},
            "description": None,
        }
        if with_secret:
            body["secret"] = self.secret
        return body


@dataclass
class Attempt:
    event_id: str
    endpoint: str
    status: int | None  # None: no answer (connection error / timeout)
    error: str | None
    at: float


class Webhooks:
    """Endpoints, the held queue, and every delivery attempt (for tests and the emulator's event log)."""

    def __init__(self):
        self.endpoints: dict[str, Endpoint] = {}
        self.holding = False
        self.held: list[dict[str, Any]] = []
        self.attempts: list[Attempt] = []
        self._client: httpx.AsyncClient | None = None

    def add(
        self,
        url: str,
        secret: str | None = None,
        enabled_events: list[str] | None = None,
        endpoint_id: str | None = None,
    ) -> Endpoint:
        endpoint = Endpoint(
            id=endpoint_id or f"we_{secrets.token_hex(12)}",
            url=url,
            secret=secret or new_secret(),
            enabled_events=enabled_events or ["*"],
        )
        self.endpoints[endpoint.id] = endpoint
        return endpoint

    def client(self) -> httpx.AsyncClient:
        if self._client is None or self._client.is_closed:
            self._client = httpx.AsyncClient(timeout=DELIVERY_TIMEOUT)
        return self._client

    async def dispatch(self, events: list[dict[str, Any]]) -> None:
        """Deliver newly raised events in order, or keep them while holding."""
        if self.holding:
            self.held.extend(events)
            return
        for event in events:
            await self.deliver(event)

    async def release(self, order: str = "created", ids: list[str] | None = None) -> list[str]:
        """Stop holding and deliver what was held: `created` order, `reverse`, or exactly `ids` first."""
        self.holding = False
        held, self.held = self.held, []
        if ids:
            by_id = {e["id"]: e for e in held}
            first = [by_id.pop(i) for i in ids if i in by_id]
            held = first + [e for e in held if e["id"] in by_id]
        elif order == "reverse":
            held.reverse()
        for event in held:
            await self.deliver(event)
        return [e["id"] for e in held]

    async def deliver(self, event: dict[str, Any], copies: int = 1) -> list[Attempt]:
        """POST `event` to every endpoint that wants it; `copies` > 1 sends that many at the same time."""
        targets = [e for e in self.endpoints.values() if e.wants(event["type"])]
        jobs = [self._post(endpoint, event) for endpoint in targets for _ in range(max(1, copies))]
        return list(await asyncio.gather(*jobs))

    async def _post(self, endpoint: Endpoint, event: dict[str, Any]) -> Attempt:
        payload = json.dumps({k: v for k, v in event.items() if not k.startswith("_")}, indent=2)
        headers = {
            "Content-Type": "application/json; charset=utf-8",
            "User-Agent": USER_AGENT,
            "Stripe-Signature": sign(payload, endpoint.secret),
            "Cache-Control": "no-cache",
        }
        try:
            response = await self.client().post(endpoint.url, content=payload.encode(), headers=headers)
            attempt = Attempt(event["id"], endpoint.id, response.status_code, None, time.time())
        except httpx.HTTPError as exc:
            attempt = Attempt(event["id"], endpoint.id, None, f"{type(exc).__name__}: {exc}", time.time())
        self.attempts.append(attempt)
        return attempt

    def delivered_ok(self, event_id: str) -> bool:
        return any(a.event_id == event_id and a.status is not None and 200 <= a.status < 300 for a in self.attempts)

    async def close(self) -> None:
        if self._client is not None:
            await self._client.aclose()
