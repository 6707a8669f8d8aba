"""Music tracks users upload for their ads: decoded whole with PyAV to prove they are audio, then stored."""

from __future__ import annotations

import asyncio
import hashlib
import tempfile
from pathlib import Path

from app.config import get_settings
from app.errors import ValidationFailed
from app.finishing.audio import probe_audio
from app.media.cpu import run_cpu
from app.media.storage import get_storage, media_url, new_key
from app.tables import AudioUploads


def _megabytes(n: int) -> str:
    return f"{n / (1024 * 1024):.0f} MB"


def _probe(data: bytes):
    settings = get_settings()
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "track"
        path.write_bytes(data)
        return probe_audio(path, settings.max_audio_seconds)


async def save(user_id: int, data: bytes | None) -> AudioUploads:
    """Check and store a track for `user_id`; the same track again gives back the one already stored."""
    settings = get_settings()
    if data is None:
        raise ValidationFailed("Choose an audio file to upload (MP3, WAV, M4A/AAC or OGG).", code="file_missing")
    if not data:
        raise ValidationFailed("The file is empty.", code="empty_file")
    if len(data) > settings.max_audio_bytes:
        raise ValidationFailed(
            f"The file is {_megabytes(len(data))}; the most we accept is {_megabytes(settings.max_audio_bytes)}.",
            code="file_too_large",
            status_code=413,
        )
    info = await run_cpu(_probe, data)
    digest = hashlib.sha256(data).hexdigest()
    existing = (
        await AudioUploads.objects().where((AudioUploads.user == user_id) & (AudioUploads.sha256 == digest)).first()
    )
    if existing is not None:
        return existing
    key = new_key("music", info.extension)
    storage = get_storage()
    await asyncio.to_thread(storage.save_bytes, key, data)
    row = AudioUploads(
        user=user_id,
        storage_key=key,
        content_type=info.content_type,
        duration_ms=round(info.seconds * 1000),
        bytes=len(data),
        sha256=digest,
    )
    try:
        await row.save()
    except Exception:
        await asyncio.to_thread(storage.delete, key)
        raise
    return row


async def get_for_user(user_id: int, audio_id: int) -> AudioUploads | None:
    return await AudioUploads.objects().where((AudioUploads.id == audio_id) & (AudioUploads.user == user_id)).first()


async def list_for_user(user_id: int) -> list[AudioUploads]:
    return list(
        await AudioUploads.objects().where(AudioUploads.user == user_id).order_by(AudioUploads.id, ascending=False)
    )


def url(row: AudioUploads) -> str | None:
    return media_url(row.storage_key)
