"""Notification pages: the list, marking read, email preferences on /account, and unsubscribe links."""

from __future__ import annotations

from litestar import Controller, Request, Response, get, post
from litestar.params import FromPath, URLEncodedBody
from litestar.response import Redirect, Template

from app.errors import NotFound
from app.notifications import inbox, preferences
from app.tables import Notifications
from app.web.auth import user_required


class NotificationsController(Controller):
    path = "/notifications"
    include_in_schema = False
    guards = [user_required]

    @get("/", name="notifications:index")
    async def index(self, request: Request) -> Template:
        items = await inbox.recent(request.user.id)
        return Template("pages/notifications/index.html", context={"notifications": items})

    @post("/read", name="notifications:read-all", status_code=303)
    async def read_all(self, request: Request) -> Response:
        unread = await inbox.mark_read(request.user.id)
        if request.headers.get("hx-request"):
            items = await inbox.recent(request.user.id)
            return Template(
                "partials/notifications/_list.html",
                context={"notifications": items, "unread": unread, "bell_oob": True},
            )
        return Redirect("/notifications", status_code=303)

    @get("/{notification_id:int}/open", name="notifications:open")
    async def open(self, request: Request, notification_id: FromPath[int]) -> Redirect:
        """Mark one read and go where it points."""
        row = (
            await Notifications.select(Notifications.link)
            .where((Notifications.id == notification_id) & (Notifications.user == request.user.id))
            .first()
        )
        if row is None:
            raise NotFound("No such notification.")
        await inbox.mark_read(request.user.id, [notification_id])
        link = row["link"] or "/notifications"
        return Redirect(
            link if link.startswith("/") and not link.startswith("//") else "/notifications", status_code=303
        )


def _checked(data: dict[str, str], name: str) -> bool:
    return data.get(name) in ("on", "1", "true")


class PreferencesController(Controller):
    path = "/account/preferences"
    include_in_schema = False
    guards = [user_required]

    @post("/", name="account:preferences", status_code=200)
    async def update(self, request: Request, data: URLEncodedBody[dict[str, str]]) -> Response:
        prefs = await preferences.update(
            request.user.id,
            preferences.Preferences(
                email_video_updates=_checked(data, "email_video_updates"),
                email_account_alerts=_checked(data, "email_account_alerts"),
                show_in_creators=_checked(data, "show_in_creators"),
            ),
        )
        if request.headers.get("hx-request"):
            return Template("partials/notifications/_preferences.html", context={"prefs": prefs, "saved": True})
        return Redirect("/account#preferences", status_code=303)


class UnsubscribeController(Controller):
    """The link in every email: GET asks to confirm, POST (the mail client's one-click, or the button) acts.
    No session and no CSRF token: the signed token is the authority."""

    path = "/unsubscribe"
    include_in_schema = False

    @get("/{token:str}", name="unsubscribe:confirm")
    async def confirm(self, token: FromPath[str]) -> Template:
        _, preference = preferences.read_token(token)
        return Template(
            "pages/notifications/unsubscribe.html",
            context={"token": token, "label": preferences.PREFERENCE_LABELS[preference], "done": False},
            headers={"X-Robots-Tag": "noindex", "Referrer-Policy": "no-referrer"},
        )

    @post("/{token:str}", name="unsubscribe:confirmed", status_code=200)
    async def unsubscribe(self, token: FromPath[str]) -> Template:
        _, label = await preferences.unsubscribe(token)
        return Template(
            "pages/notifications/unsubscribe.html",
            context={"token": token, "label": label, "done": True},
            headers={"X-Robots-Tag": "noindex", "Referrer-Policy": "no-referrer"},
        )
