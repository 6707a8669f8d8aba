"""Piccolo tables. Column names follow the seed specification; credits are integers."""

from __future__ import annotations

from enum import Enum

from piccolo.columns import (
    Boolean,
    ForeignKey,
    Integer,
    Serial,
    Text,
    Timestamptz,
    Varchar,
)
from piccolo.columns.base import OnDelete
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table


class Plan(str, Enum):
    free = "free"
    basic = "basic"
    pro = "pro"


class SubscriptionStatus(str, Enum):
    active = "active"
    cancelled = "cancelled"
    expired = "expired"


class VideoStatus(str, Enum):
    pending = "pending"
    processing = "processing"
    completed = "completed"
    failed = "failed"


class LedgerReason(str, Enum):
    signup = "signup"
    generation = "generation"
    refund = "refund"
    plan_grant = "plan_grant"
    admin = "admin"


class Users(Table, tablename="users"):
    id = Serial(primary_key=True)
    google_id = Varchar(length=255, null=True, default=None, unique=True, index=True)
    email = Varchar(length=320, unique=True, index=True)
    name = Varchar(length=255, default="")
    avatar_url = Varchar(length=1024, null=True, default=None)
    credits = Integer(default=0)
    subscription_plan = Varchar(length=16, default=Plan.free.value)
    subscription_status = Varchar(length=16, default=SubscriptionStatus.active.value)
    subscription_start_date = Timestamptz(null=True, default=None)
    subscription_end_date = Timestamptz(null=True, default=None)
    is_admin = Boolean(default=False)
    created_at = Timestamptz(default=TimestamptzNow(), index=True)
    updated_at = Timestamptz(default=TimestamptzNow(), auto_update=TimestamptzNow().python)


class Uploads(Table, tablename="uploads"):
    """A reference image a user uploaded (metadata stripped, stored under a random key)."""

    id = Serial(primary_key=True)
    user = ForeignKey(Users, db_column_name="user_id", on_delete=OnDelete.cascade, index=True)
    storage_key = Varchar(length=255, unique=True)
    content_type = Varchar(length=64)
    width = Integer()
    height = Integer()
    bytes = Integer()
    sha256 = Varchar(length=64)
    created_at = Timestamptz(default=TimestamptzNow())


class ShowcaseVideos(Table, tablename="showcase_videos"):
    id = Serial(primary_key=True)
    title = Varchar(length=255)
    description = Text(default="")
    category = Varchar(length=64, index=True)
    video_url = Varchar(length=1024)
    poster_url = Varchar(length=1024, null=True, default=None)
    is_featured = Boolean(default=False)
    is_hero = Boolean(default=False)
    is_active = Boolean(default=True)
    order = Integer(default=0)
    created_at = Timestamptz(default=TimestamptzNow())
    updated_at = Timestamptz(default=TimestamptzNow(), auto_update=TimestamptzNow().python)


class TrialImages(Table, tablename="trial_images"):
    id = Serial(primary_key=True)
    title = Varchar(length=255)
    image_url = Varchar(length=1024)
    # Where the file lives in storage, so a trial image can be a generation's reference image.
    storage_key = Varchar(length=255, null=True, default=None)
    category = Varchar(length=64, default="")
    order = Integer(default=0)
    is_active = Boolean(default=True)
    created_at = Timestamptz(default=TimestamptzNow())
    updated_at = Timestamptz(default=TimestamptzNow(), auto_update=TimestamptzNow().python)


class Videos(Table, tablename="videos"):
    id = Serial(primary_key=True)
    user = ForeignKey(Users, db_column_name="user_id", on_delete=OnDelete.cascade, index=True)
    prompt = Text()
    model = Varchar(length=64)
    provider = Varchar(length=32, default="openai")
    provider_job_id = Varchar(length=255, null=True, default=None)
    reference_image_url = Varchar(length=1024, null=True, default=None)
    reference_upload = ForeignKey(Uploads, null=True, default=None, on_delete=OnDelete.set_null)
    reference_trial_image = ForeignKey(TrialImages, null=True, default=None, on_delete=OnDelete.set_null)
    video_url = Varchar(length=1024, null=True, default=None)
    poster_url = Varchar(length=1024, null=True, default=None)
    video_key = Varchar(length=255, null=True, default=None)
    poster_key = Varchar(length=255, null=True, default=None)
    status = Varchar(length=16, default=VideoStatus.pending.value, index=True)
    step = Varchar(length=32, default="queued")
    progress = Integer(default=0)
    duration = Integer()
    resolution = Varchar(length=16)
    error_message = Text(null=True, default=None)
    credits_charged = Integer(default=0)
    # How many times this video has been charged (a retry charges again); ledger rows carry it.
    charge_seq = Integer(default=0)
    attempts = Integer(default=0)
    idempotency_key = Varchar(length=255, null=True, default=None)
    # A soundtrack generated with the video (models that can make one).
    audio = Boolean(default=False)
    # The variations of one request share a group id; every video of one batch request shares a batch id.
    group_id = Varchar(length=36, null=True, default=None, index=True)
    batch_id = Varchar(length=36, null=True, default=None, index=True)
    created_at = Timestamptz(default=TimestamptzNow(), index=True)
    updated_at = Timestamptz(default=TimestamptzNow(), auto_update=TimestamptzNow().python)
    completed_at = Timestamptz(null=True, default=None)


class VideoEvents(Table, tablename="video_events"):
    """The per-video progress log; the SSE stream replays it."""

    id = Serial(primary_key=True)
    video = ForeignKey(Videos, db_column_name="video_id", on_delete=OnDelete.cascade, index=True)
    step = Varchar(length=32)
    message = Text(default="")
    progress = Integer(default=0)
    created_at = Timestamptz(default=TimestamptzNow())


class CreditTransactions(Table, tablename="credit_transactions"):
    """Append-only ledger: users.credits always equals the sum of a user's deltas."""

    id = Serial(primary_key=True)
    user = ForeignKey(Users, db_column_name="user_id", on_delete=OnDelete.cascade, index=True)
    delta = Integer()
    reason = Varchar(length=16)
    video = ForeignKey(Videos, db_column_name="video_id", null=True, default=None, on_delete=OnDelete.set_null)
    charge_seq = Integer(default=0)
    balance_after = Integer()
    note = Text(default="")
    created_at = Timestamptz(default=TimestamptzNow(), index=True)


class RefreshTokens(Table, tablename="refresh_tokens"):
    id = Serial(primary_key=True)
    jti = Varchar(length=64, unique=True)
    user = ForeignKey(Users, db_column_name="user_id", on_delete=OnDelete.cascade, index=True)
    family = Varchar(length=64, index=True)
    expires_at = Timestamptz()
    revoked_at = Timestamptz(null=True, default=None)
    replaced_by = Varchar(length=64, null=True, default=None)
    created_at = Timestamptz(default=TimestamptzNow())


ALL_TABLES: list[type[Table]] = [
    Users,
    Uploads,
    ShowcaseVideos,
    TrialImages,
    Videos,
    VideoEvents,
    CreditTransactions,
    RefreshTokens,
]
