"""Settings from the environment (and `.env`), validated once and cached."""

from __future__ import annotations

import math
import os
import re
from collections import Counter
from functools import lru_cache
from pathlib import Path
from typing import Annotated, Literal

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

ROOT = Path(__file__).resolve().parent.parent

# Values shipped in .env.example and used by development; production refuses them.
DEV_SECRET_KEY = "dev-secret-key-change-me-0123456789abcdef"
DEV_JWT_SECRET_KEY = "dev-jwt-secret-change-me-0123456789abcdef"
KNOWN_DEFAULT_SECRETS = {
    "",
    DEV_SECRET_KEY,
    DEV_JWT_SECRET_KEY,
    "change-me",
    "changeme",
    "secret",
    "your-jwt-secret",
    "your-secret-key",
}


# A secret must carry at least this many bits by a character-frequency estimate: "a" * 32 has 0, "abcd" * 8
# has 64, a random token_hex(16) (the shortest accepted) never under ~90, token_hex(32) about 240.
MIN_SECRET_BITS = 80


def estimated_bits(value: str) -> float:
    """Shannon entropy of the characters times the length: "a" * 32 scores 0, a random hex token ~4/char."""
    if not value:
        return 0.0
    counts = Counter(value)
    return -sum(n * math.log2(n / len(value)) for n in counts.values())


RATE_PATTERN = re.compile(r"^\s*(\d+)\s*/\s*(\d*)\s*(second|minute|hour|day)s?\s*$")

GOOGLE_DISCOVERY_URL = "https://accounts.google.com/.well-known/openid-configuration"


class ConfigError(RuntimeError):
    """The configuration cannot be used; the message names the variable."""


class Settings(BaseSettings):
    """Every setting, with its default (each one is documented in `.env.example`)."""

    model_config = SettingsConfigDict(env_file=".env", env_file_encoding="utf-8", extra="ignore")

    app_env: Literal["development", "test", "production"] = "development"
    debug: bool = False
    secret_key: str = DEV_SECRET_KEY
    jwt_secret_key: str = DEV_JWT_SECRET_KEY
    jwt_access_ttl: int = Field(default=15 * 60, gt=0, description="seconds")
    jwt_refresh_ttl: int = Field(default=30 * 24 * 3600, gt=0, description="seconds")

    database_url: str = "sqlite:///./aivideo.db"
    redis_url: str | None = None
    # Prepended to Redis pub/sub channel names (they are shared by every Redis database).
    redis_channel_prefix: str = ""

    google_client_id: str | None = None
    google_client_secret: str | None = None
    google_redirect_uri: str | None = None
    # The OpenID discovery document; unset = Google's, or the mounted emulator's when no client id is set.
    google_discovery_url: str | None = None

    openai_api_key: str | None = None
    openai_base_url: str | None = None
    use_mock_sora: bool = False
    runwayml_api_secret: str | None = None
    # The Runway API's address: unset = api.dev.runwayml.com, or the mounted emulator when it is in use.
    runwayml_base_url: str | None = None
    use_mock_runway: bool = False
    # Stripe. Unset secret key or USE_MOCK_STRIPE=true (outside production): the local emulator.
    stripe_secret_key: str | None = None
    stripe_webhook_secret: str | None = None
    # The Stripe API's address: unset = api.stripe.com, or the mounted emulator when it is in use.
    stripe_api_base: str | None = None
    use_mock_stripe: bool = False
    # Stripe price ids of what we sell (unset with the emulator: its built-in catalogue's ids).
    stripe_price_basic: str | None = None
    stripe_price_pro: str | None = None
    stripe_price_pack_small: str | None = None
    stripe_price_pack_medium: str | None = None
    stripe_price_pack_large: str | None = None
    # Google Veo through the Gemini/Vertex AI API key ("express mode"); unset outside production = the emulator.
    google_api_key: str | None = None
    # The Veo API's address: unset = Google's (aiplatform.googleapis.com), or the mounted emulator when in use.
    veo_base_url: str | None = None
    use_mock_veo: bool = False
    # Google's ids for the two Veo models (Google renames them; change these when it does).
    veo_model_id: str = "veo-3.1-generate-001"
    veo_fast_model_id: str = "veo-3.1-fast-generate-001"
    # Seconds an emulated generation takes (0 in tests; a few seconds so progress shows in development).
    mock_generation_seconds: float = Field(default=6.0, ge=0)
    # Anonymous GETs of the home page, pricing and the showcase API are kept this long (0 = off).
    page_cache_seconds: float = Field(default=5.0, ge=0)

    media_root: Path = Path("./uploads")
    storage_backend: Literal["local", "s3"] = "local"
    s3_bucket: str | None = None
    s3_region: str | None = None
    s3_endpoint_url: str | None = None
    s3_access_key_id: str | None = None
    s3_secret_access_key: str | None = None
    # Prepended to every object key, so one bucket can hold several apps or environments.
    s3_key_prefix: str = ""
    # How long a presigned media URL works (seconds); SigV4 allows at most a week.
    s3_presign_seconds: int = Field(default=3600, gt=0, le=7 * 24 * 3600)
    # Public media (showcase, trial images, avatars) from this address (a CDN or a public bucket) instead.
    s3_public_base_url: str | None = None

    allowed_origins: Annotated[list[str], NoDecode] = Field(default_factory=list)
    host: str = "127.0.0.1"
    port: int = Field(default=8000, ge=1, le=65535)
    # The address people reach the app at; emulators mounted in-process are reached through it.
    public_url: str | None = None

    # uvicorn worker processes per web process (the Procfile's `web:` line passes it on); more than one
    # needs REDIS_URL, where sessions, live progress and caches are shared.
    web_concurrency: int = Field(default=1, ge=1)

    signup_credits: int = Field(default=100, ge=0)
    max_upload_mb: int = Field(default=10, gt=0)
    # A job with no progress event for this long is re-enqueued by the reconciler.
    job_stale_seconds: int = Field(default=300, gt=0)
    # How often the worker's reconciler looks for stale jobs.
    reconcile_interval_seconds: float = Field(default=30.0, gt=0)
    # How often a job asks the provider for its status, and the first backoff after a transient error
    # (doubled each retry; a provider's retry-after wins when longer).
    job_poll_interval_seconds: float = Field(default=2.0, gt=0)
    job_retry_backoff_seconds: float = Field(default=2.0, ge=0)
    # A provider job not finished this long after it was submitted is given up (failed and refunded).
    job_timeout_seconds: int = Field(default=1800, gt=0)
    # Ad finishing: the largest music upload (MB) and its longest length (seconds), and the H.264 preset
    # (ultrafast … veryslow: faster presets trade file size for speed).
    max_audio_mb: int = Field(default=15, gt=0)
    max_audio_seconds: int = Field(default=600, gt=0)
    finish_x264_preset: Literal["ultrafast", "superfast", "veryfast", "faster", "fast", "medium"] = "veryfast"

    # Requests allowed per client (per user once signed in) in a window: "N/second|minute|hour|day"
    # ("0/minute" turns a limit off). Counted on Redis when REDIS_URL is set, so every web process shares them.
    rate_limit_sign_in: str = "10/minute"
    rate_limit_refresh: str = "30/minute"
    rate_limit_upload: str = "30/minute"
    rate_limit_validate: str = "30/minute"
    rate_limit_generate: str = "30/minute"
    # Provider jobs one user may have in flight at once, per plan; more wait in our queue for a free slot.
    max_jobs_in_flight_free: int = Field(default=1, ge=1)
    max_jobs_in_flight_basic: int = Field(default=2, ge=1)
    max_jobs_in_flight_pro: int = Field(default=4, ge=1)
    # Videos one user may have unfinished (waiting or in flight); past it a new one is refused before charging.
    max_queued_jobs_per_user: int = Field(default=20, ge=1)
    # Live progress streams (SSE) one user may hold open at once, across web processes.
    max_open_streams_per_user: int = Field(default=10, ge=1)
    # Threads for CPU work (image checks, thumbnails, renders); more requests for it wait their turn.
    cpu_workers: int = Field(default=2, ge=1)
    # The largest JSON request body (KB) and how deeply it may nest.
    max_json_kb: int = Field(default=1024, gt=0)
    max_json_depth: int = Field(default=32, ge=2)

    # Outgoing mail. Without SMTP_HOST, development and tests deliver to the local outbox
    # (readable at /_emulators/mail) and production sends none.
    smtp_host: str | None = None
    smtp_port: int = Field(default=587, ge=1, le=65535)
    smtp_username: str | None = None
    smtp_password: str | None = None
    # starttls (upgrade a plain connection), tls (implicit TLS, usually port 465) or none.
    smtp_security: Literal["starttls", "tls", "none"] = "starttls"
    smtp_timeout_seconds: float = Field(default=10.0, gt=0)
    mail_from: str = "AdsVideo <no-reply@adsvideo.local>"
    # The first wait before a failed email is retried (doubled each time, at most `mail_max_attempts` tries).
    mail_retry_backoff_seconds: float = Field(default=30.0, ge=0)
    mail_max_attempts: int = Field(default=8, ge=1)

    # Webhooks: how long one delivery may take, the first wait before a retry (multiplied by 4 each
    # time: 30 s, 2 min, 8 min ... about 11 hours over 7 attempts), and how many failed deliveries
    # in a row switch an endpoint off.
    webhook_timeout_seconds: float = Field(default=10.0, gt=0)
    webhook_retry_base_seconds: float = Field(default=30.0, ge=0)
    webhook_max_attempts: int = Field(default=7, ge=1)
    webhook_disable_after_failures: int = Field(default=15, ge=1)

    # Logs: "console" (readable lines) or "json" (one JSON object per line), and the lowest level written.
    log_format: Literal["console", "json"] = "console"
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    # /metrics: with a token, only `Authorization: Bearer <token>` may read it; production needs one
    # (without it /metrics answers 404 there).
    metrics_token: str | None = None
    # A `dramatiq` worker on a host of its own serves its metrics here (unset port = not served).
    worker_metrics_host: str = "127.0.0.1"
    worker_metrics_port: int | None = Field(default=None, ge=1, le=65535)
    # How often the admin dashboard refreshes its figures (seconds).
    dashboard_refresh_seconds: int = Field(default=30, ge=1)
    # Error tracking: unset DSN = off. Environment defaults to APP_ENV, release to adsvideo@<version>.
    sentry_dsn: str | None = None
    sentry_environment: str | None = None
    sentry_release: str | None = None
    sentry_traces_sample_rate: float = Field(default=0.0, ge=0, le=1)

    @field_validator("allowed_origins", mode="before")
    @classmethod
    def _split_origins(cls, value: object) -> object:
        if isinstance(value, str):
            return [o.strip().rstrip("/") for o in value.split(",") if o.strip()]
        return value

    @field_validator(
        "rate_limit_sign_in", "rate_limit_refresh", "rate_limit_upload", "rate_limit_validate", "rate_limit_generate"
    )
    @classmethod
    def _check_rate(cls, value: str) -> str:
        if not RATE_PATTERN.match(value):
            raise ValueError(f"{value!r} is not a rate like 10/minute, 100/hour or 5/10 seconds")
        return value

    @field_validator("database_url")
    @classmethod
    def _check_database_url(cls, value: str) -> str:
        if not value.startswith(("sqlite:///", "postgres://", "postgresql://")):
            raise ValueError("DATABASE_URL must start with sqlite:///, postgres:// or postgresql://")
        return value

    @property
    def is_production(self) -> bool:
        return self.app_env == "production"

    @property
    def base_url(self) -> str:
        return (self.public_url or f"http://{self.host}:{self.port}").rstrip("/")

    @property
    def use_google_emulator(self) -> bool:
        return not self.google_client_id

    @property
    def google_metadata_url(self) -> str:
        """Where the sign-in client reads the provider's endpoints from."""
        if self.google_discovery_url:
            return self.google_discovery_url
        if self.use_google_emulator and not self.is_production:
            return f"{self.base_url}/_emulators/google/.well-known/openid-configuration"
        return GOOGLE_DISCOVERY_URL

    @property
    def google_redirect_url(self) -> str:
        """The page sign-in callback Google sends the browser back to."""
        return self.google_redirect_uri or f"{self.base_url}/auth/google/callback"

    @property
    def use_sora_emulator(self) -> bool:
        return self.use_mock_sora or (not self.openai_api_key and not self.is_production)

    @property
    def use_runway_emulator(self) -> bool:
        return self.use_mock_runway or (not self.runwayml_api_secret and not self.is_production)

    @property
    def use_stripe_emulator(self) -> bool:
        return self.use_mock_stripe or (not self.stripe_secret_key and not self.is_production)

    @property
    def stripe_api_url(self) -> str | None:
        """Where the Stripe SDK sends requests (None: Stripe itself)."""
        if self.stripe_api_base:
            return self.stripe_api_base.rstrip("/")
        if self.use_stripe_emulator and not self.is_production:
            return f"{self.base_url}/_emulators/stripe"
        return None

    @property
    def use_veo_emulator(self) -> bool:
        return self.use_mock_veo or (not self.google_api_key and not self.is_production)

    @property
    def uses_mail_outbox(self) -> bool:
        """Mail goes to the local outbox (development and tests without SMTP_HOST)."""
        return not self.smtp_host and not self.is_production

    @property
    def mail_outbox_dir(self) -> Path:
        return Path(self.media_root) / "_emulators" / "mail"

    @property
    def max_audio_bytes(self) -> int:
        return self.max_audio_mb * 1024 * 1024

    @property
    def max_upload_bytes(self) -> int:
        return self.max_upload_mb * 1024 * 1024

    def jobs_in_flight_cap(self, plan: str | None) -> int:
        """How many provider jobs a user on `plan` may have in flight at once."""
        return int(getattr(self, f"max_jobs_in_flight_{plan or 'free'}", self.max_jobs_in_flight_free))

    def production_problems(self) -> list[str]:
        """Every reason this configuration is unsafe for production, each naming its variable."""
        problems: list[str] = []
        for name in ("secret_key", "jwt_secret_key"):
            value = getattr(self, name)
            if value in KNOWN_DEFAULT_SECRETS or len(value) < 32:
                problems.append(f"{name.upper()} must be set to a random value of at least 32 characters")
            elif estimated_bits(value) < MIN_SECRET_BITS:
                problems.append(
                    f"{name.upper()} is too predictable (about {max(0.0, estimated_bits(value)):.0f} bits; "
                    f'{MIN_SECRET_BITS} needed): use e.g. `python -c "import secrets; print(secrets.token_hex(32))"`'
                )
        if self.secret_key and self.secret_key == self.jwt_secret_key:
            problems.append("SECRET_KEY and JWT_SECRET_KEY must differ (one leaked secret must not unlock both)")
        if self.database_url.startswith("sqlite"):
            problems.append("DATABASE_URL must point at PostgreSQL in production (SQLite is for one process)")
        if not self.redis_url:
            problems.append("REDIS_URL must be set in production (the job broker, sessions and limits live there)")
        if self.use_google_emulator:
            problems.append("GOOGLE_CLIENT_ID is not set: production would sign people in with the emulator")
        if not self.google_client_secret:
            problems.append("GOOGLE_CLIENT_SECRET must be set")
        if self.use_mock_sora:
            problems.append("USE_MOCK_SORA is true: production must not use the OpenAI emulator")
        if self.use_mock_runway:
            problems.append("USE_MOCK_RUNWAY is true: production must not use the Runway emulator")
        if self.use_mock_stripe:
            problems.append("USE_MOCK_STRIPE is true: production must not take payments through the emulator")
        for name in (
            "stripe_secret_key",
            "stripe_webhook_secret",
            "stripe_price_basic",
            "stripe_price_pro",
            "stripe_price_pack_small",
            "stripe_price_pack_medium",
            "stripe_price_pack_large",
        ):
            if not getattr(self, name):
                problems.append(f"{name.upper()} must be set (payments go through Stripe)")
        if self.use_mock_veo:
            problems.append("USE_MOCK_VEO is true: production must not use the Veo emulator")
        return problems

    def check_production(self) -> None:
        """Refuse to run with several web processes but nothing shared between them, or in production with
        unsafe settings (naming every problem at once)."""
        if self.web_concurrency > 1 and not self.redis_url:
            raise ConfigError(
                "WEB_CONCURRENCY is above 1 but REDIS_URL is not set: each web process would "
                "have its own sessions, worker and live progress"
            )
        if not self.is_production:
            return
        problems = self.production_problems()
        if problems:
            raise ConfigError("Refusing to start with APP_ENV=production:\n" + "\n".join(f"  - {p}" for p in problems))


@lru_cache
def get_settings() -> Settings:
    """The one settings instance (tests call `get_settings.cache_clear()` after changing the env)."""
    # ADSVIDEO_ENV_FILE="" turns the .env file off (the test suite does, so a developer's .env can't leak in).
    env_file = os.environ.get("ADSVIDEO_ENV_FILE", ".env") or None
    return Settings(_env_file=env_file)
