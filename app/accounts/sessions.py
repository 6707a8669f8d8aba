"""Page sessions: signing in gets a brand-new session id, so a planted cookie can't be taken over."""

from __future__ import annotations

from typing import Any

from litestar import Request

SESSION_COOKIE = "adsvideo_session"


async def start_session(request: Request, data: dict[str, Any]) -> None:
    """Replace the session (data and id) with `data`."""
    old_id = request.cookies.get(SESSION_COOKIE)
    if old_id:
        await request.app.stores.get("sessions").delete(old_id)
    request.clear_session()
    # The session middleware takes the id from the request's cookie; forget it so a new one is made.
    request.cookies.pop(SESSION_COOKIE, None)
    request.set_session(data)


def end_session(request: Request) -> None:
    request.clear_session()
