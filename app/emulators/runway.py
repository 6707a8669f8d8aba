"""A faithful emulator of the Runway API's video task endpoints, as the `runwayml` SDK calls them.

Routes (relative to the emulator's root, which plays the role of `https://api.dev.runwayml.com`):
`POST /v1/image_to_video`, `POST /v1/text_to_video`, `GET|DELETE /v1/tasks/{id}`, and
`GET /outputs/{id}.mp4?_exp=..&_sig=..`, the signed output URL a succeeded task lists (public, like Runway's CDN links; fresh on every GET,
valid for 24 hours). Every `/v1/` request needs `Authorization: Bearer <key>` (401 otherwise; any
non-empty key unless the emulator was given one) and `X-Runway-Version: 2024-11-06` (400 otherwise).
Errors are `{"error": "<message>"}`, validation errors add `issues: [{path, message}]`.

Models (see `runway_tasks.MODELS`): `gen4_turbo` (image only; 5 or 10 s), `gen4.5` (2-10 s; from an
image in six ratios, from text in 1280:720 and 720:1280) and Google's `veo3.1` / `veo3.1_fast`
(4/6/8 s; 1280:720, 720:1280, 1080:1920, 1920:1080; `audio` — default true — adds a soundtrack).

A task is PENDING for its first moments, then RUNNING with a rising `progress` (0..1), then SUCCEEDED
with `output: [url]` once `generation_seconds` have passed and its H.264 MP4 (the prompt image panned
and zoomed, or a generated scene for text to video, at exactly the ratio's size and the duration) has
been rendered in a worker thread.
DELETE cancels a task still in flight (it then reads CANCELLED) and deletes a finished one (404 after).
The emulator never fetches URLs: `promptImage` must be a base64 data URI.

Faults on demand, by a marker anywhere in `promptText` (`[fault:KIND]` or `[fault:KINDxN]`) or by the
request header `x-emulator-fault: KIND[xN][, KIND...]` (on create the header acts like markers):
- `429` / `500` / `502` / `503` (`xN`, default 1): the first N creates with that prompt answer that
  status (429 carries `retry-after`); counts are kept per prompt for the emulator's lifetime, so use a
  distinct prompt per test. As a header on any other route, that route answers the status every time.
- `moderation`: the task is accepted, then FAILED with `failureCode: "SAFETY.INPUT.TEXT"`.
- `stuck`: the task stays RUNNING (progress stops at 0.5) forever.
- `throttled` (`xN`, default 1): the first N GETs of the task show THROTTLED; its clock starts after.
- `output-502` (`xN`, default 1): the first N downloads of the output answer 502.
- `slow`: the request waits 3 seconds before answering (for client timeouts).

Run it on its own: `python -m app.emulators.runway --port 8766` (base URL `http://127.0.0.1:8766`).
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import binascii
import io
import json
import re
import tempfile
from pathlib import Path
from typing import Any

import anyio.to_thread
from litestar import Litestar, Request, Response, delete, get, post
from litestar.exceptions import HTTPException, NotFoundException
from litestar.params import FromPath
from litestar.response import File
from PIL import Image, UnidentifiedImageError

from app.emulators.runway_tasks import (
    MODELS,
    REQUEST_FAULTS,
    Task,
    TaskStore,
    iso,
    parse_faults,
)

API_VERSION = "2024-11-06"
FAULT_HEADER = "x-emulator-fault"
SLOW_SECONDS = 3.0
RETRY_AFTER_SECONDS = 1
MAX_PROMPT_TEXT = 1000
MAX_DATA_URI = 5 * 1024 * 1024
MAX_SEED = 4_294_967_295
IMAGE_TYPES = {"image/jpeg": "JPEG", "image/jpg": "JPEG", "image/png": "PNG", "image/webp": "WEBP"}
CREATE_FIELDS = {"model", "promptImage", "promptText", "ratio", "duration", "seed", "contentModeration"}
# Only the models that make a soundtrack (Google's Veo through Runway) take these.
AUDIO_FIELDS = {"audio", "negativePrompt"}
_DATA_URI = re.compile(r"^data:([^;,]+)(?:;[^;,=]+=[^;,]*)*;base64,(.*)$", re.DOTALL)


class ApiError(Exception):
    """An error answered in Runway's shape: `{"error": message}` (+ `issues` for validation)."""

    def __init__(
        self, status: int, message: str, *, issues: list[dict] | None = None, headers: dict[str, str] | None = None
    ):
        super().__init__(message)
        self.status, self.message, self.issues, self.headers = status, message, issues, headers or {}

    def response(self) -> Response:
        body: dict[str, Any] = {"error": self.message}
        if self.issues is not None:
            body["issues"] = self.issues
        return Response(body, status_code=self.status, headers=self.headers, media_type="application/json")


def invalid(path: str, message: str) -> ApiError:
    """A 400 naming the field and the reason, as Runway's validation errors do."""
    return ApiError(400, f"{path}: {message}", issues=[{"path": path.split("."), "message": message}])


def _status_fault(kind: str) -> ApiError:
    if kind == "429":
        return ApiError(
            429,
            "You have exceeded the rate limit for this API key. Please retry later.",
            headers={"retry-after": str(RETRY_AFTER_SECONDS)},
        )
    if kind == "500":
        return ApiError(500, "An internal error occurred.")
    if kind == "503":
        return ApiError(503, "Runway is shedding load. Please retry later.")
    return ApiError(502, "Bad gateway.")


def _type_name(value: Any) -> str:
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, (int, float)):
        return "number"
    if isinstance(value, list):
        return "array"
    if isinstance(value, dict):
        return "object"
    return "null" if value is None else "string"


def _expected(path: str, wanted: str, value: Any) -> ApiError:
    return invalid(path, f"Expected {wanted}, received {_type_name(value)}")


def _enum(path: str, value: Any, allowed: tuple) -> Any:
    if value not in allowed:
        shown = " | ".join(f"'{v}'" if isinstance(v, str) else str(v) for v in allowed)
        return_value = f"'{value}'" if isinstance(value, str) else json.dumps(value)
        raise invalid(path, f"Invalid enum value. Expected {shown}, received {return_value}")
    return value


async def _json_body(request: Request) -> dict[str, Any]:
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type != "application/json":
        raise ApiError(400, "The request body must be JSON (Content-Type: application/json).")
    try:
        data = json.loads(await request.body() or b"")
    except ValueError:
        raise ApiError(400, "The request body is not valid JSON.") from None
    if not isinstance(data, dict):
        raise ApiError(400, f"The request body must be an object, received {_type_name(data)}.")
    return data


def _prompt_image_uri(value: Any, model: str) -> str:
    """The first-frame image URI, from a string or `[{uri, position: "first"}]`."""
    if value is None:
        raise invalid("promptImage", "Required")
    if isinstance(value, str):
        return value
    if not isinstance(value, list):
        raise _expected("promptImage", "string | array", value)
    if len(value) != 1:
        raise invalid("promptImage", f"{model} accepts exactly one image, at position 'first'")
    item = value[0]
    if not isinstance(item, dict):
        raise _expected("promptImage.0", "object", item)
    _enum("promptImage.0.position", item.get("position"), ("first",))
    uri = item.get("uri")
    if not isinstance(uri, str):
        raise _expected("promptImage.0.uri", "string", uri)
    return uri


def _decode_image(uri: str) -> bytes:
    """The picture inside a data URI; the emulator never fetches URLs (Runway would)."""
    if uri.startswith(("https://", "http://", "runway://")):
        if uri.startswith("http://"):
            raise invalid("promptImage", "Invalid asset URL. Only HTTPS URLs are allowed.")
        raise invalid(
            "promptImage",
            "The Runway emulator does not fetch URLs; send the image as a base64 data URI (data:image/png;base64,...).",
        )
    if len(uri) > MAX_DATA_URI:
        raise invalid("promptImage", "The data URI is larger than 5MB.")
    match = _DATA_URI.match(uri)
    if not match:
        raise invalid("promptImage", "Invalid data URI.")
    media_type = match.group(1).strip().lower()
    if media_type not in IMAGE_TYPES:
        raise invalid(
            "promptImage",
            f"Unsupported asset type '{media_type}'. Supported image types are image/jpeg, image/png and image/webp.",
        )
    try:
        data = base64.b64decode(match.group(2), validate=True)
    except (binascii.Error, ValueError):
        raise invalid("promptImage", "Invalid data URI.") from None
    try:
        with Image.open(io.BytesIO(data)) as image:
            image.verify()
            kind, (width, height) = image.format, image.size
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError):
        raise invalid("promptImage", "The asset could not be decoded as an image.") from None
    if kind != IMAGE_TYPES[media_type]:
        raise invalid("promptImage", f"The data URI says {media_type} but contains a {kind} image.")
    if not 0.5 <= width / height <= 2.0:
        raise invalid("promptImage", "Invalid asset aspect ratio: width / height must be between 0.5 and 2.")
    return data


def _task_body(task: Task, store: TaskStore, view, output_root: str) -> dict[str, Any]:
    body: dict[str, Any] = {"id": task.id, "status": view.status, "createdAt": iso(task.created)}
    if view.status in ("PENDING", "THROTTLED", "RUNNING"):
        body["estimatedCost"] = {"credits": task.credits}
    else:
        charged = task.credits if view.status == "SUCCEEDED" else 0
        body["cost"] = {"credits": charged}
    if view.status == "RUNNING":
        body["progress"] = view.progress
    if view.status == "SUCCEEDED":
        body["output"] = [f"{output_root}/outputs/{task.id}.mp4?{store.signed_query(task)}"]
    if view.status == "FAILED":
        body["failure"] = view.failure
        body["failureCode"] = view.failure_code
    return body


def create_runway_emulator(
    *, generation_seconds: float, storage_dir: Path, api_key: str | None = None, public_root: str | None = None
):
    """The emulator as an ASGI app. `public_root` is the address its output URLs start with (default:
    the scheme and Host of each request, which is right when it runs on its own port)."""
    store = TaskStore(generation_seconds=generation_seconds, storage_dir=Path(storage_dir))
    background: set[asyncio.Task] = set()

    def output_root(request: Request) -> str:
        if public_root:
            return public_root.rstrip("/")
        host = request.headers.get("host", "127.0.0.1")
        return f"{request.url.scheme}://{host}"

    async def header_faults(request: Request) -> None:
        faults = parse_faults("", request.headers.get(FAULT_HEADER))
        if "slow" in faults:
            await asyncio.sleep(SLOW_SECONDS)
        for kind in sorted(REQUEST_FAULTS & faults.keys()):
            raise _status_fault(kind)

    def find(task_id: str) -> Task:
        task = store.tasks.get(task_id)
        if task is None:
            raise ApiError(404, "Task not found.")
        return task

    async def create_task(request: Request, *, from_image: bool) -> Response:
        fields = await _json_body(request)
        model = fields.get("model")
        if model is None:
            raise invalid("model", "Required")
        offered = tuple(m for m, spec in MODELS.items() if from_image or spec["text_ratios"])
        _enum("model", model, offered)
        spec = MODELS[model]
        allowed = CREATE_FIELDS | (AUDIO_FIELDS if spec["audio"] else set())
        if not from_image:
            allowed = allowed - {"promptImage"}
        for name in fields:
            if name not in allowed:
                raise invalid(name, f"Unrecognized key '{name}'")
        uri = _prompt_image_uri(fields.get("promptImage"), model) if from_image else None
        ratio = fields.get("ratio")
        if ratio is None:
            raise invalid("ratio", "Required")
        _enum("ratio", ratio, spec["image_ratios" if from_image else "text_ratios"])
        duration = fields.get("duration", spec["default_duration"])
        if duration is None:
            raise invalid("duration", "Required")
        if isinstance(duration, bool) or not isinstance(duration, int):
            raise _expected("duration", "integer", duration)
        _enum("duration", duration, spec["durations"])
        text = fields.get("promptText", "")
        if not isinstance(text, str):
            raise _expected("promptText", "string", text)
        if not from_image and "promptText" not in fields:
            raise invalid("promptText", "Required")
        if "promptText" in fields and not text.strip():
            raise invalid("promptText", "String must contain at least 1 character(s)")
        if len(text.encode("utf-16-le")) // 2 > MAX_PROMPT_TEXT:
            raise invalid("promptText", f"String must contain at most {MAX_PROMPT_TEXT} character(s)")
        seed = fields.get("seed", 0)
        if isinstance(seed, bool) or not isinstance(seed, int) or not 0 <= seed <= MAX_SEED:
            raise invalid("seed", f"Expected an integer from 0 to {MAX_SEED}")
        audio = fields.get("audio", spec["audio"])
        if not isinstance(audio, bool):
            raise _expected("audio", "boolean", audio)
        negative = fields.get("negativePrompt", "")
        if not isinstance(negative, str):
            raise _expected("negativePrompt", "string", negative)
        moderation = fields.get("contentModeration", {})
        if not isinstance(moderation, dict):
            raise _expected("contentModeration", "object", moderation)
        if "publicFigureThreshold" in moderation:
            _enum("contentModeration.publicFigureThreshold", moderation["publicFigureThreshold"], ("auto", "low"))
        image = _decode_image(uri) if uri is not None else None

        faults = parse_faults(text, request.headers.get(FAULT_HEADER))
        if "slow" in faults:
            await asyncio.sleep(SLOW_SECONDS)
        if kind := store.take_request_fault(faults, text):
            raise _status_fault(kind)
        task = store.new_task(
            model=model,
            prompt_text=text,
            ratio=ratio,
            duration=duration,
            seed=seed,
            image=image,
            faults=faults,
            audio=audio,
        )
        if store.needs_render(task):
            job = asyncio.get_running_loop().create_task(anyio.to_thread.run_sync(store.render, task))
            background.add(job)
            job.add_done_callback(background.discard)
        return Response({"id": task.id, "estimatedCost": {"credits": task.credits}})

    @post("/v1/image_to_video", status_code=200)
    async def image_to_video(request: Request) -> Response:
        return await create_task(request, from_image=True)

    @post("/v1/text_to_video", status_code=200)
    async def text_to_video(request: Request) -> Response:
        return await create_task(request, from_image=False)

    @get("/v1/tasks/{task_id:str}")
    async def retrieve_task(request: Request, task_id: FromPath[str]) -> Response:
        await header_faults(request)
        task = find(task_id)
        return Response(_task_body(task, store, store.observe(task), output_root(request)))

    @delete("/v1/tasks/{task_id:str}", status_code=204)
    async def delete_task(request: Request, task_id: FromPath[str]) -> None:
        await header_faults(request)
        task = find(task_id)
        if task.cancelled:
            raise ApiError(404, "Task not found.")
        if store.view(task).status in ("PENDING", "THROTTLED", "RUNNING"):
            task.cancelled = True
        else:
            store.delete(task)

    @get("/outputs/{name:str}")
    async def output(request: Request, name: FromPath[str]) -> Response | File:
        task = store.tasks.get(name.removesuffix(".mp4"))
        query = request.query_params
        if not name.endswith(".mp4") or task is None or store.view(task).status != "SUCCEEDED":
            return Response("Not Found", status_code=404, media_type="text/plain")
        if not store.valid_signature(task.id, query.get("_exp", ""), query.get("_sig", "")):
            return Response(
                "Access denied: the link is invalid or has expired.", status_code=403, media_type="text/plain"
            )
        if store.take_output_fault(task):
            return Response("Bad Gateway", status_code=502, media_type="text/plain")
        return File(
            store.output_path(task),
            media_type="video/mp4",
            filename=f"{task.id}.mp4",
            content_disposition_type="inline",
        )

    def on_api_error(request: Request, exc: ApiError) -> Response:
        return exc.response()

    def on_http_error(request: Request, exc: HTTPException) -> Response:
        if isinstance(exc, NotFoundException):
            return ApiError(404, "Not found.").response()
        if exc.status_code == 405:
            return ApiError(405, f"Method {request.method} is not allowed here.").response()
        return ApiError(exc.status_code, str(exc.detail)).response()

    def on_crash(request: Request, exc: Exception) -> Response:
        return ApiError(500, "An internal error occurred.").response()

    app = Litestar(
        route_handlers=[image_to_video, text_to_video, retrieve_task, delete_task, output],
        exception_handlers={ApiError: on_api_error, HTTPException: on_http_error, Exception: on_crash},
        openapi_config=None,
        logging_config=None,
        request_max_body_size=8 * 1024 * 1024,
    )
    return RunwayGate(app, api_key=api_key, store=store)


class RunwayGate:
    """Bearer auth and the version header on every `/v1/` request (unknown routes included)."""

    def __init__(self, app: Litestar, *, api_key: str | None, store: TaskStore):
        self.app, self.api_key, self.store = app, api_key, store

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http":
            if scope["type"] == "lifespan":
                await self.app(scope, receive, send)
            return
        # A fresh scope: when mounted, the host app's Litestar state must not leak in.
        inner = {k: v for k, v in scope.items() if not k.startswith("litestar") and k not in ("state", "app")}
        inner["state"] = {}
        if scope["path"].startswith("/v1/") or scope["path"] == "/v1":
            refusal = self._refusal(dict(scope.get("headers") or []))
            if refusal is not None:
                await self._send_json(send, *refusal)
                return
        await self.app(inner, receive, send)

    def _refusal(self, headers: dict[bytes, bytes]) -> tuple[int, dict] | None:
        auth = headers.get(b"authorization", b"").decode("latin-1")
        scheme, _, key = auth.partition(" ")
        key = key.strip()
        if scheme.lower() != "bearer" or not key:
            return 401, {"error": "No API key was provided. Send it as 'Authorization: Bearer <key>'."}
        if self.api_key is not None and key != self.api_key:
            return 401, {"error": "The API key is not valid."}
        version = headers.get(b"x-runway-version", b"").decode("latin-1").strip()
        if not version:
            return 400, {
                "error": "The X-Runway-Version header is required. Set it to a supported API version, "
                f"such as {API_VERSION}."
            }
        if version != API_VERSION:
            return 400, {"error": f"API version {version} is not supported. Supported versions: {API_VERSION}."}
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


MOUNT_PATH = "/_emulators/runway"


def main(argv: list[str] | None = None) -> None:
    """Serve the emulator on its own port: its base URL is http://HOST:PORT (set RUNWAYML_BASE_URL to it)."""
    import uvicorn

    parser = argparse.ArgumentParser(prog="python -m app.emulators.runway", description=main.__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8766)
    parser.add_argument("--generation-seconds", type=float, default=6.0)
    parser.add_argument("--storage-dir", type=Path, default=None, help="default: a temporary folder")
    parser.add_argument("--api-key", default=None, help="accept only this key (default: any non-empty key)")
    args = parser.parse_args(argv)
    storage = args.storage_dir or Path(tempfile.mkdtemp(prefix="runway-emulator-"))
    print(f"Runway API emulator: http://{args.host}:{args.port} (files in {storage})")
    uvicorn.run(
        create_runway_emulator(generation_seconds=args.generation_seconds, storage_dir=storage, api_key=args.api_key),
        host=args.host,
        port=args.port,
        log_level="warning",
    )


if __name__ == "__main__":
    main()
