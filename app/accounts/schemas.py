"""The accounts API's response and request bodies (built from rows with `msgspec.convert`)."""

from __future__ import annotations

from datetime import datetime

import msgspec

from app.tables import Users


class UserOut(msgspec.Struct):
    id: int
    email: str
    name: str
    avatar_url: str | None
    credits: int
    subscription_plan: str
    subscription_status: str
    subscription_start_date: datetime | None
    subscription_end_date: datetime | None
    is_admin: bool
    created_at: datetime


def user_out(user: Users) -> UserOut:
    return msgspec.convert(user, UserOut, from_attributes=True)


class ProfileUpdate(msgspec.Struct, forbid_unknown_fields=True):
    """Editable fields only; email and Google id come from Google and cannot be changed here."""

    name: str | msgspec.UnsetType = msgspec.UNSET
    avatar_url: str | None | msgspec.UnsetType = msgspec.UNSET


class CreditsOut(msgspec.Struct):
    credits: int
    subscription_plan: str
    subscription_status: str


class GoogleSignIn(msgspec.Struct, forbid_unknown_fields=True):
    """Either `{code, redirect_uri, code_verifier?}` (authorization code flow) or `{id_token}`."""

    code: str | None = None
    redirect_uri: str | None = None
    code_verifier: str | None = None
    nonce: str | None = None
    id_token: str | None = None


class RefreshRequest(msgspec.Struct, forbid_unknown_fields=True):
    refresh_token: str


class LogoutRequest(msgspec.Struct, forbid_unknown_fields=True):
    refresh_token: str | None = None


class TokenResponse(msgspec.Struct):
    access_token: str
    refresh_token: str
    token_type: str
    expires_in: int
    user: UserOut
