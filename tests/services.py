"""Where the real services are, and how a test asks for one: skip locally when absent, fail under CI."""

from __future__ import annotations

import os
import shutil
import socket
from urllib.parse import urlsplit

import pytest

POSTGRES_URL = os.environ.get("TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/15")
CHROMIUM = os.environ.get("CHROMIUM_PATH") or shutil.which("chromium") or shutil.which("chromium-browser")

IN_CI = bool(os.environ.get("CI"))


def reachable(url: str) -> bool:
    parts = urlsplit(url)
    try:
        with socket.create_connection((parts.hostname or "127.0.0.1", parts.port or 0), timeout=1):
            return True
    except OSError:
        return False


def require(service: str) -> None:
    """Skip (developer machine) or fail (CI) when `service` is not available."""
    available = {
        "postgres": lambda: reachable(POSTGRES_URL),
        "redis": lambda: reachable(REDIS_URL),
        "chromium": lambda: CHROMIUM is not None,
    }[service]()
    if available:
        return
    message = f"{service} is not available on this machine"
    if IN_CI:
        pytest.fail(f"{message}, and CI must run every test against it")
    pytest.skip(message)
