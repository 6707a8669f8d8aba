"""Signing in on the web pages through the Google emulator over HTTP, with the real Authlib client."""

from __future__ import annotations

import re

import pytest

from app.accounts.sessions import SESSION_COOKIE
from app.emulators.google import google_sub_for
from app.tables import CreditTransactions, Users
from tests.google_emulator import (
    at_provider,
    callback_url_for,
    google,
    local,
    sign_in,
    start_login,
    with_params,
)


async def signed_out(client) -> bool:
    r = await client.get("/account", follow_redirects=False)
    return r.status_code in (302, 303) and r.headers["location"].startswith("/auth/login")


@pytest.mark.parametrize(
    "database_url", ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)], indirect=True
)
async def test_first_sign_in_creates_the_user_with_the_signup_grant(client, settings):
    r = await sign_in(client, "Jane.Doe@Example.com", next_path="/account")
    assert r.status_code == 302 and r.headers["location"] == "/account"

    user = await Users.objects().where(Users.email == "jane.doe@example.com").first()
    assert user.google_id == google_sub_for("jane.doe@example.com")
    assert user.name == "Jane Doe"
    assert user.avatar_url and user.avatar_url.startswith("/media/public/avatars/u")  # our copy of the picture
    assert user.credits == settings.signup_credits == 100
    ledger = await CreditTransactions.select().where(CreditTransactions.user == user.id)
    assert [(row["delta"], row["reason"]) for row in ledger] == [(100, "signup")]

    page = await client.get("/account")
    assert page.status_code == 200
    assert "Jane Doe" in page.text and 'data-credits="100"' in page.text
    assert 'action="/auth/logout"' in page.text  # the header's sign-out form
    assert 'hx-get="/account/ledger"' in page.text


async def test_signing_in_again_is_the_same_user_and_no_second_grant(client):
    await sign_in(client, "sam@example.com")
    await client.post("/auth/logout", data={"_csrf_token": client.cookies.get("csrftoken")})
    await sign_in(client, "sam@example.com")
    users = await Users.select().where(Users.email == "sam@example.com")
    assert len(users) == 1 and users[0]["credits"] == 100
    assert await CreditTransactions.count().where(CreditTransactions.user == users[0]["id"]) == 1


async def test_a_pre_created_account_is_linked_by_email(client):
    await Users.insert(Users(email="boss@example.com", name="The Boss", is_admin=True, credits=0))
    await sign_in(client, "boss@example.com")
    rows = await Users.select().where(Users.email == "boss@example.com")
    assert len(rows) == 1
    assert rows[0]["google_id"] == google_sub_for("boss@example.com")
    assert rows[0]["is_admin"] is True and rows[0]["name"] == "The Boss"
    assert rows[0]["credits"] == 100  # the signup grant, once


async def test_profile_edits_survive_the_next_sign_in(client):
    await sign_in(client, "kim@example.com")
    user = await Users.objects().where(Users.email == "kim@example.com").first()
    await Users.update({Users.name: "Kimberly"}).where(Users.id == user.id)
    await client.post("/auth/logout", data={"_csrf_token": client.cookies.get("csrftoken")})
    await sign_in(client, "kim@example.com")
    assert (await Users.objects().where(Users.id == user.id).first()).name == "Kimberly"


async def test_sign_in_gives_a_new_session_id(client):
    await start_login(client, login_hint="fix@example.com")
    planted = client.cookies.get(SESSION_COOKIE)
    assert planted
    r = await sign_in(client, "fix@example.com")
    assert r.status_code == 302
    fresh = client.cookies.get(SESSION_COOKIE)
    assert fresh and fresh != planted
    # The planted id does not carry the signed-in session.
    client.cookies.set(SESSION_COOKIE, planted)
    assert await signed_out(client)


@pytest.mark.parametrize(
    "target",
    ["https://evil.example/steal", "//evil.example/x", "/\\evil.example", "javascript:alert(1)", "http:/evil"],
)
async def test_next_must_be_a_local_path(client, target):
    r = await sign_in(client, "open@example.com", next_path=target)
    assert r.status_code == 302
    assert r.headers["location"] == "/"


async def test_next_keeps_a_local_path_with_query(client):
    r = await sign_in(client, "q@example.com", next_path="/videos?page=2")
    assert r.headers["location"] == "/videos?page=2"


async def test_account_chooser_lists_demo_accounts_and_signs_in_by_clicking(client):
    await Users.insert(
        Users(email="maya@demo.adsvideo.local", name="Maya Demo", google_id=google_sub_for("maya@demo.adsvideo.local"))
    )
    authorize = await start_login(client)
    page = await at_provider(authorize)
    assert page.status_code == 200
    assert "Maya Demo" in page.text and "maya@demo.adsvideo.local" in page.text
    request_id = re.search(r'name="request_id" value="([^"]+)"', page.text).group(1)
    chosen = await at_provider(
        authorize.split("?")[0],
        "POST",
        {"request_id": request_id, "email": "maya@demo.adsvideo.local", "email_verified": "on"},
    )
    assert chosen.status_code == 302
    r = await client.get(local(chosen.headers["location"]), follow_redirects=False)
    assert r.headers["location"] == "/account"
    assert "Maya Demo" in (await client.get("/account")).text
    assert await Users.count().where(Users.email == "maya@demo.adsvideo.local") == 1


async def _choose(authorize: str, **form: str):
    page = await at_provider(authorize)
    request_id = re.search(r'name="request_id" value="([^"]+)"', page.text).group(1)
    return await at_provider(authorize.split("?")[0], "POST", {"request_id": request_id, **form})


async def _error_page(client, callback: str):
    r = await client.get(local(callback), follow_redirects=False)
    assert r.status_code == 400, r.text
    assert "You are not signed in" in r.text
    assert await signed_out(client)
    return r


async def test_denied_consent_shows_a_clear_page_and_no_session(client):
    chosen = await _choose(await start_login(client), action="cancel")
    assert "error=access_denied" in chosen.headers["location"]
    r = await _error_page(client, chosen.headers["location"])
    assert "You cancelled signing in" in r.text


async def test_unverified_email_is_refused(client):
    chosen = await _choose(await start_login(client), email="nover@example.com", name="No Ver")
    assert chosen.status_code == 302  # the checkbox was left unticked: email_verified=false
    r = await _error_page(client, chosen.headers["location"])
    assert "not verified" in r.text
    assert not await Users.exists().where(Users.email == "nover@example.com")


async def test_made_up_account_with_an_invalid_email_is_asked_again(client):
    chosen = await _choose(await start_login(client), email="not-an-email", email_verified="on")
    assert chosen.status_code == 422 and "Enter an email address" in chosen.text


async def test_wrong_state_is_refused(client):
    callback = await callback_url_for(await start_login(client, login_hint="st@example.com"))
    r = await _error_page(client, with_params(callback, state="forged"))
    assert "does not match" in r.text


async def test_replayed_callback_is_refused(client):
    callback = await callback_url_for(await start_login(client, login_hint="re@example.com"))
    assert (await client.get(local(callback), follow_redirects=False)).status_code == 302
    await client.post("/auth/logout", data={"_csrf_token": client.cookies.get("csrftoken")})
    r = await _error_page(client, callback)
    assert "expired or was already used" in r.text


async def test_callback_without_a_started_sign_in_is_refused(client):
    await _error_page(client, "/auth/google/callback?code=4/abc&state=xyz")


async def test_wrong_nonce_is_refused(client):
    authorize = await start_login(client, login_hint="nonce@example.com")
    callback = await callback_url_for(with_params(authorize, nonce="someone-elses-nonce"))
    r = await _error_page(client, callback)
    assert "nonce" in r.text
    assert not await Users.exists().where(Users.email == "nonce@example.com")


async def test_expired_code_is_refused(client, google):
    google.code_ttl = -1
    callback = await callback_url_for(await start_login(client, login_hint="late@example.com"))
    r = await _error_page(client, callback)
    assert "expired" in r.text


async def test_sign_out_needs_csrf_and_ends_the_session(client):
    await sign_in(client, "out@example.com")
    assert (await client.post("/auth/logout")).status_code == 403
    assert not await signed_out(client)
    r = await client.post("/auth/logout", data={"_csrf_token": client.cookies.get("csrftoken")}, follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/"
    assert await signed_out(client)
    assert "Sign in with Google" in (await client.get("/")).text


async def test_login_when_already_signed_in_goes_straight_on(client):
    await sign_in(client, "again@example.com")
    r = await client.get("/auth/login", params={"next": "/videos"}, follow_redirects=False)
    assert r.headers["location"] == "/videos"


async def test_pages_ignore_bearer_tokens(client):
    from app.accounts import tokens

    await Users.insert(Users(email="api@example.com", name="Api", google_id="1"))
    user = await Users.objects().where(Users.email == "api@example.com").first()
    pair = await tokens.issue_pair(user.id)
    r = await client.get("/account", headers={"Authorization": f"Bearer {pair.access_token}"}, follow_redirects=False)
    assert r.status_code == 302 and r.headers["location"].startswith("/auth/login")


async def test_the_api_ignores_the_page_session(client):
    await sign_in(client, "sess@example.com")
    r = await client.get("/api/v1/auth/me")
    assert r.status_code == 401 and r.json()["code"] == "not_authenticated"


async def test_provider_down_shows_a_clear_page(client, monkeypatch):
    from app.config import get_settings

    monkeypatch.setenv("GOOGLE_DISCOVERY_URL", "http://127.0.0.1:1/.well-known/openid-configuration")
    get_settings.cache_clear()
    r = await client.get("/auth/login", follow_redirects=False)
    assert r.status_code == 503 and "cannot be reached" in r.text
