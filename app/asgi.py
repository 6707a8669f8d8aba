"""The Litestar application factory (`uvicorn --factory app.asgi:create_app`)."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import dramatiq
from litestar import Litestar
from litestar.config.csrf import CSRFConfig
from litestar.datastructures import CacheControlHeader
from litestar.middleware import DefineMiddleware
from litestar.plugins.htmx import HTMXPlugin
from litestar.static_files import create_static_files_router
from litestar.stores.memory import MemoryStore
from litestar.stores.redis import RedisStore
from redis.asyncio import Redis

from app import db
from app.accounts.account_pages import AccountController
from app.accounts.admin_pages import AdminUsersController
from app.accounts.auth_api import ApiAuthController
from app.accounts.auth_pages import AuthController
from app.accounts.public_api import PublicUsersApiController
from app.accounts.sessions import SESSION_COOKIE, LazySessionConfig
from app.accounts.users_api import UsersController
from app.billing.api import BillingApiController
from app.billing.pages import BillingController
from app.billing.stripe_webhook import StripeWebhookController
from app.config import ROOT, Settings, get_settings
from app.emulators.mount import emulator_routes
from app.limits.rates import RateLimitMiddleware
from app.media.delivery import OwnerMediaController, PublicMediaController
from app.media.storage import storage_for
from app.media.upload_limits import limited_router
from app.ops.dashboard_pages import AdminDashboardController
from app.ops.probes import HealthController
from app.ops.requests import RequestContext, UserContext
from app.ops.scrape import MetricsController
from app.ops.setup import setup_process
from app.showcase.admin_pages import AdminShowcaseController, AdminTrialImagesController
from app.showcase.api import ShowcaseApiController
from app.showcase.pages import HomeController
from app.videos import progress
from app.videos.api import BatchesController, VideosController
from app.web.allow import AllowHeaderMiddleware
from app.web.auth import AuthMiddleware
from app.web.cookie_guard import CookieGuardMiddleware
from app.web.cors import ApiCORSMiddleware
from app.web.errors import EXCEPTION_HANDLERS
from app.web.headers import SecurityHeadersMiddleware
from app.web.input_guard import InputGuardMiddleware
from app.web.openapi import DocsController, finalize_openapi, openapi_config
from app.web.page_cache import PageCacheMiddleware
from app.web.shutdown import close_streams_on_sigterm
from app.web.templating import template_config, use_routes

log = logging.getLogger("adsvideo")

SESSION_MAX_AGE = 14 * 24 * 3600


def _lifespan(settings: Settings):
    @asynccontextmanager
    async def lifespan(app: Litestar) -> AsyncIterator[None]:
        import tasks  # noqa: F401  (declares every actor on the process's broker)
        from tasks.broker import start_embedded_worker

        broker = dramatiq.get_broker()
        engine = db.current_engine()
        embedded = not settings.redis_url
        # A connection pool belongs to one event loop. The embedded worker runs actors on a loop of
        # its own, and tests drive the app from another thread, so the pool is only used where the
        # web process is the database's sole user on its loop.
        use_pool = not embedded and settings.app_env != "test"
        if use_pool:
            await db.start_pool(engine)
        worker = start_embedded_worker(broker) if embedded else None
        relay = None if embedded else progress.RedisRelay(settings.redis_url)
        if relay is not None:
            relay.start()
        app.state.progress_relay = relay
        try:
            with close_streams_on_sigterm():
                yield
        finally:
            if relay is not None:
                await relay.stop()
            if worker is not None:
                worker.stop(timeout=5_000)
            await db.close_pool(engine)

    return lifespan


# Paths that never read or write a session: health checks, the bearer-token API, static and public files.
SESSIONLESS = ["/healthz", "/readyz", "/api/", "/static/", "/media/public/", "/openapi.json", "/docs", "/redoc"]


def session_config(settings: Settings) -> LazySessionConfig:
    """Server-side sessions (a Redis store when REDIS_URL is set, so every web process shares them),
    stored only once something is put in them."""
    return LazySessionConfig(
        store="sessions",
        key=SESSION_COOKIE,
        max_age=SESSION_MAX_AGE,
        httponly=True,
        samesite="lax",
        secure=settings.is_production,
        exclude=SESSIONLESS,
    )


def session_store(settings: Settings):
    if not settings.redis_url:
        return MemoryStore()
    # Short timeouts: with Redis away a request must fail over quickly, not hang.
    client = Redis.from_url(settings.redis_url, socket_connect_timeout=1, socket_timeout=2)
    return RedisStore(redis=client, namespace="adsvideo-sessions")


def studio_routes(settings: Settings) -> list:
    """The studio: uploads (size-limited), /create, /videos and owner-only media."""
    from app.media.api import UploadApiController
    from app.media.upload_pages import StudioUploadController
    from app.videos.pages import VideosPagesController
    from app.videos.studio_pages import StudioController

    return [
        OwnerMediaController,
        VideosPagesController,
        limited_router(settings, [UploadApiController, StudioUploadController, StudioController]),
    ]


def finishing_routes(settings: Settings) -> list:
    """Ad finishing: the brand kit, music uploads, the finish API and the video page's panel."""
    from app.finishing.api import AudioUploadApiController, BrandApiController, FinishApiController
    from app.finishing.pages import BrandPagesController, FinishingPagesController
    from app.finishing.uploads import finishing_router

    return [
        finishing_router(
            settings,
            [
                BrandApiController,
                AudioUploadApiController,
                FinishApiController,
                BrandPagesController,
                FinishingPagesController,
            ],
        ),
    ]


def live_routes() -> list:
    """Live progress over Server-Sent Events (pages and API)."""
    from app.videos.live_api import ApiVideoEventsController
    from app.videos.live_pages import VideoEventsController

    return [VideoEventsController, ApiVideoEventsController]


def out_in_the_world_routes() -> list:
    """Share links, embeds, oEmbed and the gallery; notifications, email preferences; webhooks."""
    from app.notifications.api import NotificationsApiController
    from app.notifications.pages import NotificationsController, PreferencesController, UnsubscribeController
    from app.sharing.api import ShareApiController
    from app.sharing.pages import (
        AdminGalleryController,
        GalleryController,
        OEmbedController,
        ShareActionsController,
        SharePagesController,
    )
    from app.webhooks.api import WebhooksApiController
    from app.webhooks.pages import WebhookPagesController

    return [
        SharePagesController,
        OEmbedController,
        GalleryController,
        ShareActionsController,
        AdminGalleryController,
        ShareApiController,
        NotificationsController,
        PreferencesController,
        UnsubscribeController,
        NotificationsApiController,
        WebhookPagesController,
        WebhooksApiController,
    ]


def create_app(settings: Settings | None = None) -> Litestar:
    """Build the app for `settings` (default: the environment)."""
    settings = settings or get_settings()
    settings.check_production()
    setup_process(settings)  # before Litestar(...): error tracking hooks into its constructor
    db.enable_wal(settings.database_url)

    session = session_config(settings)
    static = create_static_files_router(
        path="/static",
        directories=[ROOT / "static"],
        name="static",
        cache_control=CacheControlHeader(max_age=86400, public=True),
        include_in_schema=False,
    )
    application = Litestar(
        route_handlers=[
            HealthController,
            MetricsController,
            AdminDashboardController,
            PublicMediaController,
            static,
            BillingController,
            BillingApiController,
            StripeWebhookController,
            AdminUsersController,
            AuthController,
            AccountController,
            ApiAuthController,
            UsersController,
            VideosController,
            BatchesController,
            *emulator_routes(settings),
            HomeController,
            ShowcaseApiController,
            PublicUsersApiController,
            AdminShowcaseController,
            AdminTrialImagesController,
            DocsController,
            *studio_routes(settings),
            *finishing_routes(settings),
            *live_routes(),
            *out_in_the_world_routes(),
        ],
        template_config=template_config(),
        plugins=[HTMXPlugin()],
        middleware=[
            InputGuardMiddleware(max_json_bytes=settings.max_json_kb * 1024, max_json_depth=settings.max_json_depth),
            session.middleware,
            DefineMiddleware(
                AuthMiddleware,
                exclude=[
                    "^/static/",
                    "^/healthz",
                    "^/readyz",
                    "^/_emulators/",
                    "^/media/public/",
                    "^/billing/stripe/webhook$",
                ],
            ),
            UserContext,
            RateLimitMiddleware(),
        ],
        csrf_config=CSRFConfig(
            secret=settings.secret_key,
            cookie_name="csrftoken",
            header_name="x-csrftoken",
            cookie_samesite="lax",
            cookie_secure=settings.is_production,
            # /unsubscribe/: mail clients POST the one-click unsubscribe with no session; its signed token is the check.
            exclude=["/api/", "/_emulators/", "/unsubscribe/", "/billing/stripe/webhook", *SESSIONLESS],
        ),
        stores={"sessions": session_store(settings)},
        exception_handlers=EXCEPTION_HANDLERS,
        lifespan=[_lifespan(settings)],
        on_startup=[finalize_openapi],
        debug=settings.debug,
        openapi_config=openapi_config(),
        logging_config=None,  # logging is set up once for the process (LOG_FORMAT), not by Litestar
    )
    # Outermost, so preflights and every /api/ answer (404s included) carry the CORS headers.
    application.asgi_handler = ApiCORSMiddleware(application.asgi_handler, settings.allowed_origins)
    application.asgi_handler = CookieGuardMiddleware(AllowHeaderMiddleware(application.asgi_handler, application))
    application.asgi_handler = PageCacheMiddleware(application.asgi_handler, settings.page_cache_seconds)
    # Every response, errors and 404s included, carries the security headers (images and media may also
    # come from the object storage that media redirects to).
    application.asgi_handler = SecurityHeadersMiddleware(
        application.asgi_handler, production=settings.is_production, media_origins=storage_for(settings).origins()
    )
    # Around everything: the request id, HTTP metrics and the request's log line.
    application.asgi_handler = RequestContext(application.asgi_handler)
    use_routes(application)
    return application
