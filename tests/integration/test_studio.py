"""/create: pickers by plan, the live quote and what blocks it, prefills, and submitting (htmx and plain form)."""

from __future__ import annotations

import re

import pytest

from app.tables import CreditTransactions, LedgerReason, TrialImages, Uploads, Videos
from tests.billing_factories import balance
from tests.studio_factories import csrf, jpeg, make_user, make_video, sign_in

HX = {"HX-Request": "true"}
pytestmark = pytest.mark.usefixtures("emulated_openai")


@pytest.fixture
def emulated_openai(openai_emulator, monkeypatch):
    """Generation jobs started by these tests reach a real emulator (set before the app's settings are read)."""
    monkeypatch.setenv("OPENAI_BASE_URL", openai_emulator)


def option(html: str, value: str) -> str:
    return re.search(rf'<option value="{re.escape(value)}"[^>]*>[^<]*</option>', html).group(0)


async def test_basic_plan_sees_its_models_and_sizes_with_the_rest_disabled(client, settings):
    await sign_in(client, await make_user(credits=1000, plan="basic"))
    r = await client.get("/create")
    assert r.status_code == 200
    html = r.text
    assert "disabled" not in option(html, "sora-2")
    pro = option(html, "sora-2-pro")
    assert "disabled" in pro and "needs the Pro plan" in pro
    assert 'id="quote-price">100 credits' in html and 'id="quote-after" class="">900' in html
    assert re.search(r'<button type="submit" id="studio-submit"\s*>', html)
    assert 'maxlength="2000"' in html and "0</span> / 2,000 characters" in html
    assert re.search(
        r'<form id="studio-form"[^>]*enctype="multipart/form-data"[^>]*>\s*<input type="hidden" name="_csrf_token" value="\w+">',
        html,
    )


async def test_the_quote_follows_the_pickers(client, settings):
    await sign_in(client, await make_user(credits=1000, plan="pro"))
    r = await client.get("/create/settings?model=sora-2-pro&duration=8&size=1792x1024", headers=HX)
    assert r.status_code == 200 and "<html" not in r.text
    assert 'id="quote-price">600 credits' in r.text and ">400<" in r.text
    assert "selected" in option(r.text, "1792x1024")
    # an unknown value falls back to an allowed one instead of failing
    r = await client.get("/create/settings?model=nope&duration=99&size=1x1", headers=HX)
    assert r.status_code == 200 and 'id="quote-price">100 credits' in r.text


@pytest.mark.parametrize(
    ("kwargs", "words", "fix"),
    [
        ({"plan": "free"}, "Free plan cannot generate", "/pricing"),
        ({"plan": "basic", "status": "expired"}, "Renew it", "/account"),
        ({"plan": "basic", "ends_in_days": -1}, "ended on", "/account"),
        ({"plan": "basic", "credits": 40}, "costs 100 credits and you have 40", "/pricing"),
    ],
    ids=["free", "expired", "ended", "not-enough-credits"],
)
async def test_the_submit_is_disabled_with_the_reason_and_the_fix(client, settings, kwargs, words, fix):
    await sign_in(client, await make_user(**{"credits": 1000, **kwargs}))
    html = (await client.get("/create")).text
    blocked = re.search(r'<p class="notice notice-warn quote-blocked" id="quote-blocked">(.*?)</p>', html, re.S).group(
        1
    )
    assert words in blocked and f'href="{fix}"' in blocked
    assert re.search(r'<button type="submit" id="studio-submit" disabled', html)


async def test_trial_image_and_from_video_prefill_the_form(client, settings):
    user = await make_user(credits=1000, plan="pro")
    trial = TrialImages(
        title="Green bottle", image_url="/media/public/trial/bottle.jpg", storage_key="public/trial/bottle.jpg"
    )
    await trial.save()
    video = await make_video(
        user.id, prompt="Orbit around the bottle", model="sora-2-pro", reference_trial_image=trial.id
    )
    await sign_in(client, user)
    html = (await client.get(f"/create?trial_image={trial.id}")).text
    assert re.search(rf'value="{trial.id}" checked', html)
    html = (await client.get(f"/create?from={video.id}")).text
    assert ">Orbit around the bottle</textarea>" in html
    assert "selected" in option(html, "sora-2-pro")
    assert re.search(rf'value="{trial.id}" checked', html)


async def test_plain_form_post_creates_the_video_and_redirects(client, settings):
    user = await make_user(credits=1000, plan="basic")
    await sign_in(client, user)
    token = (await csrf(client))["x-csrftoken"]
    form = {
        "_csrf_token": token,
        "prompt": "A sneaker on wet asphalt",
        "model": "sora-2",
        "duration": "4",
        "size": "1280x720",
        "trial_image_id": "",
        "idempotency_key": "k-1",
    }
    r = await client.post("/create", data=form, follow_redirects=False)
    assert r.status_code == 303, r.text
    video = await Videos.objects().where(Videos.user == user.id).first()
    assert r.headers["location"] == f"/videos/{video.id}"
    assert video.prompt == "A sneaker on wet asphalt" and video.resolution == "1280x720"
    assert await CreditTransactions.exists().where(
        (CreditTransactions.video == video.id) & (CreditTransactions.reason == LedgerReason.generation.value)
    )
    # the same form sent twice (a double click) makes one video
    again = await client.post("/create", data=form, follow_redirects=False)
    assert again.headers["location"] == f"/videos/{video.id}" and await Videos.count() == 1


async def test_plain_form_post_with_a_file_uploads_it_as_the_reference(client, settings):
    user = await make_user(credits=1000, plan="basic")
    await sign_in(client, user)
    token = (await csrf(client))["x-csrftoken"]
    form = {"_csrf_token": token, "prompt": "Mug with steam", "model": "sora-2", "duration": "4", "size": "1280x720"}
    r = await client.post(
        "/create", data=form, files={"file": ("mug.jpg", jpeg(1280, 720), "image/jpeg")}, follow_redirects=False
    )
    assert r.status_code == 303, r.text
    upload = await Uploads.objects().where(Uploads.user == user.id).first()
    video = await Videos.objects().where(Videos.user == user.id).first()
    assert video.reference_upload == upload.id


async def test_htmx_submit_redirects_and_carries_the_new_balance(client, settings):
    user = await make_user(credits=1000, plan="basic")
    await sign_in(client, user)
    headers = {**HX, **await csrf(client)}
    form = {"prompt": "Headphones floating", "model": "sora-2", "duration": "8", "size": "720x1280"}
    r = await client.post("/create", data=form, headers=headers)
    video = await Videos.objects().where(Videos.user == user.id).first()
    assert r.headers["hx-redirect"] == f"/videos/{video.id}"
    assert 'id="header-credits"' in r.text and 'hx-swap-oob="true"' in r.text and ">800 credits<" in r.text


async def test_a_refused_submit_shows_the_reason_in_the_form_and_charges_nothing(client, settings):
    user = await make_user(credits=1000, plan="basic")
    await sign_in(client, user)
    headers = {**HX, **await csrf(client)}
    r = await client.post(
        "/create", data={"prompt": "  ", "model": "sora-2", "duration": "4", "size": "1280x720"}, headers=headers
    )
    assert r.status_code == 422
    assert r.text.lstrip().startswith('<form id="studio-form"') and "prompt is empty" in r.text
    r = await client.post(
        "/create",
        data={"prompt": "Pro please", "model": "sora-2-pro", "duration": "4", "size": "1280x720"},
        headers=headers,
    )
    assert r.status_code == 403 and "Pro plan" in r.text and 'href="/pricing"' in r.text
    assert await Videos.count() == 0 and await balance(user.id) == 1000


async def test_retry_charges_again_and_updates_the_header(client, settings):
    user = await make_user(credits=1000, plan="basic")
    video = await make_video(
        user.id, status="failed", error_message="Provider error", charge_seq=1, credits_charged=100
    )
    await sign_in(client, user)
    headers = {**HX, **await csrf(client)}
    r = await client.post(f"/videos/{video.id}/retry", headers=headers)
    assert r.status_code == 200, r.text
    assert f'<section id="video-live-{video.id}"' in r.text
    assert 'id="header-credits"' in r.text and "hx-swap-oob" in r.text and ">900 credits<" in r.text
    assert await balance(user.id) == 900


async def test_delete_needs_the_owner_and_csrf(client, settings):
    owner, stranger = await make_user(), await make_user()
    video = await make_video(owner.id)
    await sign_in(client, stranger)
    token = await csrf(client)
    assert (await client.post(f"/videos/{video.id}/delete", headers=token)).status_code == 404
    await sign_in(client, owner)
    assert (await client.post(f"/videos/{video.id}/delete")).status_code == 403  # no CSRF token
    assert await Videos.exists().where(Videos.id == video.id)
    r = await client.post(f"/videos/{video.id}/delete", headers=await csrf(client), follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/videos"
    assert not await Videos.exists().where(Videos.id == video.id)
    r = await client.post(f"/videos/{video.id}/delete", headers={**HX, **await csrf(client)})
    assert r.status_code == 404


async def test_a_plain_form_with_a_file_over_the_limit_is_refused_in_words(client, settings):
    user = await make_user(credits=1000, plan="basic")
    await sign_in(client, user)
    token = (await csrf(client))["x-csrftoken"]
    form = {"_csrf_token": token, "prompt": "Too big", "model": "sora-2", "duration": "4", "size": "1280x720"}
    big = b"\xff\xd8\xff" + b"\0" * (12 * 1024 * 1024)
    r = await client.post("/create", data=form, files={"file": ("big.jpg", big, "image/jpeg")}, follow_redirects=False)
    assert r.status_code == 413 and "larger than 10 MB" in r.text
    assert await Videos.count() == 0 and await Uploads.count() == 0 and await balance(user.id) == 1000
