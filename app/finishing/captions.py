"""Caption timing on the ad's timeline and the WebVTT track written beside each set of renditions."""

from __future__ import annotations

import io
from dataclasses import dataclass

import webvtt

from app.errors import ValidationFailed
from app.finishing.options import Caption


@dataclass(frozen=True)
class Cue:
    start: float
    end: float
    text: str


def timeline(captions: tuple[Caption, ...] | list[Caption], clip_seconds: float) -> list[Cue]:
    """Cues in seconds from the start of the (trimmed) clip: the user's times, or the clip split evenly."""
    if not captions:
        return []
    if captions[0].start is None:
        step = clip_seconds / len(captions)
        return [Cue(round(i * step, 3), round((i + 1) * step, 3), c.text.strip()) for i, c in enumerate(captions)]
    cues = []
    for number, caption in enumerate(captions, 1):
        if caption.start >= clip_seconds - 0.05:
            raise ValidationFailed(
                f"Caption {number} starts at {caption.start:g} s, after the clip ends ({clip_seconds:.2f} s).",
                code="invalid_captions",
            )
        cues.append(Cue(caption.start, min(caption.end, clip_seconds), caption.text.strip()))
    return sorted(cues, key=lambda cue: cue.start)


def _timestamp(seconds: float) -> str:
    millis = round(seconds * 1000)
    hours, rest = divmod(millis, 3_600_000)
    minutes, rest = divmod(rest, 60_000)
    secs, millis = divmod(rest, 1000)
    return f"{hours:02d}:{minutes:02d}:{secs:02d}.{millis:03d}"


def to_webvtt(cues: list[Cue]) -> str:
    track = webvtt.WebVTT(captions=[webvtt.Caption(_timestamp(c.start), _timestamp(c.end), c.text) for c in cues])
    return track.content


def parse_webvtt(text: str) -> list[Cue]:
    """Read a WebVTT track back (used to check what was written)."""

    def seconds(stamp: str) -> float:
        h, m, s = stamp.split(":")
        return int(h) * 3600 + int(m) * 60 + float(s)

    return [Cue(seconds(c.start), seconds(c.end), c.text) for c in webvtt.from_buffer(io.StringIO(text))]
