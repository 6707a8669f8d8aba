"""In-memory job state of the OpenAI Videos emulator: lifecycle by elapsed time, faults, rendering to disk."""

from __future__ import annotations

import io
import math
import shutil
import threading
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

from PIL import Image

from app.emulators import faults as _faults
from app.emulators.faults import REQUEST_FAULTS, RequestFaults, caption_of
from app.media.render import RenderedClip, render_clip

PRO_SIZES = ("1024x1792", "1792x1024")
BASE_SIZES = ("720x1280", "1280x720")
ALL_SIZES = BASE_SIZES + PRO_SIZES
SECONDS = ("4", "8", "12")
MODELS = ("sora-2", "sora-2-pro", "sora-2-2025-10-06", "sora-2-pro-2025-10-06", "sora-2-2025-12-08")
VARIANTS = {
    "video": ("video.mp4", "video/mp4"),
    "thumbnail": ("thumbnail.webp", "image/webp"),
    "spritesheet": ("spritesheet.jpg", "image/jpeg"),
}
ASSET_TTL_SECONDS = 3600

# Rendering is CPU-bound; two at once keeps a small machine responsive.
_RENDER_SLOTS = threading.BoundedSemaphore(2)

JOB_FAULTS = {"moderation", "stuck", "content-502", "expired"}
KNOWN_FAULTS = REQUEST_FAULTS | JOB_FAULTS | {"slow"}


def parse_faults(text: str, header: str | None) -> dict[str, int]:
    """This emulator's faults requested by `text` and the header (see app.emulators.faults)."""
    return _faults.parse_faults(text, header, KNOWN_FAULTS)


def is_pro(model: str) -> bool:
    return model.startswith("sora-2-pro")


@dataclass
class Job:
    id: str
    model: str
    prompt: str
    size: str
    seconds: str
    created: float
    faults: dict[str, int]
    reference: bytes | None = None
    remixed_from_video_id: str | None = None
    rendered_at: float | None = None
    render_error: str | None = None
    completed_at: int | None = None
    expires_at: int | None = None
    content_faults_left: int = 0

    @property
    def created_at(self) -> int:
        return int(self.created)

    @property
    def width(self) -> int:
        return int(self.size.split("x")[0])

    @property
    def height(self) -> int:
        return int(self.size.split("x")[1])


@dataclass
class JobView:
    """A job as the API shows it at one moment."""

    status: str
    progress: int
    error: dict | None = None


@dataclass
class JobStore:
    generation_seconds: float
    storage_dir: Path
    jobs: dict[str, Job] = field(default_factory=dict)
    # Remaining failures for request faults, per (kind, prompt): "the first N create calls fail".
    request_faults: RequestFaults = field(default_factory=RequestFaults)
    lock: threading.Lock = field(default_factory=threading.Lock)
    # Benchmarks: render one clip per size and length and copy it for every later job like it.
    reuse_renders: bool = False
    _rendered: dict[tuple[int, int, int], Path] = field(default_factory=dict)

    def new_job(
        self,
        *,
        model: str,
        prompt: str,
        size: str,
        seconds: str,
        faults: dict[str, int],
        reference: bytes | None,
        remixed_from: str | None = None,
    ) -> Job:
        job = Job(
            id=f"video_{uuid.uuid4().hex}",
            model=model,
            prompt=prompt,
            size=size,
            seconds=seconds,
            created=time.time(),
            faults=faults,
            reference=reference,
            remixed_from_video_id=remixed_from,
            content_faults_left=faults.get("content-502", 0),
        )
        with self.lock:
            self.jobs[job.id] = job
        return job

    def take_request_fault(self, faults: dict[str, int], prompt: str) -> str | None:
        """The request fault this call must answer with, counting it down; None when it must succeed."""
        return self.request_faults.take(faults, prompt)

    def take_content_fault(self, job: Job) -> bool:
        with self.lock:
            if job.content_faults_left > 0:
                job.content_faults_left -= 1
                return True
        return False

    def needs_render(self, job: Job) -> bool:
        return not ({"moderation", "stuck"} & job.faults.keys())

    def job_dir(self, job_id: str) -> Path:
        return self.storage_dir / job_id

    def asset(self, job: Job, variant: str) -> Path:
        return self.job_dir(job.id) / VARIANTS[variant][0]

    def view(self, job: Job, now: float | None = None) -> JobView:
        """Queued for the first moments, then in progress (rising), then completed or failed."""
        now = time.time() if now is None else now
        total = self.generation_seconds
        elapsed = now - job.created
        queue_for = min(1.0, 0.15 * total)
        if job.completed_at is not None:
            return JobView("completed", 100)
        if job.render_error:
            return JobView("failed", 0, {"code": "internal_error", "message": job.render_error})
        if elapsed < queue_for:
            return JobView("queued", 0)
        share = (elapsed - queue_for) / (total - queue_for) if total > queue_for else 1.0
        if "stuck" in job.faults:
            return JobView("in_progress", max(1, min(50, int(share * 50))))
        if "moderation" in job.faults and share >= 1.0:
            return JobView(
                "failed",
                0,
                {
                    "code": "moderation_blocked",
                    "message": "Your request was blocked by our moderation system.",
                },
            )
        if share >= 1.0 and job.rendered_at is not None:
            job.completed_at = int(max(now, job.rendered_at))
            job.expires_at = job.completed_at + (0 if "expired" in job.faults else ASSET_TTL_SECONDS)
            return JobView("completed", 100)
        return JobView("in_progress", max(1, min(99, int(share * 100))))

    def poll_after_ms(self) -> int:
        return int(min(2000, max(100, self.generation_seconds * 100)))

    def render(self, job: Job) -> None:
        """Render the MP4, thumbnail and spritesheet of `job` (blocking: run in a worker thread)."""
        try:
            shape = (job.width, job.height, int(job.seconds))
            with _RENDER_SLOTS:
                source = self._rendered.get(shape) if self.reuse_renders and job.reference is None else None
                if source is not None:
                    shutil.copytree(source, self.job_dir(job.id), dirs_exist_ok=True)
                else:
                    render_assets(
                        self.job_dir(job.id),
                        width=job.width,
                        height=job.height,
                        seconds=int(job.seconds),
                        caption=caption_of(job.prompt),
                        reference=job.reference,
                    )
                    if self.reuse_renders and job.reference is None:
                        self._rendered[shape] = self.job_dir(job.id)
            job.rendered_at = time.time()
        except Exception as exc:  # a render failure becomes a failed job, as the real API reports
            job.render_error = f"Video generation failed: {exc}"

    def delete(self, job: Job) -> None:
        with self.lock:
            self.jobs.pop(job.id, None)
        shutil.rmtree(self.job_dir(job.id), ignore_errors=True)


def render_assets(
    folder: Path, *, width: int, height: int, seconds: int, caption: str, reference: bytes | None
) -> RenderedClip:
    """video.mp4 + thumbnail.webp + spritesheet.jpg in `folder`, each written whole before it appears."""
    folder.mkdir(parents=True, exist_ok=True)
    image = Image.open(io.BytesIO(reference)) if reference else None
    partial = folder / "video.mp4.part"
    clip = render_clip(
        partial, width=width, height=height, seconds=seconds, caption=caption, image=image, keyframe_count=8
    )
    thumb = folder / "thumbnail.webp.part"
    clip.poster.save(thumb, format="WEBP", quality=80)
    sheet = folder / "spritesheet.jpg.part"
    spritesheet(clip.keyframes).save(sheet, format="JPEG", quality=82)
    for part in (partial, thumb, sheet):
        part.rename(part.with_suffix(""))
    return clip


def spritesheet(frames: list[Image.Image], columns: int = 4, tile_long_side: int = 256) -> Image.Image:
    """The frames as a grid of small tiles, left to right, top to bottom."""
    first = frames[0]
    scale = tile_long_side / max(first.size)
    tw, th = max(1, round(first.width * scale)), max(1, round(first.height * scale))
    columns = min(columns, len(frames))
    rows = math.ceil(len(frames) / columns)
    sheet = Image.new("RGB", (tw * columns, th * rows))
    for i, frame in enumerate(frames):
        sheet.paste(frame.resize((tw, th), Image.BILINEAR), ((i % columns) * tw, (i // columns) * th))
    return sheet
