"""Live progress of a finishing, on the same pub/sub channel as its video's generation: the stored state
first, then a fresh read whenever the worker announces a step, until the set is done."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from dataclasses import dataclass

from litestar.response import ServerSentEventMessage

from app.finishing.jobs import TERMINAL
from app.tables import Finishings
from app.videos import progress

KEEPALIVE_SECONDS = 15.0
RETRY_MS = 2000


@dataclass
class FinishingUpdate:
    kind: str  # "progress" | "done" | "keepalive"
    finishing: Finishings | None = None


def _state(row: Finishings) -> tuple:
    return row.status, row.step, row.progress


async def finishing_updates(
    finishing_id: int, *, keepalive: float = KEEPALIVE_SECONDS
) -> AsyncIterator[FinishingUpdate]:
    row = await Finishings.objects().where(Finishings.id == finishing_id).first()
    if row is None:
        return
    async with progress.subscribe([progress.video_channel(row.video)]) as subscription:
        row = await Finishings.objects().where(Finishings.id == finishing_id).first()
        shown = None
        while row is not None:
            if _state(row) != shown:
                shown = _state(row)
                done = row.status in TERMINAL
                yield FinishingUpdate("done" if done else "progress", row)
                if done:
                    return
            message = await subscription.get(timeout=keepalive)
            if message is None:
                yield FinishingUpdate("keepalive")
                continue
            if message is not progress.RESYNC and message.get("finishing_id") != finishing_id:
                continue
            row = await Finishings.objects().where(Finishings.id == finishing_id).first()


def _keepalive() -> ServerSentEventMessage:
    return ServerSentEventMessage(comment="keep-alive", data=None)


def json_data(row: Finishings) -> dict:
    return {
        "finishing_id": row.id,
        "video_id": row.video,
        "status": row.status,
        "step": row.step,
        "message": row.message,
        "progress": row.progress,
        "error_message": row.error_message,
        "done": row.status in TERMINAL,
    }


def json_message(update: FinishingUpdate) -> ServerSentEventMessage:
    if update.kind == "keepalive":
        return _keepalive()
    return ServerSentEventMessage(data=json.dumps(json_data(update.finishing)), event=update.kind, retry=RETRY_MS)
