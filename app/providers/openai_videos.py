"""The OpenAI Videos API (Sora 2) provider, through the `openai` SDK's `client.videos`.

The SDK's own retries are off (`max_retries=0`): the generation job's retry policy is the only one.
"""

from __future__ import annotations

import asyncio
import email.utils
import time
import warnings
import weakref
from collections.abc import Awaitable, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import urlsplit

import httpx2
import openai

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

EMULATOR_PATH = "/_emulators/openai/v1"
SHUTDOWN_REASON = "OpenAI shut down the Sora video API on 24 Sep 2026; set OPENAI_BASE_URL to an OpenAI-compatible host"
RETIRED_REASON = (
    "OpenAI retired the Sora video API on 24 Sep 2026 and OPENAI_BASE_URL points at OpenAI itself; "
    "point it at an OpenAI-compatible host"
)
DURATIONS = [4, 8, 12]
SIZES_720P = ["1280x720", "720x1280"]
SIZES_PRO = [*SIZES_720P, "1792x1024", "1024x1792"]
EXTENSIONS = {"image/png": "png", "image/jpeg": "jpg", "image/webp": "webp"}

MODERATION_MESSAGE = "The prompt or image was blocked by the provider's safety system."
BUSY_MESSAGE = "The video service is busy right now; we'll keep trying."
UNREACHABLE_MESSAGE = "The video service could not be reached; we'll keep trying."
CREDENTIALS_MESSAGE = "The video service rejected our credentials; an administrator needs to check the OpenAI settings."


def points_at_openai(base_url: str | None) -> bool:
    """Whether `base_url` is OpenAI's own API (which no longer serves Sora), not a compatible host."""
    host = (urlsplit(base_url).hostname or "").lower() if base_url else ""
    return host == "openai.com" or host.endswith(".openai.com")


def _quiet_call(fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    """Call an SDK method without its Sora-shutdown DeprecationWarning (emitted when the method is called)."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="The Sora API", category=DeprecationWarning)
        return fn(*args, **kwargs)


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


def _api_message(exc: openai.APIStatusError) -> tuple[str, str | None, str | None]:
    """The API's own message, code and param from the error envelope."""
    body = exc.body if isinstance(exc.body, dict) else {}
    error = body.get("error", body) if isinstance(body.get("error", body), dict) else {}
    return str(error.get("message") or exc.message), error.get("code") or exc.code, error.get("param") or exc.param


def _readable(message: str, code: str | None, param: str | None) -> str:
    """The API's validation message in words a marketer understands."""
    text = message.lower()
    if code and "moderation" in code or "moderation" in text or "safety" in text:
        return MODERATION_MESSAGE
    if "inpaint image" in text or (param or "").startswith("input_reference"):
        return (
            "The reference image could not be used: it must be a JPEG, PNG or WebP picture of exactly the video's size."
        )
    if param == "prompt":
        return "The description must be between 1 and 32,000 characters."
    if param == "size":
        return "This model cannot make a video of that size."
    if param == "seconds":
        return "This model cannot make a video of that length."
    if param == "model":
        return "The video service does not offer that model."
    if code == "video_expired":
        return "The finished video expired at the video service before we could fetch it."
    return f"The video service refused the request: {message}"


def map_error(exc: Exception) -> ProviderError:
    """An SDK exception as our own error: transient (worth retrying) or permanent."""
    if isinstance(exc, ProviderError):
        return exc
    if isinstance(exc, openai.APITimeoutError):
        return TransientProviderError(f"OpenAI request timed out: {exc}", user_message=BUSY_MESSAGE)
    if isinstance(exc, openai.APIConnectionError):
        return TransientProviderError(f"OpenAI unreachable: {exc}", user_message=UNREACHABLE_MESSAGE)
    if isinstance(exc, openai.APIStatusError):
        message, code, param = _api_message(exc)
        status = exc.status_code
        detail = f"OpenAI answered {status}: {message} (code={code}, param={param}, request={exc.request_id})"
        if status in (408, 409, 429) or status >= 500:
            return TransientProviderError(
                detail,
                retry_after=_retry_after(exc.response.headers),
                user_message=BUSY_MESSAGE,
                code=code,
                status_code=status,
            )
        if status in (401, 403):
            return PermanentProviderError(detail, user_message=CREDENTIALS_MESSAGE, code=code, status_code=status)
        if status == 404:
            return PermanentProviderError(
                detail, user_message="The video service no longer knows this video.", code=code, status_code=status
            )
        return PermanentProviderError(
            detail, user_message=_readable(message, code, param), code=code, status_code=status
        )
    if isinstance(exc, openai.OpenAIError):
        return PermanentProviderError(f"OpenAI client error: {exc}")
    raise exc


def _job_status(video: Any) -> JobStatus:
    if video.status == "failed":
        error = video.error
        code = getattr(error, "code", None) or "generation_failed"
        raw = getattr(error, "message", None) or "The video could not be generated."
        message = MODERATION_MESSAGE if "moderation" in code else f"The video service could not make this video: {raw}"
        return JobStatus(state="failed", progress=int(video.progress or 0), error_code=code, error_message=message)
    progress = 100 if video.status == "completed" else int(video.progress or 0)
    return JobStatus(state=video.status, progress=max(0, min(100, progress)))


# One SDK client per event loop (its connection pool belongs to the loop: the worker and the web app have
# their own) and per key, address, timeout and headers.
_clients: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, dict[tuple, openai.AsyncOpenAI]] = (
    weakref.WeakKeyDictionary()
)


class OpenAIVideosProvider(VideoProvider):
    name = "openai"

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
    def from_settings(cls, settings: Settings) -> OpenAIVideosProvider:
        """The emulator (mounted in the app, or OPENAI_BASE_URL when set) outside production without a
        key; otherwise OPENAI_API_KEY against OPENAI_BASE_URL, since api.openai.com no longer serves Sora."""
        if points_at_openai(settings.openai_base_url):
            return cls(
                api_key=settings.openai_api_key,
                base_url=settings.openai_base_url,
                available=False,
                reason=RETIRED_REASON,
            )
        if settings.use_sora_emulator:
            base = settings.openai_base_url or f"{settings.base_url}{EMULATOR_PATH}"
            return cls(api_key="emulator", base_url=base)
        available = bool(settings.openai_api_key and settings.openai_base_url)
        return cls(
            api_key=settings.openai_api_key,
            base_url=settings.openai_base_url,
            available=available,
            reason=None if available else SHUTDOWN_REASON,
        )

    def models(self) -> list[ModelInfo]:
        return catalogue_models(self.name, available=self.available, reason=self.reason)

    @asynccontextmanager
    async def _client(self, timeout: float | None = None):
        """This event loop's client for these settings (kept: a fresh one per call cost a TLS context and a connection)."""
        if not self.available:
            raise PermanentProviderError(
                self.reason or "OpenAI is not configured", user_message="This model is not available right now."
            )
        timeout = timeout or self.timeout
        key = (self.api_key, self.base_url, timeout, tuple(sorted((self.default_headers or {}).items())))
        per_loop = _clients.setdefault(asyncio.get_running_loop(), {})
        if key not in per_loop:
            per_loop[key] = openai.AsyncOpenAI(
                api_key=self.api_key or "missing",
                base_url=self.base_url,
                max_retries=0,
                timeout=timeout,
                default_headers=self.default_headers,
            )
        yield per_loop[key]

    async def _run(self, call: Callable[[openai.AsyncOpenAI], Awaitable[T]]) -> T:
        try:
            async with self._client() as client:
                return await call(client)
        except ProviderError:
            raise
        except openai.OpenAIError as exc:
            raise map_error(exc) from exc

    async def submit(self, request: GenerationRequest) -> str:
        kwargs: dict[str, Any] = {
            "prompt": request.prompt,
            "model": request.model,
            "seconds": str(request.seconds),
            "size": request.size,
        }
        if request.reference_image is not None:
            content_type = request.reference_content_type or "image/png"
            kwargs["input_reference"] = (
                f"reference.{EXTENSIONS.get(content_type, 'png')}",
                request.reference_image,
                content_type,
            )
        video = await self._run(lambda c: _quiet_call(c.videos.create, **kwargs))
        return video.id

    async def status(self, job_id: str) -> JobStatus:
        video = await self._run(lambda c: _quiet_call(c.videos.retrieve, job_id))
        return _job_status(video)

    async def download(self, job_id: str, variant: Variant, dest: Path) -> int:
        dest.parent.mkdir(parents=True, exist_ok=True)
        partial = dest.with_name(dest.name + ".part")
        written = 0
        try:
            async with self._client(self.download_timeout) as client:
                stream = _quiet_call(client.videos.with_streaming_response.download_content, job_id, variant=variant)
                async with stream as response:
                    with partial.open("wb") as out:
                        async for chunk in response.iter_bytes():
                            out.write(chunk)
                            written += len(chunk)
        except ProviderError:
            partial.unlink(missing_ok=True)
            raise
        except openai.OpenAIError as exc:
            partial.unlink(missing_ok=True)
            raise map_error(exc) from exc
        except httpx2.TransportError as exc:  # the connection broke mid-body; the SDK does not wrap this
            partial.unlink(missing_ok=True)
            raise TransientProviderError(f"Download of {job_id} failed: {exc}", user_message=BUSY_MESSAGE) from exc
        partial.replace(dest)
        return written

    async def cancel(self, job_id: str) -> bool:
        try:
            result = await self._run(lambda c: _quiet_call(c.videos.delete, job_id))
        except ProviderError:
            return False
        return bool(result.deleted)
