"""A local mail outbox: a real SMTP server (aiosmtpd) that keeps every message in a folder, and a web
page that shows them (`/_emulators/mail` in development), so no development email reaches the internet.

The app's mail sender talks SMTP to it through `aiosmtplib`, exactly as it talks to a real provider.
Each process that sends mail starts its own server on a free loopback port (`local_smtp_address`);
all of them write to the same folder, which the web page reads. Messages are stored as `<id>.eml`
with the SMTP envelope beside them in `<id>.json`.

Run it on its own: `python -m app.emulators.mail --smtp-port 8025 --http-port 8026 --dir ./outbox`
(then `SMTP_HOST=127.0.0.1 SMTP_PORT=8025 SMTP_SECURITY=none`).
"""

from __future__ import annotations

import argparse
import json
import re
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from pathlib import Path
from typing import Any

from aiosmtpd.controller import Controller
from litestar import Litestar, Response, get, post
from litestar.exceptions import NotFoundException
from litestar.params import FromPath
from litestar.response import Redirect

from app.web.templating import render

MOUNT_PATH = "/_emulators/mail"
PAGE_POLICY = (
    "default-src 'none'; style-src 'unsafe-inline'; img-src * data:; form-action 'self'; "
    "base-uri 'none'; frame-ancestors 'none'"
)
_ID = re.compile(r"^[0-9]{19}-[0-9a-f]{8}$")


@dataclass(frozen=True)
class StoredMail:
    """One message of the outbox, parsed."""

    id: str
    received_at: datetime
    mail_from: str
    rcpt_tos: list[str]
    message: EmailMessage

    @property
    def subject(self) -> str:
        return str(self.message.get("Subject", ""))

    @property
    def to(self) -> str:
        return str(self.message.get("To", "")) or ", ".join(self.rcpt_tos)

    def part(self, subtype: str) -> str | None:
        """The decoded text of the `text/<subtype>` part, if there is one."""
        body = self.message.get_body(preferencelist=(subtype,))
        return body.get_content() if body is not None else None

    @property
    def text(self) -> str | None:
        return self.part("plain")

    @property
    def html(self) -> str | None:
        return self.part("html")

    def summary(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "received_at": self.received_at.isoformat(),
            "mail_from": self.mail_from,
            "rcpt_tos": self.rcpt_tos,
            "subject": self.subject,
            "to": self.to,
            "headers": {k: str(v) for k, v in self.message.items()},
            "text": self.text,
            "html": self.html,
        }


class Outbox:
    """The folder of received messages."""

    def __init__(self, directory: Path) -> None:
        self.directory = Path(directory)

    def store(self, mail_from: str, rcpt_tos: list[str], data: bytes) -> str:
        self.directory.mkdir(parents=True, exist_ok=True)
        # Time first, so names sort in arrival order; the suffix keeps parallel senders apart.
        mail_id = f"{time.time_ns():019d}-{uuid.uuid4().hex[:8]}"
        envelope = {"mail_from": mail_from, "rcpt_tos": rcpt_tos}
        (self.directory / f"{mail_id}.json").write_text(json.dumps(envelope))
        # The .eml last: a reader lists .eml files, so it never sees a message without its envelope.
        tmp = self.directory / f"{mail_id}.eml.part"
        tmp.write_bytes(data)
        tmp.rename(self.directory / f"{mail_id}.eml")
        return mail_id

    def get(self, mail_id: str) -> StoredMail | None:
        if not _ID.match(mail_id):
            return None
        path = self.directory / f"{mail_id}.eml"
        if not path.is_file():
            return None
        try:
            envelope = json.loads((self.directory / f"{mail_id}.json").read_text())
        except (OSError, ValueError):
            envelope = {"mail_from": "", "rcpt_tos": []}
        message = BytesParser(policy=policy.default).parsebytes(path.read_bytes())
        received = datetime.fromtimestamp(int(mail_id.split("-")[0]) / 1e9, tz=UTC)
        return StoredMail(mail_id, received, envelope["mail_from"], envelope["rcpt_tos"], message)

    def messages(self) -> list[StoredMail]:
        """Every message, newest first."""
        if not self.directory.is_dir():
            return []
        ids = sorted((p.stem for p in self.directory.glob("*.eml")), reverse=True)
        return [mail for mail in map(self.get, ids) if mail is not None]

    def clear(self) -> None:
        if self.directory.is_dir():
            for path in self.directory.iterdir():
                if path.suffix in (".eml", ".json", ".part"):
                    path.unlink(missing_ok=True)


class OutboxHandler:
    """aiosmtpd handler: accept every message and keep it in the outbox."""

    def __init__(self, outbox: Outbox) -> None:
        self.outbox = outbox

    async def handle_DATA(self, server, session, envelope) -> str:
        self.outbox.store(envelope.mail_from, list(envelope.rcpt_tos), envelope.original_content or envelope.content)
        return "250 Message accepted for delivery"


class OutboxSMTP(Controller):
    """aiosmtpd's threaded server, also on port 0 (a free port, read back once bound)."""

    def _trigger_server(self) -> None:
        if not self.port and self.server is not None:
            self.port = self.server.sockets[0].getsockname()[1]
        super()._trigger_server()


def start_smtp_outbox(directory: Path, *, host: str = "127.0.0.1", port: int = 0) -> OutboxSMTP:
    """Start an SMTP server storing into `directory`; `.hostname`/`.port` say where it listens; `.stop()`."""
    controller = OutboxSMTP(OutboxHandler(Outbox(directory)), hostname=host, port=port)
    controller.start()
    return controller


_local: dict[Path, OutboxSMTP] = {}
_local_lock = threading.Lock()


def local_smtp_address(directory: Path) -> tuple[str, int]:
    """This process's outbox SMTP server for `directory` (started on first use): (host, port)."""
    key = Path(directory).resolve()
    with _local_lock:
        server = _local.get(key)
        if server is None:
            server = _local[key] = start_smtp_outbox(key)
        return server.hostname, server.port


def create_mail_emulator(directory: Path | Callable[[], Path], *, base_path: str = MOUNT_PATH) -> Litestar:
    """The outbox's web pages: the list, one message (headers, text, HTML), a JSON listing, clear.
    `directory` may be a function, read on every request (the mounted app follows the settings)."""

    def outbox() -> Outbox:
        return Outbox(directory() if callable(directory) else directory)

    def page(template: str, **context: Any) -> Response:
        # Its own policy: the pages and the emails shown in them use inline styles, and nothing else runs.
        return Response(
            render(template, base=base_path, **context),
            media_type="text/html",
            headers={"Content-Security-Policy": PAGE_POLICY},
        )

    @get("/", sync_to_thread=False)
    def index() -> Response:
        return page("emulators/mail/index.html", messages=outbox().messages())

    @get("/messages.json", sync_to_thread=False)
    def listing() -> list[dict[str, Any]]:
        return [mail.summary() for mail in outbox().messages()]

    @get("/{mail_id:str}", sync_to_thread=False)
    def show(mail_id: FromPath[str]) -> Response:
        mail = outbox().get(mail_id)
        if mail is None:
            raise NotFoundException("No such message in the outbox.")
        return page("emulators/mail/message.html", mail=mail)

    @get("/{mail_id:str}/raw", sync_to_thread=False)
    def raw(mail_id: FromPath[str]) -> Response:
        mail = outbox().get(mail_id)
        if mail is None:
            raise NotFoundException("No such message in the outbox.")
        return Response(mail.message.as_bytes(), media_type="message/rfc822")

    @post("/clear", sync_to_thread=False)
    def clear() -> Redirect:
        outbox().clear()
        return Redirect(f"{base_path}/", status_code=303)

    return Litestar(route_handlers=[index, listing, show, raw, clear], openapi_config=None, logging_config=None)


def main(argv: list[str] | None = None) -> None:
    """Run the outbox on its own: SMTP on --smtp-port, its pages on --http-port."""
    import uvicorn

    parser = argparse.ArgumentParser(prog="python -m app.emulators.mail", description=main.__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--smtp-port", type=int, default=8025)
    parser.add_argument("--http-port", type=int, default=8026)
    parser.add_argument("--dir", type=Path, default=Path("./uploads/_emulators/mail"))
    args = parser.parse_args(argv)
    smtp = start_smtp_outbox(args.dir, host=args.host, port=args.smtp_port)
    print(
        f"Mail outbox: SMTP on {args.host}:{smtp.port}, messages at http://{args.host}:{args.http_port}/ "
        f"(stored in {args.dir})"
    )
    try:
        uvicorn.run(
            create_mail_emulator(args.dir, base_path=""), host=args.host, port=args.http_port, log_level="warning"
        )
    finally:
        smtp.stop()


if __name__ == "__main__":
    main()
