"""Migrations create every table, with the seed's columns, on SQLite and on PostgreSQL."""

from __future__ import annotations

import pytest

from app import db
from app.tables import ALL_TABLES

pytestmark = pytest.mark.parametrize("database_url", ["sqlite", "postgres"], indirect=True)

SEED_COLUMNS = {
    "users": {
        "id",
        "google_id",
        "email",
        "name",
        "avatar_url",
        "credits",
        "subscription_plan",
        "subscription_status",
        "subscription_start_date",
        "subscription_end_date",
        "created_at",
        "updated_at",
        "is_admin",
    },
    "videos": {
        "id",
        "user_id",
        "prompt",
        "model",
        "reference_image_url",
        "video_url",
        "poster_url",
        "status",
        "duration",
        "resolution",
        "error_message",
        "created_at",
        "updated_at",
        "provider",
        "provider_job_id",
        "progress",
        "step",
        "credits_charged",
        "attempts",
        "completed_at",
    },
    "showcase_videos": {
        "id",
        "title",
        "description",
        "category",
        "video_url",
        "poster_url",
        "is_featured",
        "order",
        "created_at",
        "updated_at",
    },
    "trial_images": {"id", "title", "image_url", "category", "order", "is_active", "created_at", "updated_at"},
    "credit_transactions": {"id", "user_id", "delta", "reason", "video_id", "balance_after", "created_at"},
    "refresh_tokens": {"id", "jti", "user_id", "family", "expires_at", "revoked_at", "replaced_by"},
    "uploads": {"id", "user_id", "storage_key", "content_type", "width", "height", "bytes", "sha256"},
    "video_events": {"id", "video_id", "step", "message", "progress", "created_at"},
    "stripe_events": {"id", "event_id", "type", "user_id", "outcome", "created_at"},
    "credit_purchases": {
        "id",
        "user_id",
        "checkout_session_id",
        "payment_intent_id",
        "pack",
        "credits",
        "amount",
        "currency",
        "credits_refunded",
        "created_at",
    },
    "brand_kits": {
        "id",
        "user_id",
        "name",
        "primary_colour",
        "accent_colour",
        "font",
        "logo_key",
        "cta_text",
        "cta_url",
    },
    "audio_uploads": {"id", "user_id", "storage_key", "content_type", "duration_ms", "bytes", "sha256"},
    "finishings": {"id", "video_id", "user_id", "options", "status", "step", "progress", "captions_key"},
    "renditions": {
        "id",
        "finishing_id",
        "video_id",
        "user_id",
        "placement",
        "width",
        "height",
        "duration_ms",
        "video_key",
        "poster_key",
    },
}
# Tables beyond the seed's, with the columns their features rely on.
SHARING_COLUMNS = {
    "share_links": {"id", "video_id", "token", "published_at", "hidden_at", "revoked_at"},
    "notifications": {"id", "user_id", "kind", "title", "read_at", "created_at"},
    "email_messages": {"id", "user_id", "to_address", "status", "attempts", "last_error"},
    "webhook_endpoints": {"id", "user_id", "url", "events", "secret", "enabled", "consecutive_failures"},
    "webhook_deliveries": {"id", "endpoint_id", "message_id", "event_type", "payload", "status", "attempts"},
    "webhook_attempts": {"id", "delivery_id", "number", "status_code", "error", "duration_ms"},
}


async def _columns(table: str) -> set[str]:
    engine = db.current_engine()
    if db.is_postgres(engine):
        rows = await engine.run_ddl(
            f"SELECT column_name AS name FROM information_schema.columns WHERE table_name = '{table}'"
        )
    else:
        rows = await engine.run_ddl(f'PRAGMA table_info("{table}")')
    return {row["name"] for row in rows}


async def test_every_table_has_the_seed_columns(settings):
    for table, expected in {**SEED_COLUMNS, **SHARING_COLUMNS}.items():
        assert expected <= await _columns(table), table
    assert {"email_video_updates", "show_in_creators", "unread_notifications"} <= await _columns("users")
    assert {t._meta.tablename for t in ALL_TABLES} == set(SEED_COLUMNS) | set(SHARING_COLUMNS)


async def test_the_ledger_allows_one_refund_per_charge(settings):
    from app.tables import CreditTransactions, Users, Videos

    user = Users(email="a@example.com", name="A")
    await user.save()
    video = Videos(user=user.id, prompt="p", model="sora-2", duration=4, resolution="1280x720")
    await video.save()
    row = dict(user=user.id, delta=100, reason="refund", video=video.id, charge_seq=1, balance_after=100)
    await CreditTransactions(**row).save()
    with pytest.raises(Exception, match="(?i)unique"):
        await CreditTransactions(**row).save()


async def test_a_payment_reference_makes_at_most_one_ledger_row(settings):
    from app.tables import CreditTransactions, Users

    user = Users(email="p@example.com", name="P")
    await user.save()
    row = dict(user=user.id, delta=1000, reason="subscription", balance_after=1000, reference="invoice:in_1")
    await CreditTransactions(**row).save()
    await CreditTransactions(**{**row, "reference": None}).save()
    await CreditTransactions(**{**row, "reference": None}).save()
    with pytest.raises(Exception, match="(?i)unique"):
        await CreditTransactions(**row).save()
