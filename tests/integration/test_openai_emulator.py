"""The OpenAI Videos emulator, driven over HTTP by the real `openai` SDK exactly as an app would."""

from __future__ import annotations

import asyncio
import io
import uuid

import httpx2
import openai
import pytest
from openai.types import Video
from PIL import Image

from app.media.render import probe
from tests.emulators import run_openai_emulator

VIDEO_KEYS = {
    "id",
    "object",
    "model",
    "status",
    "progress",
    "created_at",
    "completed_at",
    "expires_at",
    "prompt",
    "size",
    "seconds",
    "remixed_from_video_id",
    "error",
}
MULTIPART = {"headers": {"Content-Type": "multipart/form-data"}}


def prompt(text: str = "A sneaker on a wet street at night") -> str:
    """A prompt no other test uses (fault counts are kept per prompt)."""
    return f"{text} #{uuid.uuid4().hex[:8]}"


def image_bytes(width: int, height: int, fmt: str = "PNG") -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (width, height), (240, 180, 40)).save(buffer, format=fmt)
    return buffer.getvalue()


@pytest.fixture
async def sdk(openai_emulator: str):
    async with openai.AsyncOpenAI(api_key="test-key", base_url=openai_emulator, max_retries=0) as client:
        yield client


async def bad_request(call) -> openai.BadRequestError:
    with pytest.raises(openai.BadRequestError) as caught:
        await call
    assert caught.value.status_code == 400
    assert caught.value.request_id and caught.value.request_id.startswith("req_")
    return caught.value


# --- create, retrieve, the video object -------------------------------------------------------------


async def test_create_returns_the_complete_video_object(sdk: openai.AsyncOpenAI) -> None:
    text = prompt()
    raw = await sdk.videos.with_raw_response.create(prompt=text, model="sora-2", seconds="8", size="1280x720")
    body = raw.http_response.json()
    assert set(body) == VIDEO_KEYS
    assert raw.headers["x-request-id"].startswith("req_")
    assert body["object"] == "video" and body["id"].startswith("video_")
    assert (body["model"], body["prompt"], body["seconds"], body["size"]) == ("sora-2", text, "8", "1280x720")
    assert (body["status"], body["progress"]) == ("queued", 0)
    assert body["completed_at"] is None and body["expires_at"] is None and body["error"] is None
    assert body["remixed_from_video_id"] is None

    fetched = await sdk.videos.with_raw_response.retrieve(body["id"])
    assert set(fetched.http_response.json()) == VIDEO_KEYS
    assert int(fetched.headers["openai-poll-after-ms"]) > 0


async def test_defaults_are_sora_2_four_seconds_portrait(sdk: openai.AsyncOpenAI) -> None:
    video = await sdk.videos.create(prompt=prompt("[fault:stuck] defaults"))
    assert (video.model, video.seconds, video.size) == ("sora-2", "4", "720x1280")


async def test_create_accepts_a_json_body(sdk: openai.AsyncOpenAI) -> None:
    video = await sdk.post(
        "/videos", cast_to=Video, body={"prompt": prompt("[fault:stuck] json"), "seconds": "12", "size": "720x1280"}
    )
    assert (video.seconds, video.size) == ("12", "720x1280")


async def test_retrieve_unknown_video_is_404(sdk: openai.AsyncOpenAI) -> None:
    with pytest.raises(openai.NotFoundError) as caught:
        await sdk.videos.retrieve("video_doesnotexist")
    assert "video_doesnotexist" in caught.value.message
    assert caught.value.body["type"] == "invalid_request_error"


async def test_unknown_route_answers_the_error_envelope(sdk: openai.AsyncOpenAI) -> None:
    with pytest.raises(openai.NotFoundError) as caught:
        await sdk.get("/videos/abc/frames", cast_to=Video)
    assert caught.value.body["message"] == "Invalid URL (GET /v1/videos/abc/frames)"


# --- lifecycle and content ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("model", "size", "seconds", "reference"),
    [
        ("sora-2", "1280x720", "4", None),
        ("sora-2", "720x1280", "8", "image/jpeg"),
        ("sora-2-pro", "1024x1792", "4", "image/webp"),
    ],
)
async def test_create_and_poll_completes_with_playable_content(
    sdk: openai.AsyncOpenAI, model: str, size: str, seconds: str, reference: str | None
) -> None:
    width, height = map(int, size.split("x"))
    extra = {}
    if reference:
        fmt = {"image/jpeg": "JPEG", "image/webp": "WEBP"}[reference]
        extra["input_reference"] = ("product." + fmt.lower(), image_bytes(width, height, fmt), reference)
    video = await sdk.videos.create_and_poll(prompt=prompt(), model=model, seconds=seconds, size=size, **extra)

    assert video.status == "completed" and video.progress == 100 and video.error is None
    assert video.completed_at >= video.created_at
    assert video.expires_at == video.completed_at + 3600

    mp4 = await sdk.videos.download_content(video.id)
    assert mp4.response.headers["content-type"] == "video/mp4"
    info = probe(mp4.read())
    assert info["codec"] == "h264"
    assert (info["width"], info["height"]) == (width, height)
    assert info["seconds"] == pytest.approx(int(seconds), abs=0.05)

    thumbnail = await sdk.videos.download_content(video.id, variant="thumbnail")
    assert thumbnail.response.headers["content-type"] == "image/webp"
    with Image.open(io.BytesIO(thumbnail.read())) as image:
        assert image.format == "WEBP" and image.size == (width, height)

    sheet = await sdk.videos.download_content(video.id, variant="spritesheet")
    assert sheet.response.headers["content-type"] == "image/jpeg"
    with Image.open(io.BytesIO(sheet.read())) as image:
        assert image.format == "JPEG"
        assert image.width > image.height if width > height else image.width < 4 * image.height


async def test_streaming_download_writes_the_file(sdk: openai.AsyncOpenAI, tmp_path) -> None:
    video = await sdk.videos.create_and_poll(prompt=prompt(), size="1280x720")
    target = tmp_path / "out.mp4"
    async with sdk.videos.with_streaming_response.download_content(video.id) as response:
        await response.stream_to_file(target)
    assert probe(target)["width"] == 1280


async def test_progress_rises_while_in_progress() -> None:
    with run_openai_emulator(generation_seconds=2.0) as base_url:
        async with openai.AsyncOpenAI(api_key="k", base_url=base_url, max_retries=0) as sdk:
            created = await sdk.videos.create(prompt=prompt(), size="1280x720")
            assert created.status == "queued" and created.progress == 0
            seen: list[tuple[str, int]] = []
            while True:
                raw = await sdk.videos.with_raw_response.retrieve(created.id)
                video = raw.parse()
                assert int(raw.headers["openai-poll-after-ms"]) == 200
                seen.append((video.status, video.progress))
                if video.status == "completed":
                    break
                await asyncio.sleep(0.1)
            in_progress = [p for status, p in seen if status == "in_progress"]
            assert len(set(in_progress)) >= 3, seen
            assert in_progress == sorted(in_progress) and all(0 < p < 100 for p in in_progress)
            assert seen[-1] == ("completed", 100)

            polled = await sdk.videos.create_and_poll(prompt=prompt(), size="720x1280")
            assert polled.status == "completed"


async def test_content_is_refused_before_completion(sdk: openai.AsyncOpenAI) -> None:
    video = await sdk.videos.create(prompt=prompt("[fault:stuck] waiting"))
    error = await bad_request(sdk.videos.download_content(video.id))
    assert error.code == "video_not_ready"
    assert "not ready" in error.body["message"]


async def test_content_of_unknown_video_and_bad_variant(sdk: openai.AsyncOpenAI) -> None:
    with pytest.raises(openai.NotFoundError):
        await sdk.videos.download_content("video_missing")
    video = await sdk.videos.create(prompt=prompt("[fault:stuck] variant"))
    error = await bad_request(
        sdk.get(f"/videos/{video.id}/content", cast_to=Video, options={"params": {"variant": "gif"}})
    )
    assert error.param == "variant" and error.code == "invalid_value"


async def test_expired_content_is_refused(sdk: openai.AsyncOpenAI) -> None:
    video = await sdk.videos.create_and_poll(prompt=prompt("[fault:expired] old"), size="1280x720")
    assert video.status == "completed" and video.expires_at == video.completed_at
    error = await bad_request(sdk.videos.download_content(video.id))
    assert error.code == "video_expired"


# --- validation --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("fields", "message", "param", "code"),
    [
        ({"seconds": "5"}, "Invalid value: '5'. Supported values are: '4', '8', and '12'.", "seconds", "invalid_value"),
        (
            {"size": "640x480"},
            "Invalid value: '640x480'. Supported values are: '720x1280', '1280x720', '1024x1792', and '1792x1024'.",
            "size",
            "invalid_value",
        ),
        (
            {"model": "sora-2", "size": "1792x1024"},
            "Invalid value: '1792x1024'. The model 'sora-2' supports "
            "only sizes '720x1280' and '1280x720'; use 'sora-2-pro' for '1792x1024'.",
            "size",
            "invalid_value",
        ),
        ({"model": "sora-3"}, "Invalid value: 'sora-3'.", "model", "invalid_value"),
        (
            {"prompt": ""},
            "Invalid 'prompt': string too short. Expected a string with minimum length 1, but got "
            "an empty string instead.",
            "prompt",
            "string_below_min_length",
        ),
        (
            {"prompt": "a" * 32_001},
            "Invalid 'prompt': string too long. Expected a string with maximum length "
            "32000, but got a string with length 32001 instead.",
            "prompt",
            "string_above_max_length",
        ),
    ],
)
async def test_invalid_create_parameters(sdk: openai.AsyncOpenAI, fields, message, param, code) -> None:
    before = await sdk.get("/videos", cast_to=object, options={"params": {"limit": 100}})
    error = await bad_request(sdk.videos.create(**{"prompt": prompt(), **fields}))
    assert error.body["message"].startswith(message)
    assert (error.param, error.code, error.type) == (param, code, "invalid_request_error")
    after = await sdk.get("/videos", cast_to=object, options={"params": {"limit": 100}})
    assert after["data"] == before["data"], "a refused request creates nothing"


async def test_longest_prompt_and_pro_sizes_are_accepted(sdk: openai.AsyncOpenAI) -> None:
    marker = "[fault:stuck]"
    video = await sdk.videos.create(prompt=marker + "a" * (32_000 - len(marker)), model="sora-2-pro", size="1792x1024")
    assert video.size == "1792x1024" and len(video.prompt) == 32_000


async def test_seconds_as_an_integer_is_refused(sdk: openai.AsyncOpenAI) -> None:
    error = await bad_request(sdk.post("/videos", cast_to=Video, body={"prompt": prompt(), "seconds": 4}))
    assert (
        error.body["message"]
        == "Invalid type for 'seconds': expected one of '4', '8', or '12', but got an integer instead."
    )
    assert (error.param, error.code) == ("seconds", "invalid_type")


async def test_missing_prompt_and_unknown_parameter(sdk: openai.AsyncOpenAI) -> None:
    error = await bad_request(sdk.post("/videos", cast_to=Video, body={"seconds": "4"}, options=MULTIPART))
    assert (error.body["message"], error.code) == (
        "Missing required parameter: 'prompt'.",
        "missing_required_parameter",
    )
    error = await bad_request(sdk.videos.create(prompt=prompt(), extra_body={"quality": "hd"}))
    assert (error.body["message"], error.param, error.code) == (
        "Unknown parameter: 'quality'.",
        "quality",
        "unknown_parameter",
    )


async def test_reference_image_must_match_the_requested_size(sdk: openai.AsyncOpenAI) -> None:
    error = await bad_request(
        sdk.videos.create(
            prompt=prompt(), size="1280x720", input_reference=("p.png", image_bytes(1024, 768), "image/png")
        )
    )
    assert error.body["message"] == "Inpaint image must match the requested width and height"
    assert (error.type, error.param, error.code) == ("invalid_request_error", None, None)


async def test_reference_must_be_an_image(sdk: openai.AsyncOpenAI) -> None:
    error = await bad_request(sdk.videos.create(prompt=prompt(), input_reference=("notes.txt", b"hello", "text/plain")))
    assert error.param == "input_reference" and error.code == "invalid_image_format"
    gif = io.BytesIO()
    Image.new("RGB", (720, 1280)).save(gif, format="GIF")
    error = await bad_request(
        sdk.videos.create(prompt=prompt(), input_reference=("a.gif", gif.getvalue(), "image/gif"))
    )
    assert error.code == "invalid_image_format"


async def test_a_string_where_the_file_belongs_is_invalid_type(sdk: openai.AsyncOpenAI) -> None:
    body = {"prompt": prompt(), "input_reference": "https://example.com/shoe.png"}
    error = await bad_request(sdk.post("/videos", cast_to=Video, body=body, options=MULTIPART))
    assert error.body["message"] == "Invalid type for 'input_reference': expected a file, but got a string instead."
    assert (error.param, error.code) == ("input_reference", "invalid_type")

    error = await bad_request(sdk.post("/videos", cast_to=Video, body=body))
    assert error.body["message"] == "Invalid type for 'input_reference': expected an object, but got a string instead."
    assert error.code == "invalid_type"


async def test_json_reference_as_a_data_url(sdk: openai.AsyncOpenAI) -> None:
    import base64

    data_url = "data:image/png;base64," + base64.b64encode(image_bytes(720, 1280)).decode()
    body = {"prompt": prompt("[fault:stuck] data url"), "input_reference": {"image_url": data_url}}
    video = await sdk.post("/videos", cast_to=Video, body=body)
    assert video.size == "720x1280"
    body["input_reference"] = {"image_url": "data:image/png;base64," + base64.b64encode(image_bytes(8, 8)).decode()}
    error = await bad_request(sdk.post("/videos", cast_to=Video, body=body))
    assert error.body["message"] == "Inpaint image must match the requested width and height"


# --- list, delete, remix -----------------------------------------------------------------------------


async def test_list_pages_with_cursors() -> None:
    with run_openai_emulator() as base_url:
        async with openai.AsyncOpenAI(api_key="k", base_url=base_url, max_retries=0) as sdk:
            ids = []
            for i in range(5):
                ids.append((await sdk.videos.create(prompt=f"[fault:stuck] clip {i}")).id)
                await asyncio.sleep(0.01)
            newest_first = list(reversed(ids))

            page = await sdk.videos.list(limit=2)
            assert [v.id for v in page.data] == newest_first[:2]
            assert (page.first_id, page.last_id, page.has_more) == (newest_first[0], newest_first[1], True)

            page = await sdk.videos.list(limit=2, after=page.last_id)
            assert [v.id for v in page.data] == newest_first[2:4] and page.has_more

            page = await sdk.videos.list(limit=2, after=page.last_id)
            assert [v.id for v in page.data] == newest_first[4:] and page.has_more is False

            page = await sdk.videos.list(limit=3, order="asc")
            assert [v.id for v in page.data] == ids[:3]

            assert [v.id async for v in sdk.videos.list(limit=2)] == newest_first

            empty = await sdk.videos.list(limit=0)
            assert (empty.data, empty.first_id, empty.last_id, empty.has_more) == ([], None, None, True)

            error = await bad_request(sdk.videos.list(limit=101))
            assert (error.param, error.code) == ("limit", "integer_above_max_value")
            error = await bad_request(sdk.videos.list(order="sideways"))  # type: ignore[arg-type]
            assert (error.param, error.code) == ("order", "invalid_value")


async def test_delete_a_finished_video(sdk: openai.AsyncOpenAI) -> None:
    video = await sdk.videos.create_and_poll(prompt=prompt("[fault:moderation] delete me"))
    assert video.status == "failed"
    deleted = await sdk.videos.delete(video.id)
    assert (deleted.id, deleted.object, deleted.deleted) == (video.id, "video.deleted", True)
    with pytest.raises(openai.NotFoundError):
        await sdk.videos.retrieve(video.id)
    with pytest.raises(openai.NotFoundError):
        await sdk.videos.delete(video.id)


async def test_delete_removes_the_assets(sdk: openai.AsyncOpenAI) -> None:
    video = await sdk.videos.create_and_poll(prompt=prompt(), size="1280x720")
    await sdk.videos.delete(video.id)
    with pytest.raises(openai.NotFoundError):
        await sdk.videos.download_content(video.id)


async def test_delete_refuses_a_video_still_generating(sdk: openai.AsyncOpenAI) -> None:
    video = await sdk.videos.create(prompt=prompt("[fault:stuck] busy"))
    error = await bad_request(sdk.videos.delete(video.id))
    assert "still being generated" in error.body["message"]
    assert (await sdk.videos.retrieve(video.id)).status == "in_progress"


async def test_remix_makes_a_new_video_from_a_finished_one(sdk: openai.AsyncOpenAI) -> None:
    source = await sdk.videos.create_and_poll(prompt=prompt(), size="1280x720")
    remix = await sdk.videos.remix(source.id, prompt="Same shot, but at sunrise")
    assert remix.id != source.id and remix.remixed_from_video_id == source.id
    assert (remix.model, remix.size, remix.seconds, remix.prompt) == (
        "sora-2",
        "1280x720",
        "4",
        "Same shot, but at sunrise",
    )
    done = await sdk.videos.poll(remix.id)
    assert done.status == "completed"
    assert probe((await sdk.videos.download_content(done.id)).read())["width"] == 1280


async def test_remix_refuses_unfinished_or_unknown_sources(sdk: openai.AsyncOpenAI) -> None:
    busy = await sdk.videos.create(prompt=prompt("[fault:stuck] source"))
    error = await bad_request(sdk.videos.remix(busy.id, prompt="again"))
    assert "not completed" in error.body["message"]
    with pytest.raises(openai.NotFoundError):
        await sdk.videos.remix("video_nope", prompt="again")
    error = await bad_request(sdk.videos.remix(busy.id, prompt=""))
    assert error.code == "string_below_min_length"


# --- auth and request ids ----------------------------------------------------------------------------


async def test_requests_without_a_key_get_401(openai_emulator: str) -> None:
    async with httpx2.AsyncClient() as http:
        response = await http.get(f"{openai_emulator}/videos")
    assert response.status_code == 401
    assert response.headers["x-request-id"].startswith("req_")
    error = response.json()["error"]
    assert "You didn't provide an API key" in error["message"] and error["type"] == "invalid_request_error"


async def test_a_configured_key_is_enforced() -> None:
    with run_openai_emulator(api_key="sk-right-key") as base_url:
        async with openai.AsyncOpenAI(api_key="sk-wrong-key", base_url=base_url, max_retries=0) as wrong:
            with pytest.raises(openai.AuthenticationError) as caught:
                await wrong.videos.list()
            assert caught.value.code == "invalid_api_key"
        async with openai.AsyncOpenAI(api_key="sk-right-key", base_url=base_url, max_retries=0) as right:
            assert (await right.videos.list()).data == []


# --- faults ------------------------------------------------------------------------------------------


async def test_fault_429_then_success(sdk: openai.AsyncOpenAI) -> None:
    text = prompt("[fault:429] busy hour")
    with pytest.raises(openai.RateLimitError) as caught:
        await sdk.videos.create(prompt=text)
    headers = caught.value.response.headers
    assert headers["retry-after-ms"] == "200" and headers["retry-after"] == "1"
    assert caught.value.code == "rate_limit_exceeded" and caught.value.request_id
    video = await sdk.videos.create(prompt=text, size="1280x720")
    assert video.status == "queued"


async def test_the_sdk_retries_429_by_itself_when_allowed(openai_emulator: str) -> None:
    async with openai.AsyncOpenAI(api_key="k", base_url=openai_emulator, max_retries=2) as sdk:
        video = await sdk.videos.create(prompt=prompt("[fault:429x2] [fault:stuck] retried"))
    assert video.status == "queued"


async def test_fault_500_with_a_count(sdk: openai.AsyncOpenAI) -> None:
    text = prompt("[fault:500x3] [fault:stuck] flaky")
    for _ in range(3):
        with pytest.raises(openai.InternalServerError) as caught:
            await sdk.videos.create(prompt=text)
        assert caught.value.status_code == 500 and caught.value.body["type"] == "server_error"
    assert (await sdk.videos.create(prompt=text)).status == "queued"


async def test_fault_header_on_create_and_on_other_routes(sdk: openai.AsyncOpenAI) -> None:
    text = prompt("[fault:stuck] header")
    with pytest.raises(openai.RateLimitError):
        await sdk.videos.create(prompt=text, extra_headers={"x-emulator-fault": "429"})
    video = await sdk.videos.create(prompt=text, extra_headers={"x-emulator-fault": "429"})
    for status in (500, 502, 503):
        with pytest.raises(openai.InternalServerError) as caught:
            await sdk.videos.retrieve(video.id, extra_headers={"x-emulator-fault": str(status)})
        assert caught.value.status_code == status
    assert (await sdk.videos.retrieve(video.id)).id == video.id


async def test_fault_moderation_fails_the_job(sdk: openai.AsyncOpenAI) -> None:
    created = await sdk.videos.create(prompt=prompt("[fault:moderation] a famous actor"))
    assert created.status == "queued"
    video = await sdk.videos.poll(created.id)
    assert video.status == "failed"
    assert video.error.code == "moderation_blocked" and video.error.message
    assert video.completed_at is None and video.expires_at is None
    error = await bad_request(sdk.videos.download_content(video.id))
    assert error.code == "video_not_ready"

    by_header = await sdk.videos.create_and_poll(prompt=prompt(), extra_headers={"x-emulator-fault": "moderation"})
    assert by_header.error.code == "moderation_blocked"


async def test_fault_stuck_stays_in_progress(sdk: openai.AsyncOpenAI) -> None:
    video = await sdk.videos.create(prompt=prompt("[fault:stuck] forever"))
    await asyncio.sleep(0.3)
    for _ in range(3):
        again = await sdk.videos.retrieve(video.id)
        assert again.status == "in_progress" and 0 < again.progress <= 50


async def test_fault_content_502_fails_once(sdk: openai.AsyncOpenAI) -> None:
    video = await sdk.videos.create_and_poll(prompt=prompt("[fault:content-502] flaky cdn"), size="1280x720")
    with pytest.raises(openai.InternalServerError) as caught:
        await sdk.videos.download_content(video.id)
    assert caught.value.status_code == 502
    assert probe((await sdk.videos.download_content(video.id)).read())["codec"] == "h264"


async def test_fault_slow_makes_the_client_time_out(openai_emulator: str) -> None:
    async with openai.AsyncOpenAI(api_key="k", base_url=openai_emulator, max_retries=0, timeout=0.5) as sdk:
        with pytest.raises(openai.APITimeoutError):
            await sdk.videos.list(extra_headers={"x-emulator-fault": "slow"})


# --- mounted in the web app --------------------------------------------------------------------------


async def test_mounted_in_the_web_app_in_development(client) -> None:
    headers = {"Authorization": "Bearer emulator"}
    created = await client.post(
        "/_emulators/openai/v1/videos",
        headers=headers,
        files={"input_reference": ("p.png", image_bytes(1280, 720), "image/png")},
        data={"prompt": "[fault:stuck] mounted", "size": "1280x720"},
    )
    assert created.status_code == 200, created.text
    assert created.headers["x-request-id"].startswith("req_")
    video_id = created.json()["id"]
    fetched = await client.get(f"/_emulators/openai/v1/videos/{video_id}", headers=headers)
    assert fetched.json()["status"] == "in_progress"
    assert (await client.get("/_emulators/openai/v1/videos")).status_code == 401


def test_not_mounted_in_production_or_with_a_real_key(settings) -> None:
    from app.emulators.mount import emulator_routes

    def mounted_routes(settings):
        return [r for r in emulator_routes(settings) if "/_emulators/openai/v1" in r.paths]

    assert mounted_routes(settings)
    assert mounted_routes(settings.model_copy(update={"use_mock_sora": False, "openai_api_key": "sk-x"})) == []
    assert mounted_routes(settings.model_copy(update={"app_env": "production"})) == []
