"""Dramatiq actors. `dramatiq tasks` imports this: the broker first, then every actor module."""

import tasks.broker  # noqa: F401  (sets the broker; must come before any actor module)
from tasks import (
    finishing,  # noqa: F401
    notifications,  # noqa: F401
    videos,  # noqa: F401
)
