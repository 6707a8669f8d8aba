"""Carry the enqueuing request's id into the job, and put the job's ids on every log line and error report.

On enqueue the current request id and user id go into the message options; when the worker picks the
message up they are bound again, with the actor, the message id and the video id (the actor's
`video_id` argument), until the message is done.
"""

from __future__ import annotations

import inspect
from typing import Any

import sentry_sdk
from dramatiq import Broker, Message, Middleware

from app.ops import context

OPTION = "log_context"
# Arguments worth a place on every log line of a job.
ID_ARGUMENTS = ("video_id",)


class JobContext(Middleware):
    @property
    def actor_options(self) -> set[str]:
        return set()

    def before_enqueue(self, broker: Broker, message: Message, delay: int) -> None:
        fields = context.carried()
        if fields and OPTION not in message.options:
            message.options[OPTION] = fields

    def before_process_message(self, broker: Broker, message: Message) -> None:
        context.clear()
        carried = message.options.get(OPTION) or {}
        fields: dict[str, Any] = {name: carried.get(name) for name in context.CARRIED}
        fields.update(_id_arguments(broker, message))
        context.bind(job=message.actor_name, message_id=message.message_id, **fields)
        if sentry_sdk.get_client().is_active():  # its middleware opened a scope for this message
            if fields.get("request_id"):
                sentry_sdk.set_tag("request_id", fields["request_id"])
            if fields.get("video_id") is not None:
                sentry_sdk.set_tag("video_id", str(fields["video_id"]))
            if fields.get("user_id") is not None:
                sentry_sdk.set_user({"id": str(fields["user_id"])})

    def after_process_message(self, broker: Broker, message: Message, *, result=None, exception=None) -> None:
        context.clear()

    def after_skip_message(self, broker: Broker, message: Message) -> None:
        context.clear()


def _id_arguments(broker: Broker, message: Message) -> dict[str, Any]:
    try:
        actor = broker.get_actor(message.actor_name)
        bound = inspect.signature(actor.fn).bind_partial(*message.args, **message.kwargs)
    except Exception:  # an unknown actor or arguments that don't fit: Dramatiq reports that itself
        return {}
    return {name: bound.arguments[name] for name in ID_ARGUMENTS if name in bound.arguments}
