"""Webhook deliveries over HTTP to a local receiver: Standard Webhooks signatures checked with the
`standardwebhooks` library, failures reported with their codes, non-public targets refused when asked."""

from __future__ import annotations

import json

import pytest
from standardwebhooks.webhooks import Webhook, WebhookVerificationError

from app.webhooks.delivery import post_event
from app.webhooks.signing import new_message_id, new_secret
from tests.mail_support import free_port
from tests.webhook_receiver import webhook_receiver

BODY = json.dumps({"type": "video.completed", "timestamp": "2026-12-03T10:00:00Z", "data": {"id": 7}})


async def test_a_delivery_is_signed_so_the_library_verifies_it():
    secret, msg_id = new_secret(), new_message_id()
    with webhook_receiver() as receiver:
        attempt = await post_event(receiver.url, secret, msg_id, BODY, allow_private=True, timeout=5)
        [request] = receiver.wait_for(1)
    assert attempt.ok and attempt.status_code == 200 and attempt.error is None
    assert attempt.response_excerpt == "answered 200"
    assert request.headers["webhook-id"] == msg_id
    assert request.headers["content-type"] == "application/json"
    assert Webhook(secret).verify(request.body, request.headers) == json.loads(BODY)
    with pytest.raises(WebhookVerificationError):
        Webhook(new_secret()).verify(request.body, request.headers)
    with pytest.raises(WebhookVerificationError):
        Webhook(secret).verify(request.body.replace(b"7", b"8"), request.headers)


async def test_a_server_error_is_a_failed_attempt_with_its_code():
    with webhook_receiver(statuses=[500]) as receiver:
        attempt = await post_event(receiver.url, new_secret(), new_message_id(), BODY, allow_private=True, timeout=5)
    assert not attempt.ok and attempt.status_code == 500
    assert attempt.error == "answered HTTP 500" and attempt.response_excerpt == "answered 500"


async def test_a_redirect_is_not_followed():
    with webhook_receiver(statuses=[307]) as receiver:
        attempt = await post_event(receiver.url, new_secret(), new_message_id(), BODY, allow_private=True, timeout=5)
        assert len(receiver.requests) == 1
    assert not attempt.ok and attempt.status_code == 307


async def test_nobody_listening_is_a_failed_attempt_without_a_code():
    url = f"http://127.0.0.1:{free_port()}/hooks"
    attempt = await post_event(url, new_secret(), new_message_id(), BODY, allow_private=True, timeout=5)
    assert not attempt.ok and attempt.status_code is None and "could not connect" in attempt.error


@pytest.mark.parametrize("host", ["127.0.0.1", "localhost"])
async def test_when_private_targets_are_refused_nothing_reaches_a_loopback_receiver(host):
    with webhook_receiver() as receiver:
        url = receiver.url.replace("127.0.0.1", host)
        attempt = await post_event(url, new_secret(), new_message_id(), BODY, allow_private=False, timeout=5)
        assert receiver.requests == []
    assert attempt.blocked and not attempt.ok and attempt.status_code is None
    assert "private or reserved address" in attempt.error


async def test_an_unresolvable_host_is_refused_when_private_targets_are_refused():
    attempt = await post_event(
        "https://no-such-host.invalid/hooks", new_secret(), new_message_id(), BODY, allow_private=False, timeout=5
    )
    assert attempt.blocked and "does not resolve" in attempt.error
