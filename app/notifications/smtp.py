"""Sending a message over SMTP with aiosmtplib: to SMTP_HOST, or to the local outbox in development."""

from __future__ import annotations

from email.message import EmailMessage

import aiosmtplib
import anyio.to_thread

from app.config import Settings


class MailNotSent(Exception):
    """The server did not take the message. `permanent`: it refused it (5xx); trying again will not help."""

    def __init__(self, reason: str, *, permanent: bool = False) -> None:
        super().__init__(reason)
        self.permanent = permanent


def mail_enabled(settings: Settings) -> bool:
    """Whether this installation sends email at all (production without SMTP_HOST does not)."""
    return bool(settings.smtp_host) or settings.uses_mail_outbox


async def _server(settings: Settings) -> dict:
    if settings.smtp_host:
        return dict(
            hostname=settings.smtp_host,
            port=settings.smtp_port,
            username=settings.smtp_username or None,
            password=settings.smtp_password or None,
            use_tls=settings.smtp_security == "tls",
            start_tls=settings.smtp_security == "starttls",
        )
    if not settings.uses_mail_outbox:
        raise MailNotSent("no SMTP server is configured (SMTP_HOST)", permanent=True)
    from app.emulators.mail import local_smtp_address

    host, port = await anyio.to_thread.run_sync(local_smtp_address, settings.mail_outbox_dir)
    return dict(hostname=host, port=port, use_tls=False, start_tls=False)


async def send(message: EmailMessage, settings: Settings) -> None:
    """Hand `message` to the SMTP server, or raise MailNotSent saying why not."""
    server = await _server(settings)
    try:
        await aiosmtplib.send(message, timeout=settings.smtp_timeout_seconds, **server)
    except aiosmtplib.SMTPResponseException as exc:
        raise MailNotSent(f"the SMTP server answered {exc.code} {exc.message}", permanent=exc.code >= 500) from exc
    except aiosmtplib.SMTPRecipientsRefused as exc:
        reasons = "; ".join(f"{r.recipient}: {r.code} {r.message}" for r in exc.recipients)
        raise MailNotSent(f"the SMTP server refused the recipient ({reasons})", permanent=True) from exc
    except (aiosmtplib.SMTPException, OSError) as exc:
        raise MailNotSent(f"could not reach the SMTP server {server['hostname']}:{server['port']} ({exc})") from exc
