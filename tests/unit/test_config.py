"""Configuration: defaults, parsing, and the refusals that keep production safe."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from app.config import DEV_JWT_SECRET_KEY, ConfigError, Settings

STRONG = "9f1c3a7e5b2d4f60a8c1e3b5d7f9a2c4e6b8d0f2a4c6e8b1"
OTHER_STRONG = "Qm4tZ8pL2vR7nX5kW1sJ9dH3gF6bC0yT"


def production(**overrides) -> Settings:
    """A production configuration that passes every check, with `overrides` applied."""
    values = dict(
        app_env="production",
        secret_key=STRONG,
        jwt_secret_key=OTHER_STRONG,
        google_client_id="id.apps.googleusercontent.com",
        google_client_secret="google-secret",
        database_url="postgresql://u@db/app",
        stripe_secret_key="sk_live_x",
        stripe_webhook_secret="whsec_x",
        **{
            f"stripe_price_{name}": f"price_{name}"
            for name in ("basic", "pro", "pack_small", "pack_medium", "pack_large")
        },
        redis_url="redis://cache:6379/0",
    )
    values.update(overrides)
    return Settings(_env_file=None, **values)


@pytest.fixture
def clean_env(monkeypatch):
    for name in Settings.model_fields:
        monkeypatch.delenv(name.upper(), raising=False)


def test_defaults_match_the_design(clean_env):
    s = Settings(_env_file=None)
    assert s.app_env == "development"
    assert s.database_url == "sqlite:///./aivideo.db"
    assert s.redis_url is None
    assert (s.signup_credits, s.max_upload_mb, s.jwt_access_ttl, s.jwt_refresh_ttl) == (100, 10, 900, 2592000)
    assert str(s.media_root) == "uploads"
    assert s.use_google_emulator and s.use_sora_emulator


def test_allowed_origins_are_a_comma_separated_list(monkeypatch):
    monkeypatch.setenv("ALLOWED_ORIGINS", "https://a.example, https://b.example/")
    assert Settings(_env_file=None).allowed_origins == ["https://a.example", "https://b.example"]


@pytest.mark.parametrize("url", ["mysql://x/y", "sqlite:/relative.db", "nonsense"])
def test_unknown_database_urls_are_refused(url):
    with pytest.raises(ValidationError, match="DATABASE_URL"):
        Settings(_env_file=None, database_url=url)


def test_numbers_are_validated(monkeypatch):
    monkeypatch.setenv("MAX_UPLOAD_MB", "zero")
    with pytest.raises(ValidationError, match="max_upload_mb"):
        Settings(_env_file=None)


def test_a_complete_production_configuration_is_accepted(clean_env):
    production().check_production()


@pytest.mark.parametrize(
    ("overrides", "variable"),
    [
        ({"secret_key": "dev-secret-key-change-me-0123456789abcdef"}, "SECRET_KEY"),
        ({"secret_key": "short"}, "SECRET_KEY"),
        ({"jwt_secret_key": DEV_JWT_SECRET_KEY}, "JWT_SECRET_KEY"),
        ({"jwt_secret_key": ""}, "JWT_SECRET_KEY"),
        ({"google_client_id": None}, "GOOGLE_CLIENT_ID"),
        ({"google_client_secret": None}, "GOOGLE_CLIENT_SECRET"),
        ({"use_mock_sora": True}, "USE_MOCK_SORA"),
        ({"use_mock_runway": True}, "USE_MOCK_RUNWAY"),
        ({"use_mock_stripe": True}, "USE_MOCK_STRIPE"),
        ({"stripe_secret_key": None}, "STRIPE_SECRET_KEY"),
        ({"stripe_webhook_secret": None}, "STRIPE_WEBHOOK_SECRET"),
        ({"stripe_price_pro": None}, "STRIPE_PRICE_PRO"),
        ({"secret_key": "a" * 32}, "SECRET_KEY"),
        ({"jwt_secret_key": "abcd" * 8}, "JWT_SECRET_KEY"),
        ({"jwt_secret_key": STRONG}, "JWT_SECRET_KEY"),
        ({"database_url": "sqlite:///./aivideo.db"}, "DATABASE_URL"),
        ({"redis_url": None}, "REDIS_URL"),
    ],
)
def test_production_refuses_unsafe_settings_naming_the_variable(clean_env, overrides, variable):
    with pytest.raises(ConfigError, match=variable):
        production(**overrides).check_production()


def test_production_never_falls_back_to_the_video_emulators(clean_env):
    s = production(openai_api_key=None, runwayml_api_secret=None)
    assert not s.use_sora_emulator and not s.use_runway_emulator
    assert not s.use_stripe_emulator and s.stripe_api_url is None


def test_the_app_refuses_to_start_in_production_with_default_secrets(monkeypatch):
    from app.asgi import create_app

    with pytest.raises(ConfigError, match="SECRET_KEY"):
        create_app(Settings(_env_file=None, app_env="production"))


def test_production_names_every_problem_at_once(clean_env):
    with pytest.raises(ConfigError) as refused:
        production(
            secret_key="a" * 32, jwt_secret_key="a" * 32, database_url="sqlite:///./x.db", redis_url=None
        ).check_production()
    message = str(refused.value)
    for variable in (
        "SECRET_KEY is too predictable",
        "JWT_SECRET_KEY is too predictable",
        "must differ",
        "DATABASE_URL",
        "REDIS_URL",
    ):
        assert variable in message


def test_a_random_token_passes_the_entropy_check(clean_env):
    import secrets

    production(secret_key=secrets.token_hex(32), jwt_secret_key=secrets.token_urlsafe(32)).check_production()


@pytest.mark.parametrize("name", ["RATE_LIMIT_SIGN_IN", "RATE_LIMIT_GENERATE"])
def test_rates_must_be_readable(monkeypatch, name):
    monkeypatch.setenv(name, "ten per minute")
    with pytest.raises(ValidationError, match=name.lower()):
        Settings(_env_file=None)


def test_plan_caps_have_the_documented_defaults(clean_env):
    s = Settings(_env_file=None)
    assert (s.jobs_in_flight_cap("basic"), s.jobs_in_flight_cap("pro")) == (2, 4)
