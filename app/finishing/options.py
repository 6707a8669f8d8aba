"""What a finishing job asks for, and the brand it is dressed in: plain values, checked on construction."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from PIL import Image

from app.errors import ValidationFailed

# Placement name -> (width, height) ratio.
PLACEMENTS: dict[str, tuple[int, int]] = {"9:16": (9, 16), "1:1": (1, 1), "4:5": (4, 5), "16:9": (16, 9)}
FITS = ("auto", "crop", "blur")
HOOK_POSITIONS = ("top", "middle", "bottom")
HOOK_SIZES = ("small", "medium", "large")

MAX_HOOK_CHARS = 100
MAX_CAPTION_CHARS = 120
MAX_CAPTIONS = 20
MAX_CTA_CHARS = 40
MAX_URL_CHARS = 80
MAX_BRAND_NAME_CHARS = 60
END_CARD_SECONDS = (1.0, 4.0)
DEFAULT_END_CARD_SECONDS = 2.0
MIN_TRIMMED_SECONDS = 0.5
# The hook shows for this long at most, and never for more than this share of the clip.
HOOK_SECONDS = 2.5
HOOK_SHARE = 0.6
# Crossfade from the clip's last frame into the end card.
TRANSITION_SECONDS = 0.4
# Longest side a rendition may have; the short side follows the clip (at most 1080).
MAX_SHORT_SIDE = 1080

_HEX = re.compile(r"^#?([0-9a-fA-F]{6})$")

RGB = tuple[int, int, int]


def parse_colour(value: str, field_name: str = "colour") -> RGB:
    """'#1a2b3c' (or without '#') to an RGB tuple; 422 otherwise."""
    match = _HEX.match((value or "").strip())
    if not match:
        raise ValidationFailed(f"The {field_name} must be a colour like #1A2B3C.", code="invalid_colour")
    digits = match.group(1)
    return int(digits[0:2], 16), int(digits[2:4], 16), int(digits[4:6], 16)


def hex_colour(rgb: RGB) -> str:
    return "#{:02X}{:02X}{:02X}".format(*rgb)


def rendition_size(placement: str, clip_width: int, clip_height: int) -> tuple[int, int]:
    """Width and height of a placement's rendition: the clip's short side (at most 1080) as the short side."""
    rw, rh = PLACEMENTS[placement]
    short = min(clip_width, clip_height, MAX_SHORT_SIDE)
    if rw <= rh:
        width, height = short, short * rh / rw
    else:
        width, height = short * rw / rh, short
    return round(width / 2) * 2, round(height / 2) * 2


@dataclass(frozen=True)
class Brand:
    """A brand kit as the engine needs it."""

    name: str = ""
    primary: RGB = (17, 24, 39)
    accent: RGB = (245, 158, 11)
    font: str = "source-sans"
    logo: Image.Image | None = None  # RGBA
    cta_text: str = "Shop now"
    cta_url: str = ""


@dataclass(frozen=True)
class Caption:
    text: str
    start: float | None = None
    end: float | None = None


@dataclass(frozen=True)
class EndCard:
    text: str = ""
    url: str = ""
    seconds: float = DEFAULT_END_CARD_SECONDS


@dataclass(frozen=True)
class Trim:
    start: float = 0.0
    end: float | None = None


@dataclass(frozen=True)
class FinishOptions:
    """One finishing request. Empty CTA text/URL on the end card fall back to the brand kit's."""

    placements: tuple[str, ...]
    hook_text: str = ""
    hook_position: str = "top"
    hook_size: str = "medium"
    captions: tuple[Caption, ...] = ()
    end_card: EndCard | None = None
    trim: Trim = field(default_factory=Trim)
    fit: str = "auto"

    def __post_init__(self) -> None:
        check_options(self)


def _fail(message: str, code: str = "validation_error") -> None:
    raise ValidationFailed(message, code=code)


def check_options(options: FinishOptions) -> None:
    """Everything that can be judged without the clip: names, lengths, ranges."""
    if not options.placements:
        _fail("Choose at least one placement (9:16, 1:1, 4:5 or 16:9).", "placements_missing")
    for placement in options.placements:
        if placement not in PLACEMENTS:
            _fail(f"Unknown placement {placement!r}: use 9:16, 1:1, 4:5 or 16:9.", "invalid_placement")
    if len(set(options.placements)) != len(options.placements):
        _fail("Each placement can be asked for once.", "invalid_placement")
    if options.fit not in FITS:
        _fail("fit must be auto, crop or blur.", "invalid_fit")
    if options.hook_position not in HOOK_POSITIONS:
        _fail("hook_position must be top, middle or bottom.", "invalid_hook")
    if options.hook_size not in HOOK_SIZES:
        _fail("hook_size must be small, medium or large.", "invalid_hook")
    if len(options.hook_text) > MAX_HOOK_CHARS:
        _fail(f"The hook text is {len(options.hook_text)} characters; the most is {MAX_HOOK_CHARS}.", "text_too_long")
    if len(options.captions) > MAX_CAPTIONS:
        _fail(f"At most {MAX_CAPTIONS} captions.", "too_many_captions")
    timed = [c.start is not None or c.end is not None for c in options.captions]
    if any(timed) and not all(timed):
        _fail(
            "Give every caption a start and an end, or none (they are then spread over the clip).", "invalid_captions"
        )
    for number, caption in enumerate(options.captions, 1):
        if not caption.text.strip():
            _fail(f"Caption {number} is empty.", "invalid_captions")
        if len(caption.text) > MAX_CAPTION_CHARS:
            _fail(
                f"Caption {number} is {len(caption.text)} characters; the most is {MAX_CAPTION_CHARS}.", "text_too_long"
            )
        if caption.start is not None and (caption.end is None or caption.start < 0 or caption.end <= caption.start):
            _fail(f"Caption {number} needs 0 ≤ start < end.", "invalid_captions")
    if options.end_card is not None:
        low, high = END_CARD_SECONDS
        if not low <= options.end_card.seconds <= high:
            _fail(f"The end card lasts {low:g} to {high:g} seconds.", "invalid_end_card")
        if len(options.end_card.text) > MAX_CTA_CHARS:
            _fail(
                f"The call to action is {len(options.end_card.text)} characters; the most is {MAX_CTA_CHARS}.",
                "text_too_long",
            )
        if len(options.end_card.url) > MAX_URL_CHARS:
            _fail(f"The URL is {len(options.end_card.url)} characters; the most is {MAX_URL_CHARS}.", "text_too_long")
    trim = options.trim
    if trim.start < 0 or (trim.end is not None and trim.end - trim.start < MIN_TRIMMED_SECONDS):
        _fail(f"The trim must start at 0 s or later and keep at least {MIN_TRIMMED_SECONDS:g} s.", "invalid_trim")
