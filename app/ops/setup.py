"""Turn on logging and error tracking for a process (web or worker), from the settings."""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version

from app.config import Settings
from app.ops.logs import setup_logging
from app.ops.sentry import setup_sentry


def release(settings: Settings) -> str:
    if settings.sentry_release:
        return settings.sentry_release
    try:
        return f"adsvideo@{version('adsvideo')}"
    except PackageNotFoundError:
        return "adsvideo@dev"


def setup_process(settings: Settings) -> None:
    """Logs in LOG_FORMAT with secrets scrubbed; Sentry when SENTRY_DSN is set. Call before the app or
    the broker is built."""
    setup_logging(
        settings.log_format,
        settings.log_level,
        secrets=[
            settings.secret_key,
            settings.jwt_secret_key,
            settings.openai_api_key,
            settings.runwayml_api_secret,
            settings.google_client_secret,
            settings.metrics_token,
            settings.s3_secret_access_key,
        ],
    )
    setup_sentry(
        settings.sentry_dsn,
        environment=settings.sentry_environment or settings.app_env,
        release=release(settings),
        traces_sample_rate=settings.sentry_traces_sample_rate,
    )
