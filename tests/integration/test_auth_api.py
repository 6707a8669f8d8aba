"""The JSON API's Google sign-in, JWT access/refresh tokens, users endpoints and CORS."""

from __future__ import annotations

import base64
import json
import time

import pytest
from authlib.integrations.httpx_client import AsyncOAuth2Client
from joserfc import jwt
from joserfc.jwk import OctKey

from app.config import get_settings
from app.emulators.google import (
    EMULATOR_CLIENT_ID,
    EMULATOR_CLIENT_SECRET,
    google_sub_for,
)
from app.tables import CreditTransactions, RefreshTokens, Users
from tests.google_emulator import at_provider, google

CLIENT_REDIRECT = "http://127.0.0.1:5173/oauth/callback"  # an API client's own callback


async def authorize_as_a_client(google, email: str, *, nonce: str | None = None) -> tuple[str, str]:
    """What a front-end does with Authlib: authorization URL with PKCE, the provider answers with a code."""
    oauth = AsyncOAuth2Client(
        client_id=EMULATOR_CLIENT_ID,
        client_secret=EMULATOR_CLIENT_SECRET,
        scope="openid email profile",
        redirect_uri=CLIENT_REDIRECT,
        code_challenge_method="S256",
    )
    verifier = "v" * 10 + base64.urlsafe_b64encode(b"0123456789abcdef0123456789abcdef").decode().rstrip("=")
    extra = {"nonce": nonce} if nonce else {}
    url, _state = oauth.create_authorization_url(
        f"{google.issuer}/authorize", code_verifier=verifier, login_hint=email, **extra
    )
    await oauth.aclose()
    r = await at_provider(url)
    assert r.status_code == 302
    code = dict(p.split("=", 1) for p in r.headers["location"].split("?", 1)[1].split("&"))["code"]
    from urllib.parse import unquote

    return unquote(code), verifier


async def api_sign_in(client, google, email: str) -> dict:
    code, verifier = await authorize_as_a_client(google, email)
    r = await client.post(
        "/api/v1/auth/google", json={"code": code, "redirect_uri": CLIENT_REDIRECT, "code_verifier": verifier}
    )
    assert r.status_code == 200, r.text
    return r.json()


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


@pytest.mark.parametrize(
    "database_url", ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)], indirect=True
)
async def test_code_exchange_returns_tokens_and_the_user(client, google):
    body = await api_sign_in(client, google, "ana@example.com")
    assert body["token_type"] == "bearer"
    assert body["expires_in"] == get_settings().jwt_access_ttl
    assert body["user"]["email"] == "ana@example.com" and body["user"]["credits"] == 100
    assert "google_id" not in body["user"]
    me = await client.get("/api/v1/auth/me", headers=bearer(body["access_token"]))
    assert me.status_code == 200 and me.json()["id"] == body["user"]["id"]
    user = await Users.objects().where(Users.id == body["user"]["id"]).first()
    assert user.google_id == google_sub_for("ana@example.com")


async def test_a_code_works_once(client, google):
    code, verifier = await authorize_as_a_client(google, "once@example.com")
    payload = {"code": code, "redirect_uri": CLIENT_REDIRECT, "code_verifier": verifier}
    assert (await client.post("/api/v1/auth/google", json=payload)).status_code == 200
    again = await client.post("/api/v1/auth/google", json=payload)
    assert again.status_code == 401 and again.json()["code"] == "invalid_grant"


async def test_wrong_pkce_verifier_is_refused(client, google):
    code, verifier = await authorize_as_a_client(google, "pkce@example.com")
    r = await client.post(
        "/api/v1/auth/google", json={"code": code, "redirect_uri": CLIENT_REDIRECT, "code_verifier": verifier + "x"}
    )
    assert r.status_code == 401 and "verifier" in r.json()["detail"]
    assert not await Users.exists().where(Users.email == "pkce@example.com")


async def test_missing_pkce_verifier_is_refused(client, google):
    code, _ = await authorize_as_a_client(google, "nopkce@example.com")
    r = await client.post("/api/v1/auth/google", json={"code": code, "redirect_uri": CLIENT_REDIRECT})
    assert r.status_code == 401


async def test_wrong_redirect_uri_is_refused(client, google):
    code, verifier = await authorize_as_a_client(google, "redir@example.com")
    r = await client.post(
        "/api/v1/auth/google",
        json={"code": code, "redirect_uri": "http://127.0.0.1:5173/other", "code_verifier": verifier},
    )
    assert r.status_code == 401


async def test_nonce_sent_by_the_client_is_checked(client, google):
    code, verifier = await authorize_as_a_client(google, "n@example.com", nonce="abc")
    r = await client.post(
        "/api/v1/auth/google",
        json={"code": code, "redirect_uri": CLIENT_REDIRECT, "code_verifier": verifier, "nonce": "other"},
    )
    assert r.status_code == 401 and "nonce" in r.json()["detail"]


async def test_body_needs_a_code_or_an_id_token(client):
    r = await client.post("/api/v1/auth/google", json={"redirect_uri": CLIENT_REDIRECT})
    assert r.status_code == 422
    r = await client.post("/api/v1/auth/google", json={"code": "x", "redirect_uri": CLIENT_REDIRECT, "evil": 1})
    assert r.status_code == 422


async def test_a_google_id_token_signs_in(client, google):
    r = await client.post("/api/v1/auth/google", json={"id_token": google.id_token_for("idt@example.com")})
    assert r.status_code == 200 and r.json()["user"]["email"] == "idt@example.com"


@pytest.mark.parametrize(
    "case",
    ["expired", "tampered", "wrong_audience", "wrong_issuer", "unverified", "foreign_key"],
)
async def test_bad_id_tokens_are_refused(client, google, case):
    now = int(time.time())
    email = f"{case}@example.com"
    if case == "expired":
        token = google.id_token_for(email, iat=now - 7200, exp=now - 3600)
    elif case == "tampered":
        header, payload, signature = google.id_token_for(email).split(".")
        claims = json.loads(base64.urlsafe_b64decode(payload + "=="))
        claims["email"] = "victim@example.com"
        forged = base64.urlsafe_b64encode(json.dumps(claims).encode()).decode().rstrip("=")
        token = f"{header}.{forged}.{signature}"
    elif case == "wrong_audience":
        token = google.id_token_for(email, aud="someone-else.apps.googleusercontent.com", azp="someone-else")
    elif case == "wrong_issuer":
        token = google.id_token_for(email, iss="https://evil.example")
    elif case == "unverified":
        token = google.id_token_for(email, email_verified=False)
    else:
        from app.emulators.google import create_google_emulator

        other = create_google_emulator(google.issuer)  # same kid format, a different private key
        token = other.id_token_for(email)
    r = await client.post("/api/v1/auth/google", json={"id_token": token})
    assert r.status_code == 401, r.text
    assert r.json()["code"] in ("invalid_token", "email_not_verified")
    assert not await Users.exists().where(Users.email.like("%@example.com"))


async def test_access_token_rejections(client, google):
    body = await api_sign_in(client, google, "jwt@example.com")
    access, refresh = body["access_token"], body["refresh_token"]
    claims = jwt.decode(access, OctKey.import_key(get_settings().jwt_secret_key.encode()), algorithms=["HS256"]).claims
    assert {"sub", "exp", "iat", "jti", "type"} <= set(claims) and claims["type"] == "access"

    def b64(obj) -> str:
        return base64.urlsafe_b64encode(json.dumps(obj).encode()).decode().rstrip("=")

    none_token = f"{b64({'alg': 'none', 'typ': 'JWT'})}.{b64(claims)}."
    key = OctKey.import_key(get_settings().jwt_secret_key.encode())
    hs512 = jwt.encode({"alg": "HS512"}, claims, key, algorithms=["HS512"])
    expired = jwt.encode({"alg": "HS256"}, {**claims, "iat": claims["iat"] - 7200, "exp": claims["iat"] - 3600}, key)
    wrong_key = jwt.encode({"alg": "HS256"}, claims, OctKey.import_key(b"another-secret-another-secret-0123"))
    for token, code in [
        (none_token, "invalid_token"),
        (hs512, "invalid_token"),
        (expired, "token_expired"),
        (wrong_key, "invalid_token"),
        (refresh, "invalid_token"),  # a refresh token is never an access token
        ("garbage", "invalid_token"),
    ]:
        r = await client.get("/api/v1/auth/me", headers=bearer(token))
        assert r.status_code == 401, token
        assert r.json()["code"] == code
    assert (await client.get("/api/v1/auth/me")).json()["code"] == "not_authenticated"
    assert (await client.get("/api/v1/auth/me", headers={"Authorization": "Basic abc"})).status_code == 401


async def test_refresh_rotates_and_reuse_revokes_the_family(client, google):
    first = await api_sign_in(client, google, "rot@example.com")
    r = await client.post("/api/v1/auth/refresh", json={"refresh_token": first["refresh_token"]})
    assert r.status_code == 200
    second = r.json()
    assert second["refresh_token"] != first["refresh_token"]
    assert (await client.get("/api/v1/auth/me", headers=bearer(second["access_token"]))).status_code == 200

    # The old refresh token again: stolen-token detection revokes the whole family.
    reused = await client.post("/api/v1/auth/refresh", json={"refresh_token": first["refresh_token"]})
    assert reused.status_code == 401 and reused.json()["code"] == "refresh_token_reused"
    after = await client.post("/api/v1/auth/refresh", json={"refresh_token": second["refresh_token"]})
    assert after.status_code == 401
    me = await client.get("/api/v1/auth/me", headers=bearer(second["access_token"]))
    assert me.status_code == 401 and me.json()["code"] == "token_revoked"
    rows = await RefreshTokens.select().where(RefreshTokens.user == first["user"]["id"])
    assert len(rows) == 2 and all(row["revoked_at"] is not None for row in rows)

    # Another sign-in starts a new family, unaffected.
    fresh = await api_sign_in(client, google, "rot@example.com")
    assert (await client.get("/api/v1/auth/me", headers=bearer(fresh["access_token"]))).status_code == 200


async def test_an_access_token_is_not_a_refresh_token(client, google):
    body = await api_sign_in(client, google, "swap@example.com")
    r = await client.post("/api/v1/auth/refresh", json={"refresh_token": body["access_token"]})
    assert r.status_code == 401


async def test_logout_revokes_the_family(client, google):
    body = await api_sign_in(client, google, "bye@example.com")
    r = await client.post("/api/v1/auth/logout", headers=bearer(body["access_token"]))
    assert r.status_code == 204
    assert (await client.get("/api/v1/auth/me", headers=bearer(body["access_token"]))).status_code == 401
    assert (await client.post("/api/v1/auth/refresh", json={"refresh_token": body["refresh_token"]})).status_code == 401
    assert (await client.post("/api/v1/auth/logout")).status_code == 401


async def test_logout_with_only_the_refresh_token(client, google):
    body = await api_sign_in(client, google, "bye2@example.com")
    r = await client.post("/api/v1/auth/logout", json={"refresh_token": body["refresh_token"]})
    assert r.status_code == 204
    assert (await client.get("/api/v1/auth/me", headers=bearer(body["access_token"]))).status_code == 401


async def test_profile_read_and_update(client, google):
    token = (await api_sign_in(client, google, "pro@example.com"))["access_token"]
    r = await client.get("/api/v1/users/profile", headers=bearer(token))
    assert r.status_code == 200 and r.json()["name"] == "Pro"

    r = await client.patch("/api/v1/users/profile", headers=bearer(token), json={"name": "  Pro   Editor "})
    assert r.status_code == 200 and r.json()["name"] == "Pro Editor"
    r = await client.patch(
        "/api/v1/users/profile", headers=bearer(token), json={"avatar_url": "https://cdn.example.com/me.png"}
    )
    assert r.status_code == 422 and "Upload a picture" in r.json()["detail"]

    r = await client.patch("/api/v1/users/profile", headers=bearer(token), json={"avatar_url": None})
    assert r.status_code == 200 and r.json()["avatar_url"] is None and r.json()["name"] == "Pro Editor"


@pytest.mark.parametrize(
    "body",
    [
        {"name": ""},
        {"name": "x" * 81},
        {"name": "bad\u0000name"},
        {"avatar_url": "javascript:alert(1)"},
        {"avatar_url": "not a url"},
        {"email": "other@example.com"},
        {"google_id": "123"},
        {"credits": 1_000_000},
        {"name": 5},
    ],
)
async def test_profile_update_rejects_bad_input_and_changes_nothing(client, google, body):
    token = (await api_sign_in(client, google, "strict@example.com"))["access_token"]
    before = (await client.get("/api/v1/users/profile", headers=bearer(token))).json()
    r = await client.patch("/api/v1/users/profile", headers=bearer(token), json=body)
    assert r.status_code in (400, 422), r.text
    assert r.json()["detail"]
    assert (await client.get("/api/v1/users/profile", headers=bearer(token))).json() == before


async def test_credits_endpoint(client, google):
    token = (await api_sign_in(client, google, "cr@example.com"))["access_token"]
    r = await client.get("/api/v1/users/credits", headers=bearer(token))
    assert r.json() == {"credits": 100, "subscription_plan": "free", "subscription_status": "active"}
    assert (await client.get("/api/v1/users/credits")).status_code == 401
    assert await CreditTransactions.count() == 1


async def test_users_cannot_see_each_other(client, google):
    a = await api_sign_in(client, google, "a@example.com")
    b = await api_sign_in(client, google, "b@example.com")
    assert (await client.get("/api/v1/users/profile", headers=bearer(a["access_token"]))).json()[
        "email"
    ] == "a@example.com"
    assert (await client.get("/api/v1/users/profile", headers=bearer(b["access_token"]))).json()[
        "email"
    ] == "b@example.com"
