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
    past_due = "past_due"  # a renewal payment failed; paid-through date passed


class VideoStatus(str, Enum):
    pending = "pending"
    processing = "processing"
    completed = "completed"
    failed = "failed"


# A video is in flight until it has completed or failed.
ACTIVE_STATUSES = (VideoStatus.pending.value, VideoStatus.processing.value)
FINISHED_STATUSES = (VideoStatus.completed.value, VideoStatus.failed.value)


class VideoStep(str, Enum):
    """The generation pipeline's steps in order; each one reached is a `video_events` row."""

    queued = "queued"
    preparing = "preparing"
    submitting = "submitting"
    waiting = "waiting"
    generating = "generating"
    downloading = "downloading"
    completed = "completed"


STEPS = tuple(step.value for step in VideoStep)
# What the pages call each step (a failed video's last event has step "failed", outside this list).
STEP_LABELS = {
    "queued": "Queued",
    "preparing": "Preparing the reference image",
    "submitting": "Submitting to the model",
    "waiting": "Waiting in the model's queue",
    "generating": "Generating",
    "downloading": "Saving the video",
    "completed": "Done",
}


class LedgerReason(str, Enum):
    signup = "signup"
    generation = "generation"
    refund = "refund"
    plan_grant = "plan_grant"
    admin = "admin"
    subscription = "subscription"  # a paid Stripe invoice's monthly credits
    purchase = "purchase"  # a credit pack bought through Stripe Checkout
    pack_refund = "pack_refund"  # a refunded pack's credits taken back


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
    # When a subscription set to cancel ends (it stays usable until then); None when it renews.
    subscription_cancel_at = Timestamptz(null=True, default=None)
    stripe_customer_id = Varchar(length=255, null=True, default=None)
    stripe_subscription_id = Varchar(length=255, null=True, default=None)
    is_admin = Boolean(default=False)
    # Preferences (on /account): emails about videos, emails about the account, the home page's creators.
    email_video_updates = Boolean(default=True)
    email_account_alerts = Boolean(default=True)
    show_in_creators = Boolean(default=True)
    # Kept equal to the user's unread notifications, so every page's bell costs no query.
    unread_notifications = Integer(default=0)
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
    # What a payment-driven row is for (`invoice:in_...`, `purchase:cs_...`); unique, so it happens once.
    reference = Varchar(length=255, null=True, default=None)
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


class StripeEvents(Table, tablename="stripe_events"):
    """Each Stripe webhook event handled, by its id (unique): a redelivery finds it and changes nothing."""

    id = Serial(primary_key=True)
    event_id = Varchar(length=255, unique=True)
    type = Varchar(length=64)
    user = ForeignKey(Users, db_column_name="user_id", null=True, default=None, on_delete=OnDelete.set_null)
    outcome = Text(default="")
    created_at = Timestamptz(default=TimestamptzNow())


class CreditPurchases(Table, tablename="credit_purchases"):
    """A credit pack paid through Checkout, and how many of its credits a refund has taken back."""

    id = Serial(primary_key=True)
    user = ForeignKey(Users, db_column_name="user_id", on_delete=OnDelete.cascade, index=True)
    checkout_session_id = Varchar(length=255, unique=True)
    payment_intent_id = Varchar(length=255, null=True, default=None, index=True)
    pack = Varchar(length=32)
    credits = Integer()
    amount = Integer()  # cents
    currency = Varchar(length=8, default="usd")
    credits_refunded = Integer(default=0)
    created_at = Timestamptz(default=TimestamptzNow())


class FinishingStatus(str, Enum):
    waiting = "waiting"  # asked for with a generation; starts when the video is made
    pending = "pending"
    processing = "processing"
    completed = "completed"
    failed = "failed"


class BrandKits(Table, tablename="brand_kits"):
    """A user's brand: what finishing dresses their ads in (one per user)."""

    id = Serial(primary_key=True)
    user = ForeignKey(Users, db_column_name="user_id", on_delete=OnDelete.cascade, unique=True, index=True)
    name = Varchar(length=60, default="")
    primary_colour = Varchar(length=7, default="#111827")
    accent_colour = Varchar(length=7, default="#F59E0B")
    font = Varchar(length=32, default="source-sans")
    logo_key = Varchar(length=255, null=True, default=None)
    cta_text = Varchar(length=40, default="Shop now")
    cta_url = Varchar(length=80, default="")
    created_at = Timestamptz(default=TimestamptzNow())
    updated_at = Timestamptz(default=TimestamptzNow(), auto_update=TimestamptzNow().python)


class AudioUploads(Table, tablename="audio_uploads"):
    """A music track a user uploaded (decoded once to prove it is audio)."""

    id = Serial(primary_key=True)
    user = ForeignKey(Users, db_column_name="user_id", on_delete=OnDelete.cascade, index=True)
    storage_key = Varchar(length=255, unique=True)
    content_type = Varchar(length=64)
    duration_ms = Integer()
    bytes = Integer()
    sha256 = Varchar(length=64)
    created_at = Timestamptz(default=TimestamptzNow())


class Finishings(Table, tablename="finishings"):
    """One finishing request on a video: its options, its live state, and (once done) its renditions."""

    id = Serial(primary_key=True)
    video = ForeignKey(Videos, db_column_name="video_id", on_delete=OnDelete.cascade, index=True)
    user = ForeignKey(Users, db_column_name="user_id", on_delete=OnDelete.cascade, index=True)
    options = Text(default="{}")  # the request as JSON
    status = Varchar(length=16, default=FinishingStatus.pending.value, index=True)
    step = Varchar(length=32, default="queued")
    message = Text(default="")
    progress = Integer(default=0)
    error_message = Text(null=True, default=None)
    captions_key = Varchar(length=255, null=True, default=None)
    created_at = Timestamptz(default=TimestamptzNow())
    updated_at = Timestamptz(default=TimestamptzNow(), auto_update=TimestamptzNow().python)
    completed_at = Timestamptz(null=True, default=None)


class Renditions(Table, tablename="renditions"):
    """One finished ad for one placement."""

    id = Serial(primary_key=True)
    finishing = ForeignKey(Finishings, db_column_name="finishing_id", on_delete=OnDelete.cascade, index=True)
    video = ForeignKey(Videos, db_column_name="video_id", on_delete=OnDelete.cascade, index=True)
    user = ForeignKey(Users, db_column_name="user_id", on_delete=OnDelete.cascade, index=True)
    placement = Varchar(length=8)
    width = Integer()
    height = Integer()
    duration_ms = Integer()
    video_key = Varchar(length=255, unique=True)
    poster_key = Varchar(length=255, unique=True)
    created_at = Timestamptz(default=TimestamptzNow())


class ShareLinks(Table, tablename="share_links"):
    """A public link to a finished video or one of its renditions; revoked links answer 404. Published ones are
    in the gallery."""

    id = Serial(primary_key=True)
    video = ForeignKey(Videos, db_column_name="video_id", on_delete=OnDelete.cascade, index=True)
    # A finished ad for one placement instead of the video itself.
    rendition = ForeignKey(
        Renditions, db_column_name="rendition_id", null=True, default=None, on_delete=OnDelete.cascade
    )
    token = Varchar(length=64, unique=True)
    title = Varchar(length=120, default="")
    published_at = Timestamptz(null=True, default=None, index=True)
    # An administrator took it out of the gallery (the link itself keeps working).
    hidden_at = Timestamptz(null=True, default=None)
    revoked_at = Timestamptz(null=True, default=None)
    created_at = Timestamptz(default=TimestamptzNow())


class NotificationKind(str, Enum):
    video_ready = "video_ready"
    video_failed = "video_failed"
    batch_ready = "batch_ready"
    credits_granted = "credits_granted"
    payment_problem = "payment_problem"
    webhook_disabled = "webhook_disabled"


class Notifications(Table, tablename="notifications"):
    id = Serial(primary_key=True)
    user = ForeignKey(Users, db_column_name="user_id", on_delete=OnDelete.cascade, index=True)
    kind = Varchar(length=32)
    title = Varchar(length=200)
    body = Text(default="")
    link = Varchar(length=512, null=True, default=None)
    video = ForeignKey(Videos, db_column_name="video_id", null=True, default=None, on_delete=OnDelete.set_null)
    # Set for a notification that must be sent once only (e.g. "batch:<id>"); unique when set.
    dedupe_key = Varchar(length=80, null=True, default=None)
    read_at = Timestamptz(null=True, default=None)
    created_at = Timestamptz(default=TimestamptzNow())


class EmailMessages(Table, tablename="email_messages"):
    """Every email the app sends: written with the event that causes it, sent by a job, retried on failure."""

    id = Serial(primary_key=True)
    user = ForeignKey(Users, db_column_name="user_id", null=True, default=None, on_delete=OnDelete.cascade, index=True)
    to_address = Varchar(length=320)
    kind = Varchar(length=32)
    subject = Varchar(length=255)
    text_body = Text()
    html_body = Text()
    unsubscribe_url = Varchar(length=1024, null=True, default=None)
    message_id = Varchar(length=255)
    status = Varchar(length=16, default="queued", index=True)  # queued | sent | failed | skipped
    attempts = Integer(default=0)
    last_error = Text(null=True, default=None)
    created_at = Timestamptz(default=TimestamptzNow())
    sent_at = Timestamptz(null=True, default=None)


class WebhookEndpoints(Table, tablename="webhook_endpoints"):
    id = Serial(primary_key=True)
    user = ForeignKey(Users, db_column_name="user_id", on_delete=OnDelete.cascade, index=True)
    url = Varchar(length=2048)
    # Space-separated event types, e.g. "video.completed video.failed".
    events = Varchar(length=255)
    secret = Varchar(length=64)
    enabled = Boolean(default=True)
    disabled_reason = Text(null=True, default=None)
    consecutive_failures = Integer(default=0)
    created_at = Timestamptz(default=TimestamptzNow())
    updated_at = Timestamptz(default=TimestamptzNow(), auto_update=TimestamptzNow().python)


class WebhookDeliveries(Table, tablename="webhook_deliveries"):
    """One event for one endpoint; its attempts are the delivery log."""

    id = Serial(primary_key=True)
    endpoint = ForeignKey(WebhookEndpoints, db_column_name="endpoint_id", on_delete=OnDelete.cascade, index=True)
    message_id = Varchar(length=64, unique=True)
    event_type = Varchar(length=32)
    payload = Text()
    status = Varchar(length=16, default="pending")  # pending | succeeded | failed
    attempts = Integer(default=0)
    last_status_code = Integer(null=True, default=None)
    next_attempt_at = Timestamptz(null=True, default=None)
    created_at = Timestamptz(default=TimestamptzNow(), index=True)
    completed_at = Timestamptz(null=True, default=None)


class WebhookAttempts(Table, tablename="webhook_attempts"):
    id = Serial(primary_key=True)
    delivery = ForeignKey(WebhookDeliveries, db_column_name="delivery_id", on_delete=OnDelete.cascade, index=True)
    number = Integer()
    status_code = Integer(null=True, default=None)
    error = Text(null=True, default=None)
    duration_ms = Integer(default=0)
    response_excerpt = Text(default="")
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
    StripeEvents,
    CreditPurchases,
    BrandKits,
    AudioUploads,
    Finishings,
    Renditions,
    ShareLinks,
    Notifications,
    EmailMessages,
    WebhookEndpoints,
    WebhookDeliveries,
    WebhookAttempts,
]
