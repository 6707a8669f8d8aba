"""The videos API's request and response bodies (built from rows with `msgspec.convert`)."""

from __future__ import annotations

from dataclasses import asdict
from datetime import datetime

import msgspec

from app.finishing.schemas import FinishRequest, RenditionOut
from app.tables import Videos
from app.videos.service import ModelOffer


class GenerateRequest(msgspec.Struct, forbid_unknown_fields=True):
    """What to make. The reference image is one of your uploads (`reference_image_id`) or a trial
    image (`trial_image_id`), by id; the server never fetches a URL."""

    prompt: str
    model: str = "sora-2"
    duration: int = 4
    resolution: str = "1280x720"
    reference_image_id: int | None = None
    trial_image_id: int | None = None
    # Finish the video into ads as soon as it is made (the same object as POST /videos/{id}/finish).
    finish: FinishRequest | None = None


class VideoOut(msgspec.Struct):
    id: int
    prompt: str
    model: str
    provider: str
    status: str
    step: str
    progress: int
    duration: int
    resolution: str
    reference_image_url: str | None
    video_url: str | None
    poster_url: str | None
    error_message: str | None
    credits_charged: int
    attempts: int
    created_at: datetime
    updated_at: datetime
    completed_at: datetime | None
    # Finished ads made from this video (in GET /videos/{id}; empty elsewhere).
    renditions: list[RenditionOut] = msgspec.field(default_factory=list)


class VideoListOut(msgspec.Struct):
    items: list[VideoOut]
    total: int
    page: int
    per_page: int
    has_more: bool


class PriceOut(msgspec.Struct):
    duration: int
    credits: int


class ModelOut(msgspec.Struct):
    id: str
    provider: str
    name: str
    durations: list[int]
    sizes: list[str]
    prices: list[PriceOut]
    available: bool
    reason: str | None
    needs_reference_image: bool


def video_out(video: Videos, renditions: list[RenditionOut] | None = None) -> VideoOut:
    out = msgspec.convert(video, VideoOut, from_attributes=True)
    out.renditions = renditions or []
    return out


def model_out(offer: ModelOffer) -> ModelOut:
    prices = [{"duration": d, "credits": c} for d, c in sorted(offer.prices.items())]
    return msgspec.convert({**asdict(offer), "prices": prices}, ModelOut)
