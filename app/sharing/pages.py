"""Share pages (public), the embed player, oEmbed, the gallery, and the owner's share actions."""

from __future__ import annotations

from typing import Annotated
from urllib.parse import urlencode

from litestar import Controller, Request, Response, get, post, route
from litestar.params import FromPath, FromQuery, Parameter, URLEncodedBody
from litestar.response import Redirect, Template

from app.errors import NotFound
from app.media.serving import answer
from app.sharing import gallery, links, oembed
from app.web.auth import admin_required, user_required
from app.web.headers import CSP_OPT

PUBLIC_MEDIA_CACHE = "public, max-age=300"


def oembed_address(page_url: str) -> str:
    base = page_url.rsplit("/s/", 1)[0]
    return f"{base}/oembed?{urlencode({'format': 'json', 'url': page_url})}"


def share_context(request: Request, shared: links.Shared) -> dict:
    page_url = links.share_url(shared.token)
    return {
        "shared": shared,
        "page_url": page_url,
        "embed_url": links.embed_url(shared.token),
        "video_src": f"/s/{shared.token}/video.mp4",
        "poster_src": f"/s/{shared.token}/poster" if shared.poster_key else None,
        "abs_video": f"{page_url}/video.mp4",
        "abs_poster": f"{page_url}/poster" if shared.poster_key else None,
        "oembed_url": oembed_address(page_url),
    }


class SharePagesController(Controller):
    """What anyone with the link sees; a revoked or unknown token is a 404 everywhere. The embed page is the
    one page other sites may frame (its own `frame-ancestors`); every other page refuses to be framed."""

    path = "/s"
    include_in_schema = False

    @get("/{token:str}", name="share:page")
    async def page(self, request: Request, token: FromPath[str]) -> Template:
        shared = await links.by_token(token)
        headers = {} if shared.published else {"X-Robots-Tag": "noindex"}
        return Template("pages/sharing/share.html", context=share_context(request, shared), headers=headers)

    @get("/{token:str}/embed", name="share:embed", opt={CSP_OPT: {"frame-ancestors": "*"}})
    async def embed(self, request: Request, token: FromPath[str]) -> Template:
        shared = await links.by_token(token)
        return Template(
            "pages/sharing/embed.html", context=share_context(request, shared), headers={"X-Robots-Tag": "noindex"}
        )

    @route("/{token:str}/video.mp4", http_method=["GET", "HEAD"], name="share:video")
    async def video(self, request: Request, token: FromPath[str]) -> Response:
        return await self._file(request, await links.by_token(token), "video")

    @route("/{token:str}/poster", http_method=["GET", "HEAD"], name="share:poster")
    async def poster(self, request: Request, token: FromPath[str]) -> Response:
        return await self._file(request, await links.by_token(token), "poster")

    @staticmethod
    async def _file(request: Request, shared: links.Shared, which: str) -> Response:
        key = links.shared_key(shared, which)
        if key is None:
            raise NotFound("No such file.")
        # Like the owner's media: from this disk, or a redirect to a short-lived URL in the bucket.
        response = await answer(request, key, public=False, cache_control=PUBLIC_MEDIA_CACHE)
        response.headers["X-Robots-Tag"] = "noindex"
        # Players on other sites (embeds, chat unfurls) fetch these cross-origin.
        response.headers["Cross-Origin-Resource-Policy"] = "cross-origin"
        return response


class OEmbedController(Controller):
    include_in_schema = False

    @get("/oembed", name="share:oembed")
    async def oembed(
        self,
        url: FromQuery[Annotated[str, Parameter(max_length=2048)]],
        format: FromQuery[str] = "json",  # the oEmbed parameter's name
        maxwidth: FromQuery[Annotated[int | None, Parameter(ge=1, le=10_000)]] = None,
        maxheight: FromQuery[Annotated[int | None, Parameter(ge=1, le=10_000)]] = None,
    ) -> Response:
        data = await oembed.oembed(url, format, maxwidth, maxheight)
        return Response(data, media_type="application/json", headers={"Access-Control-Allow-Origin": "*"})


class GalleryController(Controller):
    include_in_schema = False

    @get("/gallery", name="gallery:index")
    async def index(self, page: FromQuery[Annotated[int, Parameter(ge=1, le=1000)]] = 1) -> Template:
        return Template("pages/sharing/gallery.html", context={"gallery": await gallery.page(page)})


def _rendition_id(data: dict[str, str]) -> int | None:
    value = (data.get("rendition_id") or "").strip()
    if not value:
        return None
    if not value.isdigit() or len(value) > 12:
        raise NotFound("Rendition not found.", code="rendition_not_found")
    return int(value)


async def _back_to_video(request: Request, video_id: int) -> Response:
    if request.headers.get("hx-request"):
        context = {
            "video_id": video_id,
            "shared": await links.for_owner(request.user.id, video_id),
            "rendition_links": await links.rendition_links(request.user.id, video_id),
        }
        return Template("partials/sharing/_share_panel.html", context=context)
    return Redirect(request.app.route_reverse("videos:detail", video_id=video_id), status_code=303)


class ShareActionsController(Controller):
    """The owner turns the link on or off and publishes it, from the video page."""

    path = "/videos/{video_id:int}"
    include_in_schema = False
    guards = [user_required]

    @post("/share", name="share:create", status_code=200)
    async def share(self, request: Request, video_id: FromPath[int], data: URLEncodedBody[dict[str, str]]) -> Response:
        await links.share(request.user.id, video_id, _rendition_id(data))
        return await _back_to_video(request, video_id)

    @post("/share/revoke", name="share:revoke", status_code=200)
    async def revoke(self, request: Request, video_id: FromPath[int], data: URLEncodedBody[dict[str, str]]) -> Response:
        await links.revoke(request.user.id, video_id, _rendition_id(data))
        return await _back_to_video(request, video_id)

    @post("/publish", name="share:publish", status_code=200)
    async def publish(
        self, request: Request, video_id: FromPath[int], data: URLEncodedBody[dict[str, str]]
    ) -> Response:
        await gallery.publish(request.user.id, video_id, data.get("published") == "1", _rendition_id(data))
        return await _back_to_video(request, video_id)


class AdminGalleryController(Controller):
    path = "/admin/gallery"
    include_in_schema = False
    guards = [admin_required]

    @get("/", name="admin:gallery")
    async def index(self, page: FromQuery[Annotated[int, Parameter(ge=1, le=1000)]] = 1) -> Template:
        items = await gallery.page(page, include_hidden=True)
        return Template("pages/sharing/admin_gallery.html", context={"gallery": items, "section": "gallery"})

    @post("/{link_id:int}/hide", name="admin:gallery-hide", status_code=303)
    async def hide(self, link_id: FromPath[int]) -> Redirect:
        await gallery.set_hidden(link_id, True)
        return Redirect("/admin/gallery", status_code=303)

    @post("/{link_id:int}/unhide", name="admin:gallery-unhide", status_code=303)
    async def unhide(self, link_id: FromPath[int]) -> Redirect:
        await gallery.set_hidden(link_id, False)
        return Redirect("/admin/gallery", status_code=303)

    @post("/{link_id:int}/promote", name="admin:gallery-promote", status_code=303)
    async def promote(self, link_id: FromPath[int]) -> Redirect:
        row = await gallery.promote(link_id)
        return Redirect(f"/admin/showcase/{row.id}/edit", status_code=303)
