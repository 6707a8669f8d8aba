"""The Runway provider (Gen-4.5 and Google's Veo 3.1 from text or a photo, Gen-4 Turbo from a photo),
through the `runwayml` SDK's `text_to_video` and `image_to_video` task endpoints.

The SDK's own retries are off (`max_retries=0`): the generation job's retry policy is the only one.
Runway serves finished videos from signed, expiring output URLs and has no thumbnail endpoint, so a
download asks for the task first (fresh URLs) and the thumbnail is a frame cut from the video.
"""

from __future__ import annotations

import asyncio
import base64
import email.utils
import io
import time
from collections.abc import Awaitable, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any, TypeVar

import av
import httpx
import runwayml
from PIL import Image

from app.billing import model_catalogue
from app.config import Settings
from app.providers.base import (
    GenerationRequest,
    JobStatus,
    ModelInfo,
    PermanentProviderError,
    ProviderError,
    TransientProviderError,
    Variant,
    VideoProvider,
    catalogue_models,
)

T = TypeVar("T")

API_VERSION = "2024-11-06"
EMULATOR_PATH = "/_emulators/runway"
NO_SECRET_REASON = "RUNWAYML_API_SECRET is not set"

NEEDS_IMAGE_MESSAGE = "Runway needs a product photo: upload one or pick a trial image"
MODERATION_MESSAGE = "The prompt or image was blocked by Runway's safety system."
BUSY_MESSAGE = "The video service is busy right now; we'll keep trying."
UNREACHABLE_MESSAGE = "The video service could not be reached; we'll keep trying."
CREDENTIALS_MESSAGE = "Runway rejected our credentials; an administrator needs to check the Runway settings."
NOT_READY_MESSAGE = "The video is not finished at Runway yet."
GONE_MESSAGE = "Runway no longer has this video."
BAD_VIDEO_MESSAGE = "The video from Runway could not be read."
_PILLOW_TYPES = {"JPEG": "image/jpeg", "PNG": "image/png", "WEBP": "image/webp"}


def _retry_after(headers: Any) -> float | None:
    """Seconds to wait, from `retry-after-ms`, or `retry-after` as seconds or an HTTP date."""
    if headers is None:
        return None
    if (ms := headers.get("retry-after-ms")) is not None:
        try:
            return max(0.0, float(ms) / 1000)
        except ValueError:
            pass
    if (value := headers.get("retry-after")) is not None:
        try:
            return max(0.0, float(value))
        except ValueError:
            parsed = email.utils.parsedate_to_datetime(value) if value else None
            if parsed is not None:
                return max(0.0, parsed.timestamp() - time.time())
    return None


def _api_message(exc: runwayml.APIStatusError) -> tuple[str, str | None]:
    """The API's own message (`error`) and the first failing field, from the error body."""
    body = exc.body if isinstance(exc.body, dict) else {}
    message = str(body.get("error") or exc.message)
    issues = body.get("issues") if isinstance(body.get("issues"), list) else []
    path = issues[0].get("path") if issues and isinstance(issues[0], dict) else None
    field = str(path[0]) if isinstance(path, list) and path else None
    if field is None and ":" in message:
        field = message.split(":", 1)[0].split(".")[0]
    return message, field


def _readable(message: str, field: str | None) -> str:
    """Runway's validation message in words a marketer understands."""
    lowered = message.lower()
    if "safety" in lowered or "moderation" in lowered:
        return MODERATION_MESSAGE
    if field == "promptImage":
        return (
            "The product photo could not be used by Runway: it must be a JPEG, PNG or WebP picture "
            "no more than twice as wide as it is tall (or tall as it is wide)."
        )
    if field == "promptText":
        return "Runway accepts descriptions of 1 to 1,000 characters."
    if field == "ratio":
        return "Runway cannot make a video of that size."
    if field == "duration":
        return "Runway cannot make a video of that length with this model."
    if field == "model":
        return "Runway does not offer that model."
    return f"Runway refused the request: {message}"


def map_error(exc: Exception) -> ProviderError:
    """An SDK exception as our own error: transient (worth retrying) or permanent."""
    if isinstance(exc, ProviderError):
        return exc
    if isinstance(exc, runwayml.APITimeoutError):
        return TransientProviderError(f"Runway request timed out: {exc}", user_message=BUSY_MESSAGE)
    if isinstance(exc, runwayml.APIConnectionError):
        return TransientProviderError(f"Runway unreachable: {exc}", user_message=UNREACHABLE_MESSAGE)
    if isinstance(exc, runwayml.APIStatusError):
        message, field = _api_message(exc)
        status = exc.status_code
        detail = f"Runway answered {status}: {message}"
        if status in (408, 409, 429) or status >= 500:
            return TransientProviderError(
                detail, retry_after=_retry_after(exc.response.headers), user_message=BUSY_MESSAGE, status_code=status
            )
        if status in (401, 403):
            return PermanentProviderError(detail, user_message=CREDENTIALS_MESSAGE, status_code=status)
        if status == 404:
            return PermanentProviderError(detail, user_message=GONE_MESSAGE, status_code=status)
        return PermanentProviderError(detail, user_message=_readable(message, field), code=field, status_code=status)
    if isinstance(exc, runwayml.RunwayMLError):
        return PermanentProviderError(f"Runway client error: {exc}")
    raise exc


def job_status(task: Any) -> JobStatus:
    """A Runway task as our job status: PENDING/THROTTLED queued, RUNNING in progress, then finished."""
    state = task.status
    if state in ("PENDING", "THROTTLED"):
        return JobStatus(state="queued")
    if state == "RUNNING":
        return JobStatus(state="in_progress", progress=max(0, min(99, int(round((task.progress or 0) * 100)))))
    if state == "SUCCEEDED":
        return JobStatus(state="completed", progress=100)
    if state == "CANCELLED":
        return JobStatus(state="failed", error_code="CANCELLED", error_message="The video was cancelled at Runway.")
    code = getattr(task, "failure_code", None) or "FAILED"
    failure = getattr(task, "failure", None) or "no reason given"
    if "SAFETY" in code.upper():
        message = MODERATION_MESSAGE
    elif code.upper().startswith("ASSET"):
        message = "Runway could not use the product photo for this video."
    else:
        message = f"Runway could not make this video ({failure.rstrip('.')})."
    return JobStatus(state="failed", error_code=code, error_message=message)


def data_uri(image: bytes, content_type: str | None) -> str:
    """The image as a base64 data URI, with its real media type."""
    if not content_type:
        try:
            with Image.open(io.BytesIO(image)) as picture:
                content_type = _PILLOW_TYPES.get(picture.format or "", "image/png")
        except OSError:
            content_type = "image/png"
    return f"data:{content_type};base64,{base64.b64encode(image).decode('ascii')}"


def cut_frame(video: Path, out: Path, image_format: str, at: float = 1.0) -> None:
    """Save the frame nearest `at` seconds (or the middle of a shorter clip) as `image_format` (WEBP or JPEG)."""
    with av.open(str(video)) as container:
        stream = container.streams.video[0]
        length = float(stream.duration * stream.time_base) if stream.duration else 0.0
        target = min(at, length / 2) if length else 0.0
        chosen = None
        for frame in container.decode(stream):
            chosen = frame
            if frame.time is not None and frame.time >= target:
                break
        if chosen is None:
            raise ValueError("the video has no frames")
        image = chosen.to_image()
    image.save(out, format=image_format, quality=85 if image_format == "JPEG" else 80)


class RunwayProvider(VideoProvider):
    name = "runway"

    def __init__(
        self,
        *,
        api_key: str | None,
        base_url: str | None,
        timeout: float = 60.0,
        download_timeout: float = 300.0,
        available: bool = True,
        reason: str | None = None,
        default_headers: dict[str, str] | None = None,
    ):
        self.api_key, self.base_url = api_key, base_url
        self.timeout, self.download_timeout = timeout, download_timeout
        self.available, self.reason = available, reason
        self.default_headers = default_headers

    @classmethod
    def from_settings(cls, settings: Settings) -> RunwayProvider:
        """The emulator (mounted in the app, or RUNWAYML_BASE_URL when set) outside production without a
        secret or with USE_MOCK_RUNWAY; otherwise RUNWAYML_API_SECRET against the real API."""
        if settings.use_runway_emulator:
            base = settings.runwayml_base_url or f"{settings.base_url}{EMULATOR_PATH}"
            return cls(api_key="emulator", base_url=base)
        available = bool(settings.runwayml_api_secret)
        return cls(
            api_key=settings.runwayml_api_secret,
            base_url=settings.runwayml_base_url,
            available=available,
            reason=None if available else NO_SECRET_REASON,
        )

    def models(self) -> list[ModelInfo]:
        return catalogue_models(self.name, available=self.available, reason=self.reason)

    @asynccontextmanager
    async def _client(self):
        """A client per call: the worker and the web app run on different event loops."""
        if not self.available:
            raise PermanentProviderError(
                self.reason or "Runway is not configured", user_message="This model is not available right now."
            )
        client = runwayml.AsyncRunwayML(
            api_key=self.api_key or "missing",
            base_url=self.base_url,
            runway_version=API_VERSION,
            max_retries=0,
            timeout=self.timeout,
            default_headers=self.default_headers,
        )
        try:
            yield client
        finally:
            await client.close()

    async def _run(self, call: Callable[[runwayml.AsyncRunwayML], Awaitable[T]]) -> T:
        try:
            async with self._client() as client:
                return await call(client)
        except ProviderError:
            raise
        except runwayml.RunwayMLError as exc:
            raise map_error(exc) from exc

    async def submit(self, request: GenerationRequest) -> str:
        # A model we do not know is sent as it is: Runway's answer says what it offers.
        entry = model_catalogue.get(request.model)
        text_sizes, audio = (entry.text_sizes(), entry.audio) if entry else ([], False)
        from_image = request.reference_image is not None
        if not from_image and request.size not in text_sizes:
            raise PermanentProviderError(
                f"{request.model} cannot make {request.size} without a reference image",
                user_message=NEEDS_IMAGE_MESSAGE,
                code="promptImage",
            )
        width, _, height = request.size.partition("x")
        kwargs: dict[str, Any] = {
            "model": request.model,
            "prompt_text": request.prompt,
            "ratio": f"{width}:{height}",
            "duration": request.seconds,
        }
        if audio:
            kwargs["audio"] = request.audio
            if request.negative_prompt:
                kwargs["negative_prompt"] = request.negative_prompt
        if from_image:
            kwargs["prompt_image"] = data_uri(request.reference_image, request.reference_content_type)
            task = await self._run(lambda c: c.image_to_video.create(**kwargs))
        else:
            task = await self._run(lambda c: c.text_to_video.create(**kwargs))
        return task.id

    async def status(self, job_id: str) -> JobStatus:
        task = await self._run(lambda c: c.tasks.retrieve(job_id))
        return job_status(task)

    async def _output_url(self, job_id: str) -> str:
        """The finished task's output URL, fresh (Runway's links expire)."""
        task = await self._run(lambda c: c.tasks.retrieve(job_id))
        if task.status != "SUCCEEDED":
            raise PermanentProviderError(
                f"Runway task {job_id} is {task.status}, not SUCCEEDED", user_message=NOT_READY_MESSAGE
            )
        if not task.output:
            raise PermanentProviderError(f"Runway task {job_id} succeeded without an output", user_message=GONE_MESSAGE)
        return task.output[0]

    async def _fetch(self, job_id: str, url: str, partial: Path) -> int:
        """Stream `url` into `partial` (no Runway credentials: output links are signed, public URLs)."""
        written = 0
        async with httpx.AsyncClient(timeout=self.download_timeout, follow_redirects=True) as http:
            async with http.stream("GET", url) as response:
                status = response.status_code
                if status in (401, 403) or status == 429 or status >= 500:
                    # An expired link is fixed by asking for the task again, which signs a fresh one.
                    raise TransientProviderError(
                        f"Download of {job_id} answered {status}",
                        retry_after=_retry_after(response.headers),
                        user_message=BUSY_MESSAGE,
                        status_code=status,
                    )
                if status != 200:
                    raise PermanentProviderError(
                        f"Download of {job_id} answered {status}", user_message=GONE_MESSAGE, status_code=status
                    )
                with partial.open("wb") as out:
                    async for chunk in response.aiter_bytes():
                        out.write(chunk)
                        written += len(chunk)
        return written

    async def download(self, job_id: str, variant: Variant, dest: Path) -> int:
        dest.parent.mkdir(parents=True, exist_ok=True)
        partial = dest.with_name(dest.name + ".part")
        video = partial if variant == "video" else dest.with_name(dest.name + ".video.part")
        try:
            url = await self._output_url(job_id)
            written = await self._fetch(job_id, url, video)
            if variant == "thumbnail":
                try:
                    # WebP (what the pipeline stores posters as), or JPEG when asked for a .jpg.
                    kind = "JPEG" if dest.suffix.lower() in (".jpg", ".jpeg") else "WEBP"
                    await asyncio.to_thread(cut_frame, video, partial, kind)
                except (av.FFmpegError, ValueError, OSError) as exc:
                    raise PermanentProviderError(
                        f"No frame in the video of {job_id}: {exc}", user_message=BAD_VIDEO_MESSAGE
                    ) from exc
                written = partial.stat().st_size
        except ProviderError:
            partial.unlink(missing_ok=True)
            raise
        except httpx.TimeoutException as exc:
            partial.unlink(missing_ok=True)
            raise TransientProviderError(f"Download of {job_id} timed out: {exc}", user_message=BUSY_MESSAGE) from exc
        except httpx.TransportError as exc:  # the connection failed or broke mid-body
            partial.unlink(missing_ok=True)
            raise TransientProviderError(f"Download of {job_id} failed: {exc}", user_message=BUSY_MESSAGE) from exc
        finally:
            if video != partial:
                video.unlink(missing_ok=True)
        partial.replace(dest)
        return written

    async def cancel(self, job_id: str) -> bool:
        try:
            await self._run(lambda c: c.tasks.delete(job_id))
        except ProviderError:
            return False
        return True
