"""The Runway provider against the emulator over HTTP: the whole flow, and every error mapped for our retry policy."""

from __future__ import annotations

import asyncio
import io
import socket
import uuid
from pathlib import Path

import pytest
from PIL import Image
from runwayml.types.task_retrieve_response import (
    Cancelled,
    Failed,
    Pending,
    Running,
    Succeeded,
    Throttled,
)

from app.media.render import probe
from app.providers import registry
from app.providers.base import (
    GenerationRequest,
    PermanentProviderError,
    TransientProviderError,
)
from app.providers.runway import (
    CREDENTIALS_MESSAGE,
    GONE_MESSAGE,
    MODERATION_MESSAGE,
    NEEDS_IMAGE_MESSAGE,
    NO_SECRET_REASON,
    NOT_READY_MESSAGE,
    RunwayProvider,
    job_status,
)
from tests.emulators import run_runway_emulator


def jpeg(width: int = 1280, height: int = 720, colour=(30, 160, 90)) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (width, height), colour).save(buffer, format="JPEG")
    return buffer.getvalue()


def request(text: str = "A lemonade stand at noon", **overrides) -> GenerationRequest:
    fields = {
        "model": "gen4_turbo",
        "prompt": f"{text} #{uuid.uuid4().hex[:8]}",
        "seconds": 5,
        "size": "1280x720",
        "reference_image": jpeg(),
        "reference_content_type": "image/jpeg",
    }
    return GenerationRequest(**{**fields, **overrides})


@pytest.fixture
def provider(runway_emulator: str) -> RunwayProvider:
    return RunwayProvider(api_key="key_test", base_url=runway_emulator)


async def wait_finished(provider: RunwayProvider, job_id: str):
    while not (status := await provider.status(job_id)).finished:
        assert status.state in ("queued", "in_progress") and 0 <= status.progress < 100
        await asyncio.sleep(0.05)
    return status


# --- models, the registry, settings -----------------------------------------------------------------


def test_the_registry_picks_runway_for_gen4_turbo(settings) -> None:
    model = registry.find_model("gen4_turbo", settings)
    assert model is not None and model.provider == "runway" and model.name == "Runway Gen-4 Turbo"
    assert model.durations == [5, 10] and model.sizes == ["1280x720", "720x1280", "960x960"]
    assert model.available and model.reason is None and model.needs_reference_image
    assert isinstance(registry.get_provider("gen4_turbo", settings), RunwayProvider)
    assert {m.id for m in registry.all_models(settings)} >= {"sora-2", "sora-2-pro", "gen4_turbo", "gen4.5", "veo3.1"}


def test_emulator_address_in_development(settings) -> None:
    mounted = RunwayProvider.from_settings(settings)
    assert mounted.base_url == f"{settings.base_url}/_emulators/runway" and mounted.api_key == "emulator"
    standalone = RunwayProvider.from_settings(settings.model_copy(update={"runwayml_base_url": "http://127.0.0.1:9"}))
    assert standalone.base_url == "http://127.0.0.1:9"
    no_secret = settings.model_copy(update={"use_mock_runway": False, "runwayml_api_secret": None})
    assert RunwayProvider.from_settings(no_secret).api_key == "emulator"


async def test_unavailable_in_production_without_a_secret(settings) -> None:
    prod = settings.model_copy(update={"app_env": "production", "use_mock_runway": False})
    provider = RunwayProvider.from_settings(prod)
    models = provider.models()
    assert len(models) == 3 and all(not m.available and m.reason == NO_SECRET_REASON for m in models)
    with pytest.raises(PermanentProviderError) as caught:
        await provider.submit(request())
    assert caught.value.user_message == "This model is not available right now."
    live = RunwayProvider.from_settings(prod.model_copy(update={"runwayml_api_secret": "key_live"}))
    assert live.models()[0].available and live.api_key == "key_live" and live.base_url is None  # the SDK's default


# --- the whole flow ----------------------------------------------------------------------------------


async def test_submit_poll_download_video_and_thumbnail(provider: RunwayProvider, tmp_path: Path) -> None:
    job_id = await provider.submit(request())
    status = await wait_finished(provider, job_id)
    assert (status.state, status.progress, status.error_message) == ("completed", 100, None)

    video = tmp_path / "out" / "video.mp4"
    written = await provider.download(job_id, "video", video)
    assert written == video.stat().st_size > 0 and not video.with_name("video.mp4.part").exists()
    info = probe(video)
    assert (info["codec"], info["width"], info["height"], round(info["seconds"])) == ("h264", 1280, 720, 5)

    poster = tmp_path / "out" / "poster.webp"
    assert await provider.download(job_id, "thumbnail", poster) == poster.stat().st_size
    with Image.open(poster) as image:
        assert image.format == "WEBP" and image.size == (1280, 720)
        red, green, blue = image.convert("RGB").getpixel((640, 100))
        assert green > 120 and red < 90  # a frame of the (green) product photo
    jpg = tmp_path / "out" / "poster.jpg"
    await provider.download(job_id, "thumbnail", jpg)
    with Image.open(jpg) as image:
        assert image.format == "JPEG" and image.size == (1280, 720)
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["poster.jpg", "poster.webp", "video.mp4"]


async def test_portrait_ten_seconds(provider: RunwayProvider, tmp_path: Path) -> None:
    job_id = await provider.submit(
        request(size="720x1280", seconds=10, reference_image=jpeg(720, 1280), reference_content_type=None)
    )  # the media type is sniffed
    await wait_finished(provider, job_id)
    await provider.download(job_id, "video", tmp_path / "v.mp4")
    info = probe(tmp_path / "v.mp4")
    assert (info["width"], info["height"], round(info["seconds"])) == (720, 1280, 10)


async def test_without_a_reference_image_nothing_is_sent(provider: RunwayProvider) -> None:
    with pytest.raises(PermanentProviderError) as caught:
        await provider.submit(request(reference_image=None, reference_content_type=None))
    assert caught.value.user_message == NEEDS_IMAGE_MESSAGE


async def test_cancel_a_task_in_flight(provider: RunwayProvider) -> None:
    job_id = await provider.submit(request("[fault:stuck] a shoe"))
    assert await provider.cancel(job_id) is True
    status = await provider.status(job_id)
    assert status.state == "failed" and status.error_code == "CANCELLED"
    assert await provider.cancel(job_id) is False  # already gone
    assert await provider.cancel(str(uuid.uuid4())) is False


# --- statuses ----------------------------------------------------------------------------------------


async def test_moderation_failure_is_readable(provider: RunwayProvider) -> None:
    status = await wait_finished(provider, await provider.submit(request("[fault:moderation] a shoe")))
    assert (status.state, status.error_code, status.error_message) == (
        "failed",
        "SAFETY.INPUT.TEXT",
        MODERATION_MESSAGE,
    )


async def test_stuck_stays_in_progress_and_cannot_be_downloaded(provider: RunwayProvider, tmp_path: Path) -> None:
    job_id = await provider.submit(request("[fault:stuck] a shoe"))
    await asyncio.sleep(0.1)
    status = await provider.status(job_id)
    assert status.state == "in_progress" and 0 <= status.progress <= 50
    with pytest.raises(PermanentProviderError) as caught:
        await provider.download(job_id, "video", tmp_path / "v.mp4")
    assert caught.value.user_message == NOT_READY_MESSAGE and not list(tmp_path.iterdir())


async def test_throttled_is_queued(provider: RunwayProvider) -> None:
    job_id = await provider.submit(request("[fault:throttled] a shoe"))
    assert (await provider.status(job_id)).state == "queued"
    assert (await wait_finished(provider, job_id)).state == "completed"


def test_every_task_status_maps() -> None:
    created = "2026-01-01T00:00:00.000Z"
    cost = {"credits": 25}
    assert job_status(Pending(id="t", createdAt=created, estimatedCost=cost, status="PENDING")).state == "queued"
    assert job_status(Throttled(id="t", createdAt=created, estimatedCost=cost, status="THROTTLED")).state == "queued"
    running = job_status(Running(id="t", createdAt=created, estimatedCost=cost, progress=0.426, status="RUNNING"))
    assert (running.state, running.progress) == ("in_progress", 43)
    done = job_status(Succeeded(id="t", createdAt=created, cost=cost, output=["https://x/y.mp4"], status="SUCCEEDED"))
    assert (done.state, done.progress) == ("completed", 100)
    cancelled = job_status(Cancelled(id="t", createdAt=created, cost={"credits": 0}, status="CANCELLED"))
    assert cancelled.state == "failed" and "cancelled" in cancelled.error_message

    def failed(code: str | None, failure: str = "Something broke.") -> tuple[str | None, str | None]:
        status = job_status(
            Failed(id="t", createdAt=created, cost={"credits": 0}, failure=failure, failureCode=code, status="FAILED")
        )
        assert status.state == "failed"
        return status.error_code, status.error_message

    assert failed("SAFETY.INPUT.IMAGE") == ("SAFETY.INPUT.IMAGE", MODERATION_MESSAGE)
    assert failed("INPUT_PREPROCESSING.SAFETY.TEXT")[1] == MODERATION_MESSAGE
    assert failed("ASSET.INVALID")[1] == "Runway could not use the product photo for this video."
    assert failed("INTERNAL.BAD_OUTPUT.CODE01") == (
        "INTERNAL.BAD_OUTPUT.CODE01",
        "Runway could not make this video (Something broke).",
    )
    assert failed(None)[0] == "FAILED"


# --- errors: transient or permanent ----------------------------------------------------------------


async def test_429_is_transient_with_retry_after(provider: RunwayProvider) -> None:
    req = request("[fault:429] rush hour")
    with pytest.raises(TransientProviderError) as caught:
        await provider.submit(req)
    assert caught.value.retry_after == 1.0 and caught.value.status_code == 429
    assert await provider.submit(req)  # the same request goes through next time


async def test_5xx_is_transient(provider: RunwayProvider) -> None:
    req = request("[fault:500x4] flaky")
    for _ in range(4):
        with pytest.raises(TransientProviderError) as caught:
            await provider.submit(req)
        assert caught.value.status_code == 500
    assert await provider.submit(req)


async def test_status_503_is_transient(runway_emulator: str, provider: RunwayProvider) -> None:
    job_id = await provider.submit(request())
    flaky = RunwayProvider(api_key="k", base_url=runway_emulator, default_headers={"x-emulator-fault": "503"})
    with pytest.raises(TransientProviderError) as caught:
        await flaky.status(job_id)
    assert caught.value.status_code == 503


async def test_timeouts_and_unreachable_hosts_are_transient(runway_emulator: str) -> None:
    slow = RunwayProvider(
        api_key="k", base_url=runway_emulator, timeout=0.5, default_headers={"x-emulator-fault": "slow"}
    )
    with pytest.raises(TransientProviderError) as caught:
        await slow.status(str(uuid.uuid4()))
    assert "timed out" in str(caught.value)
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    nobody = RunwayProvider(api_key="k", base_url=f"http://127.0.0.1:{port}")
    with pytest.raises(TransientProviderError) as caught:
        await nobody.status(str(uuid.uuid4()))
    assert caught.value.user_message == "The video service could not be reached; we'll keep trying."


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"prompt": "x" * 1001}, "Runway accepts descriptions of 1 to 1,000 characters."),
        ({"size": "1000x1000"}, "Runway cannot make a video of that size."),
        ({"seconds": 7}, "Runway cannot make a video of that length with this model."),
        ({"model": "gen3a_turbo"}, "Runway does not offer that model."),
        (
            {"reference_image": b"not a picture", "reference_content_type": "image/jpeg"},
            "The product photo could not be used by Runway",
        ),
        ({"reference_image": jpeg(1500, 500)}, "The product photo could not be used by Runway"),
    ],
)
async def test_validation_errors_are_permanent_and_readable(
    provider: RunwayProvider, overrides: dict, message: str
) -> None:
    with pytest.raises(PermanentProviderError) as caught:
        await provider.submit(request(**overrides))
    assert caught.value.status_code == 400 and caught.value.user_message.startswith(message)
    assert "Runway answered 400" in str(caught.value)  # the API's own words stay in the log detail


async def test_a_rejected_key_is_permanent() -> None:
    with run_runway_emulator(api_key="key_right") as root:
        with pytest.raises(PermanentProviderError) as caught:
            await RunwayProvider(api_key="key_wrong", base_url=root).submit(request())
    assert caught.value.status_code == 401 and caught.value.user_message == CREDENTIALS_MESSAGE


async def test_an_unknown_task_is_permanent(provider: RunwayProvider, tmp_path: Path) -> None:
    with pytest.raises(PermanentProviderError) as caught:
        await provider.status(str(uuid.uuid4()))
    assert caught.value.status_code == 404 and caught.value.user_message == GONE_MESSAGE
    with pytest.raises(PermanentProviderError):
        await provider.download(str(uuid.uuid4()), "video", tmp_path / "v.mp4")
    assert not list(tmp_path.iterdir())


async def test_a_failing_output_download_is_transient_then_succeeds(provider: RunwayProvider, tmp_path: Path) -> None:
    job_id = await provider.submit(request("[fault:output-502x2] a shoe"))
    await wait_finished(provider, job_id)
    dest = tmp_path / "v.mp4"
    with pytest.raises(TransientProviderError) as caught:
        await provider.download(job_id, "video", dest)
    assert caught.value.status_code == 502 and not list(tmp_path.iterdir())
    with pytest.raises(TransientProviderError):
        await provider.download(job_id, "thumbnail", tmp_path / "p.webp")
    assert not list(tmp_path.iterdir())  # neither the partial poster nor the video it was cut from
    assert await provider.download(job_id, "video", dest) > 0 and probe(dest)["width"] == 1280
