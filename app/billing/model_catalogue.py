"""The model catalogue: every model we sell, in one table. The pricing page, the studio, the API's model
list, the generation checks and the providers all read it; adding a model is adding one entry here (and
its provider knowing the API call)."""

from __future__ import annotations

from dataclasses import dataclass, field

# Where an ad runs, as aspect ratios, in the order the studio offers them.
PLACEMENTS: tuple[tuple[str, str], ...] = (
    ("9:16", "TikTok, Reels, Shorts (9:16)"),
    ("16:9", "YouTube, landscape (16:9)"),
    ("1:1", "Feed, square (1:1)"),
    ("4:5", "Feed, portrait (4:5)"),
)
PAID = ("basic", "pro")
PRO = ("pro",)


@dataclass(frozen=True)
class CatalogueModel:
    """One model: who makes it, what it starts from, what it makes, what it costs and who may use it."""

    id: str
    provider: str
    name: str
    text_input: bool
    image_input: bool
    durations: tuple[int, ...]
    # aspect ratio -> sizes ("WxH"), smallest first
    sizes: dict[str, tuple[str, ...]]
    audio: bool
    # seconds -> credits
    prices: dict[int, int]
    plans: tuple[str, ...]
    # sizes the model makes only from a photo (not from text alone)
    image_only_sizes: frozenset[str] = field(default_factory=frozenset)

    @property
    def all_sizes(self) -> list[str]:
        return [size for sizes in self.sizes.values() for size in sizes]

    @property
    def needs_reference_image(self) -> bool:
        return not self.text_input

    def text_sizes(self) -> list[str]:
        """The sizes it makes from a prompt alone."""
        return [] if not self.text_input else [s for s in self.all_sizes if s not in self.image_only_sizes]

    def ratio_of(self, size: str) -> str | None:
        return next((ratio for ratio, sizes in self.sizes.items() if size in sizes), None)

    def price(self, seconds: int) -> int | None:
        return self.prices.get(seconds)


_LANDSCAPE, _PORTRAIT = ("1280x720",), ("720x1280",)
_VEO = {"16:9": ("1280x720", "1920x1080"), "9:16": ("720x1280", "1080x1920")}
_RUNWAY_GEN4 = {"16:9": _LANDSCAPE, "9:16": _PORTRAIT, "1:1": ("960x960",)}

MODELS: tuple[CatalogueModel, ...] = (
    CatalogueModel(
        id="sora-2",
        provider="openai",
        name="Sora 2",
        text_input=True,
        image_input=True,
        durations=(4, 8, 12),
        sizes={"16:9": _LANDSCAPE, "9:16": _PORTRAIT},
        audio=False,
        prices={4: 100, 8: 200, 12: 300},
        plans=PAID,
    ),
    CatalogueModel(
        id="sora-2-pro",
        provider="openai",
        name="Sora 2 Pro",
        text_input=True,
        image_input=True,
        durations=(4, 8, 12),
        sizes={"16:9": ("1280x720", "1792x1024"), "9:16": ("720x1280", "1024x1792")},
        audio=False,
        prices={4: 300, 8: 600, 12: 900},
        plans=PRO,
    ),
    CatalogueModel(
        id="gen4_turbo",
        provider="runway",
        name="Runway Gen-4 Turbo",
        text_input=False,
        image_input=True,
        durations=(5, 10),
        sizes=_RUNWAY_GEN4,
        audio=False,
        prices={5: 60, 10: 120},
        plans=PAID,
    ),
    CatalogueModel(
        id="gen4.5",
        provider="runway",
        name="Runway Gen-4.5",
        text_input=True,
        image_input=True,
        durations=(5, 10),
        sizes=_RUNWAY_GEN4,
        audio=False,
        prices={5: 80, 10: 160},
        plans=PAID,
        image_only_sizes=frozenset({"960x960"}),
    ),
    CatalogueModel(
        id="veo-3.1-fast",
        provider="google",
        name="Google Veo 3.1 Fast",
        text_input=True,
        image_input=True,
        durations=(4, 6, 8),
        sizes=_VEO,
        audio=True,
        prices={4: 60, 6: 90, 8: 120},
        plans=PAID,
    ),
    CatalogueModel(
        id="veo-3.1",
        provider="google",
        name="Google Veo 3.1",
        text_input=True,
        image_input=True,
        durations=(4, 6, 8),
        sizes=_VEO,
        audio=True,
        prices={4: 160, 6: 240, 8: 320},
        plans=PRO,
    ),
    CatalogueModel(
        id="veo3.1",
        provider="runway",
        name="Veo 3.1 via Runway",
        text_input=True,
        image_input=True,
        durations=(4, 6, 8),
        sizes=_VEO,
        audio=True,
        prices={4: 170, 6: 250, 8: 330},
        plans=PRO,
    ),
)
BY_ID: dict[str, CatalogueModel] = {m.id: m for m in MODELS}


def get(model_id: str) -> CatalogueModel | None:
    return BY_ID.get(model_id)


def for_provider(provider: str) -> list[CatalogueModel]:
    return [m for m in MODELS if m.provider == provider]


def for_placement(ratio: str) -> list[CatalogueModel]:
    """The models that can make videos of aspect ratio `ratio`."""
    return [m for m in MODELS if ratio in m.sizes]


def ratio_of_size(size: str) -> str | None:
    """The aspect ratio (placement) a size belongs to, in any model."""
    return next((m.ratio_of(size) for m in MODELS if m.ratio_of(size)), None)


def size_label(size: str) -> str:
    """`1280x720` as people read it: `1280×720 landscape`."""
    width, _, height = size.partition("x")
    if not (width.isdigit() and height.isdigit()):
        return size
    shape = "landscape" if int(width) > int(height) else "portrait" if int(width) < int(height) else "square"
    return f"{width}×{height} {shape}"
