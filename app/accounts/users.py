"""Users: lookups, sign-in upsert by Google `sub`, and profile edits."""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from datetime import UTC, datetime

import msgspec

from app.accounts import avatars
from app.billing import ledger
from app.config import get_settings
from app.errors import Conflict, ValidationFailed
from app.tables import CreditTransactions, LedgerReason, Users, Videos

NAME_MAX = 80
AVATAR_URL_MAX = 1024


# Every signed-in request loads its user: the statement is written once, not built per request.
_SELECT_USER = f"SELECT {', '.join(c._meta.db_column_name for c in Users._meta.columns)} FROM users WHERE id = {{}}"
_LIVE_FAMILY = " AND EXISTS (SELECT 1 FROM refresh_tokens WHERE family = {} AND revoked_at IS NULL AND expires_at > {})"


def _one_user(rows: list[dict]) -> Users | None:
    return Users(**rows[0], _exists_in_db=True) if rows else None


async def get_user(user_id: int) -> Users | None:
    return _one_user(await Users.raw(_SELECT_USER, user_id))


async def get_user_of_live_family(user_id: int, family: str) -> Users | None:
    """The user, only while the token family `family` still has a live refresh token (one query)."""
    return _one_user(await Users.raw(_SELECT_USER + _LIVE_FAMILY, user_id, family, datetime.now(UTC)))


async def get_user_by_email(email: str) -> Users | None:
    return await Users.objects().where(Users.email == email.strip().lower()).first()


@dataclass(frozen=True)
class GoogleIdentity:
    """What a validated ID token says about the person."""

    sub: str
    email: str
    name: str
    picture: str | None


async def sign_in_google_user(identity: GoogleIdentity) -> tuple[Users, bool]:
    """The user for a Google identity, created (with the signup grant) or linked; (user, created).

    Email follows Google on every sign-in; name and avatar come from Google only while the user
    has not set their own, so profile edits survive the next sign-in.
    """
    email = identity.email.strip().lower()
    user = await Users.objects().where(Users.google_id == identity.sub).first()
    if user is None:
        user = await Users.objects().where(Users.email == email).first()
        if user is not None and user.google_id and user.google_id != identity.sub:
            raise Conflict("This email address belongs to another Google account here.", code="email_taken")
    if user is None:
        try:
            return await _create(identity, email), True
        except Exception:
            # Two first sign-ins raced: the other one created the row.
            user = await Users.objects().where(Users.google_id == identity.sub).first()
            if user is None:
                raise
            return user, False
    changes: dict = {}
    if user.google_id != identity.sub:
        changes[Users.google_id] = identity.sub
    if user.email != email:
        if await Users.exists().where((Users.email == email) & (Users.id != user.id)):
            raise Conflict("Another account here already uses this email address.", code="email_taken")
        changes[Users.email] = email
    if not user.name and identity.name:
        changes[Users.name] = identity.name[:NAME_MAX]
    if not avatars.is_ours(user.avatar_url) and identity.picture:
        changes[Users.avatar_url] = await avatars.copy_from(user.id, identity.picture)
    if changes:
        await Users.update(changes).where(Users.id == user.id)
        user = await get_user(user.id)
    if Users.google_id in changes:
        await _grant_signup_once(user.id)  # a pre-created row (create-admin) gets the grant on first sign-in
        user = await get_user(user.id)
    return user, False


async def _grant_signup_once(user_id: int) -> None:
    grant = get_settings().signup_credits
    already = await CreditTransactions.exists().where(
        (CreditTransactions.user == user_id) & (CreditTransactions.reason == LedgerReason.signup.value)
    )
    if grant and not already:
        await ledger.apply(user_id, grant, LedgerReason.signup, note="Welcome credits")


async def _create(identity: GoogleIdentity, email: str) -> Users:
    grant = get_settings().signup_credits
    async with Users._meta.db.transaction():
        rows = await Users.insert(
            Users(
                google_id=identity.sub,
                email=email,
                name=(identity.name or email.split("@")[0])[:NAME_MAX],
                avatar_url=None,  # our copy of Google's picture is stored just below
                credits=0,
            )
        ).returning(Users.id)
        user_id = rows[0]["id"]
        if grant:
            await ledger.apply(user_id, grant, LedgerReason.signup, note="Welcome credits")
    avatar = await avatars.copy_from(user_id, identity.picture)
    if avatar:
        await Users.update({Users.avatar_url: avatar}).where(Users.id == user_id)
    return await get_user(user_id)


class ProfileInvalid(ValidationFailed):
    """422 with a message per field, shown next to each input."""

    def __init__(self, errors: dict[str, str]):
        self.errors = errors
        super().__init__(" ".join(errors.values()))


def _clean_name(value: str) -> tuple[str | None, str | None]:
    name = " ".join(value.split())
    if not name:
        return None, "Enter your name."
    if len(name) > NAME_MAX:
        return None, f"Keep your name under {NAME_MAX} characters."
    if any(unicodedata.category(ch).startswith("C") for ch in name):
        return None, "Your name contains characters that cannot be shown."
    return name, None


def _clean_avatar_url(value: str, current: str | None) -> tuple[str | None, str | None]:
    """Only clearing the avatar (or keeping the one stored here) is allowed: pictures are uploaded."""
    url = value.strip()
    if not url:
        return None, None
    if url == current and avatars.is_ours(url):
        return url, None
    return None, "Upload a picture instead: we only show pictures stored here, never one from another site."


async def update_profile(user_id: int, *, name: str | None = None, avatar_url: str | None = None) -> Users:
    """Change the editable fields (name, avatar URL); None leaves a field as it is, "" clears the avatar."""
    errors: dict[str, str] = {}
    changes: dict = {}
    if name is not None:
        cleaned, error = _clean_name(name)
        if error:
            errors["name"] = error
        else:
            changes[Users.name] = cleaned
    if avatar_url is not None:
        current = (await Users.select(Users.avatar_url).where(Users.id == user_id).first() or {}).get("avatar_url")
        cleaned, error = _clean_avatar_url(avatar_url, current)
        if error:
            errors["avatar_url"] = error
        else:
            changes[Users.avatar_url] = cleaned
    if errors:
        raise ProfileInvalid(errors)
    if changes:
        await Users.update(changes).where(Users.id == user_id)
    user = await get_user(user_id)
    if user is None:
        from app.errors import NotFound

        raise NotFound("Your account no longer exists.")
    return user


# --- the public "recent creators" strip (home page, GET /api/v1/users/recent) -----------------------


class RecentUser(msgspec.Struct):
    """A recently joined user as the public sees them: a display name and an avatar, never an email."""

    name: str
    avatar_url: str | None


class RecentUsers(msgspec.Struct):
    users: list[RecentUser]
    total: int


def _display_name(name: str | None) -> str:
    name = (name or "").strip()
    return name.split()[0] if name else "New creator"


async def recent_users(limit: int = 5) -> RecentUsers:
    """The newest creators (first names and avatars only) and the real number of users. A creator has made
    at least one video, is not an administrator and has not opted out on /account."""
    makers = Videos.select(Videos.user).distinct()
    rows = (
        await Users.select(Users.name, Users.avatar_url)
        .where((Users.is_admin == False) & (Users.show_in_creators == True) & Users.id.is_in(makers))
        .order_by(Users.created_at, ascending=False)
        .order_by(Users.id, ascending=False)
        .limit(limit)
    )
    total = await Users.count()
    return RecentUsers(
        users=[RecentUser(name=_display_name(r["name"]), avatar_url=avatars.shown(r["avatar_url"])) for r in rows],
        total=total,
    )


async def set_avatar(user_id: int, data: bytes) -> Users:
    """Store an uploaded picture as the user's avatar (the previous upload's file is removed)."""
    previous = (await Users.select(Users.avatar_url).where(Users.id == user_id).first() or {}).get("avatar_url")
    url = await avatars.store(user_id, data)
    await Users.update({Users.avatar_url: url}).where(Users.id == user_id)
    avatars.delete(previous)
    return await get_user(user_id)


async def remove_avatar(user_id: int) -> Users:
    previous = (await Users.select(Users.avatar_url).where(Users.id == user_id).first() or {}).get("avatar_url")
    await Users.update({Users.avatar_url: None}).where(Users.id == user_id)
    avatars.delete(previous)
    return await get_user(user_id)
