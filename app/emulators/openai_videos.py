"""A faithful emulator of the OpenAI Videos API (Sora 2), as the `openai` SDK calls it.

Routes (relative to the app's root, which plays the role of `https://api.openai.com/v1`):
`POST /videos` (multipart or JSON), `GET /videos` (cursor paging), `GET|DELETE /videos/{id}`,
`POST /videos/{id}/remix`, `GET /videos/{id}/content?variant=video|thumbnail|spritesheet`.
Every answer carries `x-request-id`; errors use the API's envelope
`{"error": {"message", "type", "param", "code"}}`; a request without `Authorization: Bearer <key>`
gets 401 (any non-empty key is accepted unless the emulator was given one).

A job is `queued` for its first moments, then `in_progress` with a rising `progress`, and
`completed` once `generation_seconds` have passed and its real H.264 MP4 (plus a WebP thumbnail and
a JPEG spritesheet) has been rendered in a worker thread; assets expire an hour after completion.

Faults on demand, by a marker anywhere in the prompt (`[fault:KIND]` or `[fault:KINDxN]`) or by the
request header `x-emulator-fault: KIND[xN][, KIND...]` (on create, the header acts like markers):
- `429` / `500` / `502` / `503` (`xN`, default 1): the first N create calls with that prompt answer
  that status (429 carries `retry-after-ms` and `retry-after`); the next one succeeds. Counts are
  kept per prompt for the emulator's lifetime, so use a distinct prompt per test. Sent as a header
  on any other route, the request answers that status every time.
- `moderation`: the job is accepted, then fails with `error.code = "moderation_blocked"`.
- `stuck`: the job stays `in_progress` (progress stops at 50) forever.
- `content-502` (`xN`, default 1): the first N content downloads of the job answer 502.
- `expired`: the job completes with `expires_at == completed_at`, so its content is refused.
- `slow`: the request waits 3 seconds before answering (for client timeouts).

Run it on its own: `python -m app.emulators.openai_videos --port 8765` (base URL
`http://127.0.0.1:8765/v1`).
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import binascii
import io
import json
import secrets
import tempfile
import time
from pathlib import Path
from typing import Any

import anyio.to_thread
from litestar import Litestar, Request, Response, Router, delete, get, post
from litestar.datastructures import UploadFile
from litestar.exceptions import HTTPException, NotFoundException
from litestar.params import FromPath
from litestar.response import File
from PIL import Image, UnidentifiedImageError

from app.emulators.openai_jobs import (
    ALL_SIZES,
    BASE_SIZES,
    MODELS,
    REQUEST_FAULTS,
    SECONDS,
    VARIANTS,
    Job,
    JobStore,
    JobView,
    is_pro,
    parse_faults,
)

FAULT_HEADER = "x-emulator-fault"
SLOW_SECONDS = 3.0
RETRY_AFTER_MS = 200
MAX_PROMPT = 32_000
CREATE_FIELDS = {"prompt", "model", "seconds", "size", "input_reference"}


class ApiError(Exception):
    """An error answered with the OpenAI error envelope."""

    def __init__(
        self,
        status: int,
        message: str,
        *,
        type: str = "invalid_request_error",
        param: str | None = None,
        code: str | None = None,
        headers: dict[str, str] | None = None,
    ):
        super().__init__(message)
        self.status, self.message, self.type, self.param, self.code = status, message, type, param, code
        self.headers = headers or {}

    def response(self) -> Response:
        body = {"error": {"message": self.message, "type": self.type, "param": self.param, "code": self.code}}
        return Response(body, status_code=self.status, headers=self.headers, media_type="application/json")


def _quoted(values: tuple[str, ...]) -> str:
    items = [f"'{v}'" for v in values]
    return ", ".join(items[:-1]) + f", and {items[-1]}" if len(items) > 2 else " and ".join(items)


def _type_name(value: Any) -> str:
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int):
        return "an integer"
    if isinstance(value, float):
        return "a decimal"
    if isinstance(value, list):
        return "an array"
    if isinstance(value, dict):
        return "an object"
    if value is None:
        return "null"
    return "a string"


def _status_fault(kind: str) -> ApiError:
    if kind == "429":
        return ApiError(
            429,
            f"Rate limit reached for requests. Please try again in {RETRY_AFTER_MS}ms.",
            type="requests",
            code="rate_limit_exceeded",
            headers={"retry-after-ms": str(RETRY_AFTER_MS), "retry-after": "1"},
        )
    if kind == "500":
        return ApiError(
            500, "The server had an error while processing your request. Sorry about that!", type="server_error"
        )
    if kind == "503":
        return ApiError(503, "The engine is currently overloaded, please try again later.", type="server_error")
    return ApiError(502, "Bad gateway.", type="server_error")


def _video(job: Job, store: JobStore, *, just_created: bool = False) -> dict:
    """The 13-key video object, every key present (a job is always `queued` in its create answer)."""
    view = JobView("queued", 0) if just_created else store.view(job)
    return {
        "id": job.id,
        "object": "video",
        "model": job.model,
        "status": view.status,
        "progress": view.progress,
        "created_at": job.created_at,
        "completed_at": job.completed_at if view.status == "completed" else None,
        "expires_at": job.expires_at if view.status == "completed" else None,
        "prompt": job.prompt,
        "size": job.size,
        "seconds": job.seconds,
        "remixed_from_video_id": job.remixed_from_video_id,
        "error": view.error,
    }


async def _body(request: Request) -> tuple[dict[str, Any], bool]:
    """The request's fields and whether they came as multipart/form data."""
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type in ("multipart/form-data", "application/x-www-form-urlencoded"):
        form = await request.form()
        return {key: form.get(key) for key in form}, True
    raw = await request.body()
    if content_type == "application/json" or (not content_type and raw):
        try:
            data = json.loads(raw or b"{}")
        except ValueError:
            raise ApiError(
                400,
                "We could not parse the JSON body of your request. (HINT: This likely means you "
                "aren't using your HTTP library correctly. The OpenAI API expects a JSON payload, "
                "but what was sent was not valid JSON.)",
            ) from None
        if not isinstance(data, dict):
            raise ApiError(
                400,
                f"Invalid type for body: expected an object, but got {_type_name(data)} instead.",
                code="invalid_type",
            )
        return data, False
    if not raw:
        return {}, False
    raise ApiError(
        400,
        f"Unsupported content type: '{content_type}'. This API method only accepts "
        "'application/json' and 'multipart/form-data' requests.",
    )


def _prompt(fields: dict[str, Any]) -> str:
    if "prompt" not in fields or fields["prompt"] is None:
        raise ApiError(400, "Missing required parameter: 'prompt'.", param="prompt", code="missing_required_parameter")
    prompt = fields["prompt"]
    if not isinstance(prompt, str):
        raise ApiError(
            400,
            f"Invalid type for 'prompt': expected a string, but got {_type_name(prompt)} instead.",
            param="prompt",
            code="invalid_type",
        )
    if not prompt:
        raise ApiError(
            400,
            "Invalid 'prompt': string too short. Expected a string with minimum length 1, "
            "but got an empty string instead.",
            param="prompt",
            code="string_below_min_length",
        )
    if len(prompt) > MAX_PROMPT:
        raise ApiError(
            400,
            f"Invalid 'prompt': string too long. Expected a string with maximum length {MAX_PROMPT}, "
            f"but got a string with length {len(prompt)} instead.",
            param="prompt",
            code="string_above_max_length",
        )
    return prompt


def _choice(fields: dict[str, Any], name: str, default: str, allowed: tuple[str, ...]) -> str:
    value = fields.get(name, default)
    if value is None:
        return default
    if not isinstance(value, str):
        expected = f"one of {_quoted(allowed).replace(', and', ', or').replace(' and ', ' or ')}"
        raise ApiError(
            400,
            f"Invalid type for '{name}': expected {expected}, but got {_type_name(value)} instead.",
            param=name,
            code="invalid_type",
        )
    if value not in allowed:
        raise ApiError(
            400,
            f"Invalid value: '{value}'. Supported values are: {_quoted(allowed)}.",
            param=name,
            code="invalid_value",
        )
    return value


async def _reference_bytes(value: Any, multipart: bool) -> bytes | None:
    if value is None:
        return None
    if isinstance(value, UploadFile):
        return await value.read()
    if isinstance(value, str):
        expected = "a file" if multipart else "an object"
        raise ApiError(
            400,
            f"Invalid type for 'input_reference': expected {expected}, but got a string instead.",
            param="input_reference",
            code="invalid_type",
        )
    if not isinstance(value, dict):
        raise ApiError(
            400,
            f"Invalid type for 'input_reference': expected an object, but got {_type_name(value)} instead.",
            param="input_reference",
            code="invalid_type",
        )
    if len({"image_url", "file_id"} & value.keys()) != 1:
        raise ApiError(
            400,
            "Invalid 'input_reference': provide exactly one of 'image_url' or 'file_id'.",
            param="input_reference",
            code="invalid_value",
        )
    if "file_id" in value:
        raise ApiError(404, f"No such File object: '{value['file_id']}'.", param="input_reference.file_id")
    url = value["image_url"]
    if isinstance(url, str) and url.startswith("data:") and ";base64," in url:
        try:
            return base64.b64decode(url.split(";base64,", 1)[1], validate=True)
        except (binascii.Error, ValueError):
            pass
    raise ApiError(
        400,
        "Invalid 'input_reference.image_url': the emulator accepts base64 data URLs only.",
        param="input_reference.image_url",
        code="invalid_value",
    )


def _check_image(data: bytes, size: str) -> None:
    try:
        with Image.open(io.BytesIO(data)) as image:
            image.verify()
            kind, dims = image.format, image.size
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError):
        kind, dims = None, None
    if kind not in ("JPEG", "PNG", "WEBP"):
        raise ApiError(
            400,
            "Invalid file format for 'input_reference'. Supported formats are: 'image/jpeg', "
            "'image/png', and 'image/webp'.",
            param="input_reference",
            code="invalid_image_format",
        )
    if f"{dims[0]}x{dims[1]}" != size:
        raise ApiError(400, "Inpaint image must match the requested width and height")


def create_openai_emulator(
    *, generation_seconds: float, storage_dir: Path, api_key: str | None = None, reuse_renders: bool = False
):
    """The emulator as an ASGI app (mount it at `/v1`, or at `/_emulators/openai/v1` in the web app)."""
    store = JobStore(generation_seconds=generation_seconds, storage_dir=Path(storage_dir), reuse_renders=reuse_renders)
    background: set[asyncio.Task] = set()

    async def request_faults(request: Request, *, counted_prompt: str | None = None) -> dict[str, int]:
        faults = parse_faults(counted_prompt or "", request.headers.get(FAULT_HEADER))
        if "slow" in faults:
            await asyncio.sleep(SLOW_SECONDS)
        if counted_prompt is None:
            header_faults = parse_faults("", request.headers.get(FAULT_HEADER))
            for kind in sorted(REQUEST_FAULTS & header_faults.keys()):
                raise _status_fault(kind)
        return faults

    def find(video_id: str) -> Job:
        job = store.jobs.get(video_id)
        if job is None:
            raise ApiError(404, f"Video with id '{video_id}' not found.", param="video_id")
        return job

    def start(job: Job) -> None:
        if store.needs_render(job):
            task = asyncio.get_running_loop().create_task(anyio.to_thread.run_sync(store.render, job))
            background.add(task)
            task.add_done_callback(background.discard)

    async def accept(
        request: Request,
        *,
        prompt: str,
        model: str,
        size: str,
        seconds: str,
        reference: bytes | None,
        remixed_from: str | None = None,
    ) -> Response:
        faults = await request_faults(request, counted_prompt=prompt)
        if kind := store.take_request_fault(faults, prompt):
            raise _status_fault(kind)
        job = store.new_job(
            model=model,
            prompt=prompt,
            size=size,
            seconds=seconds,
            faults=faults,
            reference=reference,
            remixed_from=remixed_from,
        )
        start(job)
        return Response(_video(job, store, just_created=True))

    @post("/videos", status_code=200)
    async def create_video(request: Request) -> Response:
        fields, multipart = await _body(request)
        for name in fields:
            if name not in CREATE_FIELDS:
                raise ApiError(400, f"Unknown parameter: '{name}'.", param=name, code="unknown_parameter")
        prompt = _prompt(fields)
        model = fields.get("model") or "sora-2"
        if not isinstance(model, str):
            raise ApiError(
                400,
                f"Invalid type for 'model': expected a string, but got {_type_name(model)} instead.",
                param="model",
                code="invalid_type",
            )
        if model not in MODELS:
            raise ApiError(
                400,
                f"Invalid value: '{model}'. Supported values are: {_quoted(MODELS)}.",
                param="model",
                code="invalid_value",
            )
        seconds = _choice(fields, "seconds", "4", SECONDS)
        size = _choice(fields, "size", "720x1280", ALL_SIZES)
        if size not in BASE_SIZES and not is_pro(model):
            raise ApiError(
                400,
                f"Invalid value: '{size}'. The model '{model}' supports only sizes "
                f"{_quoted(BASE_SIZES)}; use 'sora-2-pro' for '{size}'.",
                param="size",
                code="invalid_value",
            )
        reference = await _reference_bytes(fields.get("input_reference"), multipart)
        if reference is not None:
            _check_image(reference, size)
        return await accept(request, prompt=prompt, model=model, size=size, seconds=seconds, reference=reference)

    @get("/videos")
    async def list_videos(request: Request) -> Response:
        await request_faults(request)
        query = request.query_params
        order = query.get("order") or "desc"
        if order not in ("asc", "desc"):
            raise ApiError(
                400,
                f"Invalid value: '{order}'. Supported values are: 'asc' and 'desc'.",
                param="order",
                code="invalid_value",
            )
        raw_limit = query.get("limit") or "20"
        try:
            limit = int(raw_limit)
        except ValueError:
            raise ApiError(
                400,
                f"Invalid 'limit': expected an integer, but got '{raw_limit}' instead.",
                param="limit",
                code="invalid_type",
            ) from None
        if not 0 <= limit <= 100:
            bound = (
                "below minimum value. Expected a value >= 0"
                if limit < 0
                else "above maximum value. Expected a value <= 100"
            )
            raise ApiError(
                400,
                f"Invalid 'limit': integer {bound}, but got {limit} instead.",
                param="limit",
                code="integer_below_min_value" if limit < 0 else "integer_above_max_value",
            )
        jobs = sorted(store.jobs.values(), key=lambda j: j.created, reverse=order == "desc")
        if after := query.get("after"):
            ids = [j.id for j in jobs]
            jobs = jobs[ids.index(after) + 1 :] if after in ids else []
        page = jobs[:limit]
        data = [_video(j, store) for j in page]
        return Response(
            {
                "object": "list",
                "data": data,
                "first_id": data[0]["id"] if data else None,
                "last_id": data[-1]["id"] if data else None,
                "has_more": len(jobs) > len(page),
            }
        )

    @get("/videos/{video_id:str}")
    async def retrieve_video(request: Request, video_id: FromPath[str]) -> Response:
        await request_faults(request)
        job = find(video_id)
        return Response(_video(job, store), headers={"openai-poll-after-ms": str(store.poll_after_ms())})

    @delete("/videos/{video_id:str}", status_code=200)
    async def delete_video(request: Request, video_id: FromPath[str]) -> Response:
        await request_faults(request)
        job = find(video_id)
        if store.view(job).status not in ("completed", "failed"):
            raise ApiError(
                400,
                f"Video '{video_id}' is still being generated; only completed or failed videos can be deleted.",
                param="video_id",
            )
        store.delete(job)
        return Response({"id": video_id, "object": "video.deleted", "deleted": True})

    @post("/videos/{video_id:str}/remix", status_code=200)
    async def remix_video(request: Request, video_id: FromPath[str]) -> Response:
        fields, _ = await _body(request)
        for name in fields:
            if name != "prompt":
                raise ApiError(400, f"Unknown parameter: '{name}'.", param=name, code="unknown_parameter")
        prompt = _prompt(fields)
        source = find(video_id)
        if store.view(source).status != "completed":
            raise ApiError(
                400, f"Video '{video_id}' is not completed; only completed videos can be remixed.", param="video_id"
            )
        return await accept(
            request,
            prompt=prompt,
            model=source.model,
            size=source.size,
            seconds=source.seconds,
            reference=source.reference,
            remixed_from=source.id,
        )

    @get("/videos/{video_id:str}/content")
    async def video_content(request: Request, video_id: FromPath[str]) -> Response | File:
        await request_faults(request)
        variant = request.query_params.get("variant") or "video"
        if variant not in VARIANTS:
            raise ApiError(
                400,
                f"Invalid value: '{variant}'. Supported values are: {_quoted(tuple(VARIANTS))}.",
                param="variant",
                code="invalid_value",
            )
        job = find(video_id)
        view = store.view(job)
        if view.status != "completed":
            raise ApiError(
                400,
                f"Video '{video_id}' is not ready yet (status: {view.status}); its content can be "
                "downloaded once it is completed.",
                param="video_id",
                code="video_not_ready",
            )
        if job.expires_at is not None and time.time() >= job.expires_at:
            raise ApiError(
                400,
                f"The content of video '{video_id}' has expired and can no longer be downloaded.",
                param="video_id",
                code="video_expired",
            )
        if store.take_content_fault(job):
            raise _status_fault("502")
        filename, media_type = VARIANTS[variant]
        return File(
            store.asset(job, variant),
            media_type=media_type,
            filename=f"{job.id}-{filename}",
            content_disposition_type="inline",
        )

    def on_api_error(request: Request, exc: ApiError) -> Response:
        return exc.response()

    def on_http_error(request: Request, exc: HTTPException) -> Response:
        if isinstance(exc, NotFoundException) or exc.status_code == 405:
            raw = request.scope.get("raw_path", b"").decode("latin-1") or request.url.path
            return ApiError(404, f"Invalid URL ({request.method} {raw})").response()
        return ApiError(exc.status_code, str(exc.detail)).response()

    def on_crash(request: Request, exc: Exception) -> Response:
        return ApiError(
            500, "The server had an error while processing your request. Sorry about that!", type="server_error"
        ).response()

    router = Router(
        path="/",
        route_handlers=[create_video, list_videos, retrieve_video, delete_video, remix_video, video_content],
        include_in_schema=False,
    )
    app = Litestar(
        route_handlers=[router],
        exception_handlers={ApiError: on_api_error, HTTPException: on_http_error, Exception: on_crash},
        openapi_config=None,
        logging_config=None,
        request_max_body_size=64 * 1024 * 1024,
    )
    return EmulatorASGI(app, api_key=api_key, store=store)


class EmulatorASGI:
    """Bearer auth and `x-request-id` around the emulator, for every answer (unknown routes included)."""

    def __init__(self, app: Litestar, *, api_key: str | None, store: JobStore):
        self.app, self.api_key, self.store = app, api_key, store

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http":
            if scope["type"] == "lifespan":
                await self.app(scope, receive, send)
            return
        request_id = f"req_{secrets.token_hex(16)}"

        async def send_with_id(message) -> None:
            if message["type"] == "http.response.start":
                message = {**message, "headers": [*message.get("headers", []), (b"x-request-id", request_id.encode())]}
            await send(message)

        # A fresh scope: when mounted, the host app's Litestar state must not leak in.
        inner = {k: v for k, v in scope.items() if not k.startswith("litestar") and k not in ("state", "app")}
        inner["state"] = {}
        denied = self._denied(dict(scope.get("headers") or []))
        if denied is not None:
            await self._send_json(send_with_id, 401, denied)
            return
        await self.app(inner, receive, send_with_id)

    def _denied(self, headers: dict[bytes, bytes]) -> dict | None:
        auth = headers.get(b"authorization", b"").decode("latin-1")
        scheme, _, key = auth.partition(" ")
        key = key.strip()
        if scheme.lower() != "bearer" or not key:
            return {
                "error": {
                    "message": "You didn't provide an API key. You need to provide your API key in an "
                    "Authorization header using Bearer auth (i.e. Authorization: Bearer "
                    "YOUR_KEY).",
                    "type": "invalid_request_error",
                    "param": None,
                    "code": None,
                }
            }
        if self.api_key is not None and key != self.api_key:
            shown = f"{key[:3]}***{key[-4:]}" if len(key) > 8 else "***"
            return {
                "error": {
                    "message": f"Incorrect API key provided: {shown}.",
                    "type": "invalid_request_error",
                    "param": None,
                    "code": "invalid_api_key",
                }
            }
        return None

    @staticmethod
    async def _send_json(send, status: int, body: dict) -> None:
        payload = json.dumps(body).encode()
        await send(
            {
                "type": "http.response.start",
                "status": status,
                "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(payload)).encode())],
            }
        )
        await send({"type": "http.response.body", "body": payload})


class AtPrefix:
    """Serve an ASGI app under a path prefix (the emulator's `/v1`) when it runs on its own port."""

    def __init__(self, app, prefix: str = "/v1"):
        self.app, self.prefix = app, prefix.rstrip("/")

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] == "http":
            path = scope["path"]
            if path.startswith(self.prefix + "/"):
                # ASGI: `path` keeps the prefix and `root_path` names it; the app routes on the rest.
                scope = {**scope, "root_path": scope.get("root_path", "") + self.prefix}
        await self.app(scope, receive, send)


def standalone_app(
    *, generation_seconds: float, storage_dir: Path, api_key: str | None = None, reuse_renders: bool = False
):
    """The emulator with its routes under `/v1`, as on api.openai.com."""
    return AtPrefix(
        create_openai_emulator(
            generation_seconds=generation_seconds, storage_dir=storage_dir, api_key=api_key, reuse_renders=reuse_renders
        )
    )


def main(argv: list[str] | None = None) -> None:
    """Serve the emulator on its own port: its base URL is http://HOST:PORT/v1."""
    import uvicorn

    parser = argparse.ArgumentParser(prog="python -m app.emulators.openai_videos", description=main.__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument("--generation-seconds", type=float, default=6.0)
    parser.add_argument("--storage-dir", type=Path, default=None, help="default: a temporary folder")
    parser.add_argument("--api-key", default=None, help="accept only this key (default: any non-empty key)")
    parser.add_argument(
        "--reuse-renders",
        action="store_true",
        help="render one clip per size and length and copy it for later jobs (benchmarks)",
    )
    args = parser.parse_args(argv)
    storage = args.storage_dir or Path(tempfile.mkdtemp(prefix="openai-emulator-"))
    print(f"OpenAI Videos emulator: http://{args.host}:{args.port}/v1 (files in {storage})")
    uvicorn.run(
        standalone_app(
            generation_seconds=args.generation_seconds,
            storage_dir=storage,
            api_key=args.api_key,
            reuse_renders=args.reuse_renders,
        ),
        host=args.host,
        port=args.port,
        log_level="warning",
    )


if __name__ == "__main__":
    main()
