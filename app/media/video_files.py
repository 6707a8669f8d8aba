"""Checks for uploaded video files: an MP4 that really holds an H.264 video stream, with a poster frame."""

from __future__ import annotations

import io
from dataclasses import dataclass

import av

from app.errors import ValidationFailed


@dataclass(frozen=True)
class ValidatedVideo:
    width: int
    height: int
    duration: float
    poster_jpeg: bytes  # the first frame, for when no poster is uploaded


def validate_mp4(data: bytes, max_bytes: int) -> ValidatedVideo:
    """Open `data` with PyAV; refuse anything that is not an MP4 with an H.264 stream that decodes."""
    if not data:
        raise ValidationFailed("The video file is empty.", code="empty_file")
    if len(data) > max_bytes:
        raise ValidationFailed(
            f"The video is {len(data) / 1048576:.0f} MB; the most we accept is {max_bytes // 1048576} MB.",
            code="file_too_large",
            status_code=413,
        )
    try:
        with av.open(io.BytesIO(data), mode="r") as container:
            if "mp4" not in (container.format.name or "").split(","):
                raise ValidationFailed("The video must be an MP4 file.", code="unsupported_video")
            streams = [s for s in container.streams.video if s.codec_context.name == "h264"]
            if not streams:
                raise ValidationFailed("The MP4 must contain an H.264 video stream.", code="unsupported_video")
            stream = streams[0]
            frame = next(container.decode(stream), None)
            if frame is None:
                raise ValidationFailed("The video has no frames.", code="damaged_video")
            poster = io.BytesIO()
            frame.to_image().convert("RGB").save(poster, "JPEG", quality=88)
            duration = float(container.duration or 0) / 1_000_000 if container.duration else 0.0
            return ValidatedVideo(
                width=stream.codec_context.width,
                height=stream.codec_context.height,
                duration=duration,
                poster_jpeg=poster.getvalue(),
            )
    except ValidationFailed:
        raise
    except (av.error.FFmpegError, OSError, ValueError, StopIteration):
        raise ValidationFailed("That file is not a video we can read.", code="unsupported_video") from None
