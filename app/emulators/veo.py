"""An emulator of Google's Veo video API as the `google-genai` SDK (3.6) calls it.

The SDK generates videos only through the Vertex AI surface (`genai.Client(vertexai=True, api_key=...)`,
"express mode"); its base URL is configurable with `http_options=types.HttpOptions(base_url=...)`.
Routes, relative to the emulator's root (which plays `https://aiplatform.googleapis.com`), with
`{v}` = `v1beta1` or `v1` and an optional `projects/{p}/locations/{l}/` before `publishers`:

- `POST /{v}/publishers/google/models/{model}:predictLongRunning` — `{"instances": [{"prompt", "image":
  {"bytesBase64Encoded", "mimeType"}}], "parameters": {"aspectRatio", "durationSeconds", "resolution",
  "generateAudio", "negativePrompt", "sampleCount", "seed", ...}}` → `{"name": ".../operations/<id>"}`.
- `POST /{v}/publishers/google/models/{model}:fetchPredictOperation` — `{"operationName": name}` → the
  operation: `done` false with `metadata.progressPercent` rising, then `done` true with
  `response.videos[].bytesBase64Encoded` (the MP4 itself: without a `storageUri` Vertex returns the
  bytes inline, so the finished video is fetched server-side and no browser is ever sent to Google),
  or with `error` (`{code, message}`), or — when the safety filter blocked it — with no videos and
  `raiMediaFilteredCount`/`raiMediaFilteredReasons`.

Every request needs an API key (`x-goog-api-key` header or `?key=`): 401 without one; a wrong key (when
the emulator was given one) is a 400 `API_KEY_INVALID`, as Google answers. Errors use Google's envelope
`{"error": {"code", "message", "status"}}`. The MP4 is a real H.264 clip of the requested size and
seconds (720p: 1280×720 / 720×1280, 1080p: 1920×1080 / 1080×1920), from the image when one is given,
with an AAC soundtrack when `generateAudio` is true.

Faults, by a marker in the prompt (`[fault:KIND]`, `[fault:KINDxN]`) or the `x-emulator-fault` header:
- `429` / `500` / `502` / `503` (`xN`): the first N creates with that prompt answer that status (429
  carries `retry-after`); as a header on a fetch, that fetch answers the status.
- `safety`: the operation finishes with every video filtered out by the safety system.
- `failed`: the operation finishes with `error` code 13.
- `stuck`: the operation never finishes (progress stops at 50).
- `slow`: the request waits 3 seconds before answering.

Run it on its own: `python -m app.emulators.veo --port 8767` (base URL `http://127.0.0.1:8767`).
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
from litestar import Litestar, Request, Response, post
from litestar.exceptions import HTTPException
from litestar.params import FromPath
from PIL import Image, UnidentifiedImageError

from app.emulators.veo_operations import (
    ASPECT_RATIOS,
    DURATIONS,
    LOCATION,
    METADATA_TYPE,
    MODELS,
    PROJECT,
    REQUEST_FAULTS,
    RESOLUTIONS,
    RESPONSE_TYPE,
    SAFETY_REASON,
    Operation,
    OperationStore,
    parse_faults,
)

MOUNT_PATH = "/_emulators/veo"
FAULT_HEADER = "x-emulator-fault"
SLOW_SECONDS = 3.0
RETRY_AFTER_SECONDS = 1
MAX_PROMPT = 10_000
MAX_IMAGE_BYTES = 20 * 1024 * 1024
IMAGE_TYPES = {"image/jpeg": "JPEG", "image/png": "PNG", "image/webp": "WEBP"}
PARAMETERS = {
    "aspectRatio",
    "durationSeconds",
    "resolution",
    "generateAudio",
    "negativePrompt",
    "sampleCount",
    "seed",
    "enhancePrompt",
    "personGeneration",
    "storageUri",
    "fps",
    "compressionQuality",
    "resizeMode",
}
STATUS_NAMES = {
    400: "INVALID_ARGUMENT",
    401: "UNAUTHENTICATED",
    403: "PERMISSION_DENIED",
    404: "NOT_FOUND",
    405: "UNIMPLEMENTED",
    429: "RESOURCE_EXHAUSTED",
    500: "INTERNAL",
    502: "UNAVAILABLE",
    503: "UNAVAILABLE",
}
_ROUTE = re.compile(
    r"^(?:projects/[^/]+/locations/[^/]+/)?publishers/google/models/([^/:]+):"
    r"(predictLongRunning|fetchPredictOperation)$"
)
_OPERATION = re.compile(
    r"^(?:projects/[^/]+/locations/[^/]+/)?publishers/google/models/([^/:]+)/operations/"
    r"([0-9a-f-]{36})$"
)


class ApiError(Exception):
    """An error answered in Google's envelope: `{"error": {"code", "message", "status"[, "details"]}}`."""

    def __init__(self, status: int, message: str, *, reason: str | None = None, headers: dict[str, str] | None = None):
        super().__init__(message)
        self.status, self.message, self.reason, self.headers = status, message, reason, headers or {}

    def body(self) -> dict[str, Any]:
        error: dict[str, Any] = {
            "code": self.status,
            "message": self.message,
            "status": STATUS_NAMES.get(self.status, "UNKNOWN"),
        }
        if self.reason:
            error["details"] = [
                {"@type": "type.googleapis.com/google.rpc.ErrorInfo", "reason": self.reason, "domain": "googleapis.com"}
            ]
        return {"error": error}

    def response(self) -> Response:
        return Response(self.body(), status_code=self.status, headers=self.headers, media_type="application/json")


def _status_fault(kind: str) -> ApiError:
    if kind == "429":
        return ApiError(
            429, "Resource exhausted. Please try again later.", headers={"retry-after": str(RETRY_AFTER_SECONDS)}
        )
    if kind == "500":
        return ApiError(500, "Internal error encountered.")
    if kind == "503":
        return ApiError(503, "The service is currently unavailable.")
    return ApiError(502, "Bad gateway.")


def invalid(message: str) -> ApiError:
    return ApiError(400, message)


async def _json_body(request: Request) -> dict[str, Any]:
    try:
        data = json.loads(await request.body() or b"")
    except ValueError:
        raise invalid("Invalid JSON payload received.") from None
    if not isinstance(data, dict):
        raise invalid("Invalid JSON payload received. Expected an object.")
    return data


def _image(value: Any) -> bytes:
    """The picture in `instances[0].image` (inline base64; the emulator never reads Cloud Storage)."""
    if not isinstance(value, dict):
        raise invalid("instances[0].image must be an object with bytesBase64Encoded and mimeType.")
    if value.get("gcsUri"):
        raise invalid("The Veo emulator does not read Cloud Storage; send the image as bytesBase64Encoded.")
    encoded, mime = value.get("bytesBase64Encoded"), value.get("mimeType")
    if not isinstance(encoded, str) or not encoded:
        raise invalid("instances[0].image.bytesBase64Encoded is required.")
    if mime not in IMAGE_TYPES:
        raise invalid(f"Unsupported image mime type: {mime}. Use image/jpeg, image/png or image/webp.")
    try:
        data = base64.b64decode(encoded, validate=True)
    except (binascii.Error, ValueError):
        raise invalid("instances[0].image.bytesBase64Encoded is not valid base64.") from None
    if len(data) > MAX_IMAGE_BYTES:
        raise invalid("The image is larger than 20 MB.")
    try:
        with Image.open(io.BytesIO(data)) as picture:
            picture.verify()
            kind = picture.format
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError):
        raise invalid("The image could not be decoded.") from None
    if kind != IMAGE_TYPES[mime]:
        raise invalid(f"The image says {mime} but contains a {kind} image.")
    return data


def _parameters(raw: Any) -> dict[str, Any]:
    """The checked generation parameters, with Veo's defaults."""
    if raw is None:
        raw = {}
    if not isinstance(raw, dict):
        raise invalid("parameters must be an object.")
    for name in raw:
        if name not in PARAMETERS:
            raise invalid(f"Invalid JSON payload received. Unknown name \"{name}\" at 'parameters': Cannot find field.")
    aspect = raw.get("aspectRatio", "16:9")
    if aspect not in ASPECT_RATIOS:
        raise invalid(f"Unsupported aspect ratio: {aspect}. Supported aspect ratios are 16:9 and 9:16.")
    seconds = raw.get("durationSeconds", 8)
    if isinstance(seconds, bool) or not isinstance(seconds, int) or seconds not in DURATIONS:
        raise invalid(
            f"Unsupported output video duration {seconds} seconds, supported durations are "
            "[4,6,8] for feature text_to_video."
        )
    resolution = raw.get("resolution", "720p")
    if resolution not in RESOLUTIONS:
        raise invalid(f"Unsupported resolution: {resolution}. Supported resolutions are 720p and 1080p.")
    audio = raw.get("generateAudio", False)
    if not isinstance(audio, bool):
        raise invalid("parameters.generateAudio must be a boolean.")
    samples = raw.get("sampleCount", 1)
    if isinstance(samples, bool) or not isinstance(samples, int) or not 1 <= samples <= 4:
        raise invalid("parameters.sampleCount must be an integer from 1 to 4.")
    negative = raw.get("negativePrompt")
    if negative is not None and not isinstance(negative, str):
        raise invalid("parameters.negativePrompt must be a string.")
    if raw.get("storageUri"):
        raise invalid("The Veo emulator does not write to Cloud Storage; leave storageUri unset.")
    return {"aspect_ratio": aspect, "seconds": seconds, "resolution": resolution, "audio": audio, "samples": samples}


def _operation_body(store: OperationStore, operation: Operation) -> dict[str, Any]:
    view = store.view(operation)
    body: dict[str, Any] = {"name": operation.name}
    if not view.done:
        body["metadata"] = {"@type": METADATA_TYPE, "progressPercent": view.progress}
        return body
    body["done"] = True
    if view.error is not None:
        body["error"] = view.error
        return body
    response: dict[str, Any] = {"@type": RESPONSE_TYPE}
    if view.filtered:
        response.update({"raiMediaFilteredCount": operation.samples, "raiMediaFilteredReasons": [SAFETY_REASON]})
    else:
        response["videos"] = [
            {
                "bytesBase64Encoded": base64.b64encode(store.output_path(operation, i).read_bytes()).decode("ascii"),
                "mimeType": "video/mp4",
            }
            for i in range(operation.samples)
        ]
    body["response"] = response
    return body


def create_veo_emulator(*, generation_seconds: float, storage_dir: Path, api_key: str | None = None):
    """The emulator as an ASGI app (its root plays `https://aiplatform.googleapis.com`)."""
    store = OperationStore(generation_seconds=generation_seconds, storage_dir=Path(storage_dir))
    background: set[asyncio.Task] = set()

    def check_key(request: Request) -> None:
        key = (request.headers.get("x-goog-api-key") or request.query_params.get("key") or "").strip()
        if not key:
            raise ApiError(
                401,
                "Request is missing required authentication credential. Expected OAuth 2 access "
                "token, login cookie or other valid authentication credential.",
                reason="CREDENTIALS_MISSING",
            )
        if api_key is not None and key != api_key:
            raise ApiError(400, "API key not valid. Please pass a valid API key.", reason="API_KEY_INVALID")

    async def predict(request: Request, model: str) -> Response:
        fields = await _json_body(request)
        instances = fields.get("instances")
        if not isinstance(instances, list) or len(instances) != 1 or not isinstance(instances[0], dict):
            raise invalid("instances must hold exactly one instance.")
        instance = instances[0]
        prompt = instance.get("prompt", "")
        if not isinstance(prompt, str):
            raise invalid("instances[0].prompt must be a string.")
        image = _image(instance["image"]) if instance.get("image") is not None else None
        if not prompt.strip() and image is None:
            raise invalid("Either a prompt or an image is required.")
        if len(prompt) > MAX_PROMPT:
            raise invalid(f"The prompt is longer than {MAX_PROMPT} characters.")
        params = _parameters(fields.get("parameters"))
        faults = parse_faults(prompt, request.headers.get(FAULT_HEADER))
        if "slow" in faults:
            await asyncio.sleep(SLOW_SECONDS)
        if kind := store.take_request_fault(faults, prompt):
            raise _status_fault(kind)
        operation = store.new_operation(model=model, prompt=prompt, image=image, faults=faults, **params)
        if store.needs_render(operation):
            job = asyncio.get_running_loop().create_task(anyio.to_thread.run_sync(store.render, operation))
            background.add(job)
            job.add_done_callback(background.discard)
        return Response({"name": operation.name})

    async def fetch(request: Request, model: str) -> Response:
        faults = parse_faults("", request.headers.get(FAULT_HEADER))
        if "slow" in faults:
            await asyncio.sleep(SLOW_SECONDS)
        for kind in sorted(REQUEST_FAULTS & faults.keys()):
            raise _status_fault(kind)
        fields = await _json_body(request)
        name = fields.get("operationName")
        if not isinstance(name, str) or not name:
            raise invalid("operationName is required.")
        match = _OPERATION.match(name)
        if not match:
            raise invalid(f"Invalid operation name: {name}.")
        if match.group(1) != model:
            raise invalid(f"The operation {name} does not belong to the model {model}.")
        operation = store.operations.get(match.group(2))
        if operation is None or operation.model != model:
            raise ApiError(404, f"Operation {name} not found.")
        body = await anyio.to_thread.run_sync(_operation_body, store, operation)
        return Response(body)

    @post("/{version:str}/{resource:path}", status_code=200)
    async def call(request: Request, version: FromPath[str], resource: FromPath[str]) -> Response:
        check_key(request)
        if version not in ("v1", "v1beta1"):
            raise ApiError(404, f"API version {version} not found.")
        match = _ROUTE.match(resource.lstrip("/"))
        if not match:
            raise ApiError(404, f"The requested URL /{version}{resource} was not found on this server.")
        model, method = match.groups()
        if model not in MODELS:
            raise ApiError(
                404,
                f"Publisher Model `projects/{PROJECT}/locations/{LOCATION}/publishers/google/models/"
                f"{model}` was not found or your project does not have access to it.",
            )
        if method == "predictLongRunning":
            return await predict(request, model)
        return await fetch(request, model)

    def on_api_error(request: Request, exc: ApiError) -> Response:
        return exc.response()

    def on_http_error(request: Request, exc: HTTPException) -> Response:
        return ApiError(exc.status_code, str(exc.detail)).response()

    def on_crash(request: Request, exc: Exception) -> Response:
        return ApiError(500, "Internal error encountered.").response()

    app = Litestar(
        route_handlers=[call],
        exception_handlers={ApiError: on_api_error, HTTPException: on_http_error, Exception: on_crash},
        openapi_config=None,
        logging_config=None,
        request_max_body_size=32 * 1024 * 1024,
    )
    app.state.store = store
    return FreshScope(app)


class FreshScope:
    """Run the emulator with a scope of its own: when mounted, the host app's Litestar state must not leak in."""

    def __init__(self, app: Litestar):
        self.app = app

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] not in ("http", "lifespan"):
            return
        inner = {k: v for k, v in scope.items() if not k.startswith("litestar") and k not in ("state", "app")}
        inner["state"] = {}
        await self.app(inner, receive, send)


def main(argv: list[str] | None = None) -> None:
    """Serve the emulator on its own port: its base URL is http://HOST:PORT (set VEO_BASE_URL to it)."""
    import uvicorn

    parser = argparse.ArgumentParser(prog="python -m app.emulators.veo", description=main.__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8767)
    parser.add_argument("--generation-seconds", type=float, default=6.0)
    parser.add_argument("--storage-dir", type=Path, default=None, help="default: a temporary folder")
    parser.add_argument("--api-key", default=None, help="accept only this key (default: any non-empty key)")
    args = parser.parse_args(argv)
    storage = args.storage_dir or Path(tempfile.mkdtemp(prefix="veo-emulator-"))
    print(f"Veo API emulator: http://{args.host}:{args.port} (files in {storage})")
    uvicorn.run(
        create_veo_emulator(generation_seconds=args.generation_seconds, storage_dir=storage, api_key=args.api_key),
        host=args.host,
        port=args.port,
        log_level="warning",
    )


if __name__ == "__main__":
    main()
