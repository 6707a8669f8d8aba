"""The Google emulator on its own port, and helpers that walk the real sign-in flow over HTTP.

Import the fixtures into a test module (`from tests.google_emulator import google  # noqa: F401`);
`google` is autouse there, so the app under test reads the emulator's discovery document.
"""

from __future__ import annotations

import socket
import threading
import time
from urllib.parse import parse_qs, urlencode, urlsplit, urlunsplit

import httpx
import pytest
import uvicorn

from app.config import get_settings
from app.emulators.google import GoogleEmulator, create_google_emulator


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class RunningEmulator:
    """A uvicorn server in a thread serving one emulator."""

    def __init__(self) -> None:
        port = free_port()
        self.emulator: GoogleEmulator = create_google_emulator(f"http://127.0.0.1:{port}")
        config = uvicorn.Config(self.emulator.app, host="127.0.0.1", port=port, log_level="warning", lifespan="off")
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    def __enter__(self) -> GoogleEmulator:
        self.thread.start()
        deadline = time.monotonic() + 10
        while not self.server.started:
            if time.monotonic() > deadline or not self.thread.is_alive():
                raise RuntimeError("the Google emulator did not start")
            time.sleep(0.01)
        return self.emulator

    def __exit__(self, *exc: object) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)


@pytest.fixture(autouse=True)
def google(monkeypatch: pytest.MonkeyPatch):
    """The emulator on 127.0.0.1:<free port>; the app's discovery URL points at it."""
    with RunningEmulator() as emulator:
        monkeypatch.setenv("GOOGLE_DISCOVERY_URL", f"{emulator.issuer}/.well-known/openid-configuration")
        get_settings.cache_clear()
        yield emulator
    get_settings.cache_clear()


def local(url: str) -> str:
    """The path and query of an absolute URL (the test client talks to the app by path)."""
    parts = urlsplit(url)
    return parts.path + (f"?{parts.query}" if parts.query else "")


def with_params(url: str, **changes: str | None) -> str:
    parts = urlsplit(url)
    query = {k: v[0] for k, v in parse_qs(parts.query).items()}
    for key, value in changes.items():
        if value is None:
            query.pop(key, None)
        else:
            query[key] = value
    return urlunsplit(parts._replace(query=urlencode(query)))


async def start_login(client, *, next_path: str = "/account", login_hint: str | None = None) -> str:
    """GET /auth/login; the provider URL it redirects to."""
    params = {"next": next_path}
    if login_hint:
        params["login_hint"] = login_hint
    r = await client.get("/auth/login", params=params, follow_redirects=False)
    assert r.status_code == 302, r.text
    return r.headers["location"]


async def at_provider(url: str, method: str = "GET", data: dict | None = None) -> httpx.Response:
    """One request to the emulator, as the browser would make it (no redirects followed)."""
    async with httpx.AsyncClient() as http:
        return await http.request(method, url, data=data, follow_redirects=False)


async def callback_url_for(authorize_url: str) -> str:
    r = await at_provider(authorize_url)
    assert r.status_code == 302, r.text
    return r.headers["location"]


async def sign_in(client, email: str, next_path: str = "/account"):
    """The whole page flow: login → emulator (login_hint) → callback. Returns the callback response."""
    authorize = await start_login(client, next_path=next_path, login_hint=email)
    callback = await callback_url_for(authorize)
    return await client.get(local(callback), follow_redirects=False)
