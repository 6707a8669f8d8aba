"""The Veo emulator through the real `google-genai` SDK over HTTP: the routes the SDK builds, the operation's
life, real MP4s (sizes, seconds, soundtrack), Google's error envelope and the faults on demand."""

from __future__ import annotations

import io
import time
import uuid

import httpx
import pytest
from google import genai
from google.genai import errors, types
from PIL import Image

from app.emulators.veo_operations import SAFETY_REASON
from app.media.render import probe
from tests.emulators import run_veo_emulator

MODEL = "veo-3.1-generate-001"


def text(words: str = "A sneaker on a wet street at night") -> str:
    return f"{words} #{uuid.uuid4().hex[:8]}"


def png(width: int = 720, height: int = 1280) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (width, height), (220, 120, 40)).save(buffer, format="PNG")
    return buffer.getvalue()


def client_for(base_url: str, api_key: str = "test-key") -> genai.Client:
    return genai.Client(vertexai=True, api_key=api_key, http_options=types.HttpOptions(base_url=base_url))


@pytest.fixture
def sdk(veo_emulator: str) -> genai.Client:
    return client_for(veo_emulator)


def finish(sdk: genai.Client, operation: types.GenerateVideosOperation) -> types.GenerateVideosOperation:
    deadline = time.monotonic() + 120
    while not operation.done:
        assert time.monotonic() < deadline, "the operation did not finish"
        time.sleep(0.1)
        operation = sdk.operations.get(operation)
    return operation


@pytest.mark.parametrize(("aspect_ratio", "size"), [("16:9", (1280, 720)), ("9:16", (720, 1280))])
def test_text_to_video_in_both_ratios(sdk: genai.Client, aspect_ratio: str, size: tuple[int, int]) -> None:
    operation = sdk.models.generate_videos(
        model=MODEL,
        source=types.GenerateVideosSource(prompt=text()),
        config=types.GenerateVideosConfig(aspect_ratio=aspect_ratio, duration_seconds=4, resolution="720p"),
    )
    assert operation.name.startswith("projects/") and f"/models/{MODEL}/operations/" in operation.name
    operation = finish(sdk, operation)
    assert operation.error is None
    [generated] = operation.result.generated_videos
    clip = probe(generated.video.video_bytes)
    assert (clip["codec"], clip["width"], clip["height"], clip["seconds"]) == ("h264", *size, 4.0)
    assert clip["audio"] is None  # no soundtrack unless asked for


def test_image_to_video_with_audio_has_a_soundtrack(sdk: genai.Client) -> None:
    source = types.GenerateVideosSource(
        prompt=text("The bottle turns"), image=types.Image(image_bytes=png(), mime_type="image/png")
    )
    config = types.GenerateVideosConfig(
        aspect_ratio="9:16", duration_seconds=6, resolution="720p", generate_audio=True, negative_prompt="blurry"
    )
    operation = finish(sdk, sdk.models.generate_videos(model="veo-3.1-fast-generate-001", source=source, config=config))
    clip = probe(operation.result.generated_videos[0].video.video_bytes)
    assert (clip["width"], clip["height"], clip["seconds"], clip["audio"]) == (720, 1280, 6.0, "aac")


def test_progress_rises_while_the_operation_runs() -> None:
    with run_veo_emulator(generation_seconds=1.5) as root:
        sdk = client_for(root)
        operation = sdk.models.generate_videos(
            model=MODEL,
            source=types.GenerateVideosSource(prompt=text()),
            config=types.GenerateVideosConfig(aspect_ratio="16:9", duration_seconds=4),
        )
        seen = []
        while not operation.done:
            seen.append(operation.metadata["progressPercent"] if operation.metadata else 0)
            time.sleep(0.2)
            operation = sdk.operations.get(operation)
        assert seen == sorted(seen) and seen[-1] > seen[0] and all(p < 100 for p in seen)
        assert operation.result.generated_videos


def test_safety_filter_finishes_without_videos(sdk: genai.Client) -> None:
    operation = finish(
        sdk,
        sdk.models.generate_videos(
            model=MODEL,
            source=types.GenerateVideosSource(prompt=text("[fault:safety] a lipstick")),
            config=types.GenerateVideosConfig(duration_seconds=4),
        ),
    )
    assert operation.error is None and not operation.result.generated_videos
    assert operation.result.rai_media_filtered_count == 1
    assert operation.result.rai_media_filtered_reasons == [SAFETY_REASON]


def test_failed_operation_carries_an_error(sdk: genai.Client) -> None:
    operation = finish(
        sdk,
        sdk.models.generate_videos(
            model=MODEL,
            source=types.GenerateVideosSource(prompt=text("[fault:failed] a mug")),
            config=types.GenerateVideosConfig(duration_seconds=4),
        ),
    )
    assert operation.error["code"] == 13 and "internal error" in operation.error["message"]


def test_rate_limit_then_success(sdk: genai.Client) -> None:
    prompt = text("[fault:429x2] a watch")
    for _ in range(2):
        with pytest.raises(errors.ClientError) as caught:
            sdk.models.generate_videos(model=MODEL, source=types.GenerateVideosSource(prompt=prompt))
        assert caught.value.code == 429 and caught.value.status == "RESOURCE_EXHAUSTED"
        assert caught.value.response.headers["retry-after"] == "1"
    assert sdk.models.generate_videos(model=MODEL, source=types.GenerateVideosSource(prompt=prompt)).name


def test_server_errors_on_demand_for_a_fetch(veo_emulator: str) -> None:
    sdk = client_for(veo_emulator)
    operation = sdk.models.generate_videos(
        model=MODEL,
        source=types.GenerateVideosSource(prompt=text()),
        config=types.GenerateVideosConfig(duration_seconds=4),
    )
    faulty = genai.Client(
        vertexai=True,
        api_key="k",
        http_options=types.HttpOptions(base_url=veo_emulator, headers={"x-emulator-fault": "503"}),
    )
    with pytest.raises(errors.ServerError) as caught:
        faulty.operations.get(operation)
    assert caught.value.code == 503 and caught.value.status == "UNAVAILABLE"


@pytest.mark.parametrize(
    ("config", "expected"),
    [
        ({"aspect_ratio": "1:1"}, "Unsupported aspect ratio: 1:1"),
        ({"duration_seconds": 5}, "Unsupported output video duration 5 seconds"),
        ({"resolution": "4k"}, "Unsupported resolution: 4k"),
        ({"number_of_videos": 5}, "parameters.sampleCount must be an integer from 1 to 4"),
    ],
)
def test_invalid_parameters_answer_400_in_googles_envelope(sdk: genai.Client, config: dict, expected: str) -> None:
    with pytest.raises(errors.ClientError) as caught:
        sdk.models.generate_videos(
            model=MODEL, source=types.GenerateVideosSource(prompt=text()), config=types.GenerateVideosConfig(**config)
        )
    assert caught.value.code == 400 and caught.value.status == "INVALID_ARGUMENT"
    assert caught.value.message.startswith(expected)


def test_unknown_model_is_404(sdk: genai.Client) -> None:
    with pytest.raises(errors.ClientError) as caught:
        sdk.models.generate_videos(model="veo-9-ultra", source=types.GenerateVideosSource(prompt=text()))
    assert caught.value.code == 404 and "veo-9-ultra" in caught.value.message


def test_a_picture_that_is_not_one_is_refused(sdk: genai.Client) -> None:
    image = types.Image(image_bytes=b"not a picture", mime_type="image/png")
    with pytest.raises(errors.ClientError) as caught:
        sdk.models.generate_videos(model=MODEL, source=types.GenerateVideosSource(prompt=text(), image=image))
    assert caught.value.code == 400 and "could not be decoded" in caught.value.message


def test_api_keys(veo_emulator: str) -> None:
    url = f"{veo_emulator}/v1beta1/publishers/google/models/{MODEL}:predictLongRunning"
    missing = httpx.post(url, json={"instances": [{"prompt": "x"}]})
    assert missing.status_code == 401 and missing.json()["error"]["status"] == "UNAUTHENTICATED"
    with run_veo_emulator(api_key="the-key") as root:
        wrong, right = client_for(root, api_key="wrong"), client_for(root, api_key="the-key")
        with pytest.raises(errors.ClientError) as caught:
            wrong.models.generate_videos(model=MODEL, source=types.GenerateVideosSource(prompt=text()))
        assert caught.value.code == 400 and caught.value.message == "API key not valid. Please pass a valid API key."
        assert right.models.generate_videos(model=MODEL, source=types.GenerateVideosSource(prompt=text())).name


# --- mounted in the web app --------------------------------------------------------------------------


async def test_mounted_in_the_web_app_in_development(client) -> None:
    url = f"/_emulators/veo/v1beta1/publishers/google/models/{MODEL}:predictLongRunning"
    body = {"instances": [{"prompt": text("[fault:stuck] mounted")}], "parameters": {"durationSeconds": 4}}
    created = await client.post(url, json=body, headers={"x-goog-api-key": "emulator"})
    assert created.status_code == 200, created.text
    name = created.json()["name"]
    fetched = await client.post(
        url.replace("predictLongRunning", "fetchPredictOperation"),
        json={"operationName": name},
        headers={"x-goog-api-key": "emulator"},
    )
    assert fetched.status_code == 200 and "done" not in fetched.json()
    assert (await client.post(url, json=body)).status_code == 401


def test_not_mounted_in_production_or_with_a_real_key(settings) -> None:
    from app.emulators.mount import emulator_routes

    def mounted(settings):
        return [r for r in emulator_routes(settings) if "/_emulators/veo" in r.paths]

    assert mounted(settings)
    assert mounted(settings.model_copy(update={"use_mock_veo": False, "google_api_key": "AIza-x"})) == []
    assert mounted(settings.model_copy(update={"app_env": "production"})) == []
