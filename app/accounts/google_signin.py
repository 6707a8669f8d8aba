"""Sign in with Google (OpenID Connect through Authlib's framework-neutral async client).

One code path for Google and for the local emulator: only the discovery URL and the client
credentials differ. Pages keep `state`, `nonce` and the PKCE verifier in the server-side session;
the API receives a code (or an ID token) that its client obtained.
"""

from __future__ import annotations

import hmac
import time
from dataclasses import dataclass
from urllib.parse import urlsplit

import httpx2
from authlib.integrations.base_client import BaseApp, FrameworkIntegration, OAuthError
from authlib.integrations.base_client.async_app import AsyncOAuth2Mixin
from authlib.integrations.base_client.async_openid import AsyncOpenIDMixin
from authlib.integrations.httpx_client import AsyncOAuth2Client
from authlib.oidc.core import CodeIDToken
from joserfc.errors import ExpiredTokenError, JoseError

from app.accounts import users as users_service
from app.accounts.users import GoogleIdentity
from app.config import Settings
from app.emulators.google import EMULATOR_CLIENT_ID, EMULATOR_CLIENT_SECRET
from app.errors import AppError
from app.tables import Users

SCOPE = "openid email profile"
PENDING_MAX_AGE = 10 * 60
GOOGLE_ISSUERS = ("https://accounts.google.com", "accounts.google.com")


class SignInFailed(AppError):
    status_code = 401
    code = "sign_in_failed"
    default_detail = "Signing in with Google did not work. Please try again."


class ProviderUnavailable(AppError):
    status_code = 503
    code = "provider_unavailable"
    default_detail = "Google sign-in cannot be reached right now. Please try again in a moment."


class _OIDCApp(AsyncOAuth2Mixin, AsyncOpenIDMixin, BaseApp):
    client_cls = AsyncOAuth2Client


_clients: dict[tuple[str, str, str], _OIDCApp] = {}


def client_credentials(settings: Settings) -> tuple[str, str]:
    if settings.google_client_id:
        return settings.google_client_id, settings.google_client_secret or ""
    return EMULATOR_CLIENT_ID, EMULATOR_CLIENT_SECRET


def oidc_client(settings: Settings) -> _OIDCApp:
    """One client per provider (it caches the discovery document and the JWKS)."""
    client_id, client_secret = client_credentials(settings)
    key = (settings.google_metadata_url, client_id, client_secret)
    if key not in _clients:
        _clients[key] = _OIDCApp(
            FrameworkIntegration("google"),
            name="google",
            client_id=client_id,
            client_secret=client_secret,
            server_metadata_url=settings.google_metadata_url,
            client_kwargs={"scope": SCOPE, "code_challenge_method": "S256", "timeout": 15},
        )
    return _clients[key]


def safe_next(value: str | None, default: str = "/") -> str:
    """`value` if it is a path on this site; anything else (other hosts, schemes, `//x`) gives `default`."""
    if not value or not value.startswith("/") or value.startswith(("//", "/\\")):
        return default
    if any(ch in value for ch in "\\\r\n\t") or any(ord(ch) < 32 for ch in value):
        return default
    parts = urlsplit(value)
    if parts.scheme or parts.netloc:
        return default
    return value


@dataclass(frozen=True)
class LoginStart:
    url: str
    pending: dict  # goes into the session until the callback


async def start_login(settings: Settings, *, next_path: str | None, login_hint: str | None) -> LoginStart:
    """The provider's authorization URL with state, nonce and a PKCE S256 challenge."""
    extra = {"login_hint": login_hint.strip()} if login_hint and login_hint.strip() else {}
    try:
        rv = await oidc_client(settings).create_authorization_url(redirect_uri=settings.google_redirect_url, **extra)
    except (httpx2.HTTPError, ValueError) as exc:
        raise ProviderUnavailable() from exc
    pending = {
        "state": rv["state"],
        "nonce": rv["nonce"],
        "code_verifier": rv["code_verifier"],
        "next": safe_next(next_path),
        "at": time.time(),
    }
    return LoginStart(url=rv["url"], pending=pending)


async def complete_login(settings: Settings, pending: dict | None, params: dict[str, str]) -> tuple[Users, str]:
    """Check the callback against what the session remembers, exchange the code, validate the ID token.

    Returns (user, next path).
    """
    if params.get("error"):
        if params["error"] == "access_denied":
            raise SignInFailed("You cancelled signing in with Google, so you are not signed in.", code="access_denied")
        raise SignInFailed(f"Google refused the sign-in ({params['error']}).", code="provider_error")
    if not pending or time.time() - float(pending.get("at", 0)) > PENDING_MAX_AGE:
        raise SignInFailed(
            "This sign-in link has expired or was already used. Start signing in again.", code="invalid_state"
        )
    if not hmac.compare_digest(str(params.get("state", "")), str(pending["state"])):
        raise SignInFailed(
            "This sign-in response does not match the one we started, so we ignored it. Start again.",
            code="invalid_state",
        )
    if not params.get("code"):
        raise SignInFailed("Google did not send an authorization code.", code="invalid_request")
    user = await _sign_in_with_code(
        settings,
        code=params["code"],
        redirect_uri=settings.google_redirect_url,
        code_verifier=pending["code_verifier"],
        nonce=pending["nonce"],
    )
    return user, safe_next(pending.get("next"))


async def sign_in_with_code(
    settings: Settings, *, code: str, redirect_uri: str, code_verifier: str | None, nonce: str | None = None
) -> Users:
    """API clients that ran the authorization step themselves send us the code."""
    return await _sign_in_with_code(
        settings, code=code, redirect_uri=redirect_uri, code_verifier=code_verifier, nonce=nonce
    )


async def _sign_in_with_code(
    settings: Settings, *, code: str, redirect_uri: str, code_verifier: str | None, nonce: str | None
) -> Users:
    client = oidc_client(settings)
    params = {"code": code}
    if code_verifier:
        params["code_verifier"] = code_verifier
    try:
        token = await client.fetch_access_token(redirect_uri=redirect_uri, **params)
    except OAuthError as exc:
        raise SignInFailed(_describe_token_error(exc), code="invalid_grant") from exc
    except httpx2.HTTPStatusError as exc:
        raise SignInFailed("Google did not accept the authorization code.", code="invalid_grant") from exc
    except (httpx2.HTTPError, ValueError) as exc:
        raise ProviderUnavailable() from exc
    if "id_token" not in token:
        raise SignInFailed("Google did not return an ID token.", code="invalid_token")
    return await _user_from_id_token(settings, token, nonce)


async def sign_in_with_id_token(settings: Settings, id_token: str) -> Users:
    """API clients that signed in with Google themselves send us the ID token; validated the same way."""
    return await _user_from_id_token(settings, {"id_token": id_token}, None)


async def _user_from_id_token(settings: Settings, token: dict, nonce: str | None) -> Users:
    client = oidc_client(settings)
    try:
        metadata = await client.load_server_metadata()
    except (httpx2.HTTPError, ValueError) as exc:
        raise ProviderUnavailable() from exc
    issuer = metadata.get("issuer", "")
    issuers = list(GOOGLE_ISSUERS) if issuer in GOOGLE_ISSUERS else [issuer]
    claims_options = {
        "iss": {"essential": True, "values": issuers},
        "aud": {"essential": True, "value": client.client_id},
        "sub": {"essential": True},
        "exp": {"essential": True},
        "iat": {"essential": True},
    }
    try:
        info = await client.parse_id_token(
            token, nonce=nonce, claims_options=claims_options, claims_cls=CodeIDToken, leeway=60
        )
    except ExpiredTokenError as exc:
        raise SignInFailed("The Google ID token has expired. Sign in again.", code="invalid_token") from exc
    except JoseError as exc:
        raise SignInFailed(
            f"The Google ID token is not valid ({exc.error}: {exc.description or 'rejected'}).", code="invalid_token"
        ) from exc
    except httpx2.HTTPError as exc:  # the signing keys could not be fetched
        raise ProviderUnavailable() from exc
    except (ValueError, TypeError, KeyError) as exc:  # not a JWT at all
        raise SignInFailed("The Google ID token is not a valid token.", code="invalid_token") from exc
    if nonce is not None and info.get("nonce") != nonce:
        raise SignInFailed("The Google ID token was not issued for this sign-in.", code="invalid_token")
    if info.get("email_verified") is not True or not info.get("email"):
        raise SignInFailed(
            "Your Google account's email address is not verified. Verify it with Google, then sign in again.",
            code="email_not_verified",
        )
    identity = GoogleIdentity(
        sub=str(info["sub"]),
        email=str(info["email"]),
        name=str(info.get("name") or ""),
        picture=info.get("picture") or None,
    )
    user, _created = await users_service.sign_in_google_user(identity)
    return user


def _describe_token_error(exc: OAuthError) -> str:
    if exc.error in ("invalid_grant", "redirect_uri_mismatch"):
        return (
            "Google did not accept the sign-in code: it may have expired or been used already "
            f"({exc.description or exc.error}). Start signing in again."
        )
    return f"Google refused the sign-in ({exc.error})."
