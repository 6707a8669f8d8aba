"""Error tracking: `SENTRY_DSN` turns on sentry-sdk with its Litestar and Dramatiq integrations.

Reports carry the release, the environment, the user's id (never the email or IP) and the request id
as a tag; cookies, headers other than a few harmless ones, request bodies and local variables are
never sent, and every remaining string goes through the same scrubbing as the logs.
"""

from __future__ import annotations

import logging
from typing import Any

import sentry_sdk
from sentry_sdk.integrations.dramatiq import DramatiqIntegration
from sentry_sdk.integrations.litestar import LitestarIntegration
from sentry_sdk.integrations.logging import LoggingIntegration, ignore_logger

from app.ops import redact

# The error handler logs every unhandled web error, which the Litestar integration already reports.
REPORTED_ELSEWHERE = ("adsvideo.errors",)
SAFE_HEADERS = {"user-agent", "content-type", "accept", "hx-request", "x-request-id"}
_active_dsn: str | None = None


def setup_sentry(dsn: str | None, *, environment: str, release: str, traces_sample_rate: float = 0.0) -> bool:
    """Start error tracking when `dsn` is set (before the app and broker are built: the integrations
    hook into their constructors). True when it is on."""
    global _active_dsn
    if not dsn:
        return False
    if dsn == _active_dsn and sentry_sdk.get_client().is_active():
        return True
    sentry_sdk.init(
        dsn=dsn,
        environment=environment,
        release=release,
        send_default_pii=False,
        auto_enabling_integrations=False,  # only the integrations named below (and the defaults)
        include_local_variables=False,
        max_request_body_size="never",
        traces_sample_rate=traces_sample_rate,
        integrations=[
            LitestarIntegration(),
            DramatiqIntegration(),
            LoggingIntegration(level=logging.INFO, event_level=logging.ERROR),
        ],
        before_send=scrub_event,
        before_breadcrumb=scrub_breadcrumb,
    )
    for name in REPORTED_ELSEWHERE:
        ignore_logger(name)
    _active_dsn = dsn
    return True


def scrub_event(event: dict[str, Any], _: Any) -> dict[str, Any]:
    """The report with personal data and secrets taken out."""
    user = event.get("user") or {}
    event["user"] = {"id": user["id"]} if user.get("id") else {}
    request = event.get("request")
    if request:
        request.pop("cookies", None)
        request.pop("data", None)
        request.pop("env", None)
        headers = request.get("headers") or {}
        request["headers"] = {k: v for k, v in headers.items() if k.lower() in SAFE_HEADERS}
        if request.get("query_string"):
            request["query_string"] = redact.text("?" + str(request["query_string"]))[1:]
        if request.get("url"):
            request["url"] = redact.text(request["url"])
    for exception in (event.get("exception") or {}).get("values") or []:
        if isinstance(exception.get("value"), str):
            exception["value"] = redact.text(exception["value"])
    logentry = event.get("logentry")
    if logentry:
        for key in ("message", "formatted"):
            if isinstance(logentry.get(key), str):
                logentry[key] = redact.text(logentry[key])
        if logentry.get("params"):
            logentry["params"] = redact.value(logentry["params"])
    if isinstance(event.get("message"), str):
        event["message"] = redact.text(event["message"])
    if event.get("extra"):
        event["extra"] = redact.value(event["extra"])
    breadcrumbs = event.get("breadcrumbs") or {}
    for crumb in breadcrumbs.get("values", []) if isinstance(breadcrumbs, dict) else []:
        scrub_breadcrumb(crumb, None)
    return event


def scrub_breadcrumb(crumb: dict[str, Any], _: Any) -> dict[str, Any]:
    if isinstance(crumb.get("message"), str):
        crumb["message"] = redact.text(crumb["message"])
    if crumb.get("data"):
        crumb["data"] = redact.value(crumb["data"])
    return crumb
