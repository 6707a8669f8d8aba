"""Music uploads are decoded with PyAV before anything is kept: real tracks pass, the rest is refused."""

from __future__ import annotations

import io

import pytest
from PIL import Image

from app.errors import ValidationFailed
from app.finishing.audio import probe_audio
from tests.finishing_media import make_clip, tone


@pytest.mark.parametrize(
    ("suffix", "extension", "content_type"),
    [
        (".mp3", ".mp3", "audio/mpeg"),
        (".ogg", ".ogg", "audio/ogg"),
        (".wav", ".wav", "audio/wav"),
        (".m4a", ".m4a", "audio/mp4"),
    ],
)
def test_each_format_is_recognised_with_its_length(tmp_path, suffix, extension, content_type) -> None:
    info = probe_audio(tone(tmp_path / f"track{suffix}", seconds=3), max_seconds=60)
    assert info.seconds == pytest.approx(3, abs=0.1)
    assert (info.extension, info.content_type) == (extension, content_type)


def test_the_format_is_read_from_the_bytes_not_the_name(tmp_path) -> None:
    track = tone(tmp_path / "track.ogg", seconds=2)
    renamed = tmp_path / "upload"
    renamed.write_bytes(track.read_bytes())
    assert probe_audio(renamed, max_seconds=60).extension == ".ogg"


def _png() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (64, 64), (10, 20, 30)).save(buffer, format="PNG")
    return buffer.getvalue()


@pytest.mark.parametrize(
    "content",
    [
        b"This is a text file that someone renamed to song.mp3\n" * 40,
        b"",
        b"ID3" + b"\x00" * 2000,
    ],
)
def test_what_is_not_audio_is_refused(tmp_path, content) -> None:
    fake = tmp_path / "song.mp3"
    fake.write_bytes(content)
    with pytest.raises(ValidationFailed) as refused:
        probe_audio(fake, max_seconds=60)
    assert refused.value.code == "not_audio" and "MP3" in refused.value.detail


def test_a_picture_named_like_a_track_is_refused(tmp_path) -> None:
    fake = tmp_path / "song.wav"
    fake.write_bytes(_png())
    with pytest.raises(ValidationFailed, match="not audio"):
        probe_audio(fake, max_seconds=60)


def test_a_silent_video_is_not_a_music_track(tmp_path) -> None:
    with pytest.raises(ValidationFailed, match="not audio"):
        probe_audio(make_clip(tmp_path / "clip.mp4", seconds=1), max_seconds=60)


def test_a_track_over_the_limit_is_refused(tmp_path) -> None:
    with pytest.raises(ValidationFailed) as refused:
        probe_audio(tone(tmp_path / "long.wav", seconds=4), max_seconds=2)
    assert refused.value.code == "audio_too_long"
