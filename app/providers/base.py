"""The interface every video provider implements, and the errors it raises."""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

JobState = Literal["queued", "in_progress", "completed", "failed"]
Variant = Literal["video", "thumbnail"]


@dataclass(frozen=True)
class ModelInfo:
    """A model people can pick: its durations (seconds), sizes ("WxH") and whether it can be used now."""

    id: str
    provider: str
    name: str
    durations: list[int]
    sizes: list[str]
    available: bool = True
    reason: str | None = None
    # Image-to-video models cannot start from a prompt alone.
    needs_reference_image: bool = False
    # Whether the model can generate a soundtrack with the video.
    audio: bool = False


def catalogue_models(provider: str, *, available: bool = True, reason: str | None = None) -> list[ModelInfo]:
    """The catalogue's models of `provider`, with the provider's availability."""
    from app.billing import model_catalogue

    return [
        ModelInfo(
            id=m.id,
            provider=provider,
            name=m.name,
            durations=list(m.durations),
            sizes=m.all_sizes,
            available=available,
            reason=reason,
            needs_reference_image=m.needs_reference_image,
            audio=m.audio,
        )
        for m in model_catalogue.for_provider(provider)
    ]


@dataclass(frozen=True)
class GenerationRequest:
    """What to generate. The reference image, if any, is already exactly `size`."""

    model: str
    prompt: str
    seconds: int
    size: str
    reference_image: bytes | None = None
    reference_content_type: str | None = None
    # A soundtrack generated with the video (models that can make one).
    audio: bool = False
    negative_prompt: str | None = None


@dataclass(frozen=True)
class JobStatus:
    """A provider job at one moment; `error_message` is written for people."""

    state: JobState
    progress: int = 0
    error_code: str | None = None
    error_message: str | None = None
    retry_after: float | None = None

    @property
    def finished(self) -> bool:
        return self.state in ("completed", "failed")


class ProviderError(Exception):
    """A provider call failed. `user_message` is safe to show a marketer; `str(exc)` is for logs."""

    default_message = "The video service could not handle this request."

    def __init__(
        self, detail: str, *, user_message: str | None = None, code: str | None = None, status_code: int | None = None
    ):
        super().__init__(detail)
        self.user_message = user_message or self.default_message
        self.code = code
        self.status_code = status_code


class TransientProviderError(ProviderError):
    """Worth retrying later (429, 5xx, timeouts, connection failures); `retry_after` in seconds if known."""

    default_message = "The video service is busy right now; we'll keep trying."

    def __init__(self, detail: str, *, retry_after: float | None = None, **kwargs):
        super().__init__(detail, **kwargs)
        self.retry_after = retry_after


class PermanentProviderError(ProviderError):
    """Retrying cannot help (validation, moderation, authentication, unknown job)."""


class VideoProvider(ABC):
    """One video-generation service. The model id picks the provider (see `registry`)."""

    name: str

    @abstractmethod
    def models(self) -> list[ModelInfo]:
        """The models this provider offers, with availability."""

    @abstractmethod
    async def submit(self, request: GenerationRequest) -> str:
        """Start a job; returns the provider's job id."""

    @abstractmethod
    async def status(self, job_id: str) -> JobStatus:
        """Where the job is now."""

    @abstractmethod
    async def download(self, job_id: str, variant: Variant, dest: Path) -> int:
        """Stream a finished job's `variant` into `dest`; returns the number of bytes written."""

    async def cancel(self, job_id: str) -> bool:
        """Delete the job where the provider supports it; False when it could not be deleted."""
        return False

    async def aclose(self) -> None:  # noqa: B027  (optional: most providers hold nothing to release)
        """Release connections."""
