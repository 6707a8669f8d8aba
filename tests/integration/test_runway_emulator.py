"""The Runway API emulator, driven over HTTP by the real `runwayml` SDK exactly as an app would."""

from __future__ import annotations

import asyncio
import base64
import io
import uuid

import av
import httpx
import pytest
import runwayml
from PIL import Image

from app.media.render import probe
from tests.emulators import run_runway_emulator

VERSION = {"X-Runway-Version": "2024-11-06"}


def text(words: str = "A red sneaker turning on a pedestal") -> str:
    """A prompt no other test uses (fault counts are kept per prompt)."""
    return f"{words} #{uuid.uuid4().hex[:8]}"


def image_uri(width: int = 1280, height: int = 720, fmt: str = "JPEG", colour=(220, 30, 30)) -> str:
    buffer = io.BytesIO()
    Image.new("RGB", (width, height), colour).save(buffer, format=fmt)
    media = {"JPEG": "image/jpeg", "PNG": "image/png", "WEBP": "image/webp"}[fmt]
    return f"data:{media};base64,{base64.b64encode(buffer.getvalue()).decode()}"


@pytest.fixture
async def sdk(runway_emulator: str):
    async with runwayml.AsyncRunwayML(api_key="key_test", base_url=runway_emulator, max_retries=0) as client:
        yield client


def create_kwargs(**overrides) -> dict:
    fields = {
        "model": "gen4_turbo",
        "prompt_image": image_uri(),
        "prompt_text": text(),
        "ratio": "1280:720",
        "duration": 5,
    }
    return {**fields, **overrides}


async def finished(sdk: runwayml.AsyncRunwayML, task_id: str):
    seen = []
    while True:
        task = await sdk.tasks.retrieve(task_id)
        seen.append(task.status)
        if task.status in ("SUCCEEDED", "FAILED", "CANCELLED"):
            return task, seen
        if task.status == "RUNNING":
            assert 0 <= task.progress < 1
        await asyncio.sleep(0.05)


async def bad_request(sdk: runwayml.AsyncRunwayML, body: dict) -> str:
    """POST a raw body through the SDK's own client; returns the 400's message."""
    with pytest.raises(runwayml.BadRequestError) as caught:
        await sdk.post("/v1/image_to_video", body=body, cast_to=object)
    assert caught.value.status_code == 400
    return caught.value.body["error"]


def first_frame(data: bytes) -> Image.Image:
    with av.open(io.BytesIO(data)) as container:
        return next(container.decode(video=0)).to_image()


# --- the lifecycle ---------------------------------------------------------------------------------


async def test_task_runs_to_succeeded_with_an_mp4_of_the_ratio_and_duration(sdk: runwayml.AsyncRunwayML) -> None:
    created = await sdk.image_to_video.create(**create_kwargs())
    assert uuid.UUID(created.id) and created.estimated_cost.credits == 25  # 5 credits a second
    task, seen = await finished(sdk, created.id)
    assert task.status == "SUCCEEDED" and task.cost.credits == 25
    assert seen[0] in ("PENDING", "RUNNING") and len(task.output) == 1
    async with httpx.AsyncClient() as http:  # output links are public: no key is sent
        response = await http.get(task.output[0])
    assert response.status_code == 200 and response.headers["content-type"] == "video/mp4"
    info = probe(response.content)
    assert (info["codec"], info["width"], info["height"], round(info["seconds"])) == ("h264", 1280, 720, 5)
    red, green, blue = first_frame(response.content).getpixel((640, 100))
    assert red > 150 and green < 90 and blue < 90  # made from the (red) prompt image


async def test_portrait_ten_seconds_from_an_image_array(sdk: runwayml.AsyncRunwayML) -> None:
    uri = image_uri(720, 1280, "PNG", colour=(20, 40, 210))
    created = await sdk.image_to_video.create(
        **create_kwargs(prompt_image=[{"uri": uri, "position": "first"}], ratio="720:1280", duration=10, seed=42)
    )
    task, _ = await finished(sdk, created.id)
    async with httpx.AsyncClient() as http:
        data = (await http.get(task.output[0])).content
    info = probe(data)
    assert (info["width"], info["height"], round(info["seconds"])) == (720, 1280, 10)
    red, green, blue = first_frame(data).getpixel((360, 200))
    assert blue > 150 and red < 90


async def test_a_running_task_reports_progress_and_pending_first() -> None:
    with run_runway_emulator(generation_seconds=3.0) as root:
        async with runwayml.AsyncRunwayML(api_key="k", base_url=root, max_retries=0) as sdk:
            created = await sdk.image_to_video.create(**create_kwargs())
            first = await sdk.tasks.retrieve(created.id)
            assert first.status == "PENDING" and first.estimated_cost.credits == 25
            progress = []
            while (task := await sdk.tasks.retrieve(created.id)).status != "SUCCEEDED":
                if task.status == "RUNNING":
                    progress.append(task.progress)
                await asyncio.sleep(0.2)
    assert progress and progress == sorted(progress) and all(0 <= p < 1 for p in progress)
    assert progress[-1] > progress[0]


# --- delete ----------------------------------------------------------------------------------------


async def test_delete_cancels_a_task_in_flight_then_it_is_gone(sdk: runwayml.AsyncRunwayML) -> None:
    created = await sdk.image_to_video.create(**create_kwargs(prompt_text=text("[fault:stuck] turning")))
    await sdk.tasks.delete(created.id)
    task = await sdk.tasks.retrieve(created.id)
    assert task.status == "CANCELLED" and task.cost.credits == 0
    with pytest.raises(runwayml.NotFoundError):
        await sdk.tasks.delete(created.id)


async def test_delete_removes_a_finished_task_and_its_output(sdk: runwayml.AsyncRunwayML) -> None:
    created = await sdk.image_to_video.create(**create_kwargs())
    task, _ = await finished(sdk, created.id)
    await sdk.tasks.delete(created.id)
    with pytest.raises(runwayml.NotFoundError) as caught:
        await sdk.tasks.retrieve(created.id)
    assert caught.value.body == {"error": "Task not found."}
    async with httpx.AsyncClient() as http:
        assert (await http.get(task.output[0])).status_code == 404


async def test_unknown_task_is_404(sdk: runwayml.AsyncRunwayML) -> None:
    with pytest.raises(runwayml.NotFoundError):
        await sdk.tasks.retrieve(str(uuid.uuid4()))
    with pytest.raises(runwayml.NotFoundError):
        await sdk.tasks.delete(str(uuid.uuid4()))


async def test_output_links_are_signed(sdk: runwayml.AsyncRunwayML) -> None:
    created = await sdk.image_to_video.create(**create_kwargs())
    task, _ = await finished(sdk, created.id)
    url = httpx.URL(task.output[0])
    async with httpx.AsyncClient() as http:
        tampered = url.copy_merge_params({"_sig": "0" * 40})
        assert (await http.get(tampered)).status_code == 403
        expired = url.copy_merge_params({"_exp": "1000"})
        assert (await http.get(expired)).status_code == 403
        assert (await http.get(url.copy_with(query=None))).status_code == 403
    again = await sdk.tasks.retrieve(created.id)
    assert again.output[0].split("?")[0] == task.output[0].split("?")[0]  # a fresh link to the same file


# --- validation, as Runway answers it ----------------------------------------------------------------


def body(**overrides) -> dict:
    fields = {
        "model": "gen4_turbo",
        "promptImage": image_uri(),
        "promptText": text(),
        "ratio": "1280:720",
        "duration": 5,
    }
    fields.update(overrides)
    return {k: v for k, v in fields.items() if v is not None}


@pytest.mark.parametrize(
    ("overrides", "expected"),
    [
        (
            {"model": "gen9_ultra"},
            "model: Invalid enum value. Expected 'gen4_turbo' | 'gen4.5' | 'veo3.1' | 'veo3.1_fast', received 'gen9_ultra'",
        ),
        ({"model": None}, "model: Required"),
        ({"ratio": "1:1"}, "ratio: Invalid enum value. Expected '1280:720' | '720:1280'"),
        ({"ratio": None}, "ratio: Required"),
        ({"duration": 7}, "duration: Invalid enum value. Expected 5 | 10, received 7"),
        ({"duration": "5"}, "duration: Expected integer, received string"),
        ({"promptImage": None}, "promptImage: Required"),
        ({"promptImage": 12}, "promptImage: Expected string | array, received number"),
        ({"promptImage": [{"uri": image_uri(), "position": "last"}]}, "promptImage.0.position: Invalid enum value"),
        ({"promptImage": "https://cdn.example.com/shoe.jpg"}, "promptImage: The Runway emulator does not fetch URLs"),
        ({"promptImage": "http://cdn.example.com/shoe.jpg"}, "promptImage: Invalid asset URL. Only HTTPS URLs"),
        ({"promptImage": "data:text/plain;base64,aGVsbG8="}, "promptImage: Unsupported asset type 'text/plain'"),
        ({"promptImage": "data:image/png;base64,bm90IGFuIGltYWdl"}, "promptImage: The asset could not be decoded"),
        ({"promptImage": "data:image/png;base64,@@@"}, "promptImage: Invalid data URI."),
        ({"promptImage": "not a uri"}, "promptImage: Invalid data URI."),
        ({"promptImage": image_uri(1500, 500)}, "promptImage: Invalid asset aspect ratio"),
        (
            {"promptImage": image_uri(fmt="PNG").replace("image/png", "image/jpeg")},
            "promptImage: The data URI says image/jpeg but contains a PNG",
        ),
        ({"promptText": "x" * 1001}, "promptText: String must contain at most 1000 character(s)"),
        ({"promptText": "   "}, "promptText: String must contain at least 1 character(s)"),
        ({"seed": -1}, "seed: Expected an integer from 0 to 4294967295"),
        ({"contentModeration": {"publicFigureThreshold": "off"}}, "contentModeration.publicFigureThreshold: Invalid"),
        ({"watermark": False}, "watermark: Unrecognized key 'watermark'"),
    ],
)
async def test_validation_errors_name_the_field(sdk: runwayml.AsyncRunwayML, overrides: dict, expected: str) -> None:
    message = await bad_request(sdk, body(**overrides))
    assert message.startswith(expected)


async def test_validation_error_lists_issues_and_creates_nothing(runway_emulator: str) -> None:
    async with httpx.AsyncClient(base_url=runway_emulator, headers={"Authorization": "Bearer k", **VERSION}) as http:
        response = await http.post("/v1/image_to_video", json=body(ratio="1:1"))
        assert response.status_code == 400
        assert response.json()["issues"][0]["path"] == ["ratio"]
        not_json = await http.post("/v1/image_to_video", content=b"{", headers={"content-type": "application/json"})
        assert not_json.status_code == 400 and not_json.json() == {"error": "The request body is not valid JSON."}


async def test_a_long_prompt_counts_utf16_units(sdk: runwayml.AsyncRunwayML) -> None:
    # 500 emoji are 1000 UTF-16 code units: allowed; one more character is not.
    ok = await sdk.image_to_video.create(**create_kwargs(prompt_text="\U0001f45f" * 500))
    assert ok.id
    assert (await bad_request(sdk, body(promptText="\U0001f45f" * 500 + "!"))).startswith("promptText:")


# --- authentication and the version header ----------------------------------------------------------


async def test_401_without_a_bearer_key(runway_emulator: str) -> None:
    async with httpx.AsyncClient(base_url=runway_emulator) as http:
        for headers in (VERSION, {**VERSION, "Authorization": "Basic abc"}, {**VERSION, "Authorization": "Bearer"}):
            response = await http.get(f"/v1/tasks/{uuid.uuid4()}", headers=headers)
            assert response.status_code == 401 and "Authorization: Bearer" in response.json()["error"]
        unknown_route = await http.get("/v1/nothing-here")
        assert unknown_route.status_code == 401


async def test_a_wrong_key_is_refused_when_the_emulator_has_one() -> None:
    with run_runway_emulator(api_key="key_right") as root:
        async with runwayml.AsyncRunwayML(api_key="key_wrong", base_url=root, max_retries=0) as sdk:
            with pytest.raises(runwayml.AuthenticationError) as caught:
                await sdk.image_to_video.create(**create_kwargs())
            assert caught.value.body == {"error": "The API key is not valid."}
        async with runwayml.AsyncRunwayML(api_key="key_right", base_url=root, max_retries=0) as sdk:
            assert (await sdk.image_to_video.create(**create_kwargs())).id


async def test_the_version_header_is_required(runway_emulator: str) -> None:
    async with httpx.AsyncClient(base_url=runway_emulator, headers={"Authorization": "Bearer k"}) as http:
        missing = await http.post("/v1/image_to_video", json=body())
        assert missing.status_code == 400 and "X-Runway-Version header is required" in missing.json()["error"]
    async with runwayml.AsyncRunwayML(
        api_key="k", base_url=runway_emulator, runway_version="2023-01-01", max_retries=0
    ) as old:
        with pytest.raises(runwayml.BadRequestError) as caught:
            await old.tasks.retrieve(str(uuid.uuid4()))
        assert caught.value.body["error"].startswith("API version 2023-01-01 is not supported")


async def test_unknown_routes_answer_json_404(runway_emulator: str) -> None:
    headers = {"Authorization": "Bearer k", **VERSION}
    async with httpx.AsyncClient(base_url=runway_emulator, headers=headers) as http:
        response = await http.get("/v1/text_to_teleport")
        assert response.status_code == 404 and response.json() == {"error": "Not found."}
        wrong_method = await http.put(f"/v1/tasks/{uuid.uuid4()}")
        assert wrong_method.status_code == 405 and "error" in wrong_method.json()


# --- faults ----------------------------------------------------------------------------------------


async def test_fault_429_once_with_retry_after(sdk: runwayml.AsyncRunwayML) -> None:
    prompt = text("[fault:429] busy hour")
    with pytest.raises(runwayml.RateLimitError) as caught:
        await sdk.image_to_video.create(**create_kwargs(prompt_text=prompt))
    assert caught.value.response.headers["retry-after"] == "1"
    assert (await sdk.image_to_video.create(**create_kwargs(prompt_text=prompt))).id


async def test_fault_500_four_times_then_success(sdk: runwayml.AsyncRunwayML) -> None:
    prompt = text("[fault:500x4] flaky")
    for _ in range(4):
        with pytest.raises(runwayml.InternalServerError) as caught:
            await sdk.image_to_video.create(**create_kwargs(prompt_text=prompt))
        assert caught.value.status_code == 500
    assert (await sdk.image_to_video.create(**create_kwargs(prompt_text=prompt))).id


async def test_fault_500_once(sdk: runwayml.AsyncRunwayML) -> None:
    prompt = text("[fault:500] once")
    with pytest.raises(runwayml.InternalServerError):
        await sdk.image_to_video.create(**create_kwargs(prompt_text=prompt))
    assert (await sdk.image_to_video.create(**create_kwargs(prompt_text=prompt))).id


async def test_fault_moderation_fails_with_a_safety_code(sdk: runwayml.AsyncRunwayML) -> None:
    created = await sdk.image_to_video.create(**create_kwargs(prompt_text=text("[fault:moderation] a shoe")))
    task, _ = await finished(sdk, created.id)
    assert task.status == "FAILED" and task.failure_code == "SAFETY.INPUT.TEXT"
    assert "moderation" in task.failure and task.cost.credits == 0


async def test_fault_stuck_never_finishes(sdk: runwayml.AsyncRunwayML) -> None:
    created = await sdk.image_to_video.create(**create_kwargs(prompt_text=text("[fault:stuck] a shoe")))
    for _ in range(5):
        task = await sdk.tasks.retrieve(created.id)
        assert task.status == "RUNNING" and task.progress <= 0.5
        await asyncio.sleep(0.05)


async def test_fault_throttled_first_then_runs(sdk: runwayml.AsyncRunwayML) -> None:
    created = await sdk.image_to_video.create(**create_kwargs(prompt_text=text("[fault:throttledx2] a shoe")))
    assert [(await sdk.tasks.retrieve(created.id)).status for _ in range(2)] == ["THROTTLED", "THROTTLED"]
    task, seen = await finished(sdk, created.id)
    assert task.status == "SUCCEEDED" and "THROTTLED" not in seen


async def test_fault_output_502_then_the_file(sdk: runwayml.AsyncRunwayML) -> None:
    created = await sdk.image_to_video.create(**create_kwargs(prompt_text=text("[fault:output-502] a shoe")))
    task, _ = await finished(sdk, created.id)
    async with httpx.AsyncClient() as http:
        assert (await http.get(task.output[0])).status_code == 502
        assert (await http.get(task.output[0])).status_code == 200


async def test_fault_header_on_retrieve(runway_emulator: str, sdk: runwayml.AsyncRunwayML) -> None:
    created = await sdk.image_to_video.create(**create_kwargs())
    async with runwayml.AsyncRunwayML(
        api_key="k", base_url=runway_emulator, max_retries=0, default_headers={"x-emulator-fault": "503"}
    ) as flaky:
        with pytest.raises(runwayml.InternalServerError) as caught:
            await flaky.tasks.retrieve(created.id)
    assert caught.value.status_code == 503


# --- mounted in the web app ------------------------------------------------------------------------


async def test_mounted_in_the_app_in_development(client, settings) -> None:
    headers = {"Authorization": "Bearer k", **VERSION}
    response = await client.get(f"/_emulators/runway/v1/tasks/{uuid.uuid4()}", headers=headers)
    assert response.status_code == 404 and response.json() == {"error": "Task not found."}
    created = await client.post("/_emulators/runway/v1/image_to_video", json=body(), headers=headers)
    assert created.status_code == 200 and created.json()["estimatedCost"] == {"credits": 25}
    task_url = f"/_emulators/runway/v1/tasks/{created.json()['id']}"
    unauthenticated = await client.get(task_url, headers=VERSION)
    assert unauthenticated.status_code == 401
    while (task := (await client.get(task_url, headers=headers)).json())["status"] != "SUCCEEDED":
        assert task["status"] in ("PENDING", "RUNNING")
        await asyncio.sleep(0.05)
    [output] = task["output"]
    assert output.startswith(f"{settings.base_url}/_emulators/runway/outputs/")  # the app's address + the mount
    video = await client.get(output.removeprefix(settings.base_url))
    assert video.status_code == 200 and probe(video.content)["width"] == 1280


def test_runs_on_its_own_port() -> None:
    import socket
    import subprocess
    import sys
    import time

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    process = subprocess.Popen(
        [sys.executable, "-m", "app.emulators.runway", "--port", str(port), "--generation-seconds", "0"],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                response = httpx.get(
                    f"http://127.0.0.1:{port}/v1/tasks/{uuid.uuid4()}", headers={"Authorization": "Bearer k", **VERSION}
                )
                break
            except httpx.ConnectError:
                assert process.poll() is None and time.monotonic() < deadline, "the emulator did not start"
                time.sleep(0.2)
        assert response.status_code == 404 and response.json() == {"error": "Task not found."}
    finally:
        process.terminate()
        process.wait(timeout=10)


def test_not_mounted_in_production(settings) -> None:
    from app.emulators.mount import emulator_routes

    def mounted_routes(settings):
        return [r for r in emulator_routes(settings) if "/_emulators/runway" in r.paths]

    assert mounted_routes(settings)
    assert mounted_routes(settings.model_copy(update={"app_env": "production"})) == []
    assert mounted_routes(settings.model_copy(update={"use_mock_runway": False, "runwayml_api_secret": "key"})) == []
