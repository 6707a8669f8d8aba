"""In-memory task state of the Runway API emulator: lifecycle by elapsed time, faults, rendering to disk."""

from __future__ import annotations

import hashlib
import hmac
import io
import secrets
import shutil
import threading
import time
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from PIL import Image

from app.emulators import faults as _faults
from app.emulators.faults import REQUEST_FAULTS, RequestFaults, caption_of
from app.media.render import render_clip

RATIOS = ("1280:720", "720:1280", "1104:832", "832:1104", "960:960", "1584:672")
_VEO_RATIOS = ("1280:720", "720:1280", "1080:1920", "1920:1080")
# model -> the ratios it makes from an image and from text alone (none: image only), its durations
# (seconds), default duration, whether it can generate audio, and the credits one second costs.
MODELS = {
    "gen4_turbo": {
        "image_ratios": RATIOS,
        "text_ratios": (),
        "durations": (5, 10),
        "default_duration": 10,
        "audio": False,
        "credits_per_second": 5,
    },
    "gen4.5": {
        "image_ratios": ("1280:720", "720:1280", "1104:832", "960:960", "832:1104", "1584:672"),
        "text_ratios": ("1280:720", "720:1280"),
        "durations": tuple(range(2, 11)),
        "default_duration": None,
        "audio": False,
        "credits_per_second": 12,
    },
    "veo3.1": {
        "image_ratios": _VEO_RATIOS,
        "text_ratios": _VEO_RATIOS,
        "durations": (4, 6, 8),
        "default_duration": 8,
        "audio": True,
        "credits_per_second": 40,
    },
    "veo3.1_fast": {
        "image_ratios": _VEO_RATIOS,
        "text_ratios": _VEO_RATIOS,
        "durations": (4, 6, 8),
        "default_duration": 8,
        "audio": True,
        "credits_per_second": 15,
    },
}
OUTPUT_TTL_SECONDS = 24 * 3600

TASK_FAULTS = {"moderation", "stuck", "throttled", "output-502"}
KNOWN_FAULTS = REQUEST_FAULTS | TASK_FAULTS | {"slow"}


def parse_faults(text: str, header: str | None) -> dict[str, int]:
    """This emulator's faults requested by `text` and the header (see app.emulators.faults)."""
    return _faults.parse_faults(text, header, KNOWN_FAULTS)


# Rendering is CPU-bound; two at once keeps a small machine responsive.
_RENDER_SLOTS = threading.BoundedSemaphore(2)


def iso(timestamp: float) -> str:
    """`2024-06-27T19:49:32.334Z`, as the API writes times."""
    moment = datetime.fromtimestamp(timestamp, tz=UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


@dataclass
class Task:
    id: str
    model: str
    prompt_text: str
    ratio: str
    duration: int
    seed: int
    image: bytes | None
    created: float
    faults: dict[str, int]
    audio: bool = False
    throttled_polls_left: int = 0
    output_faults_left: int = 0
    clock_start: float | None = None
    rendered_at: float | None = None
    render_error: str | None = None
    cancelled: bool = False

    @property
    def width(self) -> int:
        return int(self.ratio.split(":")[0])

    @property
    def height(self) -> int:
        return int(self.ratio.split(":")[1])

    @property
    def credits(self) -> int:
        return MODELS[self.model]["credits_per_second"] * self.duration


@dataclass
class TaskView:
    """A task as the API shows it at one moment."""

    status: str
    progress: float | None = None
    failure: str | None = None
    failure_code: str | None = None


@dataclass
class TaskStore:
    generation_seconds: float
    storage_dir: Path
    tasks: dict[str, Task] = field(default_factory=dict)
    # Remaining failures for request faults, per (kind, prompt): "the first N create calls fail".
    request_faults: RequestFaults = field(default_factory=RequestFaults)
    signing_key: bytes = field(default_factory=lambda: secrets.token_bytes(32))
    lock: threading.Lock = field(default_factory=threading.Lock)

    def new_task(
        self,
        *,
        model: str,
        prompt_text: str,
        ratio: str,
        duration: int,
        seed: int,
        image: bytes | None,
        faults: dict[str, int],
        audio: bool = False,
    ) -> Task:
        now = time.time()
        throttled = faults.get("throttled", 0)
        task = Task(
            id=str(uuid.uuid4()),
            model=model,
            prompt_text=prompt_text,
            ratio=ratio,
            duration=duration,
            seed=seed,
            image=image,
            created=now,
            faults=faults,
            audio=audio,
            throttled_polls_left=throttled,
            output_faults_left=faults.get("output-502", 0),
            clock_start=None if throttled else now,
        )
        with self.lock:
            self.tasks[task.id] = task
        return task

    def take_request_fault(self, faults: dict[str, int], prompt: str) -> str | None:
        """The request fault this call must answer with, counting it down; None when it must succeed."""
        return self.request_faults.take(faults, prompt)

    def take_output_fault(self, task: Task) -> bool:
        with self.lock:
            if task.output_faults_left > 0:
                task.output_faults_left -= 1
                return True
        return False

    def observe(self, task: Task) -> TaskView:
        """The task as a GET shows it: a throttled task stays THROTTLED for its first N polls."""
        with self.lock:
            if task.throttled_polls_left > 0 and not task.cancelled:
                task.throttled_polls_left -= 1
                if task.throttled_polls_left == 0:
                    task.clock_start = time.time()
                return TaskView("THROTTLED")
        return self.view(task)

    def view(self, task: Task, now: float | None = None) -> TaskView:
        """PENDING for the first moments, then RUNNING (progress rising 0..1), then SUCCEEDED or FAILED."""
        if task.cancelled:
            return TaskView("CANCELLED")
        if task.clock_start is None:
            return TaskView("THROTTLED")
        now = time.time() if now is None else now
        total = self.generation_seconds
        elapsed = now - task.clock_start
        queue_for = min(1.0, 0.15 * total)
        if task.render_error:
            return TaskView(
                "FAILED",
                failure="An unexpected error occurred while generating the video.",
                failure_code="INTERNAL.BAD_OUTPUT.CODE01",
            )
        if elapsed < queue_for:
            return TaskView("PENDING")
        share = (elapsed - queue_for) / (total - queue_for) if total > queue_for else 1.0
        if "stuck" in task.faults:
            return TaskView("RUNNING", progress=round(min(0.5, share * 0.5), 2))
        if "moderation" in task.faults and share >= 1.0:
            return TaskView(
                "FAILED", failure="The input text did not pass content moderation.", failure_code="SAFETY.INPUT.TEXT"
            )
        if share >= 1.0 and task.rendered_at is not None:
            return TaskView("SUCCEEDED", progress=1.0)
        return TaskView("RUNNING", progress=round(min(0.99, share), 2))

    def needs_render(self, task: Task) -> bool:
        return not ({"moderation", "stuck"} & task.faults.keys())

    def output_path(self, task: Task) -> Path:
        return self.storage_dir / task.id / "output.mp4"

    def render(self, task: Task) -> None:
        """Render the task's MP4, from its prompt image or (text to video) a generated scene, with a
        soundtrack when audio was asked for (blocking: run it in a worker thread)."""
        try:
            with _RENDER_SLOTS:
                path = self.output_path(task)
                path.parent.mkdir(parents=True, exist_ok=True)
                partial = path.with_name(path.name + ".part")
                image = Image.open(io.BytesIO(task.image)) if task.image is not None else None
                try:
                    render_clip(
                        partial,
                        width=task.width,
                        height=task.height,
                        seconds=task.duration,
                        caption=caption_of(task.prompt_text),
                        image=image,
                        audio=task.audio,
                    )
                finally:
                    if image is not None:
                        image.close()
                partial.rename(path)
            task.rendered_at = time.time()
        except Exception as exc:  # a render failure becomes a failed task, as the real API reports
            task.render_error = str(exc)

    def signature(self, task_id: str, expires: int) -> str:
        return hmac.new(self.signing_key, f"{task_id}:{expires}".encode(), hashlib.sha256).hexdigest()[:40]

    def signed_query(self, task: Task, now: float | None = None) -> str:
        """`_exp` and `_sig` for the output URL: fresh on every GET, valid for 24 hours, as Runway's are."""
        expires = int((time.time() if now is None else now) + OUTPUT_TTL_SECONDS)
        return f"_exp={expires}&_sig={self.signature(task.id, expires)}"

    def valid_signature(self, task_id: str, expires: str, signature: str) -> bool:
        try:
            when = int(expires)
        except ValueError:
            return False
        return when > time.time() and hmac.compare_digest(self.signature(task_id, when), signature)

    def delete(self, task: Task) -> None:
        with self.lock:
            self.tasks.pop(task.id, None)
        shutil.rmtree(self.storage_dir / task.id, ignore_errors=True)
