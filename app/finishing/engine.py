"""Finishing a clip into renditions: plan (every check, before anything is stored), then render each
placement — decode, reframe in libavfilter, paint the hook and captions, append the end card, encode
H.264 + AAC into a faststart MP4 with a JPEG poster — and write the captions as WebVTT."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path

import av
from PIL import Image

from app.errors import ValidationFailed
from app.finishing import captions as caption_track
from app.finishing import overlays
from app.finishing.audio import SAMPLE_RATE, soundtrack
from app.finishing.options import (
    HOOK_SECONDS,
    HOOK_SHARE,
    MIN_TRIMMED_SECONDS,
    TRANSITION_SECONDS,
    Brand,
    EndCard,
    FinishOptions,
    rendition_size,
)
from app.finishing.reframe import Still, build_dressed_graph, choose_fit

X264_PRESET = "veryfast"
X264_CRF = "23"
POSTER_QUALITY = 85

# progress(rendition index, placement, fraction of that rendition done)
Progress = Callable[[int, str, float], None]


@dataclass(frozen=True)
class ClipInfo:
    width: int
    height: int
    fps: Fraction
    seconds: float
    has_audio: bool


def probe_clip(path: str | Path) -> ClipInfo:
    with av.open(str(path)) as container:
        if not container.streams.video:
            raise ValidationFailed("The video has no picture to finish.", code="invalid_clip")
        stream = container.streams.video[0]
        fps = stream.average_rate or stream.guessed_rate or Fraction(24)
        if stream.duration and stream.time_base:
            seconds = float(stream.duration * stream.time_base)
        elif stream.frames:
            seconds = float(stream.frames / fps)
        else:
            seconds = (container.duration or 0) / 1_000_000
        return ClipInfo(
            width=stream.codec_context.width,
            height=stream.codec_context.height,
            fps=Fraction(fps),
            seconds=round(seconds, 3),
            has_audio=bool(container.streams.audio),
        )


@dataclass(frozen=True)
class PlannedRendition:
    placement: str
    width: int
    height: int
    fit: str


@dataclass(frozen=True)
class Plan:
    options: FinishOptions
    brand: Brand
    clip: ClipInfo
    first_frame: int
    clip_frames: int
    card_frames: int
    cues: list[caption_track.Cue]
    renditions: list[PlannedRendition]
    end_card: EndCard | None

    @property
    def fps(self) -> Fraction:
        return self.clip.fps

    @property
    def clip_seconds(self) -> float:
        return float(self.clip_frames / self.fps)

    @property
    def seconds(self) -> float:
        """Length of every rendition: the trimmed clip plus the end card."""
        return float((self.clip_frames + self.card_frames) / self.fps)

    @property
    def hook_until(self) -> float:
        return min(HOOK_SECONDS, self.clip_seconds * HOOK_SHARE) if self.options.hook_text.strip() else 0.0


def plan(options: FinishOptions, brand: Brand, clip: ClipInfo) -> Plan:
    """Check the request against the clip and the frames (422 with the reason) and fix every number."""
    trim_start = options.trim.start
    trim_end = clip.seconds if options.trim.end is None else options.trim.end
    if trim_start >= clip.seconds or trim_end > clip.seconds + 0.05 or trim_end - trim_start < MIN_TRIMMED_SECONDS:
        raise ValidationFailed(
            f"The trim ({trim_start:g}–{trim_end:g} s) must lie within the clip (0–{clip.seconds:g} s) "
            f"and keep at least {MIN_TRIMMED_SECONDS:g} s.",
            code="invalid_trim",
        )
    fps = clip.fps
    first = round(trim_start * fps)
    count = max(1, round(min(trim_end, clip.seconds) * fps) - first)
    clip_seconds = float(count / fps)
    cues = caption_track.timeline(options.captions, clip_seconds)
    end_card = None
    if options.end_card is not None:
        end_card = EndCard(
            text=options.end_card.text or brand.cta_text,
            url=options.end_card.url or brand.cta_url,
            seconds=options.end_card.seconds,
        )
    card_frames = round(end_card.seconds * fps) if end_card else 0
    renditions = []
    for placement in options.placements:
        width, height = rendition_size(placement, clip.width, clip.height)
        renditions.append(
            PlannedRendition(placement, width, height, choose_fit(options.fit, clip.width, clip.height, width, height))
        )
    result = Plan(
        options=options,
        brand=brand,
        clip=clip,
        first_frame=first,
        clip_frames=count,
        card_frames=card_frames,
        cues=cues,
        renditions=renditions,
        end_card=end_card,
    )
    for rendition in renditions:
        _Dressing.draw(result, rendition)  # refuses text that does not fit this frame
    return result


@dataclass
class _Dressing:
    """Everything drawn once for one rendition size."""

    hook: overlays.Overlay | None
    captions: list[tuple[float, float, overlays.Overlay]]
    card: Image.Image | None

    @classmethod
    def draw(cls, plan: Plan, rendition: PlannedRendition) -> _Dressing:
        w, h, name = rendition.width, rendition.height, f"{rendition.placement} ({rendition.width}×{rendition.height})"
        options = plan.options
        hook = None
        if options.hook_text.strip():
            hook = overlays.hook(
                options.hook_text.strip(),
                plan.brand,
                w,
                h,
                position=options.hook_position,
                size=options.hook_size,
                frame=name,
            )
        bands = [(cue.start, cue.end, overlays.caption(cue.text, plan.brand, w, h, frame=name)) for cue in plan.cues]
        card = overlays.end_card(plan.brand, plan.end_card, w, h, frame=name) if plan.end_card else None
        return cls(hook=hook, captions=bands, card=card)

    def stills(self, hook_until: float) -> list[Still]:
        """What to lay over the clip, and when (seconds into the trimmed clip)."""
        found = [Still(self.hook.image, self.hook.x, self.hook.y, 0.0, hook_until)] if self.hook else []
        found += [Still(band.image, band.x, band.y, start, end) for start, end, band in self.captions]
        return found


@dataclass(frozen=True)
class RenditionFile:
    placement: str
    width: int
    height: int
    seconds: float
    video: Path
    poster: Path


@dataclass
class FinishedSet:
    renditions: list[RenditionFile] = field(default_factory=list)
    captions: Path | None = None


def write_soundtrack(frames: list[av.AudioFrame], path: Path) -> Path:
    """Encode the soundtrack once as AAC; every rendition copies these packets."""
    with av.open(str(path), "w", format="mp4") as out:
        stream = out.add_stream("aac", rate=SAMPLE_RATE)
        stream.layout = "stereo"
        samples = 0
        for frame in frames:
            frame.pts = samples
            frame.time_base = Fraction(1, SAMPLE_RATE)
            samples += frame.samples
            for packet in stream.encode(frame):
                out.mux(packet)
        for packet in stream.encode(None):
            out.mux(packet)
    return path


def render_rendition(
    plan: Plan,
    rendition: PlannedRendition,
    clip_path: str | Path,
    sound: Path,
    video_out: Path,
    poster_out: Path,
    on_progress: Callable[[float], None] | None = None,
    *,
    preset: str = X264_PRESET,
) -> RenditionFile:
    dressing = _Dressing.draw(plan, rendition)
    fps = plan.fps
    total = plan.clip_frames + plan.card_frames
    poster_index = min(plan.clip_frames - 1, round(min(1.0, plan.clip_seconds / 2) * fps))
    hook_until = plan.hook_until
    with (
        av.open(str(clip_path)) as source,
        av.open(str(sound)) as soundtrack_file,
        av.open(str(video_out), "w", format="mp4", options={"movflags": "+faststart"}) as out,
    ):
        video_in = source.streams.video[0]
        graph, feed = build_dressed_graph(
            video_in, rendition.width, rendition.height, rendition.fit, fps, dressing.stills(hook_until)
        )
        video = out.add_stream("libx264", rate=fps)
        video.width, video.height, video.pix_fmt = rendition.width, rendition.height, "yuv420p"
        video.options = {"preset": preset, "crf": X264_CRF, "profile": "high"}
        audio_in = soundtrack_file.streams.audio[0]
        audio = out.add_stream_from_template(audio_in)
        audio_packets = [p for p in soundtrack_file.demux(audio_in) if p.size]
        for packet in audio_packets:
            packet.stream = audio
        audio_next = 0

        def mux_audio_until(seconds: float) -> None:
            nonlocal audio_next
            while audio_next < len(audio_packets):
                packet = audio_packets[audio_next]
                if packet.pts is not None and packet.pts * packet.time_base > seconds:
                    break
                out.mux(packet)
                audio_next += 1

        written = 0
        last_image: Image.Image | None = None

        def emit(frame: av.VideoFrame) -> None:
            nonlocal written
            frame.pts = written
            frame.time_base = 1 / fps
            for packet in video.encode(frame):
                out.mux(packet)
            written += 1
            mux_audio_until(written / fps)
            if on_progress is not None and written % 12 == 0:
                on_progress(written / total)

        def frames_from_clip():
            """The trimmed clip's frames, reframed and dressed, stamped 0, 1, 2… in 1/fps."""

            def drain():
                while True:
                    try:
                        yield graph.pull()
                    except (BlockingIOError, av.BlockingIOError):
                        return
                    except (EOFError, av.EOFError):
                        return

            for index, decoded in enumerate(source.decode(video_in)):
                if index >= plan.first_frame + plan.clip_frames:
                    break
                if index >= plan.first_frame:
                    decoded.pts, decoded.time_base = index - plan.first_frame, Fraction(1) / fps
                    feed.push(decoded)
                    yield from drain()
            feed.push(None)
            yield from drain()

        produced = 0
        last_frame: av.VideoFrame | None = None
        for frame in frames_from_clip():
            if produced >= plan.clip_frames:
                break
            if produced == poster_index or produced == plan.clip_frames - 1:
                image = frame.to_image()
                if produced == poster_index:
                    image.save(poster_out, format="JPEG", quality=POSTER_QUALITY)
                if produced == plan.clip_frames - 1:
                    last_image = image
            last_frame = frame
            emit(frame)
            produced += 1
        while produced < plan.clip_frames and last_frame is not None:  # a clip shorter than it claimed
            if last_image is None:
                last_image = last_frame.to_image()
            emit(av.VideoFrame.from_image(last_image))
            produced += 1
        if dressing.card is not None:
            fade = min(plan.card_frames, round(TRANSITION_SECONDS * fps))
            start = last_image or dressing.card
            for i in range(fade):
                emit(av.VideoFrame.from_image(Image.blend(start, dressing.card, (i + 1) / (fade + 1))))
            card_frame = av.VideoFrame.from_image(dressing.card).reformat(format="yuv420p")
            for _ in range(plan.card_frames - fade):
                emit(card_frame)
        for packet in video.encode(None):
            out.mux(packet)
        mux_audio_until(float("inf"))
    if on_progress is not None:
        on_progress(1.0)
    return RenditionFile(rendition.placement, rendition.width, rendition.height, plan.seconds, video_out, poster_out)


def finish(
    clip_path: str | Path,
    out_dir: str | Path,
    options: FinishOptions,
    brand: Brand,
    *,
    music: str | Path | None = None,
    progress: Progress | None = None,
    preset: str = X264_PRESET,
) -> FinishedSet:
    """Plan, then render every placement into `out_dir` (`<placement>.mp4`, `.jpg`) plus `captions.vtt`."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    the_plan = plan(options, brand, probe_clip(clip_path))
    start = the_plan.first_frame / the_plan.fps
    sound = write_soundtrack(
        soundtrack(
            clip=clip_path,
            music=music,
            trim_start=float(start),
            trim_end=float(start) + the_plan.clip_seconds,
            total_seconds=the_plan.seconds,
        ),
        out_dir / "soundtrack.m4a",
    )
    result = FinishedSet()
    if the_plan.cues:
        result.captions = out_dir / "captions.vtt"
        result.captions.write_text(caption_track.to_webvtt(the_plan.cues), encoding="utf-8")
    for index, rendition in enumerate(the_plan.renditions):
        stem = rendition.placement.replace(":", "x")
        report = (lambda fraction, i=index, p=rendition.placement: progress(i, p, fraction)) if progress else None
        result.renditions.append(
            render_rendition(
                the_plan,
                rendition,
                clip_path,
                sound,
                out_dir / f"{stem}.mp4",
                out_dir / f"{stem}.jpg",
                report,
                preset=preset,
            )
        )
    sound.unlink(missing_ok=True)
    return result
