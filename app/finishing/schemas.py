"""API schemas for finishing: the finish request (also accepted by generate), brand kits, tracks, renditions."""

from __future__ import annotations

from datetime import datetime

import msgspec

from app.finishing.options import Caption, EndCard, FinishOptions, Trim


class CaptionIn(msgspec.Struct, forbid_unknown_fields=True):
    """A caption line; `start`/`end` (seconds into the trimmed clip) on every caption or on none."""

    text: str
    start: float | None = None
    end: float | None = None


class EndCardIn(msgspec.Struct, forbid_unknown_fields=True):
    """The closing card; empty `text`/`url` take the brand kit's call to action."""

    text: str = ""
    url: str = ""
    seconds: float = 2.0


class TrimIn(msgspec.Struct, forbid_unknown_fields=True):
    start: float = 0.0
    end: float | None = None


class FinishRequest(msgspec.Struct, forbid_unknown_fields=True):
    """How to finish a clip into ads. Only `placements` is required. `end_card` left out = a 2 s card from
    the brand kit; `null` = no card. `captions` are strings (spread over the clip) or timed objects."""

    placements: list[str]
    hook_text: str = ""
    hook_position: str = "top"
    hook_size: str = "medium"
    captions: list[str | CaptionIn] = msgspec.field(default_factory=list)
    end_card: EndCardIn | None | msgspec.UnsetType = msgspec.UNSET
    music_upload_id: int | None = None
    trim: TrimIn | None = None
    fit: str = "auto"

    def to_options(self) -> FinishOptions:
        """The engine's options (422 with the reason when a value is out of range)."""
        card = (
            EndCard()
            if self.end_card is msgspec.UNSET
            else (
                None if self.end_card is None else EndCard(self.end_card.text, self.end_card.url, self.end_card.seconds)
            )
        )
        captions = tuple(Caption(c) if isinstance(c, str) else Caption(c.text, c.start, c.end) for c in self.captions)
        trim = Trim(self.trim.start, self.trim.end) if self.trim else Trim()
        return FinishOptions(
            placements=tuple(self.placements),
            hook_text=self.hook_text,
            hook_position=self.hook_position,
            hook_size=self.hook_size,
            captions=captions,
            end_card=card,
            trim=trim,
            fit=self.fit,
        )


class PlannedOut(msgspec.Struct):
    placement: str
    width: int
    height: int
    duration: float


class RenditionOut(msgspec.Struct):
    id: int
    finishing_id: int
    placement: str
    width: int
    height: int
    duration: float
    url: str | None
    poster: str | None
    captions_url: str | None
    created_at: datetime


class FinishingOut(msgspec.Struct):
    id: int
    video_id: int
    status: str
    step: str
    message: str
    progress: int
    error_message: str | None
    renditions: list[PlannedOut]
    created_at: datetime


class FinishingSetOut(msgspec.Struct):
    id: int
    video_id: int
    status: str
    step: str
    progress: int
    error_message: str | None
    captions_url: str | None
    renditions: list[RenditionOut]
    created_at: datetime


class BrandIn(msgspec.Struct, forbid_unknown_fields=True):
    """Fields to change; those left out keep their value. Colours as #RRGGBB."""

    name: str | None = None
    primary_colour: str | None = None
    accent_colour: str | None = None
    font: str | None = None
    cta_text: str | None = None
    cta_url: str | None = None


class FontOut(msgspec.Struct):
    id: str
    label: str


class BrandOut(msgspec.Struct):
    name: str
    primary_colour: str
    accent_colour: str
    font: str
    logo_url: str | None
    cta_text: str
    cta_url: str
    fonts: list[FontOut]


class AudioOut(msgspec.Struct):
    id: int
    url: str | None
    duration: float
    content_type: str
    bytes: int
