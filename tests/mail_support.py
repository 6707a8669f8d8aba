"""A real SMTP server for tests (aiosmtpd), keeping what it receives in memory."""

from __future__ import annotations

import contextlib
import socket
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser

from aiosmtpd.controller import Controller


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class Received:
    mail_from: str
    rcpt_tos: list[str]
    message: EmailMessage

    def part(self, subtype: str) -> str:
        return self.message.get_body(preferencelist=(subtype,)).get_content()


@dataclass
class SMTPSink:
    """The messages an SMTP server took, and a way to wait for them."""

    received: list[Received] = field(default_factory=list)
    refuse_with: str | None = None  # e.g. "550 mailbox unavailable": answer DATA with it
    _arrived: threading.Condition = field(default_factory=threading.Condition)

    async def handle_DATA(self, server, session, envelope) -> str:
        if self.refuse_with:
            return self.refuse_with
        message = BytesParser(policy=policy.default).parsebytes(envelope.original_content or envelope.content)
        with self._arrived:
            self.received.append(Received(envelope.mail_from, list(envelope.rcpt_tos), message))
            self._arrived.notify_all()
        return "250 OK"

    def wait_for(self, count: int, timeout: float = 20.0) -> list[Received]:
        with self._arrived:
            if not self._arrived.wait_for(lambda: len(self.received) >= count, timeout):
                raise AssertionError(f"expected {count} message(s), the SMTP server got {len(self.received)}")
            return list(self.received)


@contextlib.contextmanager
def smtp_server(port: int | None = None, sink: SMTPSink | None = None) -> Iterator[tuple[int, SMTPSink]]:
    """An aiosmtpd server on 127.0.0.1 (`port`, or a free one); yields (port, sink)."""
    sink = sink or SMTPSink()
    port = port or free_port()
    controller = Controller(sink, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield port, sink
    finally:
        controller.stop()
