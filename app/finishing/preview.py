"""Still previews drawn by the same code as the renditions: a frame of the clip dressed for a placement,
and the end card. Cheap enough to redraw on every keystroke of the panel."""

from __future__ import annotations

from pathlib import Path

import av
from PIL import Image

from app.finishing import overlays
from app.finishing.engine import ClipInfo, PlannedRendition, _Dressing, plan
from app.finishing.options import Brand, EndCard, FinishOptions, rendition_size
from app.finishing.reframe import build_graph


def clip_frame(clip_path: str | Path, rendition: PlannedRendition, at: float) -> Image.Image:
    """The clip's frame nearest after `at` seconds, reframed for the rendition."""
    with av.open(str(clip_path)) as source:
        stream = source.streams.video[0]
        graph = build_graph(stream, rendition.width, rendition.height, rendition.fit)
        chosen = None
        for frame in source.decode(stream):
            chosen = frame
            if frame.time is not None and frame.time >= at:
                break
        if chosen is None:
            return Image.new("RGB", (rendition.width, rendition.height), (0, 0, 0))
        graph.push(chosen)
        return graph.pull().to_image()


def preview_frame(clip_path: str | Path, clip: ClipInfo, options: FinishOptions, brand: Brand) -> Image.Image:
    """The first placement at half a second into the trimmed clip, with its hook and first caption."""
    the_plan = plan(options, brand, clip)
    rendition = the_plan.renditions[0]
    at = float(the_plan.first_frame / the_plan.fps) + min(0.5, the_plan.clip_seconds / 2)
    image = clip_frame(clip_path, rendition, at)
    dressing = _Dressing.draw(the_plan, rendition)
    if dressing.hook is not None:
        dressing.hook.paint(image)
    if dressing.captions:
        dressing.captions[0][2].paint(image)
    return image


def preview_card(brand: Brand, card: EndCard, placement: str = "9:16", short_side: int = 720) -> Image.Image:
    width, height = rendition_size(placement, short_side, short_side)
    return overlays.end_card(brand, card, width, height, frame=f"{placement} ({width}×{height})")
