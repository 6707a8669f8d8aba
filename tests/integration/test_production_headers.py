"""The production app (PostgreSQL, Redis, real-looking secrets) sends HSTS on top of the other headers."""

from __future__ import annotations

import secrets

import pytest
from litestar.testing import AsyncTestClient

from app.config import Settings
from tests.services import REDIS_URL, require

pytestmark = [pytest.mark.redis, pytest.mark.parametrize("database_url", ["postgres"], indirect=True)]


async def test_production_adds_hsts_to_every_response(settings):
    require("redis")
    from app.asgi import create_app

    production = Settings(
        _env_file=None,
        app_env="production",
        secret_key=secrets.token_hex(32),
        jwt_secret_key=secrets.token_urlsafe(32),
        database_url=settings.database_url,
        redis_url=REDIS_URL,
        google_client_id="123.apps.googleusercontent.com",
        google_client_secret="google-secret",
        openai_api_key="sk-test",
        runwayml_api_secret="key",
        media_root=settings.media_root,
        use_mock_sora=False,
        use_mock_runway=False,
        use_mock_veo=False,
        google_api_key="veo-key",
        stripe_secret_key="sk_test_x",
        stripe_webhook_secret="whsec_x",
        **{
            f"stripe_price_{name}": f"price_{name}"
            for name in ("basic", "pro", "pack_small", "pack_medium", "pack_large")
        },
    )
    async with AsyncTestClient(app=create_app(production), base_url="https://adsvideo.test") as client:
        for path in ("/healthz", "/api/v1/showcase/videos", "/no-such-page"):
            r = await client.get(path)
            assert r.headers["strict-transport-security"].startswith("max-age="), path
            assert r.headers["x-content-type-options"] == "nosniff"
            assert "frame-ancestors 'none'" in r.headers["content-security-policy"]
