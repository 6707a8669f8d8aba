"""Sign-in pages: start the Google flow, handle its callback, sign out."""

from __future__ import annotations

from urllib.parse import quote

from litestar import Controller, Request, get, post
from litestar.response import Redirect, Response, Template

from app.accounts import google_signin as auth_service
from app.accounts.sessions import end_session, require_store, start_session
from app.config import get_settings
from app.errors import AppError
from app.limits.rates import RATE_LIMIT_OPT

PENDING_KEY = "oidc"


def _failure_page(request: Request, exc: AppError, next_path: str) -> Template:
    status = 503 if exc.status_code == 503 else 409 if exc.status_code == 409 else 400
    return Template(
        "pages/accounts/signin_error.html",
        context={
            "detail": exc.detail,
            "code": exc.code,
            "retry_url": f"{request.app.route_reverse('auth:login')}?next={quote(next_path, safe='/')}",
        },
        status_code=status,
    )


class AuthController(Controller):
    include_in_schema = False

    @get("/auth/login", name="auth:login")
    async def login(self, request: Request) -> Response:
        """Send the browser to Google (or straight on, when already signed in)."""
        next_path = auth_service.safe_next(request.query_params.get("next"))
        if request.user is not None:
            return Redirect(next_path)
        try:
            start = await auth_service.start_login(
                get_settings(), next_path=next_path, login_hint=request.query_params.get("login_hint")
            )
        except AppError as exc:
            return _failure_page(request, exc, next_path)
        await require_store(request)
        request.set_session({**(request.session or {}), PENDING_KEY: start.pending})
        return Redirect(start.url)

    @get("/auth/google/callback", name="auth:callback", opt={RATE_LIMIT_OPT: "sign_in"})
    async def callback(self, request: Request) -> Response:
        session = dict(request.session or {})
        pending = session.pop(PENDING_KEY, None)  # one use: a replayed callback finds nothing
        request.set_session(session)
        try:
            user, next_path = await auth_service.complete_login(get_settings(), pending, dict(request.query_params))
        except AppError as exc:
            return _failure_page(request, exc, auth_service.safe_next((pending or {}).get("next")))
        await start_session(request, {"user_id": user.id})
        return Redirect(next_path)

    @post("/auth/logout", name="auth:logout", status_code=303)
    async def logout(self, request: Request) -> Redirect:
        end_session(request)
        return Redirect(request.app.route_reverse("home:index"), status_code=303)
