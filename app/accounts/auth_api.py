"""/api/v1/auth: exchange a Google code or ID token for our tokens, refresh, who am I, sign out."""

from __future__ import annotations

from litestar import Controller, Request, get, post
from litestar.params import JSONBody
from litestar.response import Response

from app.accounts import google_signin as auth_service
from app.accounts import tokens
from app.accounts import users as users_service
from app.accounts.schemas import GoogleSignIn, LogoutRequest, RefreshRequest, TokenResponse, UserOut, user_out
from app.config import get_settings
from app.errors import AuthenticationRequired, ValidationFailed
from app.limits.rates import RATE_LIMIT_OPT
from app.web.auth import user_required
from app.web.openapi import BEARER, error_responses


def _token_response(pair: tokens.TokenPair, user) -> TokenResponse:
    return TokenResponse(
        access_token=pair.access_token,
        refresh_token=pair.refresh_token,
        token_type=pair.token_type,
        expires_in=pair.expires_in,
        user=user_out(user),
    )


class ApiAuthController(Controller):
    path = "/api/v1/auth"
    tags = ["auth"]

    @post(
        "/google",
        name="api:auth-google",
        status_code=200,
        opt={RATE_LIMIT_OPT: "sign_in"},
        responses=error_responses(401, 409, 422, 429, 503),
        summary="Sign in with a Google authorization code or ID token",
    )
    async def google(self, data: JSONBody[GoogleSignIn]) -> TokenResponse:
        settings = get_settings()
        if data.id_token:
            user = await auth_service.sign_in_with_id_token(settings, data.id_token)
        elif data.code and data.redirect_uri:
            user = await auth_service.sign_in_with_code(
                settings,
                code=data.code,
                redirect_uri=data.redirect_uri,
                code_verifier=data.code_verifier,
                nonce=data.nonce,
            )
        else:
            raise ValidationFailed("Send either {code, redirect_uri, code_verifier?} or {id_token}.")
        return _token_response(await tokens.issue_pair(user.id), user)

    @post(
        "/refresh",
        name="api:auth-refresh",
        status_code=200,
        opt={RATE_LIMIT_OPT: "refresh"},
        responses=error_responses(401, 422, 429),
        summary="Rotate a refresh token for a new token pair",
    )
    async def refresh(self, data: JSONBody[RefreshRequest]) -> TokenResponse:
        user_id, pair = await tokens.rotate(data.refresh_token)
        user = await users_service.get_user(user_id)
        if user is None:
            raise tokens.InvalidToken("The account for this token no longer exists.")
        return _token_response(pair, user)

    @get("/me", name="api:auth-me", guards=[user_required], security=BEARER, summary="The signed-in user")
    async def me(self, request: Request) -> UserOut:
        return user_out(request.user)

    @post(
        "/logout",
        name="api:auth-logout",
        status_code=204,
        security=BEARER,
        summary="Sign out: revoke the refresh token family",
    )
    async def logout(self, request: Request, data: JSONBody[LogoutRequest | None] = None) -> Response[None]:
        """Works with the access token, the refresh token, or both (an expired access token is fine)."""
        family = None
        header = request.headers.get("authorization", "")
        if header.lower().startswith("bearer "):
            try:
                family = tokens.decode_access_token(header[7:].strip()).family
            except tokens.ExpiredToken:
                family = None  # signing out with an expired access token still works via the refresh token
        refresh = data.refresh_token if data else None
        if not family and not refresh:
            raise AuthenticationRequired("Send the access token or the refresh token to sign out.")
        await tokens.revoke(refresh, family=family)
        return Response(None, status_code=204)
