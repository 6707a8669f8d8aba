"""Building an email: a text and an HTML part, and the one-click unsubscribe headers (RFC 8058)."""

from __future__ import annotations

from dataclasses import dataclass
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import formatdate, make_msgid, parseaddr


@dataclass(frozen=True)
class OutgoingEmail:
    to: str
    subject: str
    text: str
    html: str
    # An https link that unsubscribes with a single POST (and shows a confirmation page on GET).
    unsubscribe_url: str | None = None


def sender_domain(sender: str) -> str:
    return parseaddr(sender)[1].rpartition("@")[2] or "localhost"


def new_message_id(sender: str) -> str:
    return make_msgid(domain=sender_domain(sender))


def build_message(email: OutgoingEmail, *, sender: str, message_id: str | None = None) -> EmailMessage:
    """The MIME message: multipart/alternative (text first, so clients prefer the HTML)."""
    message = EmailMessage()
    name, address = parseaddr(sender)
    message["From"] = Address(display_name=name, addr_spec=address) if name else address
    message["To"] = email.to
    message["Subject"] = email.subject
    message["Date"] = formatdate(usegmt=True)
    # Stable across retries, so a message delivered twice is recognisably the same one.
    message["Message-ID"] = message_id or new_message_id(sender)
    message["Auto-Submitted"] = "auto-generated"
    if email.unsubscribe_url:
        message["List-Unsubscribe"] = f"<{email.unsubscribe_url}>"
        message["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    message.set_content(email.text)
    message.add_alternative(email.html, subtype="html")
    return message
