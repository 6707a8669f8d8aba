"""The videos API's request and response bodies (built from rows with `msgspec.convert`)."""

from __future__ import annotations

from dataclasses import asdict
from datetime import datetime

import msgspec

from app.finishing.schemas import FinishRequest, RenditionOut
from app.tables import Videos
from app.videos.service import ModelOffer, VideoSpec


class GenerateRequest(msgspec.Struct, forbid_unknown_fields=True):
    """What to make. The reference image is one of your uploads (`reference_image_id`) or a trial
    image (`trial_image_id`), by id; the server never fetches a URL. `audio` asks a model that can for a
    soundtrack; `variations` (1-4) makes that many videos of the request, each its own job and charge."""

    prompt: str
    model: str = "sora-2"
    duration: int = 4
    resolution: str = "1280x720"
    reference_image_id: int | None = None
    trial_image_id: int | None = None
    # Finish the video into ads as soon as it is made (the same object as POST /videos/{id}/finish).
    finish: FinishRequest | None = None
    audio: bool = False
    variations: int = 1

    def spec(self) -> VideoSpec:
        return VideoSpec(
            prompt=self.prompt,
            model=self.model,
            duration=self.duration,
            resolution=self.resolution,
            reference_image_id=self.reference_image_id,
            trial_image_id=self.trial_image_id,
            audio=self.audio,
            variations=self.variations,
        )


class BatchRequest(msgspec.Struct, forbid_unknown_fields=True):
    """Up to 20 generate requests, checked as a whole before anything is charged."""

    items: list[GenerateRequest]


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
    audio: bool = False
    # Shared by the variations of one request, and by the videos of one batch.
    group_id: str | None = None
    batch_id: str | None = None


class GeneratedOut(VideoOut, kw_only=True):
    """The first video of the request, and every video it made (one per variation)."""

    variations: list[VideoOut]


class BatchOut(msgspec.Struct):
    id: str
    total: int
    counts: dict[str, int]
    credits_charged: int
    videos: list[VideoOut]


class VideoListOut(msgspec.Struct):
    items: list[VideoOut]
    total: int
    page: int
    per_page: int
    has_more: bool


class PriceOut(msgspec.Struct):
    duration: int
    credits: int


class PlacementOut(msgspec.Struct):
    ratio: str
    sizes: list[str]


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
    text_input: bool
    image_input: bool
    audio: bool
    placements: list[PlacementOut]
    plans: list[str]


def video_out(video: Videos, renditions: list[RenditionOut] | None = None) -> VideoOut:
    out = msgspec.convert(video, VideoOut, from_attributes=True)
    out.renditions = renditions or []
    return out


def generated_out(videos: list[Videos]) -> GeneratedOut:
    first = video_out(videos[0])
    return GeneratedOut(
        **{f: getattr(first, f) for f in first.__struct_fields__}, variations=[video_out(v) for v in videos]
    )


def batch_out(batch_id: str, videos: list[Videos]) -> BatchOut:
    counts: dict[str, int] = {}
    for video in videos:
        counts[video.status] = counts.get(video.status, 0) + 1
    return BatchOut(
        id=batch_id,
        total=len(videos),
        counts=counts,
        credits_charged=sum(v.credits_charged for v in videos),
        videos=[video_out(v) for v in videos],
    )


def model_out(offer: ModelOffer) -> ModelOut:
    prices = [{"duration": d, "credits": c} for d, c in sorted(offer.prices.items())]
    placements = [{"ratio": r, "sizes": sizes} for r, sizes in (offer.sizes_by_ratio or {}).items()]
    return msgspec.convert(
        {**asdict(offer), "prices": prices, "placements": placements, "plans": list(offer.plans)}, ModelOut
    )
