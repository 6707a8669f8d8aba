"""Brand kits: one per user — name, logo, colours, font and the default call to action. A user without a
kit gets the defaults; saving creates the kit."""

from __future__ import annotations

import asyncio
import io
from dataclasses import dataclass

from PIL import Image

from app.config import get_settings
from app.errors import ValidationFailed
from app.finishing import fonts
from app.finishing.options import (
    MAX_BRAND_NAME_CHARS,
    MAX_CTA_CHARS,
    MAX_URL_CHARS,
    Brand,
    hex_colour,
    parse_colour,
)
from app.media.cpu import run_cpu
from app.media.images import validate_image
from app.media.storage import get_storage, media_url, new_key
from app.tables import BrandKits

DEFAULT = Brand()
LOGO_MAX_SIDE = 1024


@dataclass(frozen=True)
class KitView:
    """What pages and the API show about a kit (the defaults when the user has none yet)."""

    name: str
    primary_colour: str
    accent_colour: str
    font: str
    logo_url: str | None
    logo_key: str | None
    cta_text: str
    cta_url: str


def _view(row: BrandKits | None) -> KitView:
    if row is None:
        return KitView(
            DEFAULT.name,
            hex_colour(DEFAULT.primary),
            hex_colour(DEFAULT.accent),
            DEFAULT.font,
            None,
            None,
            DEFAULT.cta_text,
            DEFAULT.cta_url,
        )
    return KitView(
        row.name,
        row.primary_colour,
        row.accent_colour,
        row.font,
        media_url(row.logo_key),
        row.logo_key,
        row.cta_text,
        row.cta_url,
    )


async def get_kit(user_id: int) -> KitView:
    return _view(await BrandKits.objects().where(BrandKits.user == user_id).first())


def _load_logo(key: str | None) -> Image.Image | None:
    if not key:
        return None
    try:
        return Image.open(io.BytesIO(get_storage().read_bytes(key))).convert("RGBA")
    except (FileNotFoundError, OSError):
        return None


def to_brand(view: KitView, logo: Image.Image | None) -> Brand:
    return Brand(
        name=view.name,
        primary=parse_colour(view.primary_colour),
        accent=parse_colour(view.accent_colour),
        font=view.font,
        logo=logo,
        cta_text=view.cta_text,
        cta_url=view.cta_url,
    )


async def engine_brand(user_id: int) -> Brand:
    """The kit as the finishing engine takes it, logo decoded."""
    view = await get_kit(user_id)
    return to_brand(view, await asyncio.to_thread(_load_logo, view.logo_key))


async def logo_image(user_id: int) -> Image.Image | None:
    return await asyncio.to_thread(_load_logo, (await get_kit(user_id)).logo_key)


def check_logo(data: bytes) -> bytes:
    """A PNG or WebP logo with at least some visible pixels, cropped to them, as PNG bytes; 422 otherwise."""
    image = validate_image(data, get_settings().max_upload_bytes)
    if image.format not in ("PNG", "WEBP"):
        raise ValidationFailed(
            "The logo must be a PNG or WebP image (with a transparent background).", code="logo_format"
        )
    picture = Image.open(io.BytesIO(image.clean_bytes)).convert("RGBA")
    box = picture.getchannel("A").getbbox()
    if box is None:
        raise ValidationFailed("The logo has no visible pixels: every pixel is transparent.", code="logo_empty")
    picture = picture.crop(box)
    picture.thumbnail((LOGO_MAX_SIDE, LOGO_MAX_SIDE), Image.LANCZOS)
    out = io.BytesIO()
    picture.save(out, format="PNG", optimize=True)
    return out.getvalue()


def clean_fields(
    *,
    name: str | None = None,
    primary_colour: str | None = None,
    accent_colour: str | None = None,
    font: str | None = None,
    cta_text: str | None = None,
    cta_url: str | None = None,
) -> dict:
    """The given fields, checked and normalised (422 naming the field); None means "leave as it is"."""
    out: dict = {}
    for field_name, value, limit in (
        ("name", name, MAX_BRAND_NAME_CHARS),
        ("cta_text", cta_text, MAX_CTA_CHARS),
        ("cta_url", cta_url, MAX_URL_CHARS),
    ):
        if value is None:
            continue
        value = value.strip()
        if len(value) > limit:
            label = {"name": "brand name", "cta_text": "call to action", "cta_url": "URL"}[field_name]
            raise ValidationFailed(
                f"The {label} is {len(value)} characters; the most is {limit}.", code="text_too_long"
            )
        out[field_name] = value
    for field_name, value, label in (
        ("primary_colour", primary_colour, "primary colour"),
        ("accent_colour", accent_colour, "accent colour"),
    ):
        if value is not None:
            out[field_name] = hex_colour(parse_colour(value, label))
    if font is not None:
        if font not in fonts.FONTS:
            raise ValidationFailed(
                f"Unknown font {font!r}; choose one of: {', '.join(fonts.FONTS)}.", code="invalid_font"
            )
        out["font"] = font
    return out


async def update_kit(user_id: int, *, logo: bytes | None = None, remove_logo: bool = False, **fields) -> KitView:
    """Save the given fields (and a new logo, or none); nothing is stored when anything is invalid."""
    values = clean_fields(**fields)
    logo_png = await run_cpu(check_logo, logo) if logo else None
    row = await BrandKits.objects().where(BrandKits.user == user_id).first()
    if row is None:
        row = BrandKits(user=user_id)
    old_logo = row.logo_key
    new_logo_key = None
    if logo_png is not None:
        new_logo_key = new_key("brand", ".png")
        await asyncio.to_thread(get_storage().save_bytes, new_logo_key, logo_png)
        row.logo_key = new_logo_key
    elif remove_logo:
        row.logo_key = None
    for key, value in values.items():
        setattr(row, key, value)
    try:
        await row.save()
    except Exception:
        if new_logo_key:
            await asyncio.to_thread(get_storage().delete, new_logo_key)
        raise
    if old_logo and old_logo != row.logo_key:
        await asyncio.to_thread(get_storage().delete, old_logo)
    return _view(row)
