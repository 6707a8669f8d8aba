"""The Google emulator speaks OpenID Connect: discovery, JWKS, token endpoint checks, userinfo."""

from __future__ import annotations

import re

import httpx

from app.emulators.google import (
    EMULATOR_CLIENT_ID,
    EMULATOR_CLIENT_SECRET,
    google_sub_for,
)
from tests.google_emulator import google

REDIRECT = "http://127.0.0.1:9/cb"


def test_the_same_email_always_gets_the_same_sub():
    assert google_sub_for("Jane@Example.com ") == google_sub_for("jane@example.com")
    assert google_sub_for("jane@example.com") != google_sub_for("john@example.com")
    assert re.fullmatch(r"1\d{20}", google_sub_for("jane@example.com"))


async def _code(http: httpx.AsyncClient, issuer: str, **params) -> str:
    query = {
        "response_type": "code",
        "client_id": EMULATOR_CLIENT_ID,
        "redirect_uri": REDIRECT,
        "scope": "openid email profile",
        "state": "s1",
        "login_hint": "tok@example.com",
        **params,
    }
    r = await http.get(f"{issuer}/authorize", params=query)
    assert r.status_code == 302
    assert "state=s1" in r.headers["location"]
    return httpx.URL(r.headers["location"]).params["code"]


async def test_discovery_and_jwks(google):
    async with httpx.AsyncClient() as http:
        doc = (await http.get(f"{google.issuer}/.well-known/openid-configuration")).json()
        assert doc["issuer"] == google.issuer and doc["token_endpoint"] == f"{google.issuer}/token"
        keys = (await http.get(doc["jwks_uri"])).json()["keys"]
    assert keys[0]["kty"] == "RSA" and keys[0]["alg"] == "RS256" and "d" not in keys[0]


async def test_token_endpoint_checks_client_and_redirect(google):
    async with httpx.AsyncClient() as http:
        code = await _code(http, google.issuer)
        wrong_secret = await http.post(
            f"{google.issuer}/token",
            data={"grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT},
            auth=(EMULATOR_CLIENT_ID, "wrong"),
        )
        assert wrong_secret.status_code == 401 and wrong_secret.json()["error"] == "invalid_client"
        ok = await http.post(
            f"{google.issuer}/token",
            data={"grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT},
            auth=(EMULATOR_CLIENT_ID, EMULATOR_CLIENT_SECRET),
        )
        assert ok.status_code == 200 and ok.json()["id_token"]
        info = await http.get(
            f"{google.issuer}/userinfo", headers={"Authorization": f"Bearer {ok.json()['access_token']}"}
        )
        assert info.json()["email"] == "tok@example.com" and info.json()["sub"] == google_sub_for("tok@example.com")
        assert (await http.get(f"{google.issuer}/userinfo")).status_code == 401

        code = await _code(http, google.issuer)
        wrong_redirect = await http.post(
            f"{google.issuer}/token",
            data={
                "grant_type": "authorization_code",
                "code": code,
                "redirect_uri": "http://127.0.0.1:9/other",
                "client_id": EMULATOR_CLIENT_ID,
                "client_secret": EMULATOR_CLIENT_SECRET,
            },
        )
        assert wrong_redirect.status_code == 400 and wrong_redirect.json()["error"] == "redirect_uri_mismatch"


async def test_authorize_refuses_unknown_clients_without_redirecting(google):
    async with httpx.AsyncClient() as http:
        r = await http.get(
            f"{google.issuer}/authorize",
            params={"response_type": "code", "client_id": "nobody", "redirect_uri": REDIRECT, "scope": "openid"},
        )
    assert r.status_code == 401 and "location" not in r.headers and "not found" in r.text


async def test_chooser_page_offers_a_made_up_account_form(google):
    async with httpx.AsyncClient() as http:
        r = await http.get(
            f"{google.issuer}/authorize",
            params={
                "response_type": "code",
                "client_id": EMULATOR_CLIENT_ID,
                "redirect_uri": REDIRECT,
                "scope": "openid email",
            },
        )
        assert r.status_code == 200 and 'name="email"' in r.text and "Cancel" in r.text
        avatar = await http.get(f"{google.issuer}/avatar/{google_sub_for('a@b.c')}.svg")
        assert avatar.headers["content-type"].startswith("image/svg+xml")
