"""Test helpers for live progress: an SSE reader over httpx, sign-in on a live server, the worker's part."""

from __future__ import annotations

import json
from dataclasses import dataclass, field

import httpx


@dataclass
class Event:
    event: str = "message"
    id: str | None = None
    data: str = ""
    comments: list[str] = field(default_factory=list)

    def json(self) -> dict:
        return json.loads(self.data)


class EventReader:
    """Reads a `text/event-stream` response event by event (comments are kept on the next event)."""

    def __init__(self, response: httpx.Response) -> None:
        self.lines = response.iter_lines()
        self.comments: list[str] = []

    def next(self) -> Event | None:
        """The next event, or None when the server ended the stream."""
        current, data = Event(), []
        seen = False
        for line in self.lines:
            if line == "":
                if seen:
                    current.data = "\n".join(data)
                    current.comments, self.comments = self.comments, []
                    return current
                continue
            if line.startswith(":"):
                self.comments.append(line[1:].strip())
                continue
            name, _, value = line.partition(":")
            value = value.removeprefix(" ")
            if name == "data":
                data.append(value)
                seen = True
            elif name == "event":
                current.event, seen = value, True
            elif name == "id":
                current.id, seen = value, True
        return None


def sign_in(client: httpx.Client, email: str) -> None:
    """The real page sign-in through the Google emulator mounted in the live app (login_hint skips the chooser)."""
    r = client.get("/auth/login", params={"login_hint": email, "next": "/account"}, follow_redirects=True)
    assert r.status_code == 200 and r.url.path == "/account", (r.status_code, r.url)
