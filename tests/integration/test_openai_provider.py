"""The OpenAI provider against the emulator over HTTP: the whole flow, and every error mapped for our retry policy."""

from __future__ import annotations

import io
import socket
import uuid
from email.utils import formatdate

import pytest
from PIL import Image

from app.errors import ValidationFailed
from app.media.render import probe
from app.providers import registry
from app.providers.base import (
    GenerationRequest,
    PermanentProviderError,
    TransientProviderError,
)
from app.providers.openai_videos import (
    CREDENTIALS_MESSAGE,
    MODERATION_MESSAGE,
    RETIRED_REASON,
    SHUTDOWN_REASON,
    OpenAIVideosProvider,
    _retry_after,
)
from tests.emulators import run_openai_emulator


def request(text: str = "A lemonade stand at noon", **overrides) -> GenerationRequest:
    fields = {"model": "sora-2", "prompt": f"{text} #{uuid.uuid4().hex[:8]}", "seconds": 4, "size": "1280x720"}
    return GenerationRequest(**{**fields, **overrides})


def png(width: int, height: int) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (width, height), (30, 160, 90)).save(buffer, format="PNG")
    return buffer.getvalue()


@pytest.fixture
def provider(openai_emulator: str) -> OpenAIVideosProvider:
    return OpenAIVideosProvider(api_key="test", base_url=openai_emulator)


async def wait_finished(provider: OpenAIVideosProvider, job_id: str):
    import asyncio

    while not (status := await provider.status(job_id)).finished:
        assert status.state in ("queued", "in_progress") and 0 <= status.progress < 100
        await asyncio.sleep(0.1)
    return status


# --- models and the registry -------------------------------------------------------------------------


def test_models_with_durations_and_sizes(settings) -> None:
    models = {m.id: m for m in registry.all_models(settings)}
    assert models["sora-2"].durations == [4, 8, 12]
    assert models["sora-2"].sizes == ["1280x720", "720x1280"]
    assert models["sora-2-pro"].sizes == ["1280x720", "1792x1024", "720x1280", "1024x1792"]  # by aspect ratio
    assert all(
        models[i].available and models[i].reason is None and models[i].provider == "openai"
        for i in ("sora-2", "sora-2-pro")
    )
    assert isinstance(registry.get_provider("sora-2-pro", settings), OpenAIVideosProvider)
    with pytest.raises(ValidationFailed):
        registry.get_provider("gen9_ultra", settings)


def test_emulator_address_in_development(settings) -> None:
    mounted = OpenAIVideosProvider.from_settings(settings)
    assert mounted.base_url == f"{settings.base_url}/_emulators/openai/v1" and mounted.api_key == "emulator"
    standalone = OpenAIVideosProvider.from_settings(
        settings.model_copy(update={"openai_base_url": "http://127.0.0.1:9/v1"})
    )
    assert standalone.base_url == "http://127.0.0.1:9/v1"


def test_unavailable_in_production_without_a_key_or_host(settings) -> None:
    prod = settings.model_copy(update={"app_env": "production", "use_mock_sora": False})
    for model in OpenAIVideosProvider.from_settings(prod).models():
        assert model.available is False and model.reason == SHUTDOWN_REASON
    key_only = prod.model_copy(update={"openai_api_key": "sk-live"})
    assert not OpenAIVideosProvider.from_settings(key_only).models()[0].available
    configured = key_only.model_copy(update={"openai_base_url": "https://videos.example.com/v1"})
    provider = OpenAIVideosProvider.from_settings(configured)
    assert provider.models()[0].available and provider.api_key == "sk-live"


@pytest.mark.parametrize(
    "address", ["https://api.openai.com/v1", "https://api.openai.com", "https://eu.api.openai.com/v1"]
)
def test_pointed_at_openai_itself_sora_is_listed_unavailable_with_the_reason(settings, address: str) -> None:
    for changes in (
        {"openai_api_key": "sk-live", "use_mock_sora": False},
        {"use_mock_sora": True},
        {"app_env": "production", "use_mock_sora": False, "openai_api_key": "sk-live"},
    ):
        pointed = settings.model_copy(update={"openai_base_url": address, **changes})
        models = OpenAIVideosProvider.from_settings(pointed).models()
        assert [m.id for m in models] == ["sora-2", "sora-2-pro"]
        assert all(not m.available and m.reason == RETIRED_REASON for m in models)
        assert "24 Sep 2026" in RETIRED_REASON


async def test_an_unavailable_provider_refuses_to_submit(settings) -> None:
    prod = settings.model_copy(update={"app_env": "production", "use_mock_sora": False})
    with pytest.raises(PermanentProviderError):
        await OpenAIVideosProvider.from_settings(prod).submit(request())


# --- the whole flow ----------------------------------------------------------------------------------


async def test_submit_wait_download_and_delete(provider: OpenAIVideosProvider, tmp_path) -> None:
    job_id = await provider.submit(request(reference_image=png(1280, 720), reference_content_type="image/png"))
    status = await wait_finished(provider, job_id)
    assert (status.state, status.progress, status.error_code) == ("completed", 100, None)

    video_bytes = await provider.download(job_id, "video", tmp_path / "videos" / "v.mp4")
    assert video_bytes == (tmp_path / "videos" / "v.mp4").stat().st_size > 0
    info = probe(tmp_path / "videos" / "v.mp4")
    assert (info["codec"], info["width"], info["height"]) == ("h264", 1280, 720)
    assert info["seconds"] == pytest.approx(4, abs=0.05)
    await provider.download(job_id, "thumbnail", tmp_path / "t.webp")
    with Image.open(tmp_path / "t.webp") as thumb:
        assert thumb.format == "WEBP"
    assert not list(tmp_path.rglob("*.part"))

    assert await provider.cancel(job_id) is True
    with pytest.raises(PermanentProviderError):
        await provider.status(job_id)
    assert await provider.cancel(job_id) is False


# --- transient errors --------------------------------------------------------------------------------


@pytest.mark.parametrize(("marker", "status_code"), [("429", 429), ("500", 500), ("503", 503), ("502", 502)])
async def test_submit_status_faults_are_transient(
    provider: OpenAIVideosProvider, marker: str, status_code: int
) -> None:
    req = request(f"[fault:{marker}] [fault:stuck]")
    with pytest.raises(TransientProviderError) as caught:
        await provider.submit(req)
    error = caught.value
    assert error.status_code == status_code
    assert error.user_message == "The video service is busy right now; we'll keep trying."
    if marker == "429":
        assert error.retry_after == pytest.approx(0.2)
    assert await provider.submit(req), "the retry succeeds"


async def test_status_5xx_is_transient(openai_emulator: str, provider: OpenAIVideosProvider) -> None:
    job_id = await provider.submit(request("[fault:stuck]"))
    flaky = OpenAIVideosProvider(api_key="test", base_url=openai_emulator, default_headers={"x-emulator-fault": "500"})
    with pytest.raises(TransientProviderError):
        await flaky.status(job_id)


async def test_timeout_is_transient(openai_emulator: str) -> None:
    slow = OpenAIVideosProvider(
        api_key="test", base_url=openai_emulator, timeout=0.5, default_headers={"x-emulator-fault": "slow"}
    )
    with pytest.raises(TransientProviderError, match="timed out"):
        await slow.status("video_whatever")


async def test_unreachable_host_is_transient() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    down = OpenAIVideosProvider(api_key="test", base_url=f"http://127.0.0.1:{port}/v1")
    with pytest.raises(TransientProviderError) as caught:
        await down.submit(request())
    assert "could not be reached" in caught.value.user_message


async def test_download_502_is_transient_and_a_retry_works(provider: OpenAIVideosProvider, tmp_path) -> None:
    job_id = await provider.submit(request("[fault:content-502]"))
    await wait_finished(provider, job_id)
    with pytest.raises(TransientProviderError):
        await provider.download(job_id, "video", tmp_path / "v.mp4")
    assert not (tmp_path / "v.mp4").exists()
    assert await provider.download(job_id, "video", tmp_path / "v.mp4") > 0


def test_retry_after_headers() -> None:
    assert _retry_after({"retry-after-ms": "1500"}) == 1.5
    assert _retry_after({"retry-after": "7"}) == 7.0
    import time

    assert 25 < _retry_after({"retry-after": formatdate(time.time() + 30, usegmt=True)}) <= 30
    assert _retry_after({}) is None


# --- permanent errors --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"size": "1792x1024"}, "This model cannot make a video of that size."),
        ({"seconds": 5}, "This model cannot make a video of that length."),
        ({"prompt": "x" * 32_001}, "The description must be between 1 and 32,000 characters."),
        ({"prompt": ""}, "The description must be between 1 and 32,000 characters."),
        (
            {"reference_image": png(640, 480), "reference_content_type": "image/png"},
            "The reference image could not be used: it must be a JPEG, PNG or WebP picture of exactly the video's size.",
        ),
        (
            {"reference_image": b"not an image", "reference_content_type": "image/png"},
            "The reference image could not be used: it must be a JPEG, PNG or WebP picture of exactly the video's size.",
        ),
        ({"model": "sora-9"}, "The video service does not offer that model."),
    ],
)
async def test_validation_errors_are_permanent_and_readable(provider: OpenAIVideosProvider, overrides, message) -> None:
    with pytest.raises(PermanentProviderError) as caught:
        await provider.submit(request(**overrides))
    assert caught.value.user_message == message
    assert caught.value.status_code == 400
    assert "OpenAI answered 400" in str(caught.value)


async def test_wrong_key_is_permanent() -> None:
    with run_openai_emulator(api_key="sk-right") as base_url:
        with pytest.raises(PermanentProviderError) as caught:
            await OpenAIVideosProvider(api_key="sk-wrong", base_url=base_url).submit(request())
    assert caught.value.user_message == CREDENTIALS_MESSAGE and caught.value.status_code == 401


async def test_unknown_job_is_permanent(provider: OpenAIVideosProvider) -> None:
    with pytest.raises(PermanentProviderError) as caught:
        await provider.status("video_unknown")
    assert caught.value.status_code == 404


async def test_moderation_is_a_failed_job_with_a_readable_reason(provider: OpenAIVideosProvider) -> None:
    job_id = await provider.submit(request("[fault:moderation]"))
    status = await wait_finished(provider, job_id)
    assert (status.state, status.error_code, status.error_message) == (
        "failed",
        "moderation_blocked",
        MODERATION_MESSAGE,
    )


async def test_downloads_before_completion_or_after_expiry_are_permanent(
    provider: OpenAIVideosProvider, tmp_path
) -> None:
    busy = await provider.submit(request("[fault:stuck]"))
    assert (await provider.status(busy)).state == "in_progress"
    with pytest.raises(PermanentProviderError):
        await provider.download(busy, "video", tmp_path / "v.mp4")
    assert await provider.cancel(busy) is False, "a job still generating cannot be deleted"

    old = await provider.submit(request("[fault:expired]"))
    await wait_finished(provider, old)
    with pytest.raises(PermanentProviderError) as caught:
        await provider.download(old, "thumbnail", tmp_path / "t.webp")
    assert "expired" in caught.value.user_message
