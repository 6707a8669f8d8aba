"""The /account page (htmx profile editing), CORS on /api/v1, and the production refusal of the emulator."""

from __future__ import annotations

import pytest
from litestar.testing import AsyncTestClient

from app.asgi import create_app, session_config
from app.config import ConfigError, Settings
from app.tables import Users
from tests.google_emulator import google, sign_in

HX = {"HX-Request": "true"}


async def signed_in(client, email: str = "acc@example.com") -> Users:
    await sign_in(client, email)
    return await Users.objects().where(Users.email == email).first()


async def test_account_needs_sign_in(client):
    r = await client.get("/account", follow_redirects=False)
    assert r.status_code in (302, 303) and r.headers["location"] == "/auth/login?next=/account"


async def test_account_page_shows_profile_plan_and_credits(client):
    await signed_in(client)
    r = await client.get("/account")
    assert r.status_code == 200
    assert 'id="profile-form"' in r.text and 'value="Acc"' in r.text
    assert "Free" in r.text and 'data-credits="100"' in r.text
    assert '<section id="ledger" hx-get="/account/ledger" hx-trigger="load" hx-swap="outerHTML">' in r.text


async def test_profile_edit_with_htmx_returns_the_form_with_errors_and_changes_nothing(client):
    user = await signed_in(client)
    token = client.cookies.get("csrftoken")
    r = await client.post(
        "/account/profile",
        data={"name": "   "},
        headers={**HX, "x-csrftoken": token},
    )
    assert r.status_code == 422
    assert r.text.lstrip().startswith('<form id="profile-form"')  # the partial, not a page
    assert "Enter your name." in r.text
    assert 'aria-invalid="true"' in r.text
    after = await Users.objects().where(Users.id == user.id).first()
    assert (after.name, after.avatar_url) == (user.name, user.avatar_url)


async def test_profile_edit_with_htmx_saves_and_updates_the_header_avatar(client):
    user = await signed_in(client)
    r = await client.post(
        "/account/profile",
        data={"name": "Acc Renamed", "avatar_url": "https://cdn.example.com/a.png"},
        headers={**HX, "x-csrftoken": client.cookies.get("csrftoken")},
    )
    assert r.status_code == 200 and "Saved." in r.text
    assert 'id="header-avatar" class="header-avatar" hx-swap-oob="true"' in r.text
    assert "cdn.example.com" not in r.text  # a picture address from elsewhere is never taken
    after = await Users.objects().where(Users.id == user.id).first()
    assert (after.name, after.avatar_url) == ("Acc Renamed", user.avatar_url)


async def test_profile_edit_without_javascript(client):
    await signed_in(client)
    token = client.cookies.get("csrftoken")
    r = await client.post(
        "/account/profile", data={"name": "Plain Form", "avatar_url": "", "_csrf_token": token}, follow_redirects=False
    )
    assert r.status_code == 303 and r.headers["location"] == "/account"
    r = await client.post("/account/profile", data={"name": "", "avatar_url": "", "_csrf_token": token})
    assert r.status_code == 422 and "<html" in r.text and "Enter your name." in r.text


async def test_profile_edit_needs_csrf(client):
    user = await signed_in(client)
    r = await client.post("/account/profile", data={"name": "Hacked", "avatar_url": ""})
    assert r.status_code == 403
    assert (await Users.objects().where(Users.id == user.id).first()).name == user.name


@pytest.fixture
async def cors_client(settings):
    app = create_app(settings.model_copy(update={"allowed_origins": ["https://app.example.com"]}))
    async with AsyncTestClient(app=app, session_config=session_config(settings)) as c:
        yield c


async def test_cors_preflight_from_an_allowed_origin(cors_client):
    r = await cors_client.options(
        "/api/v1/auth/me",
        headers={
            "Origin": "https://app.example.com",
            "Access-Control-Request-Method": "GET",
            "Access-Control-Request-Headers": "authorization",
        },
    )
    assert r.status_code == 204
    assert r.headers["access-control-allow-origin"] == "https://app.example.com"
    assert "authorization" in r.headers["access-control-allow-headers"].lower()
    assert "PATCH" in r.headers["access-control-allow-methods"]


async def test_cors_refuses_other_origins(cors_client):
    r = await cors_client.options(
        "/api/v1/auth/me", headers={"Origin": "https://evil.example", "Access-Control-Request-Method": "GET"}
    )
    assert r.status_code == 403
    assert "access-control-allow-origin" not in r.headers
    r = await cors_client.get("/api/v1/auth/me", headers={"Origin": "https://evil.example"})
    assert "access-control-allow-origin" not in r.headers
    assert "access-control-allow-credentials" not in r.headers


async def test_cors_headers_on_api_answers_only(cors_client):
    r = await cors_client.get("/api/v1/auth/me", headers={"Origin": "https://app.example.com"})
    assert r.status_code == 401
    assert r.headers["access-control-allow-origin"] == "https://app.example.com"
    assert "Origin" in r.headers["vary"]
    page = await cors_client.get("/", headers={"Origin": "https://app.example.com"})
    assert "access-control-allow-origin" not in page.headers


def _production(**overrides) -> Settings:
    values = dict(
        _env_file=None,
        app_env="production",
        secret_key="7d3f0b9a1c5e2f8d4a6b0c9e1f3a5d7b",
        jwt_secret_key="Xq8vL2pN6rT0wZ4yB7cF1hJ5kM9sD3gA",
        database_url="postgresql://postgres@127.0.0.1:5432/never-used",
        redis_url="redis://127.0.0.1:6379/15",
        google_discovery_url=None,
        use_mock_sora=False,
        use_mock_runway=False,
        use_mock_veo=False,
    )
    values.update(overrides)
    return Settings(**values)


def test_production_refuses_to_start_with_the_google_emulator():
    with pytest.raises(ConfigError, match="GOOGLE_CLIENT_ID"):
        create_app(_production())


def test_production_with_google_configured_mounts_no_emulator(tmp_path):
    settings = _production(
        google_client_id="123.apps.googleusercontent.com",
        google_client_secret="real-secret",
        openai_api_key="sk-test",
        runwayml_api_secret="key",
        stripe_secret_key="sk_live_x",
        stripe_webhook_secret="whsec_x",
        **{
            f"stripe_price_{name}": f"price_{name}"
            for name in ("basic", "pro", "pack_small", "pack_medium", "pack_large")
        },
    )
    app = create_app(settings)
    assert not any(route.path.startswith("/_emulators") for route in app.routes)
    assert settings.google_metadata_url == "https://accounts.google.com/.well-known/openid-configuration"


def test_development_uses_the_mounted_emulator_at_the_public_address():
    settings = Settings(
        _env_file=None, app_env="development", public_url="http://localhost:9000/", google_discovery_url=None
    )
    assert settings.google_metadata_url == "http://localhost:9000/_emulators/google/.well-known/openid-configuration"
    assert settings.google_redirect_url == "http://localhost:9000/auth/google/callback"
    assert any(route.path == "/_emulators/google" for route in create_app(settings).routes)


@pytest.mark.redis
async def test_sessions_live_in_redis_so_every_web_process_shares_them(settings):
    from tests.services import REDIS_URL, require

    require("redis")
    shared = settings.model_copy(update={"redis_url": REDIS_URL})
    first, second = create_app(shared), create_app(shared)
    async with AsyncTestClient(app=first) as a, AsyncTestClient(app=second) as b:
        r = await sign_in(a, "shared@example.com")
        assert r.status_code == 302
        from app.accounts.sessions import SESSION_COOKIE

        b.cookies.set(SESSION_COOKIE, a.cookies.get(SESSION_COOKIE))
        page = await b.get("/account", follow_redirects=False)
        assert page.status_code == 200 and "shared@example.com" in page.text
