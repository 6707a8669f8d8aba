"""The Veo provider against the Veo emulator over HTTP (the real `google-genai` SDK): text and image to video in
both ratios, the soundtrack, the thumbnail, and every error mapped for our retry policy."""

from __future__ import annotations

import asyncio
import io
import uuid
from pathlib import Path

import pytest
from PIL import Image

from app.media.render import probe
from app.providers import registry
from app.providers.base import GenerationRequest, PermanentProviderError, TransientProviderError
from app.providers.veo import (
    CREDENTIALS_MESSAGE,
    MODERATION_MESSAGE,
    NO_KEY_REASON,
    NOT_READY_MESSAGE,
    VeoProvider,
)
from tests.emulators import run_veo_emulator

MODEL_IDS = {"veo-3.1": "veo-3.1-generate-001", "veo-3.1-fast": "veo-3.1-fast-generate-001"}


def jpeg(width: int, height: int) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (width, height), (40, 90, 200)).save(buffer, format="JPEG")
    return buffer.getvalue()


def request(text: str = "A watch on a marble table", **overrides) -> GenerationRequest:
    fields = {"model": "veo-3.1", "prompt": f"{text} #{uuid.uuid4().hex[:8]}", "seconds": 4, "size": "1280x720"}
    return GenerationRequest(**{**fields, **overrides})


@pytest.fixture
def provider(veo_emulator: str) -> VeoProvider:
    return VeoProvider(api_key="test-key", base_url=veo_emulator, model_ids=MODEL_IDS)


async def wait_finished(provider: VeoProvider, job_id: str):
    while not (status := await provider.status(job_id)).finished:
        assert status.state == "in_progress" and 0 <= status.progress < 100
        await asyncio.sleep(0.05)
    return status


def test_registry_and_settings(settings) -> None:
    models = {m.id: m for m in registry.all_models(settings)}
    assert models["veo-3.1"].provider == "google" and models["veo-3.1-fast"].name == "Google Veo 3.1 Fast"
    assert models["veo-3.1"].durations == [4, 6, 8] and models["veo-3.1"].available
    assert isinstance(registry.get_provider("veo-3.1-fast", settings), VeoProvider)
    mounted = VeoProvider.from_settings(settings)
    assert mounted.base_url == f"{settings.base_url}/_emulators/veo" and mounted.api_key == "emulator"
    renamed = VeoProvider.from_settings(settings.model_copy(update={"veo_model_id": "veo-3.2-generate-001"}))
    assert renamed.remote_model("veo-3.1") == "veo-3.2-generate-001"


async def test_unavailable_in_production_without_a_key(settings) -> None:
    prod = settings.model_copy(update={"app_env": "production", "use_mock_veo": False, "google_api_key": None})
    provider = VeoProvider.from_settings(prod)
    assert all(not m.available and m.reason == NO_KEY_REASON for m in provider.models())
    with pytest.raises(PermanentProviderError):
        await provider.submit(request())
    live = VeoProvider.from_settings(prod.model_copy(update={"google_api_key": "AIza-test"}))
    assert live.models()[0].available and live.api_key == "AIza-test" and live.base_url is None


@pytest.mark.parametrize(
    ("size", "with_image"),
    [
        ("1280x720", False),
        ("720x1280", False),
        ("1280x720", True),
        ("720x1280", True),
    ],
)
async def test_text_and_image_to_video_in_both_ratios(
    provider: VeoProvider, tmp_path: Path, size: str, with_image: bool
) -> None:
    width, height = (int(v) for v in size.split("x"))
    extra = {"reference_image": jpeg(width, height), "reference_content_type": "image/jpeg"} if with_image else {}
    job_id = await provider.submit(request(size=size, **extra))
    assert (await wait_finished(provider, job_id)).state == "completed"
    written = await provider.download(job_id, "video", tmp_path / "video.mp4")
    clip = probe(tmp_path / "video.mp4")
    assert written == (tmp_path / "video.mp4").stat().st_size
    assert (clip["codec"], clip["width"], clip["height"], clip["seconds"], clip["audio"]) == (
        "h264",
        width,
        height,
        4.0,
        None,
    )


async def test_audio_when_asked_and_a_thumbnail(provider: VeoProvider, tmp_path: Path) -> None:
    job_id = await provider.submit(
        request(model="veo-3.1-fast", size="720x1280", seconds=6, audio=True, negative_prompt="text, watermark")
    )
    await wait_finished(provider, job_id)
    await provider.download(job_id, "video", tmp_path / "video.mp4")
    assert probe(tmp_path / "video.mp4")["audio"] == "aac"
    await provider.download(job_id, "thumbnail", tmp_path / "poster.webp")
    with Image.open(tmp_path / "poster.webp") as poster:
        assert poster.format == "WEBP" and poster.size == (720, 1280)
    assert not list(tmp_path.glob("*.part"))


async def test_safety_filter_is_a_failure_with_our_message(provider: VeoProvider) -> None:
    status = await wait_finished(provider, await provider.submit(request("[fault:safety] a lipstick")))
    assert status.state == "failed" and status.error_message == MODERATION_MESSAGE
    assert status.error_code == "SAFETY.FILTERED"


async def test_a_failed_operation_says_so(provider: VeoProvider) -> None:
    status = await wait_finished(provider, await provider.submit(request("[fault:failed] a bag")))
    assert status.state == "failed" and status.error_message.startswith("Veo could not make this video")


async def test_rate_limit_and_server_errors_are_transient(provider: VeoProvider) -> None:
    with pytest.raises(TransientProviderError) as caught:
        await provider.submit(request("[fault:429] a hat"))
    assert caught.value.status_code == 429 and caught.value.retry_after == 1.0
    with pytest.raises(TransientProviderError) as caught:
        await provider.submit(request("[fault:503] a hat"))
    assert caught.value.status_code == 503


async def test_download_before_it_is_done_is_refused(tmp_path: Path) -> None:
    with run_veo_emulator(generation_seconds=30) as root:
        provider = VeoProvider(api_key="k", base_url=root, model_ids=MODEL_IDS)
        job_id = await provider.submit(request())
        with pytest.raises(PermanentProviderError) as caught:
            await provider.download(job_id, "video", tmp_path / "video.mp4")
        assert caught.value.user_message == NOT_READY_MESSAGE and not list(tmp_path.iterdir())


async def test_credentials_and_refusals_are_permanent() -> None:
    with run_veo_emulator(api_key="right") as root:
        wrong = VeoProvider(api_key="wrong", base_url=root, model_ids=MODEL_IDS)
        with pytest.raises(PermanentProviderError) as caught:
            await wrong.submit(request())
        assert caught.value.user_message == CREDENTIALS_MESSAGE
        renamed = VeoProvider(api_key="right", base_url=root, model_ids={"veo-3.1": "veo-9"})
        with pytest.raises(PermanentProviderError) as caught:
            await renamed.submit(request())
        assert caught.value.status_code == 404
    with pytest.raises(PermanentProviderError):
        await VeoProvider(api_key="k", base_url="http://127.0.0.1:9", model_ids=MODEL_IDS).submit(
            request(size="960x960")
        )


async def test_unreachable_is_transient() -> None:
    provider = VeoProvider(api_key="k", base_url="http://127.0.0.1:9", model_ids=MODEL_IDS)
    with pytest.raises(TransientProviderError):
        await provider.submit(request())
