"""Demo content: users for each plan, showcase videos and trial images, with media generated locally.

Idempotent: rows are found by their natural keys and files by their storage keys, so a second run
changes nothing.
"""

from __future__ import annotations

import asyncio
import hashlib
import io
import logging
from dataclasses import dataclass

from PIL import Image, ImageDraw

from app.billing import ledger, plans
from app.config import get_settings
from app.media import samples
from app.media.cpu import run_cpu
from app.media.render import render_clip
from app.media.storage import StorageBackend, get_storage, media_url, new_key
from app.tables import LedgerReason, Plan, ShowcaseVideos, TrialImages, Users, Videos, VideoStatus

log = logging.getLogger("adsvideo.seed")

DEMO_DOMAIN = "demo.adsvideo.local"


@dataclass(frozen=True)
class DemoUser:
    email: str
    name: str
    plan: Plan
    colour: tuple[int, int, int]


DEMO_USERS = [
    DemoUser(f"free@{DEMO_DOMAIN}", "Fran Free", Plan.free, (14, 116, 144)),
    DemoUser(f"basic@{DEMO_DOMAIN}", "Bao Basic", Plan.basic, (190, 24, 93)),
    DemoUser(f"pro@{DEMO_DOMAIN}", "Priya Pro", Plan.pro, (91, 61, 245)),
]


@dataclass(frozen=True)
class Showcase:
    slug: str
    title: str
    description: str
    category: str
    product: str
    motion: str = "push"
    colour: tuple[int, int, int] | None = None  # the product's colourway (None: its usual one)
    backdrop: tuple[tuple[int, int, int], tuple[int, int, int]] | None = None  # top and bottom of the set
    featured: bool = False
    hero: bool = False


# Every clip is its own product, colourway, set and camera move. The grid's first page shows nine that
# appear nowhere else on the home page; the featured row and the hero carousel have their own three each.
SHOWCASE = [
    Showcase("first-sip", "First sip", "A ceramic mug and a slow pull-back for a café menu.", "F&B", "mug", "pull"),
    Showcase(
        "made-to-move",
        "Made to move",
        "A teal runner sliding across a night-blue set.",
        "Product",
        "sneaker",
        "pan",
        (20, 160, 150),
        ((28, 40, 72), (12, 18, 36)),
    ),
    Showcase(
        "studio-sound",
        "Studio sound",
        "White headphones on violet, a clean packshot.",
        "Tech",
        "headphones",
        "push",
        (246, 246, 250),
        ((196, 180, 252), (118, 92, 220)),
    ),
    Showcase(
        "weekend-bag",
        "Weekend bag",
        "An olive tote, tilting up for a fashion teaser.",
        "Fashion",
        "handbag",
        "rise",
        (110, 122, 60),
        ((250, 246, 232), (222, 212, 186)),
    ),
    Showcase(
        "glow-serum",
        "Glow serum",
        "A rose bottle with a gentle push-in.",
        "Beauty",
        "bottle",
        "push",
        (226, 112, 140),
        ((255, 236, 226), (248, 200, 186)),
    ),
    Showcase(
        "evening-bloom", "Evening bloom", "A perfume reveal that pulls back from the cap.", "Beauty", "perfume", "pull"
    ),
    Showcase("always-on", "Always on", "An app launch on a phone, tilting up the screen.", "Tech", "phone", "rise"),
    Showcase(
        "morning-ritual",
        "Morning ritual",
        "A terracotta mug panning over a sage counter.",
        "F&B",
        "mug",
        "pan",
        (196, 96, 60),
        ((226, 236, 220), (170, 190, 160)),
    ),
    Showcase("time-well-kept", "Time, well kept", "A gold watch face, slowly closer.", "Fashion", "watch", "push"),
    Showcase(
        "everyday-carry",
        "Everyday carry",
        "A leather handbag on a warm set.",
        "Fashion",
        "handbag",
        "pull",
        featured=True,
    ),
    Showcase(
        "bold-red", "Bold red", "A lipstick reveal with a soft pink glow.", "Beauty", "lipstick", "rise", featured=True
    ),
    Showcase(
        "night-run",
        "Night run",
        "A neon runner crossing a charcoal set.",
        "Product",
        "sneaker",
        "pan",
        (214, 240, 40),
        ((58, 58, 66), (22, 22, 28)),
        featured=True,
    ),
    Showcase(
        "run-lighter",
        "Run lighter",
        "A sneaker launch spot with a slow studio push-in.",
        "Product",
        "sneaker",
        "push",
        hero=True,
    ),
    Showcase(
        "cold-brew", "Cold brew, bottled", "Condensation, morning light, a calm pan.", "F&B", "bottle", "pan", hero=True
    ),
    Showcase(
        "sound-of-focus",
        "The sound of focus",
        "Headphones over a cool gradient, tilting up.",
        "Tech",
        "headphones",
        "rise",
        hero=True,
    ),
]

TRIAL_IMAGES = [
    ("bottle", "Green glass bottle", "F&B", "jpg"),
    ("sneaker", "Orange running shoe", "Product", "jpg"),
    ("mug", "Indigo ceramic mug", "F&B", "webp"),
    ("lipstick", "Red lipstick", "Beauty", "jpg"),
    ("headphones", "Over-ear headphones", "Tech", "webp"),
    ("handbag", "Leather handbag", "Fashion", "jpg"),
]


def _avatar(user: DemoUser) -> bytes:
    img = Image.new("RGB", (128, 128), user.colour)
    draw = ImageDraw.Draw(img)
    from PIL import ImageFont

    font = ImageFont.load_default(size=56)
    initials = "".join(part[0] for part in user.name.split()[:2])
    w = draw.textlength(initials, font=font)
    draw.text(((128 - w) / 2, 30), initials, font=font, fill=(255, 255, 255))
    return samples.encode(img, "PNG")


async def _ensure_user(storage: StorageBackend, demo: DemoUser) -> bool:
    if await Users.exists().where(Users.email == demo.email):
        return False
    avatar_key = f"public/avatars/{demo.email.split('@')[0]}.png"
    if not await asyncio.to_thread(storage.exists, avatar_key):
        await asyncio.to_thread(storage.save_bytes, avatar_key, _avatar(demo))
    user = Users(email=demo.email, name=demo.name, avatar_url=media_url(avatar_key))
    await user.save()
    await ledger.apply(user.id, get_settings().signup_credits, LedgerReason.signup, note="Welcome credits")
    if demo.plan is not Plan.free:
        await plans.set_plan(user.id, demo.plan, months=12)
    return True


def _render_showcase(storage: StorageBackend, item: Showcase, quick: bool) -> tuple[str, str]:
    video_key, poster_key = f"public/showcase/{item.slug}.mp4", f"public/showcase/{item.slug}.jpg"
    if storage.exists(video_key) and storage.exists(poster_key):
        return video_key, poster_key
    # Hero videos fill the top of the home page; grid cards are small, so their clips can be too.
    width, height, seconds = (320, 180, 1) if quick else ((1280, 720, 4) if item.hero else (640, 360, 4))
    look = {k: v for k, v in (("colour", item.colour), ("backdrop", item.backdrop)) if v is not None}
    picture = samples.PRODUCTS[item.product]((width, height), **look)
    buffer = io.BytesIO()
    clip = render_clip(
        buffer, width=width, height=height, seconds=seconds, caption=item.title, image=picture, motion=item.motion
    )
    storage.save_bytes(video_key, buffer.getvalue())
    storage.save_bytes(poster_key, samples.encode(clip.poster))
    return video_key, poster_key


async def _ensure_showcase(storage: StorageBackend, order: int, item: Showcase, quick: bool) -> bool:
    video_key, poster_key = await run_cpu(_render_showcase, storage, item, quick)
    if await ShowcaseVideos.exists().where(ShowcaseVideos.video_url == media_url(video_key)):
        return False
    await ShowcaseVideos(
        title=item.title,
        description=item.description,
        category=item.category,
        video_url=media_url(video_key),
        poster_url=media_url(poster_key),
        is_featured=item.featured,
        is_hero=item.hero,
        order=order,
    ).save()
    return True


async def _ensure_demo_video(storage: StorageBackend, demo: DemoUser, item: Showcase, quick: bool) -> None:
    """A finished video in the demo user's library (a copy of a showcase clip), so the home page's recent
    creators (people who made a video) has someone to show."""
    user = await Users.select(Users.id).where(Users.email == demo.email).first()
    if user is None or await Videos.exists().where(Videos.user == user["id"]):
        return
    width, height = (320, 180) if quick else ((1280, 720) if item.hero else (640, 360))
    video_key, poster_key = new_key("videos", ".mp4"), new_key("posters", ".jpg")

    def copy() -> None:  # demo clips are small
        storage.save_bytes(video_key, storage.read_bytes(f"public/showcase/{item.slug}.mp4"))
        storage.save_bytes(poster_key, storage.read_bytes(f"public/showcase/{item.slug}.jpg"))

    await asyncio.to_thread(copy)
    await Videos(
        user=user["id"],
        prompt=item.description,
        model="sora-2",
        duration=4 if not quick else 1,
        resolution=f"{width}x{height}",
        status=VideoStatus.completed.value,
        step="completed",
        progress=100,
        video_key=video_key,
        poster_key=poster_key,
        video_url=media_url(video_key),
        poster_url=media_url(poster_key),
    ).save()


async def _ensure_trial_image(
    storage: StorageBackend, order: int, product: str, title: str, category: str, ext: str
) -> bool:
    key = f"public/trial/{product}.{ext}"
    if not await asyncio.to_thread(storage.exists, key):
        picture = samples.PRODUCTS[product]((1280, 720))
        data = samples.encode(picture, "WEBP" if ext == "webp" else "JPEG")
        await asyncio.to_thread(storage.save_bytes, key, data)
    if await TrialImages.exists().where(TrialImages.storage_key == key):
        return False
    await TrialImages(
        title=title, image_url=media_url(key), storage_key=key, category=category, order=order, is_active=True
    ).save()
    return True


async def seed(*, quick: bool = False) -> dict[str, int]:
    """Create whatever demo content is missing; returns how many rows of each kind were added."""
    storage = get_storage()
    added = {"users": 0, "showcase_videos": 0, "trial_images": 0}
    for demo in DEMO_USERS:
        added["users"] += await _ensure_user(storage, demo)
    for order, item in enumerate(SHOWCASE, start=1):
        added["showcase_videos"] += await _ensure_showcase(storage, order, item, quick)
    for demo, item in zip(DEMO_USERS, SHOWCASE, strict=False):
        await _ensure_demo_video(storage, demo, item, quick)
    for order, (product, title, category, ext) in enumerate(TRIAL_IMAGES, start=1):
        added["trial_images"] += await _ensure_trial_image(storage, order, product, title, category, ext)
    return added


def content_digest(storage: StorageBackend) -> str:
    """A hash of every seeded file, to prove a second run rewrote nothing."""
    digest = hashlib.sha256()
    for stored in sorted(storage.list("public/"), key=lambda s: s.key):
        digest.update(f"{stored.key} {stored.size} {stored.modified.isoformat()} {stored.etag}".encode())
    return digest.hexdigest()
