"""My videos: the library page, one video's page, and its actions (retry, delete)."""

from __future__ import annotations

from litestar import Controller, Request, Response, get, post
from litestar.params import FromPath, FromQuery
from litestar.plugins.htmx import ClientRedirect
from litestar.response import Redirect, Template

from app.errors import NotFound
from app.sharing import links
from app.videos import library
from app.web.auth import user_required
from app.web.credits import with_credits_oob
from app.web.params import PageNumber


class VideosPagesController(Controller):
    path = "/videos"
    include_in_schema = False
    guards = [user_required]

    @get("/", name="videos:index")
    async def index(
        self, request: Request, status: FromQuery[str | None] = None, page: FromQuery[PageNumber] = 1
    ) -> Template:
        listing = await library.list_videos(request.user.id, status, page)
        context = {"listing": listing, "filters": library.FILTERS, "card": library.card_context}
        if request.htmx and not request.htmx.boosted:
            # The page's count sits outside the list: it comes along, out of band.
            context["oob_count"] = True
            return Template("partials/videos/_library.html", context=context, headers={"Vary": "HX-Request"})
        return Template("pages/videos/index.html", context=context, headers={"Vary": "HX-Request"})

    @get("/{video_id:int}", name="videos:detail")
    async def detail(self, request: Request, video_id: FromPath[int]) -> Template:
        video = await library.get_video(request.user.id, video_id)
        context = {
            **await library.video_context(video),
            "shared": await links.for_owner(request.user.id, video_id),
            "rendition_links": await links.rendition_links(request.user.id, video_id),
        }
        return Template("pages/videos/detail.html", context=context)

    @get("/group/{group_id:str}", name="videos:group")
    async def group(self, request: Request, group_id: FromPath[str]) -> Template:
        """The variations of one request side by side, each following its own job until its player appears."""
        videos = await library.group_videos(request.user.id, group_id)
        if not videos:
            raise NotFound("No such group of videos.")
        return Template(
            "pages/videos/group.html",
            context={"items": [await library.video_context(v) for v in videos], "heading": f"{len(videos)} variations"},
        )

    @get("/batch/{batch_id:str}", name="videos:batch")
    async def batch(self, request: Request, batch_id: FromPath[str]) -> Template:
        """The videos of one batch (e.g. one prompt with several photos) side by side, each following its job."""
        videos = await library.batch_videos(request.user.id, batch_id)
        if not videos:
            raise NotFound("No such batch of videos.")
        return Template(
            "pages/videos/group.html",
            context={"items": [await library.video_context(v) for v in videos], "heading": f"{len(videos)} videos"},
        )

    @post("/{video_id:int}/retry", name="videos:retry", status_code=200)
    async def retry(self, request: Request, video_id: FromPath[int]) -> Response:
        """Charge again and queue the failed video anew; htmx gets the live block back and the new balance."""
        from app.videos import service as videos_service

        video = await videos_service.retry_video(request.user, video_id)
        if not request.htmx:
            return Redirect(request.app.route_reverse("videos:detail", video_id=video.id), status_code=303)
        context = await library.video_context(video)
        return await with_credits_oob(request, Template("partials/videos/_live.html", context=context))

    @post("/{video_id:int}/delete", name="videos:delete", status_code=303)
    async def delete(self, request: Request, video_id: FromPath[int]) -> Response:
        from app.videos import service as videos_service

        await videos_service.delete_video(request.user.id, video_id)
        index = request.app.route_reverse("videos:index")
        if request.htmx:
            return ClientRedirect(index)
        return Redirect(index, status_code=303)
