"""A local Google OpenID Connect provider, spoken over real HTTP so the real Authlib client is exercised.

Discovery, an account-chooser `/authorize` (seeded demo accounts plus any made-up address;
`login_hint` skips the chooser), `/token` (single-use codes that expire, PKCE, client
credentials, redirect URI), RS256 JWKS and userinfo. State (signing key, codes, access tokens)
lives in this process only: run one web process when you sign in through it.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import time
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any
from urllib.parse import urlencode, urlsplit

from joserfc import jwt
from joserfc.jwk import RSAKey
from litestar import Litestar, Request, Response, get, post
from litestar.params import FromPath, URLEncodedBody
from litestar.response import Redirect

from app.web.templating import render

EMULATOR_CLIENT_ID = "adsvideo-local.apps.googleusercontent.com"
EMULATOR_CLIENT_SECRET = "adsvideo-local-emulator-secret"
DEMO_DOMAIN = "@demo.adsvideo.local"
ID_TOKEN_TTL = 3600
CODE_TTL = 120


def google_sub_for(email: str) -> str:
    """The stable `sub` the emulator gives an address: 21 digits, like Google's, from the lower-cased email."""
    digest = hashlib.sha256(email.strip().lower().encode()).hexdigest()
    return "1" + str(int(digest, 16) % 10**20).zfill(20)


def name_from_email(email: str) -> str:
    local = email.split("@", 1)[0]
    words = [w for w in local.replace("_", ".").replace("-", ".").replace("+", ".").split(".") if w]
    return " ".join(w.capitalize() for w in words) or email


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _half_hash(value: str) -> str:
    return _b64url(hashlib.sha256(value.encode()).digest()[:16])


@dataclass
class Account:
    email: str
    name: str
    email_verified: bool = True

    @property
    def sub(self) -> str:
        return google_sub_for(self.email)


@dataclass
class AuthRequest:
    client_id: str
    redirect_uri: str
    scope: str
    state: str | None
    nonce: str | None
    code_challenge: str | None
    code_challenge_method: str | None


@dataclass
class IssuedCode:
    request: AuthRequest
    account: Account
    expires_at: float


@dataclass
class GoogleEmulator:
    """The provider's state; `app` serves it over HTTP under `issuer`."""

    issuer: str
    client_id: str = EMULATOR_CLIENT_ID
    client_secret: str = EMULATOR_CLIENT_SECRET
    code_ttl: float = CODE_TTL
    key: RSAKey = field(
        default_factory=lambda: RSAKey.generate_key(2048, parameters={"use": "sig", "alg": "RS256"}, auto_kid=True)
    )
    pending: dict[str, AuthRequest] = field(default_factory=dict)
    codes: dict[str, IssuedCode] = field(default_factory=dict)
    access_tokens: dict[str, tuple[Account, float]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.issuer = self.issuer.rstrip("/")

    # --- tokens -----------------------------------------------------------------------------

    def picture_for(self, account: Account) -> str:
        return f"{self.issuer}/avatar/{account.sub}.png"

    def id_token_claims(self, account: Account, *, nonce: str | None = None, access_token: str | None = None) -> dict:
        now = int(time.time())
        claims: dict[str, Any] = {
            "iss": self.issuer,
            "azp": self.client_id,
            "aud": self.client_id,
            "sub": account.sub,
            "email": account.email,
            "email_verified": account.email_verified,
            "name": account.name,
            "given_name": account.name.split(" ")[0],
            "picture": self.picture_for(account),
            "iat": now,
            "exp": now + ID_TOKEN_TTL,
        }
        if nonce:
            claims["nonce"] = nonce
        if access_token:
            claims["at_hash"] = _half_hash(access_token)
        return claims

    def sign(self, claims: dict) -> str:
        """An RS256 JWT signed with the key the JWKS publishes (tests use it to craft edge cases)."""
        return jwt.encode({"alg": "RS256", "kid": self.key.kid, "typ": "JWT"}, claims, self.key)

    def id_token_for(self, email: str, **overrides: Any) -> str:
        account = Account(email=email.lower(), name=name_from_email(email))
        claims = self.id_token_claims(account)
        claims.update(overrides)
        return self.sign(claims)

    def issue_code(self, request: AuthRequest, account: Account) -> str:
        code = "4/" + secrets.token_urlsafe(32)
        self.codes[code] = IssuedCode(request=request, account=account, expires_at=time.time() + self.code_ttl)
        return code

    # --- HTTP -------------------------------------------------------------------------------

    @cached_property
    def app(self) -> Litestar:
        return _build_app(self)


class OAuthError(Exception):
    def __init__(self, error: str, description: str, status: int = 400):
        super().__init__(description)
        self.error, self.description, self.status = error, description, status


def _redirect_with(redirect_uri: str, **params: str | None) -> Redirect:
    query = urlencode({k: v for k, v in params.items() if v is not None})
    sep = "&" if urlsplit(redirect_uri).query else "?"
    return Redirect(f"{redirect_uri}{sep}{query}", status_code=302)


def _page(template: str, status: int = 200, **context: Any) -> Response:
    return Response(render(template, **context), status_code=status, media_type="text/html")


async def _demo_accounts() -> list[Account]:
    from app.tables import Users

    try:
        rows = (
            await Users.select(Users.email, Users.name).where(Users.email.like(f"%{DEMO_DOMAIN}")).order_by(Users.email)
        )
    except Exception:  # no database (a bare emulator): the made-up account form still works
        return []
    return [Account(email=r["email"], name=r["name"] or name_from_email(r["email"])) for r in rows]


def _build_app(emu: GoogleEmulator) -> Litestar:
    def validate_auth_request(params: dict[str, str]) -> AuthRequest:
        """Errors about the client or redirect URI are shown, never redirected (RFC 6749 §4.1.2.1)."""
        client_id = params.get("client_id", "")
        redirect_uri = params.get("redirect_uri", "")
        if client_id != emu.client_id:
            raise OAuthError("invalid_client", "The OAuth client was not found.", 401)
        parts = urlsplit(redirect_uri)
        if parts.scheme not in ("http", "https") or not parts.netloc or parts.fragment:
            raise OAuthError("redirect_uri_mismatch", "The redirect URI must be an absolute http(s) URL.")
        return AuthRequest(
            client_id=client_id,
            redirect_uri=redirect_uri,
            scope=params.get("scope", ""),
            state=params.get("state"),
            nonce=params.get("nonce"),
            code_challenge=params.get("code_challenge"),
            code_challenge_method=params.get("code_challenge_method"),
        )

    def redirect_error(req: AuthRequest, params: dict[str, str]) -> Redirect | None:
        if params.get("response_type") != "code":
            return _redirect_with(req.redirect_uri, error="unsupported_response_type", state=req.state)
        if "openid" not in req.scope.split():
            return _redirect_with(
                req.redirect_uri, error="invalid_scope", error_description="Missing openid", state=req.state
            )
        if req.code_challenge and req.code_challenge_method not in (None, "plain", "S256"):
            return _redirect_with(req.redirect_uri, error="invalid_request", state=req.state)
        return None

    def signed_in(req: AuthRequest, account: Account) -> Redirect:
        return _redirect_with(req.redirect_uri, code=emu.issue_code(req, account), state=req.state, scope=req.scope)

    @get("/.well-known/openid-configuration", sync_to_thread=False)
    def discovery() -> dict[str, Any]:
        return {
            "issuer": emu.issuer,
            "authorization_endpoint": f"{emu.issuer}/authorize",
            "token_endpoint": f"{emu.issuer}/token",
            "userinfo_endpoint": f"{emu.issuer}/userinfo",
            "jwks_uri": f"{emu.issuer}/certs",
            "response_types_supported": ["code"],
            "subject_types_supported": ["public"],
            "id_token_signing_alg_values_supported": ["RS256"],
            "scopes_supported": ["openid", "email", "profile"],
            "token_endpoint_auth_methods_supported": ["client_secret_post", "client_secret_basic"],
            "claims_supported": [
                "aud",
                "email",
                "email_verified",
                "exp",
                "iat",
                "iss",
                "name",
                "picture",
                "sub",
                "nonce",
            ],
            "code_challenge_methods_supported": ["plain", "S256"],
            "grant_types_supported": ["authorization_code"],
        }

    @get("/certs", sync_to_thread=False)
    def certs() -> dict[str, Any]:
        return {"keys": [emu.key.as_dict(private=False)]}

    @get("/authorize")
    async def authorize(request: Request) -> Response:
        params = dict(request.query_params)
        try:
            req = validate_auth_request(params)
        except OAuthError as exc:
            return _page("emulators/google/error.html", exc.status, error=exc.error, description=exc.description)
        if bad := redirect_error(req, params):
            return bad
        hint = (params.get("login_hint") or "").strip().lower()
        if hint and "@" in hint:
            demo = {a.email: a for a in await _demo_accounts()}
            return signed_in(req, demo.get(hint) or Account(email=hint, name=name_from_email(hint)))
        request_id = secrets.token_urlsafe(16)
        emu.pending[request_id] = req
        return _page(
            "emulators/google/authorize.html",
            request_id=request_id,
            accounts=await _demo_accounts(),
            client_id=req.client_id,
            redirect_host=urlsplit(req.redirect_uri).netloc,
        )

    @post("/authorize", status_code=302)
    async def choose(data: URLEncodedBody[dict[str, str]]) -> Response:
        req = emu.pending.pop(data.get("request_id", ""), None)
        if req is None:
            return _page(
                "emulators/google/error.html",
                400,
                error="invalid_request",
                description="This sign-in request has expired. Go back to the app and start again.",
            )
        if data.get("action") == "cancel":
            return _redirect_with(req.redirect_uri, error="access_denied", state=req.state)
        email = (data.get("email") or "").strip().lower()
        if "@" not in email or len(email) > 254 or " " in email:
            emu.pending[data["request_id"]] = req
            return _page(
                "emulators/google/authorize.html",
                422,
                request_id=data["request_id"],
                accounts=await _demo_accounts(),
                client_id=req.client_id,
                redirect_host=urlsplit(req.redirect_uri).netloc,
                error="Enter an email address such as jane@example.com.",
                email=email,
                name=data.get("name", ""),
            )
        name = (data.get("name") or "").strip()[:100] or name_from_email(email)
        verified = data.get("email_verified") in ("on", "true", "1")  # an unticked checkbox is not sent
        return signed_in(req, Account(email=email, name=name, email_verified=verified))

    @post("/token", status_code=200)
    async def token(request: Request) -> Response:
        form = dict(await request.form())
        try:
            return Response(
                _exchange(form, request.headers.get("authorization")), headers={"Cache-Control": "no-store"}
            )
        except OAuthError as exc:
            return Response({"error": exc.error, "error_description": exc.description}, status_code=exc.status)

    def _exchange(form: dict[str, Any], authorization: str | None) -> dict[str, Any]:
        client_id, client_secret = form.get("client_id"), form.get("client_secret")
        if authorization and authorization.lower().startswith("basic "):
            try:
                raw = base64.b64decode(authorization[6:]).decode()
            except ValueError as exc:
                raise OAuthError("invalid_client", "Malformed client credentials.", 401) from exc
            from urllib.parse import unquote

            client_id, _, client_secret = (unquote(p) for p in raw.partition(":"))
        if client_id != emu.client_id or not hmac.compare_digest(str(client_secret or ""), emu.client_secret):
            raise OAuthError("invalid_client", "The OAuth client was not found or its secret is wrong.", 401)
        if form.get("grant_type") != "authorization_code":
            raise OAuthError("unsupported_grant_type", "Only authorization_code is supported.")
        issued = emu.codes.pop(str(form.get("code", "")), None)  # popped: a code works once
        if issued is None:
            raise OAuthError("invalid_grant", "Malformed auth code or the code was already used.")
        req = issued.request
        if time.time() > issued.expires_at:
            raise OAuthError("invalid_grant", "The authorization code has expired.")
        if req.client_id != client_id:
            raise OAuthError("invalid_grant", "The code was issued to another client.")
        if form.get("redirect_uri") != req.redirect_uri:
            raise OAuthError("redirect_uri_mismatch", "Bad Request: redirect_uri does not match.")
        if req.code_challenge:
            verifier = str(form.get("code_verifier") or "")
            if not verifier:
                raise OAuthError("invalid_grant", "Missing code verifier.")
            expected = (
                _b64url(hashlib.sha256(verifier.encode()).digest()) if req.code_challenge_method == "S256" else verifier
            )
            if not hmac.compare_digest(expected, req.code_challenge):
                raise OAuthError("invalid_grant", "Invalid code verifier.")
        access_token = "ya29." + secrets.token_urlsafe(32)
        emu.access_tokens[access_token] = (issued.account, time.time() + ID_TOKEN_TTL)
        claims = emu.id_token_claims(issued.account, nonce=req.nonce, access_token=access_token)
        return {
            "access_token": access_token,
            "expires_in": ID_TOKEN_TTL - 1,
            "token_type": "Bearer",
            "scope": req.scope,
            "id_token": emu.sign(claims),
        }

    @get("/userinfo", sync_to_thread=False)
    def userinfo(request: Request) -> Response:
        header = request.headers.get("authorization", "")
        found = emu.access_tokens.get(header[7:]) if header.lower().startswith("bearer ") else None
        if not found or found[1] < time.time():
            return Response(
                {"error": "invalid_token"},
                status_code=401,
                headers={"WWW-Authenticate": 'Bearer error="invalid_token"'},
            )
        account = found[0]
        return Response(
            {
                "sub": account.sub,
                "email": account.email,
                "email_verified": account.email_verified,
                "name": account.name,
                "picture": emu.picture_for(account),
            }
        )

    @get("/avatar/{name:str}", sync_to_thread=False)
    def avatar(name: FromPath[str]) -> Response:
        """A generated avatar, so pictures work offline."""
        digest = hashlib.sha256(name.removesuffix(".svg").removesuffix(".png").encode()).hexdigest()
        hue = int(digest[:4], 16) % 360
        letter = chr(ord("A") + int(digest[4:6], 16) % 26)
        if name.endswith(".png"):  # what id tokens point at, like Google's own raster pictures
            return Response(
                _letter_png(hue, letter), media_type="image/png", headers={"Cache-Control": "public, max-age=86400"}
            )
        svg = (
            '<svg xmlns="http://www.w3.org/2000/svg" width="96" height="96" viewBox="0 0 96 96">'
            f'<rect width="96" height="96" fill="hsl({hue},55%,52%)"/>'
            f'<text x="48" y="62" font-family="sans-serif" font-size="44" text-anchor="middle" fill="#fff">{letter}</text>'
            "</svg>"
        )
        return Response(svg, media_type="image/svg+xml", headers={"Cache-Control": "public, max-age=86400"})

    return Litestar(
        route_handlers=[discovery, certs, authorize, choose, token, userinfo, avatar],
        openapi_config=None,
        logging_config=None,  # the host process sets logging up (Litestar's default adds a root handler)
    )


def _letter_png(hue: int, letter: str) -> bytes:
    import colorsys
    import io

    from PIL import Image, ImageDraw

    red, green, blue = (round(c * 255) for c in colorsys.hls_to_rgb(hue / 360, 0.52, 0.55))
    image = Image.new("RGB", (96, 96), (red, green, blue))
    ImageDraw.Draw(image).text((48, 48), letter, fill=(255, 255, 255), anchor="mm", font_size=44)
    out = io.BytesIO()
    image.save(out, "PNG")
    return out.getvalue()


def create_google_emulator(issuer: str, **kwargs: Any) -> GoogleEmulator:
    return GoogleEmulator(issuer=issuer, **kwargs)
