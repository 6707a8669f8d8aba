"""Several photos, one prompt, from the studio form: one video and one charge per photo, all or nothing, shown
together on the batch's page."""

from __future__ import annotations

import pytest

from app.media import samples, storage
from app.tables import CreditTransactions, TrialImages, Users, Videos
from tests.jobs_support import make_upload
from tests.studio_factories import csrf, make_user, sign_in


@pytest.fixture(autouse=True)
def emulated_runway(runway_emulator, monkeypatch):
    monkeypatch.setenv("RUNWAYML_BASE_URL", runway_emulator)


async def trial_image(product: str) -> TrialImages:
    key = storage.new_key("public/trial", ".webp")
    storage.get_storage().save_bytes(key, samples.encode(samples.PRODUCTS[product]((1280, 720)), "WEBP"))
    row = TrialImages(title=product.title(), image_url=storage.media_url(key), storage_key=key, category="demo")
    await row.save()
    return row


async def test_one_prompt_with_three_photos_makes_three_videos(client, settings):
    user = await make_user(credits=1_000, plan="basic")
    await sign_in(client, user)
    sneaker, bottle = await trial_image("sneaker"), await trial_image("bottle")
    upload = await make_upload(user.id)
    page = (await client.get("/create")).text
    assert 'name="also_photo" value="upload:%d"' % upload.id in page and f'value="trial:{bottle.id}"' in page

    token = (await csrf(client))["x-csrftoken"]
    form = {
        "_csrf_token": token,
        "prompt": "The product on a sunny table",
        "model": "gen4_turbo",
        "duration": "5",
        "size": "1280x720",
        "trial_image_id": str(sneaker.id),
        "also_photo": [f"trial:{bottle.id}", f"upload:{upload.id}"],
    }
    r = await client.post("/create", data=form, follow_redirects=False)
    assert r.status_code == 303, r.text
    videos = list(await Videos.objects().where(Videos.user == user.id).order_by(Videos.id))
    assert len(videos) == 3 and len({v.batch_id for v in videos}) == 1
    assert r.headers["location"] == f"/videos/batch/{videos[0].batch_id}"
    assert [(v.reference_trial_image, v.reference_upload) for v in videos] == [
        (sneaker.id, None),
        (bottle.id, None),
        (None, upload.id),
    ]
    assert await CreditTransactions.count().where(CreditTransactions.user == user.id) >= 3
    credits = (await Users.select(Users.credits).where(Users.id == user.id).first())["credits"]
    assert credits == 1_000 - 3 * 60

    shown = await client.get(r.headers["location"])
    assert shown.status_code == 200 and shown.text.count('class="variation-cell"') == 3
    stranger = await make_user(credits=10, plan="basic")
    await sign_in(client, stranger)
    assert (await client.get(r.headers["location"])).status_code == 404


async def test_not_enough_credits_for_every_photo_charges_nothing(client, settings):
    user = await make_user(credits=100, plan="basic")
    await sign_in(client, user)
    sneaker, bottle = await trial_image("sneaker"), await trial_image("bottle")
    token = (await csrf(client))["x-csrftoken"]
    form = {
        "_csrf_token": token,
        "prompt": "The product on a sunny table",
        "model": "gen4_turbo",
        "duration": "5",
        "size": "1280x720",
        "trial_image_id": str(sneaker.id),
        "also_photo": [f"trial:{bottle.id}"],
    }
    r = await client.post("/create", data=form, follow_redirects=False)
    assert r.status_code == 402 and "2 videos cost 120 credits" in r.text
    assert await Videos.count().where(Videos.user == user.id) == 0
