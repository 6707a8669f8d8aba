"""/account/webhooks: register endpoints, see each one's delivery log, send a test event, remove or re-enable."""

from __future__ import annotations

from litestar import Controller, Request, get, post
from litestar.params import FromPath
from litestar.response import Redirect, Template

from app.errors import ValidationFailed
from app.web.auth import user_required
from app.webhooks import dispatch, endpoints


async def _form_data(request: Request) -> tuple[str, list[str]]:
    form = await request.form()
    return str(form.get("url") or ""), [str(v) for v in form.getall("events")]


class WebhookPagesController(Controller):
    path = "/account/webhooks"
    include_in_schema = False
    guards = [user_required]

    @get("/", name="webhooks:index")
    async def index(self, request: Request) -> Template:
        return await self._index(request)

    async def _index(
        self, request: Request, *, error: str = "", form: dict | None = None, status_code: int = 200
    ) -> Template:
        return Template(
            "pages/webhooks/index.html",
            status_code=status_code,
            context={
                "endpoints": await endpoints.list_for(request.user.id),
                "events": endpoints.EVENTS,
                "error": error,
                "form": form or {"url": "", "events": list(endpoints.EVENTS)},
            },
        )

    @post("/", name="webhooks:create", status_code=303)
    async def create(self, request: Request) -> Redirect | Template:
        url, events = await _form_data(request)
        try:
            endpoint = await endpoints.create(request.user.id, url, events)
        except ValidationFailed as exc:
            return await self._index(request, error=exc.detail, form={"url": url, "events": events}, status_code=422)
        return Redirect(f"/account/webhooks/{endpoint.id}", status_code=303)

    @get("/{endpoint_id:int}", name="webhooks:detail")
    async def detail(self, request: Request, endpoint_id: FromPath[int]) -> Template:
        endpoint = await endpoints.get(request.user.id, endpoint_id)
        log = await endpoints.delivery_log(request.user.id, endpoint_id)
        return Template("pages/webhooks/detail.html", context={"endpoint": endpoint, "log": log})

    @post("/{endpoint_id:int}/test", name="webhooks:test", status_code=303)
    async def test(self, request: Request, endpoint_id: FromPath[int]) -> Redirect:
        await dispatch.send_test(request.user.id, endpoint_id)
        return Redirect(f"/account/webhooks/{endpoint_id}", status_code=303)

    @post("/{endpoint_id:int}/enable", name="webhooks:enable", status_code=303)
    async def enable(self, request: Request, endpoint_id: FromPath[int]) -> Redirect:
        await endpoints.enable(request.user.id, endpoint_id)
        return Redirect(f"/account/webhooks/{endpoint_id}", status_code=303)

    @post("/{endpoint_id:int}/delete", name="webhooks:delete", status_code=303)
    async def delete(self, request: Request, endpoint_id: FromPath[int]) -> Redirect:
        await endpoints.delete(request.user.id, endpoint_id)
        return Redirect("/account/webhooks", status_code=303)
