"""Notifications when a job finishes, end to end: the real pipeline against the OpenAI emulator, the
embedded Dramatiq worker, and email through a real SMTP server (aiosmtpd) the test starts."""

from __future__ import annotations

import re

import pytest

from app.notifications import inbox, preferences
from app.tables import EmailMessages, Notifications, Users, Videos
from tests.billing_factories import make_user
from tests.jobs_support import FAST_JOBS, api_user, unique_prompt, wait_for, wait_for_final
from tests.mail_support import free_port, smtp_server
from tests.studio_factories import csrf, make_video, sign_in


@pytest.fixture
def fast_jobs(openai_emulator, monkeypatch):
    for name, value in FAST_JOBS.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("OPENAI_BASE_URL", openai_emulator)
    monkeypatch.setenv("MAIL_RETRY_BACKOFF_SECONDS", "0.2")
    monkeypatch.setenv("SMTP_SECURITY", "none")
    monkeypatch.setenv("SMTP_HOST", "127.0.0.1")


@pytest.fixture
def smtp(fast_jobs, monkeypatch):
    """A real SMTP server the app sends to."""
    with smtp_server() as (port, sink):
        monkeypatch.setenv("SMTP_PORT", str(port))
        yield sink


async def told(client, headers, count: int = 1) -> dict:
    """The notification list once it holds `count` items (the outcome is announced just after the video's
    state is committed, so a poll of the state can see it a moment before the notification)."""

    async def listed():
        body = (await client.get("/api/v1/notifications", headers=headers)).json()
        return body if len(body["items"]) >= count else None

    return await wait_for(listed, what=f"{count} notification(s)")


async def generate(client, headers, prompt: str) -> int:
    body = {"prompt": prompt, "model": "sora-2", "duration": 4, "resolution": "1280x720"}
    answer = await client.post("/api/v1/videos/generate", json=body, headers=headers)
    assert answer.status_code == 202, answer.text
    return answer.json()["id"]


async def test_a_finished_video_notifies_in_the_bell_the_api_and_by_email(smtp, client):
    user, headers = await api_user(credits=500)
    video_id = await generate(client, headers, unique_prompt("Sneakers on the beach"))
    assert (await wait_for_final(video_id)).status == "completed"

    listed = await told(client, headers)
    assert listed["unread"] == 1
    [item] = listed["items"]
    assert (item["kind"], item["title"], item["video_id"], item["read"]) == (
        "video_ready",
        "Your video is ready",
        video_id,
        False,
    )
    assert item["link"] == f"/videos/{video_id}"

    [mail] = smtp.wait_for(1)
    assert mail.rcpt_tos == [user.email] and mail.message["Subject"] == "Your video is ready"
    text, html = mail.part("plain"), mail.part("html")
    assert (
        f"http://127.0.0.1:8000/videos/{video_id}" in text and f'href="http://127.0.0.1:8000/videos/{video_id}"' in html
    )
    assert "Sneakers on the beach" in text
    unsubscribe = mail.message["List-Unsubscribe"].strip("<>")
    assert mail.message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert unsubscribe in text and unsubscribe in html

    await sign_in(client, user)
    page = await client.get("/videos")
    assert re.search(r'id="header-bell"[^>]*data-unread="1"', page.text)

    marked = await client.post("/api/v1/notifications/read", json={}, headers=headers)
    assert marked.json() == {"unread": 0}
    assert (await client.get("/api/v1/notifications", headers=headers)).json()["items"][0]["read"] is True
    assert re.search(r'id="header-bell"[^>]*data-unread="0"', (await client.get("/videos")).text)
    row = await EmailMessages.objects().where(EmailMessages.user == user.id).first()
    assert (row.status, row.attempts) == ("sent", 1)


async def test_a_failed_video_notifies_with_the_refund(smtp, client):
    user, headers = await api_user(credits=500)
    video_id = await generate(client, headers, unique_prompt("A banned idea [fault:moderation]"))
    assert (await wait_for_final(video_id)).status == "failed"
    [item] = (await told(client, headers))["items"]
    assert item["kind"] == "video_failed" and "credits were refunded" in item["body"]
    [mail] = smtp.wait_for(1)
    assert mail.message["Subject"] == "Your video could not be made"
    assert "credits were refunded" in mail.part("plain")


async def test_the_email_preference_is_respected(smtp, client):
    user, headers = await api_user(credits=500)
    await Users.update({Users.email_video_updates: False}).where(Users.id == user.id)
    video_id = await generate(client, headers, unique_prompt("Quiet please"))
    assert (await wait_for_final(video_id)).status == "completed"
    assert (await told(client, headers))["unread"] == 1  # still in the bell
    assert await EmailMessages.count().where(EmailMessages.user == user.id) == 0
    assert smtp.received == []


async def test_one_click_unsubscribe_needs_no_session_and_checks_its_signature(client):
    user = await make_user()
    url = preferences.unsubscribe_url(user.id, "email_video_updates")
    path = "/" + url.split("/", 3)[3]
    confirm = await client.get(path)
    assert confirm.status_code == 200 and "Unsubscribe?" in confirm.text
    one_click = await client.post(
        path, content=b"List-Unsubscribe=One-Click", headers={"content-type": "application/x-www-form-urlencoded"}
    )
    assert one_click.status_code == 200 and "You are unsubscribed" in one_click.text
    row = await Users.objects().where(Users.id == user.id).first()
    assert row.email_video_updates is False and row.email_account_alerts is True
    assert (await client.post(path[:-3] + "xyz")).status_code == 404
    assert (
        await client.post(f"/unsubscribe/{user.id + 1}.email_video_updates.{path.rsplit('.', 1)[1]}")
    ).status_code == 404


async def test_smtp_down_never_holds_the_video_back_and_the_mail_is_retried(fast_jobs, monkeypatch, client):
    port = free_port()  # nothing listens here yet
    monkeypatch.setenv("SMTP_PORT", str(port))
    from app.config import get_settings

    get_settings.cache_clear()
    user, headers = await api_user(credits=500)
    video_id = await generate(client, headers, unique_prompt("Mail server is down"))
    assert (await wait_for_final(video_id)).status == "completed"

    async def failed_once():
        row = await EmailMessages.objects().where(EmailMessages.user == user.id).first()
        return row if row and row.attempts >= 1 else None

    row = await wait_for(failed_once, what="a failed send attempt")
    assert row.status == "queued" and "could not reach the SMTP server" in row.last_error
    with smtp_server(port) as (_, sink):
        [mail] = sink.wait_for(1, timeout=30)
        assert mail.message["Subject"] == "Your video is ready"

        async def sent():
            again = await EmailMessages.objects().where(EmailMessages.id == row.id).first()
            return again if again.status == "sent" else None

        assert (await wait_for(sent, what="the email marked sent")).attempts >= 2


async def test_notify_is_callable_by_other_features_and_credits_granted_is_in_app_only(smtp, client):
    user = await make_user()
    await inbox.notify(user, "credits_granted", title="500 credits were added", body="Thanks for your purchase.")
    await inbox.notify(user.id, "payment_problem", title="Your payment failed", link="/account")
    assert await inbox.unread_count(user.id) == 2
    [mail] = smtp.wait_for(1)
    assert mail.message["Subject"] == "Your payment failed"
    assert "email_account_alerts" in mail.message["List-Unsubscribe"]
    assert await inbox.mark_read(user.id, [(await inbox.recent(user.id))[0].id]) == 1
    with pytest.raises(ValueError):
        await inbox.notify(user, "no_such_kind", title="x")
    assert await Notifications.count().where(Notifications.user == user.id) == 2


async def test_preferences_on_the_account_page_and_the_home_page_creators(client):
    creator = await make_user(name="Zelda Creator")
    await make_video(creator.id)
    idle = await make_user(name="Ignatius Idle")  # never made a video
    admin = await make_user(name="Adela Admin", is_admin=True)
    await make_video(admin.id)

    home = (await client.get("/")).text
    assert "Zelda" in home and "Ignatius" not in home and "Adela" not in home
    assert "Zelda" in str((await client.get("/api/v1/users/recent")).json())

    await sign_in(client, creator)
    headers = await csrf(client)
    account = await client.get("/account")
    assert 'name="show_in_creators" role="switch" checked' in account.text
    saved = await client.post(
        "/account/preferences",
        data={"email_video_updates": "on", "email_account_alerts": "on"},
        headers={**headers, "HX-Request": "true"},
    )
    assert saved.status_code == 200 and "Saved." in saved.text
    row = await Users.objects().where(Users.id == creator.id).first()
    assert (row.email_video_updates, row.email_account_alerts, row.show_in_creators) == (True, True, False)
    assert "Zelda" not in (await client.get("/")).text
    assert "Zelda" not in str((await client.get("/api/v1/users/recent")).json())
    assert idle.id


async def test_credits_granted_by_an_administrator_or_a_plan_are_announced(client):
    from app.billing import charges, plans

    user, headers = await api_user(credits=10)
    await charges.grant(user.id, 250, "Sorry about the outage")
    await plans.set_plan(user.id, "pro", 1)
    items = (await client.get("/api/v1/notifications", headers=headers)).json()["items"]
    assert [i["kind"] for i in items] == ["credits_granted", "credits_granted"]
    assert (
        items[1]["title"] == "250 credits were added to your balance" and items[1]["body"] == "Sorry about the outage"
    )
    assert "Pro plan" in items[0]["body"]
    await charges.grant(user.id, -5, "Correction")  # a removal is not announced
    assert len((await client.get("/api/v1/notifications", headers=headers)).json()["items"]) == 2


async def test_a_batch_is_announced_once_when_its_last_video_finishes(smtp, client):
    user, headers = await api_user(credits=5000)
    prompts = [unique_prompt("Batch ad one"), unique_prompt("Batch ad two [fault:moderation]")]
    body = {"items": [{"prompt": p, "model": "sora-2", "duration": 4, "resolution": "1280x720"} for p in prompts]}
    answer = await client.post("/api/v1/videos/batch", json=body, headers=headers)
    assert answer.status_code == 202, answer.text
    ids = [v["id"] for v in answer.json()["videos"]]
    for video_id in ids:
        await wait_for_final(video_id)

    async def announced():
        items = (await client.get("/api/v1/notifications", headers=headers)).json()["items"]
        return items if any(i["kind"] == "batch_ready" for i in items) else None

    items = await wait_for(announced, what="the batch notification")
    assert [i["kind"] for i in items] == ["batch_ready"]  # no per-video notifications for a batch
    assert items[0]["body"] == "1 of 2 videos are ready; 1 could not be made."
    [mail] = smtp.wait_for(1)
    assert mail.message["Subject"] == "Your batch is finished"
    from app.notifications import outcomes

    batch_id = answer.json()["id"]
    assert (
        await Notifications.objects().where(Notifications.user == user.id).first()
    ).dedupe_key == f"batch:{batch_id}"
    videos = await Videos.objects().where(Videos.id.is_in(ids))
    await outcomes.batch_finished(user.id, batch_id, videos)  # a second finish: nothing more
    assert len((await client.get("/api/v1/notifications", headers=headers)).json()["items"]) == 1
