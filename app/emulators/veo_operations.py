"""In-memory long-running operations of the Veo emulator: lifecycle by elapsed time, faults, rendering."""

from __future__ import annotations

import io
import shutil
import threading
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

from PIL import Image

from app.emulators import faults as _faults
from app.emulators.faults import REQUEST_FAULTS, RequestFaults, caption_of
from app.media.render import render_clip

# The model ids Google has served Veo 3 / 3.1 under (Vertex AI names end in -001, previews in -preview).
MODELS = (
    "veo-3.1-generate-001",
    "veo-3.1-fast-generate-001",
    "veo-3.1-generate-preview",
    "veo-3.1-fast-generate-preview",
    "veo-3.0-generate-001",
    "veo-3.0-fast-generate-001",
)
ASPECT_RATIOS = ("16:9", "9:16")
DURATIONS = (4, 6, 8)
RESOLUTIONS = {"720p": (1280, 720), "1080p": (1920, 1080)}
PROJECT = "adsvideo-emulator"
LOCATION = "us-central1"
RESPONSE_TYPE = "type.googleapis.com/cloud.ai.large_models.vision.GenerateVideoResponse"
METADATA_TYPE = "type.googleapis.com/google.cloud.aiplatform.v1beta1.GenerateVideoOperationMetadata"
SAFETY_REASON = (
    "Unable to show generated videos. All videos were filtered out because they violated Vertex "
    "AI's usage guidelines. You will not be charged for blocked videos. Support codes: 58061214"
)

OPERATION_FAULTS = {"safety", "stuck", "failed"}
KNOWN_FAULTS = REQUEST_FAULTS | OPERATION_FAULTS | {"slow"}

# Rendering is CPU-bound; two at once keeps a small machine responsive.
_RENDER_SLOTS = threading.BoundedSemaphore(2)


def parse_faults(text: str, header: str | None) -> dict[str, int]:
    """This emulator's faults requested by `text` and the header (see app.emulators.faults)."""
    return _faults.parse_faults(text, header, KNOWN_FAULTS)


@dataclass
class Operation:
    id: str
    model: str
    prompt: str
    aspect_ratio: str
    resolution: str
    seconds: int
    audio: bool
    samples: int
    image: bytes | None
    created: float
    faults: dict[str, int]
    rendered_at: float | None = None
    render_error: str | None = None

    @property
    def name(self) -> str:
        return f"projects/{PROJECT}/locations/{LOCATION}/publishers/google/models/{self.model}/operations/{self.id}"

    @property
    def size(self) -> tuple[int, int]:
        long, short = RESOLUTIONS[self.resolution]
        return (long, short) if self.aspect_ratio == "16:9" else (short, long)


@dataclass
class OperationView:
    """An operation as `fetchPredictOperation` shows it at one moment."""

    done: bool
    progress: int = 0
    filtered: bool = False
    error: dict | None = None


@dataclass
class OperationStore:
    generation_seconds: float
    storage_dir: Path
    operations: dict[str, Operation] = field(default_factory=dict)
    request_faults: RequestFaults = field(default_factory=RequestFaults)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def new_operation(self, **fields) -> Operation:
        operation = Operation(id=str(uuid.uuid4()), created=time.time(), **fields)
        with self.lock:
            self.operations[operation.id] = operation
        return operation

    def take_request_fault(self, faults: dict[str, int], prompt: str) -> str | None:
        return self.request_faults.take(faults, prompt)

    def view(self, operation: Operation, now: float | None = None) -> OperationView:
        """Running with a rising `progressPercent` until `generation_seconds` pass and the MP4 exists."""
        now = time.time() if now is None else now
        total = self.generation_seconds
        share = min(1.0, (now - operation.created) / total) if total > 0 else 1.0
        if operation.render_error:
            return OperationView(True, error={"code": 13, "message": "Internal error encountered."})
        if "stuck" in operation.faults:
            return OperationView(False, progress=int(min(50, share * 50)))
        if share >= 1.0 and "failed" in operation.faults:
            return OperationView(
                True,
                error={"code": 13, "message": "Video generation failed due to an internal error. Please try again."},
            )
        if share >= 1.0 and "safety" in operation.faults:
            return OperationView(True, progress=100, filtered=True)
        if share >= 1.0 and operation.rendered_at is not None:
            return OperationView(True, progress=100)
        return OperationView(False, progress=int(min(99, share * 100)))

    def needs_render(self, operation: Operation) -> bool:
        return not (OPERATION_FAULTS & operation.faults.keys())

    def output_path(self, operation: Operation, sample: int) -> Path:
        return self.storage_dir / operation.id / f"sample-{sample}.mp4"

    def render(self, operation: Operation) -> None:
        """Render every sample's MP4 (blocking: run it in a worker thread)."""
        try:
            width, height = operation.size
            for sample in range(operation.samples):
                with _RENDER_SLOTS:
                    path = self.output_path(operation, sample)
                    path.parent.mkdir(parents=True, exist_ok=True)
                    partial = path.with_name(path.name + ".part")
                    picture = Image.open(io.BytesIO(operation.image)) if operation.image else None
                    try:
                        render_clip(
                            partial,
                            width=width,
                            height=height,
                            seconds=operation.seconds,
                            caption=caption_of(operation.prompt),
                            image=picture,
                            audio=operation.audio,
                        )
                    finally:
                        if picture is not None:
                            picture.close()
                    partial.rename(path)
            operation.rendered_at = time.time()
        except Exception as exc:  # a render failure becomes a failed operation, as the real API reports
            operation.render_error = str(exc)

    def delete(self, operation: Operation) -> None:
        with self.lock:
            self.operations.pop(operation.id, None)
        shutil.rmtree(self.storage_dir / operation.id, ignore_errors=True)
