"""A local HTTP server that receives webhooks: it records each request and answers the statuses asked of it."""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field

from tests.emulators import serve_asgi


@dataclass
class Delivery:
    path: str
    headers: dict[str, str]
    body: bytes


@dataclass
class Receiver:
    """`statuses`: the answers for the next requests, in order; then `default_status`."""

    url: str = ""
    statuses: list[int] = field(default_factory=list)
    default_status: int = 200
    requests: list[Delivery] = field(default_factory=list)
    _arrived: threading.Condition = field(default_factory=threading.Condition)

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http":
            return
        body = b""
        while True:
            message = await receive()
            body += message.get("body", b"")
            if not message.get("more_body"):
                break
        headers = {k.decode("latin-1"): v.decode("latin-1") for k, v in scope["headers"]}
        with self._arrived:
            status = self.statuses.pop(0) if self.statuses else self.default_status
            self.requests.append(Delivery(scope["path"], headers, body))
            self._arrived.notify_all()
        await send({"type": "http.response.start", "status": status, "headers": [(b"content-type", b"text/plain")]})
        await send({"type": "http.response.body", "body": f"answered {status}".encode()})

    def wait_for(self, count: int, timeout: float = 20.0) -> list[Delivery]:
        with self._arrived:
            if not self._arrived.wait_for(lambda: len(self.requests) >= count, timeout):
                raise AssertionError(f"expected {count} webhook request(s), got {len(self.requests)}")
            return list(self.requests)


@contextlib.contextmanager
def webhook_receiver(**options) -> Iterator[Receiver]:
    receiver = Receiver(**options)
    with serve_asgi(receiver) as root:
        receiver.url = f"{root}/hooks"
        yield receiver
