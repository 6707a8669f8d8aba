"""Finishing through the API: brand kit, music uploads, finishing a video into renditions (stored, owner-only,
Range-served, listed on the video), bad input refused with nothing stored, sets kept until deleted."""

from __future__ import annotations

import io
from pathlib import Path

import av
import pytest
from PIL import Image

from app.finishing.captions import parse_webvtt
from app.media.storage import get_storage
from app.tables import AudioUploads, BrandKits, Finishings, Renditions
from tests.finishing_media import logo, make_clip, share_near, tone
from tests.jobs_support import api_user, slots_held, wait_for
from tests.studio_factories import jpeg, make_video

pytestmark = pytest.mark.timeout(240)


def png(image: Image.Image) -> bytes:
    out = io.BytesIO()
    image.save(out, format="PNG")
    return out.getvalue()


@pytest.fixture(scope="module")
def clip_bytes(tmp_path_factory) -> bytes:
    return make_clip(tmp_path_factory.mktemp("clips") / "clip.mp4", seconds=2, width=640, height=360).read_bytes()


@pytest.fixture(scope="module")
def music(tmp_path_factory) -> dict[str, bytes]:
    root = tmp_path_factory.mktemp("music")
    return {s: tone(root / f"t{s}", seconds=3).read_bytes() for s in (".mp3", ".ogg")}


def stored_under(prefix: str) -> list[str]:
    root = Path(get_storage().path("x")).parent / prefix
    return [p.name for p in root.rglob("*") if p.is_file()] if root.exists() else []


async def finished(client, headers, video_id: int, finishing_id: int) -> dict:
    async def ready():
        body = (await client.get(f"/api/v1/videos/{video_id}/finishings/{finishing_id}", headers=headers)).json()
        return body if body["status"] in ("completed", "failed") else None

    return await wait_for(ready, timeout=180, what="the finishing")


async def test_the_brand_kit_has_defaults_and_saves_changes(client):
    _, headers = await api_user()
    r = await client.get("/api/v1/brand", headers=headers)
    assert r.status_code == 200
    assert r.json()["cta_text"] == "Shop now" and {f["id"] for f in r.json()["fonts"]} >= {"source-sans", "lato"}
    r = await client.put(
        "/api/v1/brand",
        headers=headers,
        json={"name": "Acme", "primary_colour": "#c81e3c", "font": "lato", "cta_url": "acme.example"},
    )
    assert r.status_code == 200
    assert r.json()["primary_colour"] == "#C81E3C" and r.json()["font"] == "lato" and r.json()["cta_text"] == "Shop now"


@pytest.mark.parametrize(
    ("body", "code"),
    [
        ({"primary_colour": "red"}, "invalid_colour"),
        ({"font": "comic-sans"}, "invalid_font"),
        ({"cta_text": "x" * 41}, "text_too_long"),
    ],
)
async def test_bad_brand_values_are_refused_and_nothing_changes(client, body, code):
    user, headers = await api_user()
    r = await client.put("/api/v1/brand", headers=headers, json=body)
    assert r.status_code == 422 and r.json()["code"] == code
    assert await BrandKits.count().where(BrandKits.user == user.id) == 0


async def test_a_transparent_logo_is_kept_and_one_without_pixels_is_refused(client):
    user, headers = await api_user()
    r = await client.put("/api/v1/brand/logo", headers=headers, files={"file": ("logo.png", png(logo()), "image/png")})
    assert r.status_code == 200 and r.json()["logo_url"]
    assert (await client.get(r.json()["logo_url"], headers=headers)).status_code == 200
    before = stored_under("brand")
    empty = Image.new("RGBA", (200, 100), (255, 0, 0, 0))
    r = await client.put("/api/v1/brand/logo", headers=headers, files={"file": ("logo.png", png(empty), "image/png")})
    assert r.status_code == 422 and r.json()["code"] == "logo_empty"
    r = await client.put("/api/v1/brand/logo", headers=headers, files={"file": ("logo.jpg", jpeg(), "image/jpeg")})
    assert r.status_code == 422 and r.json()["code"] == "logo_format"
    assert stored_under("brand") == before


async def test_music_uploads_accept_mp3_and_ogg_and_refuse_a_renamed_text_file(client, music):
    user, headers = await api_user()
    for suffix, data in music.items():
        r = await client.post("/api/v1/upload/audio", headers=headers, files={"file": (f"song{suffix}", data)})
        assert r.status_code == 201, r.text
        assert r.json()["duration"] == pytest.approx(3, abs=0.1) and r.json()["id"]
    count = await AudioUploads.count().where(AudioUploads.user == user.id)
    files = stored_under("music")
    r = await client.post(
        "/api/v1/upload/audio",
        headers=headers,
        files={"file": ("song.mp3", b"not a song, just words\n" * 100, "audio/mpeg")},
    )
    assert r.status_code == 422 and r.json()["code"] == "not_audio"
    assert await AudioUploads.count().where(AudioUploads.user == user.id) == count
    assert stored_under("music") == files


async def test_finishing_makes_stored_renditions_listed_on_the_video(client, clip_bytes, music):
    user, headers = await api_user()
    await client.put("/api/v1/brand", headers=headers, json={"primary_colour": "#C81E3C", "accent_colour": "#FFD200"})
    await client.put("/api/v1/brand/logo", headers=headers, files={"file": ("logo.png", png(logo()), "image/png")})
    video = await make_video(user.id, body=clip_bytes)
    track = (
        await client.post("/api/v1/upload/audio", headers=headers, files={"file": ("a.mp3", music[".mp3"])})
    ).json()
    r = await client.post(
        f"/api/v1/videos/{video.id}/finish",
        headers=headers,
        json={
            "hook_text": "Stay cold",
            "captions": ["Cold all day"],
            "end_card": {"text": "Get yours", "seconds": 1},
            "music_upload_id": track["id"],
            "trim": {"start": 0.5, "end": 2.0},
            "placements": ["9:16", "16:9"],
        },
    )
    assert r.status_code == 202, r.text
    body = r.json()
    assert [(p["placement"], p["width"], p["height"]) for p in body["renditions"]] == [
        ("9:16", 360, 640),
        ("16:9", 640, 360),
    ]
    assert body["renditions"][0]["duration"] == pytest.approx(2.5, abs=0.05)
    done = await finished(client, headers, video.id, body["id"])
    assert done["status"] == "completed", done

    listed = (await client.get(f"/api/v1/videos/{video.id}", headers=headers)).json()["renditions"]
    assert [(x["placement"], x["width"], x["height"]) for x in listed] == [("9:16", 360, 640), ("16:9", 640, 360)]
    for rendition in listed:
        assert rendition["duration"] == pytest.approx(2.5, abs=0.05) and rendition["poster"]
        whole = await client.get(rendition["url"], headers=headers)
        assert whole.status_code == 200 and whole.headers["content-type"] == "video/mp4"
        part = await client.get(rendition["url"], headers={**headers, "Range": "bytes=0-99"})
        assert part.status_code == 206 and len(part.content) == 100
        with av.open(io.BytesIO(whole.content)) as container:
            stream = container.streams.video[0]
            assert (stream.codec_context.width, stream.codec_context.height) == (
                rendition["width"],
                rendition["height"],
            )
            assert container.streams.audio[0].codec_context.name == "aac"
            last = None
            for frame in container.decode(stream):
                last = frame.to_image()
        assert share_near(last, (200, 30, 60)) > 0.4, "the end card wears the brand colour"
        assert share_near(last, (0, 200, 0)) > 0.005, "and the logo"
    vtt = await client.get(listed[0]["captions_url"], headers=headers)
    assert vtt.status_code == 200 and vtt.headers["content-type"].startswith("text/vtt")
    assert [c.text for c in parse_webvtt(vtt.text)] == ["Cold all day"]
    # finishing never touches credits
    assert (await client.get("/api/v1/users/credits", headers=headers)).json()["credits"] == user.credits


@pytest.mark.parametrize(
    ("body", "code"),
    [
        ({"placements": ["9:16"], "hook_text": "Unbelievablyextraordinarilylongwordthatcannotfit"}, "text_too_long"),
        ({"placements": ["9:16"], "trim": {"start": 1.0, "end": 5.0}}, "invalid_trim"),
        ({"placements": ["2:1"]}, "invalid_placement"),
        ({"placements": ["1:1"], "music_upload_id": 999999}, "music_not_found"),
        ({"placements": ["1:1"], "end_card": {"seconds": 9}}, "invalid_end_card"),
    ],
)
async def test_bad_finish_requests_are_refused_and_nothing_is_stored(client, clip_bytes, body, code):
    user, headers = await api_user()
    video = await make_video(user.id, body=clip_bytes)
    r = await client.post(f"/api/v1/videos/{video.id}/finish", headers=headers, json=body)
    assert r.status_code == 422, r.text
    assert r.json()["code"] == code and r.json()["detail"]
    assert await Finishings.count().where(Finishings.video == video.id) == 0


async def test_finishing_twice_keeps_both_sets_until_one_is_deleted(client, clip_bytes):
    user, headers = await api_user()
    video = await make_video(user.id, body=clip_bytes)
    ids = []
    for hook in ("First take", "Second take"):
        r = await client.post(
            f"/api/v1/videos/{video.id}/finish",
            headers=headers,
            json={"hook_text": hook, "placements": ["1:1"], "end_card": None},
        )
        assert r.status_code == 202
        ids.append(r.json()["id"])
    for finishing_id in ids:
        assert (await finished(client, headers, video.id, finishing_id))["status"] == "completed"
    sets = (await client.get(f"/api/v1/videos/{video.id}/finishings", headers=headers)).json()
    assert [s["id"] for s in sets] == ids[::-1] and all(len(s["renditions"]) == 1 for s in sets)
    assert len((await client.get(f"/api/v1/videos/{video.id}", headers=headers)).json()["renditions"]) == 2
    first_url = sets[1]["renditions"][0]["url"]

    assert (await client.delete(f"/api/v1/videos/{video.id}/finishings/{ids[0]}", headers=headers)).status_code == 204
    left = (await client.get(f"/api/v1/videos/{video.id}", headers=headers)).json()["renditions"]
    assert [x["finishing_id"] for x in left] == [ids[1]]
    assert (await client.get(first_url, headers=headers)).status_code == 404
    assert (await client.get(left[0]["url"], headers=headers)).status_code == 200
    assert await Renditions.count().where(Renditions.finishing == ids[0]) == 0


async def test_another_user_gets_404_on_renditions(client, clip_bytes):
    owner, headers = await api_user()
    video = await make_video(owner.id, body=clip_bytes)
    r = await client.post(
        f"/api/v1/videos/{video.id}/finish", headers=headers, json={"placements": ["1:1"], "captions": ["Hello"]}
    )
    finishing_id = r.json()["id"]
    await finished(client, headers, video.id, finishing_id)
    rendition = (await client.get(f"/api/v1/videos/{video.id}", headers=headers)).json()["renditions"][0]

    _, stranger = await api_user()
    for url in (
        rendition["url"],
        rendition["poster"],
        rendition["captions_url"],
        f"/api/v1/videos/{video.id}/finishings",
        f"/api/v1/videos/{video.id}/finishings/{finishing_id}",
        f"/api/v1/videos/{video.id}/finishings/{finishing_id}/events",
    ):
        assert (await client.get(url, headers=stranger)).status_code == 404, url
    assert (
        await client.post(f"/api/v1/videos/{video.id}/finish", headers=stranger, json={"placements": ["1:1"]})
    ).status_code == 404
    assert (
        await client.delete(f"/api/v1/videos/{video.id}/finishings/{finishing_id}", headers=stranger)
    ).status_code == 404
    assert await Renditions.count().where(Renditions.finishing == finishing_id) == 1


async def test_finishing_waits_for_a_free_job_slot_of_the_plan(client, clip_bytes):
    from app.config import get_settings
    from app.videos import slots

    user, headers = await api_user()
    video = await make_video(user.id, body=clip_bytes)
    cap = get_settings().jobs_in_flight_cap(user.subscription_plan)
    for busy in range(cap):  # the plan's slots are all taken by videos being made
        assert await slots.acquire(user.id, slots.VIDEO, 10_000 + busy)
    r = await client.post(f"/api/v1/videos/{video.id}/finish", headers=headers, json={"placements": ["1:1"]})
    assert r.status_code == 202
    finishing_id = r.json()["id"]
    waiting = await wait_for(
        lambda: Finishings.objects().where((Finishings.id == finishing_id) & (Finishings.step == "waiting")).first(),
        what="the finishing to wait",
    )
    assert "Waiting for a free slot" in waiting.message and waiting.status == "pending"
    for busy in range(cap):
        await slots.release(slots.VIDEO, 10_000 + busy)
    assert (await finished(client, headers, video.id, finishing_id))["status"] == "completed"
    assert await slots_held(user.id) == 0, "the finishing gave its slot back"


async def test_a_finishing_whose_worker_died_is_queued_again_and_its_slot_freed(client, clip_bytes, monkeypatch):
    import asyncio

    from app.config import get_settings
    from app.finishing import jobs
    from app.videos import slots

    user, headers = await api_user()
    video = await make_video(user.id, body=clip_bytes)
    r = await client.post(f"/api/v1/videos/{video.id}/finish", headers=headers, json={"placements": ["1:1"]})
    finishing_id = r.json()["id"]
    await finished(client, headers, video.id, finishing_id)
    # A second finishing that a worker took (status, slot) and then died on.
    dead = Finishings(
        video=video.id,
        user=user.id,
        options=jobs.options_to_json(jobs.FinishOptions(placements=("1:1",)), None),
        status="processing",
        step="rendering 1:1",
    )
    await dead.save()
    assert await slots.acquire(user.id, jobs.SLOT_KIND, dead.id)
    assert await slots.acquire(user.id, jobs.SLOT_KIND, 999_999)  # a slot whose finishing is gone
    monkeypatch.setenv("JOB_STALE_SECONDS", "1")
    get_settings.cache_clear()
    await asyncio.sleep(1.2)  # nobody touched it for longer than that

    assert await jobs.reconcile() == [dead.id]
    assert (await finished(client, headers, video.id, dead.id))["status"] == "completed"
    assert await slots_held(user.id) == 0
    sets = (await client.get(f"/api/v1/videos/{video.id}/finishings", headers=headers)).json()
    assert [len(s["renditions"]) for s in sets] == [1, 1]
