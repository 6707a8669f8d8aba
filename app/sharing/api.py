"""/api/v1/videos/{id}/share: turn a video's public link on (POST) or off (DELETE)."""

from __future__ import annotations

import msgspec
from litestar import Controller, Request, delete, post
from litestar.params import FromPath, FromQuery, JSONBody

from app.sharing import gallery, links
from app.web.auth import user_required
from app.web.openapi import BEARER, error_responses


class ShareRequest(msgspec.Struct, forbid_unknown_fields=True):
    """`rendition_id`: share one of the video's renditions instead of the video; `publish`: also list it in the
    public gallery (false takes it out)."""

    publish: bool | None = None
    rendition_id: int | None = None


class ShareOut(msgspec.Struct):
    share_url: str
    embed_url: str
    oembed_url: str
    published: bool


def share_out(shared: links.Shared) -> ShareOut:
    from app.sharing.pages import oembed_address

    url = links.share_url(shared.token)
    return ShareOut(
        share_url=url,
        embed_url=links.embed_url(shared.token),
        oembed_url=oembed_address(url),
        published=shared.published,
    )


class ShareApiController(Controller):
    path = "/api/v1/videos/{video_id:int}/share"
    tags = ["videos"]
    guards = [user_required]
    security = BEARER

    @post(
        "/",
        name="api:videos-share",
        status_code=200,
        responses=error_responses(401, 404, 409, 422),
        summary="Turn on the public share link of a finished video",
    )
    async def share(
        self, request: Request, video_id: FromPath[int], data: JSONBody[ShareRequest | None] = None
    ) -> ShareOut:
        """Answers with `share_url` (the same one while sharing stays on), the embed page and the oEmbed
        address. 409 `video_not_finished` for a video that is not completed."""
        rendition_id = data.rendition_id if data is not None else None
        shared = await links.share(request.user.id, video_id, rendition_id)
        if data is not None and data.publish is not None:
            shared = await gallery.publish(request.user.id, video_id, data.publish, rendition_id)
        return share_out(shared)

    @delete(
        "/",
        name="api:videos-unshare",
        status_code=204,
        responses=error_responses(401, 404),
        summary="Turn the share link off (it answers 404 from now on)",
    )
    async def revoke(
        self, request: Request, video_id: FromPath[int], rendition_id: FromQuery[int | None] = None
    ) -> None:
        """Without `rendition_id`: every link of the video (its own and its renditions') at once."""
        await links.revoke(request.user.id, video_id, rendition_id, everything=rendition_id is None)
