"""Emulators served over real HTTP on 127.0.0.1 for tests, and the fixtures that start them.

`openai_emulator` (session-scoped) yields the base URL of an OpenAI Videos emulator,
`http://127.0.0.1:PORT/v1`, with a generation time of 0 (jobs complete as soon as their MP4 is
rendered, ~1 s for a 4 s clip). Point the `openai` SDK at it with `base_url=` and any API key, or point
the app at it with `OPENAI_BASE_URL` (with `USE_MOCK_SORA=true` the provider uses that URL).
Fault counts are kept per prompt for the whole session: give each test its own prompt.

`serve_asgi(app)` runs any ASGI app with uvicorn in a background thread and yields its root URL;
`run_openai_emulator(...)` starts an extra emulator (another generation time, a required key).
"""

from __future__ import annotations

import contextlib
import socket
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import uvicorn

from app.emulators.openai_videos import standalone_app


@contextlib.contextmanager
def serve_asgi(app, *, startup_timeout: float = 20.0) -> Iterator[str]:
    """Serve `app` on a free port of 127.0.0.1 in a daemon thread; yields `http://127.0.0.1:PORT`."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    config = uvicorn.Config(app, lifespan="off", log_level="warning", access_log=False, loop="asyncio")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True, name=f"uvicorn-{port}")
    thread.start()
    deadline = time.monotonic() + startup_timeout
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError(f"the test server on port {port} did not start")
        time.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        sock.close()


@contextlib.contextmanager
def run_openai_emulator(
    *, generation_seconds: float = 0.0, storage_dir: Path | None = None, api_key: str | None = None
) -> Iterator[str]:
    """An OpenAI Videos emulator on its own port; yields its base URL `http://127.0.0.1:PORT/v1`."""
    with tempfile.TemporaryDirectory(prefix="openai-emulator-") as tmp:
        app = standalone_app(
            generation_seconds=generation_seconds, storage_dir=storage_dir or Path(tmp), api_key=api_key
        )
        with serve_asgi(app) as root:
            yield f"{root}/v1"


@pytest.fixture(scope="session")
def openai_emulator() -> Iterator[str]:
    """Base URL (`http://127.0.0.1:PORT/v1`) of a session-wide OpenAI Videos emulator (generation time 0)."""
    with run_openai_emulator(generation_seconds=0.0) as base_url:
        yield base_url


@contextlib.contextmanager
def run_runway_emulator(
    *, generation_seconds: float = 0.0, storage_dir: Path | None = None, api_key: str | None = None
) -> Iterator[str]:
    """A Runway API emulator on its own port; yields its base URL `http://127.0.0.1:PORT`."""
    from app.emulators.runway import create_runway_emulator

    with tempfile.TemporaryDirectory(prefix="runway-emulator-") as tmp:
        app = create_runway_emulator(
            generation_seconds=generation_seconds, storage_dir=storage_dir or Path(tmp), api_key=api_key
        )
        with serve_asgi(app) as root:
            yield root


@pytest.fixture(scope="session")
def runway_emulator() -> Iterator[str]:
    """Base URL (`http://127.0.0.1:PORT`) of a session-wide Runway API emulator (generation time 0). Point the
    `runwayml` SDK at it with `base_url=`, or the app with `RUNWAYML_BASE_URL` (and `USE_MOCK_RUNWAY=true`)."""
    with run_runway_emulator(generation_seconds=0.0) as base_url:
        yield base_url


@contextlib.contextmanager
def run_veo_emulator(
    *, generation_seconds: float = 0.0, storage_dir: Path | None = None, api_key: str | None = None
) -> Iterator[str]:
    """A Veo (Vertex AI) emulator on its own port; yields its base URL `http://127.0.0.1:PORT`."""
    from app.emulators.veo import create_veo_emulator

    with tempfile.TemporaryDirectory(prefix="veo-emulator-") as tmp:
        app = create_veo_emulator(
            generation_seconds=generation_seconds, storage_dir=storage_dir or Path(tmp), api_key=api_key
        )
        with serve_asgi(app) as root:
            yield root


@pytest.fixture(scope="session")
def veo_emulator() -> Iterator[str]:
    """Base URL (`http://127.0.0.1:PORT`) of a session-wide Veo emulator (generation time 0). Point the
    `google-genai` SDK at it with `http_options=types.HttpOptions(base_url=...)` and `vertexai=True`, or the
    app with `VEO_BASE_URL` (and `USE_MOCK_VEO=true`)."""
    with run_veo_emulator(generation_seconds=0.0) as base_url:
        yield base_url


@contextlib.contextmanager
def run_stripe_emulator(
    *,
    forward_to: str | None = None,
    webhook_secret: str | None = None,
    api_key: str | None = None,
    catalogue: list[dict] | None = None,
) -> Iterator[tuple[str, object]]:
    """A Stripe API emulator on its own port; yields `(root URL, the emulator app)`. Point the SDK at it with
    `stripe.StripeClient("sk_test_...", base_addresses={"api": root})`."""
    from app.emulators.stripe import EMULATOR_WEBHOOK_SECRET, create_stripe_emulator

    app = create_stripe_emulator(
        forward_to=forward_to,
        webhook_secret=webhook_secret or EMULATOR_WEBHOOK_SECRET,
        api_key=api_key,
        catalogue=catalogue,
    )
    with serve_asgi(app) as root:
        yield root, app
