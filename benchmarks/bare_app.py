"""The reference: a bare Litestar app with one plain-text route, served by the same uvicorn settings."""

from litestar import Litestar, get


@get("/plain", media_type="text/plain", sync_to_thread=False)
def plain() -> str:
    return "ok"


def create_app() -> Litestar:
    return Litestar([plain])
