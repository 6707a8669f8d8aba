"""Dramatiq actors. `dramatiq tasks` imports this: the broker first, then every actor module."""

from tasks.broker import broker  # noqa: F401  (must come before any actor module)
from tasks import system  # noqa: E402,F401

__all__ = ["broker", "system"]
