"""Google Veo 3.1 (text or image to video, optional generated audio), through the `google-genai` SDK.

`google-genai` 3.x generates videos only on the Vertex AI surface; with an API key alone that is
"express mode": `genai.Client(vertexai=True, api_key=GOOGLE_API_KEY)`. A job is a long-running
operation (`models.generate_videos(source=...)`, then `operations.get` until done); its id is the
operation's name. Without a Cloud Storage `storageUri` the finished operation carries the MP4 inline,
so the video is fetched server-side (a browser is never sent to Google) and the thumbnail is a frame
cut from it. The SDK's own retries stay off: the generation job's retry policy is the only one.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any, TypeVar

import av
import httpx
import httpx2
from google import genai
from google.genai import errors as genai_errors
from google.genai import types

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
from app.providers.runway import cut_frame

T = TypeVar("T")

EMULATOR_PATH = "/_emulators/veo"
NO_KEY_REASON = "GOOGLE_API_KEY is not set"
# Our size -> Veo's (aspect ratio, resolution).
SIZES = {
    "1280x720": ("16:9", "720p"),
    "720x1280": ("9:16", "720p"),
    "1920x1080": ("16:9", "1080p"),
    "1080x1920": ("9:16", "1080p"),
}

MODERATION_MESSAGE = "The prompt or image was blocked by Google's safety filters."
BUSY_MESSAGE = "The video service is busy right now; we'll keep trying."
UNREACHABLE_MESSAGE = "The video service could not be reached; we'll keep trying."
CREDENTIALS_MESSAGE = "Google rejected our credentials; an administrator needs to check GOOGLE_API_KEY."
GONE_MESSAGE = "Google no longer has this video."
NOT_READY_MESSAGE = "The video is not finished at Google yet."
BAD_VIDEO_MESSAGE = "The video from Google could not be read."
_TRANSPORT_ERRORS = (httpx.TransportError, httpx2.TransportError, asyncio.TimeoutError, ConnectionError)
_SAFETY_WORDS = ("usage guidelines", "safety", "responsible ai", "blocked", "filtered")


def _retry_after(exc: genai_errors.APIError) -> float | None:
    headers = getattr(getattr(exc, "response", None), "headers", None)
    value = headers.get("retry-after") if headers is not None else None
    try:
        return max(0.0, float(value)) if value is not None else None
    except ValueError:
        return None


def _readable(message: str) -> str:
    """Google's validation message in words a marketer understands."""
    lowered = message.lower()
    if any(word in lowered for word in _SAFETY_WORDS):
        return MODERATION_MESSAGE
    if "aspect ratio" in lowered or "resolution" in lowered:
        return "Veo cannot make a video of that size."
    if "duration" in lowered:
        return "Veo makes videos of 4, 6 or 8 seconds."
    if "image" in lowered:
        return "The product photo could not be used by Veo: it must be a JPEG, PNG or WebP picture."
    return f"Veo refused the request: {message}"


def map_error(exc: Exception) -> ProviderError:
    """An SDK or transport exception as our own error: transient (worth retrying) or permanent."""
    if isinstance(exc, ProviderError):
        return exc
    if isinstance(exc, genai_errors.APIError):
        status, message = int(exc.code or 0), str(exc.message or exc)
        detail = f"Veo answered {status} {exc.status}: {message}"
        if status in (408, 409, 429) or status >= 500:
            return TransientProviderError(
                detail, retry_after=_retry_after(exc), user_message=BUSY_MESSAGE, code=exc.status, status_code=status
            )
        if status in (401, 403) or "api key not valid" in message.lower():
            return PermanentProviderError(detail, user_message=CREDENTIALS_MESSAGE, code=exc.status, status_code=status)
        if status == 404:
            return PermanentProviderError(detail, user_message=GONE_MESSAGE, code=exc.status, status_code=status)
        return PermanentProviderError(detail, user_message=_readable(message), code=exc.status, status_code=status)
    if isinstance(exc, (httpx.TimeoutException, httpx2.TimeoutException, asyncio.TimeoutError)):
        return TransientProviderError(f"Veo request timed out: {exc}", user_message=BUSY_MESSAGE)
    if isinstance(exc, _TRANSPORT_ERRORS):
        return TransientProviderError(f"Veo unreachable: {exc!r}", user_message=UNREACHABLE_MESSAGE)
    if isinstance(exc, (ValueError, genai_errors.UnknownApiResponseError)):
        return PermanentProviderError(f"Veo client error: {exc}")
    raise exc


def job_status(operation: types.GenerateVideosOperation) -> JobStatus:
    """A Veo operation as our job status."""
    if not operation.done:
        metadata = operation.metadata if isinstance(operation.metadata, dict) else {}
        progress = metadata.get("progressPercent")
        if isinstance(progress, (int, float)):
            return JobStatus(state="in_progress", progress=max(0, min(99, int(progress))))
        return JobStatus(state="in_progress")
    if operation.error:
        code = str(operation.error.get("code", "FAILED"))
        raw = str(operation.error.get("message") or "no reason given")
        if any(word in raw.lower() for word in _SAFETY_WORDS):
            return JobStatus(state="failed", error_code=f"SAFETY.{code}", error_message=MODERATION_MESSAGE)
        return JobStatus(
            state="failed", error_code=code, error_message=f"Veo could not make this video ({raw.rstrip('.')})."
        )
    result = operation.result or operation.response
    if result is None or not result.generated_videos:
        if result is not None and result.rai_media_filtered_count:
            return JobStatus(state="failed", error_code="SAFETY.FILTERED", error_message=MODERATION_MESSAGE)
        return JobStatus(state="failed", error_code="NO_VIDEO", error_message="Veo finished without a video.")
    return JobStatus(state="completed", progress=100)


class VeoProvider(VideoProvider):
    name = "google"

    def __init__(
        self,
        *,
        api_key: str | None,
        base_url: str | None,
        model_ids: dict[str, str],
        timeout: float = 60.0,
        download_timeout: float = 300.0,
        available: bool = True,
        reason: str | None = None,
        headers: dict[str, str] | None = None,
    ):
        self.api_key, self.base_url, self.model_ids = api_key, base_url, dict(model_ids)
        self.timeout, self.download_timeout = timeout, download_timeout
        self.available, self.reason = available, reason
        self.headers = headers

    @classmethod
    def from_settings(cls, settings: Settings) -> VeoProvider:
        """The emulator (mounted in the app, or VEO_BASE_URL when set) outside production without a key or
        with USE_MOCK_VEO; otherwise GOOGLE_API_KEY against Google (or VEO_BASE_URL)."""
        model_ids = {"veo-3.1": settings.veo_model_id, "veo-3.1-fast": settings.veo_fast_model_id}
        if settings.use_veo_emulator:
            base = settings.veo_base_url or f"{settings.base_url}{EMULATOR_PATH}"
            return cls(api_key="emulator", base_url=base, model_ids=model_ids)
        available = bool(settings.google_api_key)
        return cls(
            api_key=settings.google_api_key,
            base_url=settings.veo_base_url,
            model_ids=model_ids,
            available=available,
            reason=None if available else NO_KEY_REASON,
        )

    def models(self) -> list[ModelInfo]:
        return catalogue_models(self.name, available=self.available, reason=self.reason)

    def remote_model(self, model: str) -> str:
        """Google's id for one of our Veo models (Google renames them; the ids live in the settings)."""
        try:
            return self.model_ids[model]
        except KeyError:
            raise PermanentProviderError(
                f"Veo has no model {model!r}", user_message="Veo does not offer that model."
            ) from None

    @asynccontextmanager
    async def _client(self, timeout: float | None = None):
        """A client per call: the worker and the web app run on different event loops."""
        if not self.available:
            raise PermanentProviderError(
                self.reason or "Veo is not configured", user_message="This model is not available right now."
            )
        options = types.HttpOptions(
            base_url=self.base_url, timeout=int((timeout or self.timeout) * 1000), headers=self.headers
        )
        client = genai.Client(vertexai=True, api_key=self.api_key or "missing", http_options=options)
        try:
            yield client.aio
        finally:
            await client.aio.aclose()

    async def _run(self, call: Callable[[Any], Awaitable[T]], timeout: float | None = None) -> T:
        try:
            async with self._client(timeout) as client:
                return await call(client)
        except ProviderError:
            raise
        except Exception as exc:
            raise map_error(exc) from exc

    async def submit(self, request: GenerationRequest) -> str:
        if request.size not in SIZES:
            raise PermanentProviderError(
                f"Veo cannot make {request.size}", user_message="Veo cannot make a video of that size.", code="size"
            )
        aspect_ratio, resolution = SIZES[request.size]
        image = None
        if request.reference_image is not None:
            image = types.Image(
                image_bytes=request.reference_image, mime_type=request.reference_content_type or "image/png"
            )
        source = types.GenerateVideosSource(prompt=request.prompt, image=image)
        config = types.GenerateVideosConfig(
            number_of_videos=1,
            duration_seconds=request.seconds,
            aspect_ratio=aspect_ratio,
            resolution=resolution,
            generate_audio=request.audio,
            negative_prompt=request.negative_prompt or None,
        )
        model = self.remote_model(request.model)
        operation = await self._run(lambda c: c.models.generate_videos(model=model, source=source, config=config))
        if not operation.name:
            raise PermanentProviderError("Veo answered without an operation name")
        return operation.name

    async def _operation(self, job_id: str, timeout: float | None = None) -> types.GenerateVideosOperation:
        return await self._run(lambda c: c.operations.get(types.GenerateVideosOperation(name=job_id)), timeout)

    async def status(self, job_id: str) -> JobStatus:
        return job_status(await self._operation(job_id))

    async def _video_bytes(self, job_id: str) -> bytes:
        operation = await self._operation(job_id, self.download_timeout)
        state = job_status(operation)
        if state.state != "completed":
            raise PermanentProviderError(
                f"Veo operation {job_id} is {state.state}, not completed", user_message=NOT_READY_MESSAGE
            )
        video = (operation.result or operation.response).generated_videos[0].video
        if video is None or not video.video_bytes:
            raise PermanentProviderError(
                f"Veo operation {job_id} has no inline video (uri={video and video.uri})", user_message=GONE_MESSAGE
            )
        return video.video_bytes

    async def download(self, job_id: str, variant: Variant, dest: Path) -> int:
        dest.parent.mkdir(parents=True, exist_ok=True)
        partial = dest.with_name(dest.name + ".part")
        video = partial if variant == "video" else dest.with_name(dest.name + ".video.part")
        try:
            data = await self._video_bytes(job_id)
            await asyncio.to_thread(video.write_bytes, data)
            written = len(data)
            if variant == "thumbnail":
                kind = "JPEG" if dest.suffix.lower() in (".jpg", ".jpeg") else "WEBP"
                try:
                    await asyncio.to_thread(cut_frame, video, partial, kind)
                except (av.FFmpegError, ValueError, OSError) as exc:
                    raise PermanentProviderError(
                        f"No frame in the video of {job_id}: {exc}", user_message=BAD_VIDEO_MESSAGE
                    ) from exc
                written = partial.stat().st_size
        except ProviderError:
            partial.unlink(missing_ok=True)
            raise
        finally:
            if video != partial:
                video.unlink(missing_ok=True)
        partial.replace(dest)
        return written
