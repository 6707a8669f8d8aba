"""Real media for finishing tests: clips rendered by our renderer, tones encoded by FFmpeg's own encoders,
a logo with transparency, and measurements read back with PyAV."""

from __future__ import annotations

import math
from array import array
from fractions import Fraction
from pathlib import Path

import av
from PIL import Image, ImageChops, ImageDraw, ImageStat

from app.media.render import render_clip

# container format, codec per file suffix
ENCODERS = {
    ".mp3": ("mp3", "libmp3lame"),
    ".ogg": ("ogg", "libvorbis"),
    ".wav": ("wav", "pcm_s16le"),
    ".m4a": ("ipod", "aac"),
}


def thirds(width: int = 1280, height: int = 720) -> Image.Image:
    """Red, green and blue thirds from left to right: which part of the clip a frame shows is plain."""
    image = Image.new("RGB", (width, height), (220, 30, 30))
    image.paste((30, 200, 60), (width // 3, 0, 2 * width // 3, height))
    image.paste((30, 40, 220), (2 * width // 3, 0, width, height))
    return image


def make_clip(
    path: Path, *, seconds: int = 4, width: int = 1280, height: int = 720, tone_hz: float | None = None
) -> Path:
    """A clip from our renderer; with `tone_hz`, remuxed with a sine tone as the model's own sound."""
    if tone_hz is None:
        render_clip(path, width=width, height=height, seconds=seconds, image=thirds(width, height))
        return path
    silent = path.with_name(path.stem + "-silent.mp4")
    render_clip(silent, width=width, height=height, seconds=seconds, image=thirds(width, height))
    sound = path.with_name(path.stem + "-sound.m4a")
    tone(sound, seconds=seconds, hz=tone_hz)
    with (
        av.open(str(silent)) as video_in,
        av.open(str(sound)) as audio_in,
        av.open(str(path), "w", format="mp4") as out,
    ):
        v = out.add_stream_from_template(video_in.streams.video[0])
        a = out.add_stream_from_template(audio_in.streams.audio[0])
        for source, stream in ((video_in, v), (audio_in, a)):
            for packet in source.demux(source.streams[0]):
                if packet.size:
                    packet.stream = stream
                    out.mux(packet)
    return path


def tone(path: Path, *, seconds: float = 6, hz: float = 440, rate: int = 44100, amplitude: int = 9000) -> Path:
    """A stereo sine tone encoded in the format the suffix names (.mp3, .ogg, .wav, .m4a)."""
    fmt, codec = ENCODERS[path.suffix]
    with av.open(str(path), "w", format=fmt) as out:
        stream = out.add_stream(codec, rate=rate)
        stream.layout = "stereo"
        done, size = 0, 1024
        while done < seconds * rate:
            samples = array("h")
            for i in range(size):
                value = int(amplitude * math.sin(2 * math.pi * hz * (done + i) / rate))
                samples.extend((value, value))
            frame = av.AudioFrame(format="s16", layout="stereo", samples=size)
            frame.planes[0].update(samples.tobytes())
            frame.sample_rate, frame.pts, frame.time_base = rate, done, Fraction(1, rate)
            done += size
            for packet in stream.encode(frame):
                out.mux(packet)
        for packet in stream.encode(None):
            out.mux(packet)
    return path


def logo(colour=(0, 200, 0)) -> Image.Image:
    """A solid disc of `colour` on transparency."""
    image = Image.new("RGBA", (300, 300), (0, 0, 0, 0))
    ImageDraw.Draw(image).ellipse((10, 10, 290, 290), fill=(*colour, 255))
    return image


def frames(path: Path, at: list[float]) -> dict[float, Image.Image]:
    """Decoded frames nearest after each of the given times."""
    wanted, found = sorted(at), {}
    with av.open(str(path)) as container:
        for frame in container.decode(video=0):
            while wanted and frame.time >= wanted[0] - 1e-3:
                found[wanted.pop(0)] = frame.to_image()
            if not wanted:
                break
    return found


def difference(a: Image.Image, b: Image.Image, box: tuple[int, int, int, int] | None = None) -> float:
    """Mean absolute difference (0–255) between two frames, optionally within a box."""
    if box:
        a, b = a.crop(box), b.crop(box)
    return sum(ImageStat.Stat(ImageChops.difference(a.convert("RGB"), b.convert("RGB"))).mean) / 3


def share_near(image: Image.Image, colour: tuple[int, int, int], tolerance: int = 40) -> float:
    """Share of pixels within `tolerance` of `colour` on every channel."""
    data = image.convert("RGB").resize((image.width // 4, image.height // 4)).tobytes()
    pixels = [data[i : i + 3] for i in range(0, len(data), 3)]
    near = sum(all(abs(p[i] - colour[i]) <= tolerance for i in range(3)) for p in pixels)
    return near / len(pixels)


def audio_samples(path: Path, start: float = 0.0, end: float | None = None) -> list[float]:
    """The first channel's samples (floats) between two times."""
    out: list[float] = []
    with av.open(str(path)) as container:
        resampler = av.AudioResampler(format="flt", layout="mono", rate=48000)
        for frame in container.decode(audio=0):
            for mono in resampler.resample(frame):
                out.extend(array("f", bytes(mono.planes[0]))[: mono.samples])
    first = int(start * 48000)
    return out[first : int(end * 48000) if end is not None else None]


def rms(samples: list[float]) -> float:
    return math.sqrt(sum(s * s for s in samples) / max(1, len(samples)))


def strength(samples: list[float], hz: float, rate: int = 48000) -> float:
    """Goertzel: how much of the frequency `hz` the samples carry (normalised amplitude)."""
    coefficient = 2 * math.cos(2 * math.pi * hz / rate)
    s1 = s2 = 0.0
    for sample in samples:
        s1, s2 = sample + coefficient * s1 - s2, s1
    power = s1 * s1 + s2 * s2 - coefficient * s1 * s2
    return 2 * math.sqrt(max(power, 0.0)) / len(samples)
