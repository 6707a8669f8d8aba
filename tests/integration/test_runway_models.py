"""Runway's range against its emulator over HTTP (the real `runwayml` SDK): text to video, every size each model
offers, Google's Veo 3.1 through Runway with its soundtrack, and what a model cannot do refused with the field."""

from __future__ import annotations

import asyncio
import io
import uuid
from pathlib import Path

import pytest
import runwayml
from PIL import Image

from app.billing import model_catalogue
from app.media.render import probe
from app.providers.base import GenerationRequest, PermanentProviderError
from app.providers.runway import NEEDS_IMAGE_MESSAGE, RunwayProvider


def text(words: str = "A perfume bottle in morning light") -> str:
    return f"{words} #{uuid.uuid4().hex[:8]}"


def jpeg(width: int, height: int) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (width, height), (150, 60, 120)).save(buffer, format="JPEG")
    return buffer.getvalue()


@pytest.fixture
def provider(runway_emulator: str) -> RunwayProvider:
    return RunwayProvider(api_key="key_test", base_url=runway_emulator)


@pytest.fixture
async def sdk(runway_emulator: str):
    client = runwayml.AsyncRunwayML(api_key="key_test", base_url=runway_emulator, max_retries=0)
    yield client
    await client.close()


async def made(provider: RunwayProvider, req: GenerationRequest, dest: Path) -> dict:
    job_id = await provider.submit(req)
    while not (status := await provider.status(job_id)).finished:
        await asyncio.sleep(0.05)
    assert status.state == "completed", status.error_message
    await provider.download(job_id, "video", dest)
    return probe(dest)


SIZES = [(m.id, size) for m in model_catalogue.for_provider("runway") for size in m.all_sizes]


@pytest.mark.parametrize(("model", "size"), SIZES)
async def test_every_size_of_every_model_from_a_photo(
    provider: RunwayProvider, tmp_path: Path, model: str, size: str
) -> None:
    width, height = (int(v) for v in size.split("x"))
    seconds = model_catalogue.get(model).durations[0]
    clip = await made(
        provider,
        GenerationRequest(
            model=model,
            prompt=text(),
            seconds=seconds,
            size=size,
            reference_image=jpeg(width, height),
            reference_content_type="image/jpeg",
        ),
        tmp_path / "v.mp4",
    )
    assert (clip["width"], clip["height"], round(clip["seconds"])) == (width, height, seconds)


@pytest.mark.parametrize(
    ("model", "size", "audio"),
    [
        ("gen4.5", "1280x720", False),
        ("gen4.5", "720x1280", False),
        ("veo3.1", "1080x1920", True),
        ("veo3.1", "1280x720", False),
    ],
)
async def test_text_to_video(provider: RunwayProvider, tmp_path: Path, model: str, size: str, audio: bool) -> None:
    width, height = (int(v) for v in size.split("x"))
    seconds = model_catalogue.get(model).durations[0]
    clip = await made(
        provider,
        GenerationRequest(model=model, prompt=text(), seconds=seconds, size=size, audio=audio),
        tmp_path / "v.mp4",
    )
    assert (clip["width"], clip["height"], round(clip["seconds"])) == (width, height, seconds)
    assert clip["audio"] == ("aac" if audio else None)


async def test_image_only_models_and_sizes_refuse_text_alone(provider: RunwayProvider) -> None:
    for model, size in (("gen4_turbo", "1280x720"), ("gen4.5", "960x960")):
        with pytest.raises(PermanentProviderError) as caught:
            await provider.submit(GenerationRequest(model=model, prompt=text(), seconds=5, size=size))
        assert caught.value.user_message == NEEDS_IMAGE_MESSAGE


async def test_the_emulator_knows_each_models_limits(sdk: runwayml.AsyncRunwayML) -> None:
    refusals = [
        (
            sdk.text_to_video.create,
            {"model": "gen4_turbo", "prompt_text": text(), "ratio": "1280:720", "duration": 5},
            "model: Invalid enum value",
        ),
        (
            sdk.text_to_video.create,
            {"model": "gen4.5", "prompt_text": text(), "ratio": "960:960", "duration": 5},
            "ratio: Invalid enum value. Expected '1280:720' | '720:1280'",
        ),
        (
            sdk.text_to_video.create,
            {"model": "veo3.1", "prompt_text": text(), "ratio": "1280:720", "duration": 5},
            "duration: Invalid enum value. Expected 4 | 6 | 8",
        ),
        (
            sdk.text_to_video.create,
            {"model": "gen4.5", "prompt_text": text(), "ratio": "1280:720", "duration": 5, "audio": True},
            "audio: Unrecognized key 'audio'",
        ),
        (
            sdk.image_to_video.create,
            {
                "model": "veo3.1",
                "prompt_text": text(),
                "ratio": "960:960",
                "prompt_image": "data:image/png;base64,AAAA",
            },
            "ratio: Invalid enum value. Expected '1280:720' | '720:1280' | '1080:1920' | '1920:1080'",
        ),
    ]
    for create, kwargs, expected in refusals:
        with pytest.raises(runwayml.BadRequestError) as caught:
            await create(**kwargs)
        assert caught.value.body["error"].startswith(expected), caught.value.body
