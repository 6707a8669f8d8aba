"""Music: prove an upload is audio by decoding it all with PyAV, and build the ad's soundtrack — the track
trimmed to the ad, loudness-normalised, faded out and mixed under the clip's own sound (libavfilter)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import av
from av.filter import Graph

from app.errors import ValidationFailed

SAMPLE_RATE = 48_000
LAYOUT = "stereo"
# Container (demuxer) names we accept, with how we store each.
KINDS = {
    "mp3": (".mp3", "audio/mpeg"),
    "wav": (".wav", "audio/wav"),
    "ogg": (".ogg", "audio/ogg"),
    "mp4": (".m4a", "audio/mp4"),
    "m4a": (".m4a", "audio/mp4"),
    "aac": (".aac", "audio/aac"),
}
# Integrated loudness of the music alone, and when it sits under the clip's own sound.
MUSIC_LUFS_ALONE = -16
MUSIC_LUFS_UNDER = -26
FADE_OUT_SECONDS = 1.5

NOT_AUDIO = "This file is not audio we can read: upload an MP3, WAV, M4A/AAC or OGG track."


@dataclass(frozen=True)
class AudioInfo:
    seconds: float
    extension: str
    content_type: str
    codec: str


def probe_audio(path: str | Path, max_seconds: float) -> AudioInfo:
    """Decode the whole file; refuse (422) anything that is not one of our formats or has no sound in it."""
    try:
        with av.open(str(path)) as container:
            names = set(container.format.name.split(","))
            kind = next((KINDS[n] for n in ("mp3", "wav", "ogg", "m4a", "mp4", "aac") if n in names), None)
            if kind is None or not container.streams.audio:
                raise ValidationFailed(NOT_AUDIO, code="not_audio")
            stream = container.streams.audio[0]
            samples = 0
            for frame in container.decode(stream):
                samples += frame.samples
                if samples > (max_seconds + 1) * frame.sample_rate:
                    break
            rate = stream.codec_context.sample_rate or 1
            codec = stream.codec_context.name
    except av.FFmpegError as error:
        raise ValidationFailed(NOT_AUDIO, code="not_audio") from error
    seconds = samples / rate
    if seconds < 0.1:
        raise ValidationFailed(NOT_AUDIO, code="not_audio")
    if seconds > max_seconds:
        raise ValidationFailed(
            f"The track is longer than {max_seconds:g} seconds; trim it first.", code="audio_too_long"
        )
    return AudioInfo(seconds=round(seconds, 3), extension=kind[0], content_type=kind[1], codec=codec)


def _drain(graph_sink, out: list[av.AudioFrame]) -> bool:
    """Pull what is ready; True once the graph has ended."""
    while True:
        try:
            out.append(graph_sink.pull())
        except (BlockingIOError, av.BlockingIOError):
            return False
        except (EOFError, av.EOFError):
            return True


def _chain(graph: Graph, first, *filters: tuple[str, str]):
    node = first
    for name, args in filters:
        nxt = graph.add(name, args)
        node.link_to(nxt)
        node = nxt
    return node


def soundtrack(
    *, clip: str | Path, music: str | Path | None, trim_start: float, trim_end: float, total_seconds: float
) -> list[av.AudioFrame]:
    """The ad's sound as float-planar 48 kHz stereo frames, exactly `total_seconds` long (silence if none)."""
    graph = Graph()
    fmt = f"sample_fmts=fltp:sample_rates={SAMPLE_RATE}:channel_layouts={LAYOUT}"
    inputs = [_chain(graph, graph.add("anullsrc", f"r={SAMPLE_RATE}:cl={LAYOUT}"), ("atrim", f"end={total_seconds}"))]
    clip_container = av.open(str(clip))
    music_container = av.open(str(music)) if music else None
    feeds = []
    try:
        if clip_container.streams.audio:
            stream = clip_container.streams.audio[0]
            source = graph.add_abuffer(template=stream)
            inputs.append(
                _chain(
                    graph,
                    source,
                    ("atrim", f"start={trim_start}:end={trim_end}"),
                    ("asetpts", "PTS-STARTPTS"),
                    ("aresample", str(SAMPLE_RATE)),
                    ("aformat", fmt),
                )
            )
            feeds.append((clip_container, stream, source, trim_end))
        if music_container is not None:
            stream = music_container.streams.audio[0]
            source = graph.add_abuffer(template=stream)
            target = MUSIC_LUFS_UNDER if len(inputs) > 1 else MUSIC_LUFS_ALONE
            fade_start = max(0.0, total_seconds - FADE_OUT_SECONDS)
            inputs.append(
                _chain(
                    graph,
                    source,
                    ("aresample", str(SAMPLE_RATE)),
                    ("aformat", fmt),
                    ("atrim", f"end={total_seconds}"),
                    ("asetpts", "PTS-STARTPTS"),
                    ("loudnorm", f"I={target}:TP=-1.5:LRA=11"),
                    ("aresample", str(SAMPLE_RATE)),
                    ("aformat", fmt),
                    ("afade", "t=in:d=0.05"),
                    ("afade", f"t=out:st={fade_start}:d={min(FADE_OUT_SECONDS, total_seconds)}"),
                )
            )
            feeds.append((music_container, stream, source, total_seconds))
        mix = graph.add("amix", f"inputs={len(inputs)}:duration=first:normalize=0")
        for index, node in enumerate(inputs):
            node.link_to(mix, 0, index)
        sink = graph.add("abuffersink")
        _chain(graph, mix, ("aformat", fmt)).link_to(sink)
        graph.configure()
        frames: list[av.AudioFrame] = []
        for container, stream, source, until in feeds:
            try:
                for frame in container.decode(stream):
                    source.push(frame)
                    _drain(sink, frames)
                    if frame.time is not None and frame.time > until + 0.5:
                        break
                source.push(None)
            except (EOFError, av.EOFError):
                pass  # the trim already has all it needs
        while not _drain(sink, frames):
            pass
    finally:
        clip_container.close()
        if music_container is not None:
            music_container.close()
    return frames
