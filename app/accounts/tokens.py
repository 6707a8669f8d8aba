"""API tokens: short-lived HS256 access JWTs, and refresh JWTs rotated on every use.

Each refresh token is a `refresh_tokens` row. Using one revokes it and issues its successor in
the same family; presenting a revoked one again means it was stolen (or replayed), so the whole
family is revoked — the thief and the owner both have to sign in again.
"""

from __future__ import annotations

import secrets
import time
import warnings
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import lru_cache

from joserfc import jwt
from joserfc.errors import ExpiredTokenError, JoseError
from joserfc.jwk import OctKey
from joserfc.jwt import JWTClaimsRegistry

from app.config import get_settings
from app.errors import AuthenticationRequired
from app.tables import RefreshTokens

ALGORITHM = "HS256"  # pinned: any other `alg` (including "none") is rejected
ACCESS = "access"
REFRESH = "refresh"


class InvalidToken(AuthenticationRequired):
    code = "invalid_token"
    default_detail = "The token is not valid. Sign in again."


class ExpiredToken(InvalidToken):
    code = "token_expired"
    default_detail = "The token has expired."


@dataclass(frozen=True)
class TokenPair:
    access_token: str
    refresh_token: str
    expires_in: int
    token_type: str = "bearer"


@dataclass(frozen=True)
class AccessClaims:
    user_id: int
    family: str
    jti: str


def _key() -> OctKey:
    return _imported_key(get_settings().jwt_secret_key)


@lru_cache(maxsize=4)
def _imported_key(secret: str) -> OctKey:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # joserfc warns on short development keys; production enforces length
        return OctKey.import_key(secret.encode())


def _now() -> datetime:
    return datetime.now(UTC)


def _encode(user_id: int, kind: str, ttl: int, *, jti: str, family: str) -> str:
    now = int(time.time())
    claims = {"sub": str(user_id), "iat": now, "exp": now + ttl, "jti": jti, "type": kind, "fam": family}
    return jwt.encode({"alg": ALGORITHM, "typ": "JWT"}, claims, _key())


def _decode(token: str, kind: str) -> dict:
    """Verify signature (HS256 only), expiry and type; raise InvalidToken/ExpiredToken otherwise."""
    try:
        decoded = jwt.decode(token, _key(), algorithms=[ALGORITHM])
        registry = JWTClaimsRegistry(
            leeway=0,
            sub={"essential": True},
            exp={"essential": True},
            iat={"essential": True},
            jti={"essential": True},
            fam={"essential": True},
            type={"essential": True, "value": kind},
        )
        registry.validate(decoded.claims)
    except ExpiredTokenError as exc:
        raise ExpiredToken() from exc
    except (JoseError, ValueError, TypeError) as exc:
        raise InvalidToken() from exc
    claims = decoded.claims
    if decoded.header.get("alg") != ALGORITHM or not str(claims["sub"]).isdigit():
        raise InvalidToken()
    return claims


def decode_access_token(token: str) -> AccessClaims:
    claims = _decode(token, ACCESS)
    return AccessClaims(user_id=int(claims["sub"]), family=str(claims["fam"]), jti=str(claims["jti"]))


async def family_is_active(family: str) -> bool:
    """True while the family has a live refresh token (logout and reuse detection revoke them all)."""
    return await RefreshTokens.exists().where(
        (RefreshTokens.family == family) & RefreshTokens.revoked_at.is_null() & (RefreshTokens.expires_at > _now())
    )


async def _new_refresh_row(user_id: int, family: str) -> str:
    settings = get_settings()
    jti = secrets.token_hex(16)
    await RefreshTokens.insert(
        RefreshTokens(
            jti=jti,
            user=user_id,
            family=family,
            expires_at=_now() + timedelta(seconds=settings.jwt_refresh_ttl),
        )
    )
    return jti


def _pair(user_id: int, family: str, refresh_jti: str) -> TokenPair:
    settings = get_settings()
    return TokenPair(
        access_token=_encode(user_id, ACCESS, settings.jwt_access_ttl, jti=secrets.token_hex(16), family=family),
        refresh_token=_encode(user_id, REFRESH, settings.jwt_refresh_ttl, jti=refresh_jti, family=family),
        expires_in=settings.jwt_access_ttl,
    )


async def issue_pair(user_id: int) -> TokenPair:
    """Tokens for a fresh sign-in: a new refresh family."""
    family = secrets.token_hex(16)
    jti = await _new_refresh_row(user_id, family)
    return _pair(user_id, family, jti)


async def revoke_family(family: str) -> None:
    await RefreshTokens.update({RefreshTokens.revoked_at: _now()}).where(
        (RefreshTokens.family == family) & RefreshTokens.revoked_at.is_null()
    )


async def rotate(refresh_token: str) -> tuple[int, TokenPair]:
    """Exchange a refresh token for a new pair; a reused one revokes its family (401)."""
    claims = _decode(refresh_token, REFRESH)
    jti, family, user_id = str(claims["jti"]), str(claims["fam"]), int(claims["sub"])
    async with RefreshTokens._meta.db.transaction():
        new_jti = secrets.token_hex(16)
        # The conditional update is the lock: of two concurrent uses, one wins and one sees reuse.
        claimed = (
            await RefreshTokens.update({RefreshTokens.revoked_at: _now(), RefreshTokens.replaced_by: new_jti})
            .where(
                (RefreshTokens.jti == jti)
                & (RefreshTokens.family == family)
                & (RefreshTokens.user == user_id)
                & RefreshTokens.revoked_at.is_null()
                & (RefreshTokens.expires_at > _now())
            )
            .returning(RefreshTokens.id)
        )
        if claimed:
            settings = get_settings()
            await RefreshTokens.insert(
                RefreshTokens(
                    jti=new_jti,
                    user=user_id,
                    family=family,
                    expires_at=_now() + timedelta(seconds=settings.jwt_refresh_ttl),
                )
            )
    if not claimed:
        known = (
            await RefreshTokens.select(RefreshTokens.replaced_by, RefreshTokens.revoked_at)
            .where((RefreshTokens.jti == jti) & (RefreshTokens.family == family))
            .first()
        )
        if known and known["revoked_at"] is not None and known["replaced_by"] is None:
            # Revoked without being used: its session was signed out (logout, or reuse of a sibling).
            raise InvalidToken("This session was signed out. Sign in again.", code="token_revoked")
        if known and known["replaced_by"] is not None:
            await revoke_family(family)
            raise InvalidToken(
                "This refresh token was already used, so every session it belongs to has been signed out. "
                "Sign in again.",
                code="refresh_token_reused",
            )
        raise InvalidToken()
    return user_id, _pair(user_id, family, new_jti)


async def revoke(refresh_token: str | None, *, family: str | None = None) -> None:
    """Log out: revoke the family named by a refresh token (or by the caller's access token)."""
    if refresh_token:
        family = str(_decode(refresh_token, REFRESH)["fam"])
    if family:
        await revoke_family(family)
