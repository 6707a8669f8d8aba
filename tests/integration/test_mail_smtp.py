"""Email over SMTP through aiosmtplib: against a real aiosmtpd server, when it is down or refuses,
and into the local outbox (readable in the browser) when no SMTP server is configured."""

from __future__ import annotations

import pytest

from app.config import Settings
from app.notifications.compose import OutgoingEmail, build_message
from app.notifications.smtp import MailNotSent, mail_enabled, send
from tests.mail_support import SMTPSink, free_port, smtp_server

UNSUBSCRIBE = "https://adsvideo.example/unsubscribe/tok123"


def smtp_settings(tmp_path, port: int, **overrides) -> Settings:
    values = dict(
        smtp_host="127.0.0.1",
        smtp_port=port,
        smtp_security="none",
        smtp_timeout_seconds=5,
        media_root=tmp_path,
        mail_from="AdsVideo <no-reply@adsvideo.example>",
    )
    values.update(overrides)
    return Settings(_env_file=None, **values)


def ready_email(to: str = "ana@example.com") -> OutgoingEmail:
    return OutgoingEmail(
        to=to,
        subject="Your video is ready",
        text="Your video “Sneakers on the beach” is ready: https://adsvideo.example/videos/7\n",
        html="<p>Your video <b>Sneakers on the beach</b> is ready: "
        '<a href="https://adsvideo.example/videos/7">watch it</a></p>',
        unsubscribe_url=UNSUBSCRIBE,
    )


async def test_a_message_reaches_the_smtp_server_with_both_parts_and_one_click_unsubscribe(tmp_path):
    with smtp_server() as (port, sink):
        settings = smtp_settings(tmp_path, port)
        await send(
            build_message(ready_email(), sender=settings.mail_from, message_id="<m1@adsvideo.example>"), settings
        )
        [mail] = sink.wait_for(1)
    assert mail.rcpt_tos == ["ana@example.com"]
    assert mail.mail_from == "no-reply@adsvideo.example"
    message = mail.message
    assert message["Subject"] == "Your video is ready"
    assert message["From"] == "AdsVideo <no-reply@adsvideo.example>"
    assert message["Message-ID"] == "<m1@adsvideo.example>"
    assert message["Date"]
    assert message["List-Unsubscribe"] == f"<{UNSUBSCRIBE}>"
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert message.get_content_type() == "multipart/alternative"
    assert "Sneakers on the beach” is ready: https://adsvideo.example/videos/7" in mail.part("plain")
    assert '<a href="https://adsvideo.example/videos/7">' in mail.part("html")


async def test_a_message_without_an_unsubscribe_link_has_no_list_headers(tmp_path):
    email = OutgoingEmail(to="ana@example.com", subject="Webhook switched off", text="t", html="<p>h</p>")
    with smtp_server() as (port, sink):
        settings = smtp_settings(tmp_path, port)
        await send(build_message(email, sender=settings.mail_from), settings)
        [mail] = sink.wait_for(1)
    assert mail.message["List-Unsubscribe"] is None and mail.message["List-Unsubscribe-Post"] is None


async def test_an_unreachable_server_is_a_temporary_failure(tmp_path):
    settings = smtp_settings(tmp_path, free_port())
    with pytest.raises(MailNotSent, match="could not reach the SMTP server 127.0.0.1") as caught:
        await send(build_message(ready_email(), sender=settings.mail_from), settings)
    assert not caught.value.permanent


async def test_a_refused_message_is_a_permanent_failure(tmp_path):
    with smtp_server(sink=SMTPSink(refuse_with="554 5.7.1 Message rejected")) as (port, sink):
        settings = smtp_settings(tmp_path, port)
        with pytest.raises(MailNotSent, match="554") as caught:
            await send(build_message(ready_email(), sender=settings.mail_from), settings)
    assert caught.value.permanent
    assert sink.received == []


def test_production_without_an_smtp_server_sends_no_mail(tmp_path):
    production = Settings(_env_file=None, app_env="production", media_root=tmp_path)
    assert not mail_enabled(production)
    assert mail_enabled(Settings(_env_file=None, app_env="development", media_root=tmp_path))
    assert mail_enabled(Settings(_env_file=None, app_env="production", smtp_host="smtp.example.com"))


async def test_without_smtp_host_mail_lands_in_the_outbox_page(client, settings):
    assert settings.uses_mail_outbox
    await send(build_message(ready_email("bo@example.com"), sender=settings.mail_from), settings)

    page = await client.get("/_emulators/mail/")
    assert page.status_code == 200
    assert "Your video is ready" in page.text and "bo@example.com" in page.text
    [listed] = (await client.get("/_emulators/mail/messages.json")).json()
    assert listed["headers"]["List-Unsubscribe"] == f"<{UNSUBSCRIBE}>"
    assert listed["rcpt_tos"] == ["bo@example.com"]

    message = await client.get(f"/_emulators/mail/{listed['id']}")
    assert message.status_code == 200
    assert "Sneakers on the beach” is ready" in message.text  # the text part
    assert "srcdoc=" in message.text and "watch it" in message.text  # the HTML part, sandboxed
    assert (await client.get("/_emulators/mail/1234-nope")).status_code == 404

    cleared = await client.post("/_emulators/mail/clear", follow_redirects=False)
    assert cleared.status_code == 303
    assert (await client.get("/_emulators/mail/messages.json")).json() == []
