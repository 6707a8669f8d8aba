"""Reframing a clip for a placement inside libavfilter: a centred crop, or the clip fitted over a blurred,
darkened copy of itself. Frames come out as RGB, ready for overlays."""

from __future__ import annotations

import av
from av.filter import Graph

# Below this share of the clip's area kept by a crop, "auto" puts the clip over a blurred copy instead.
AUTO_CROP_KEEPS = 0.7


def even(value: float) -> int:
    return max(2, round(value / 2) * 2)


def crop_keeps(src_w: int, src_h: int, width: int, height: int) -> float:
    """Share of the clip's area a centred crop to width:height keeps."""
    src_ratio, ratio = src_w / src_h, width / height
    return min(src_ratio, ratio) / max(src_ratio, ratio)


def choose_fit(fit: str, src_w: int, src_h: int, width: int, height: int) -> str:
    if fit != "auto":
        return fit
    return "crop" if crop_keeps(src_w, src_h, width, height) >= AUTO_CROP_KEEPS else "blur"


def build_graph(stream: av.VideoStream, width: int, height: int, fit: str) -> Graph:
    """A configured graph: push decoded frames of `stream`, pull RGB frames of width×height."""
    src_w, src_h = stream.codec_context.width, stream.codec_context.height
    graph = Graph()
    source = graph.add_buffer(template=stream)
    sink = graph.add("buffersink")
    rgb = graph.add("format", "rgb24")
    if fit == "crop" or (src_w * height == src_h * width):
        scale = max(width / src_w, height / src_h)
        cw, ch = min(src_w, even(width / scale)), min(src_h, even(height / scale))
        crop = graph.add("crop", f"{cw}:{ch}:{(src_w - cw) // 2}:{(src_h - ch) // 2}")
        resize = graph.add("scale", f"{width}:{height}:flags=bicubic")
        graph.link_nodes(source, crop, resize, rgb, sink)
    else:
        split = graph.add("split")
        source.link_to(split)
        # Background: cover-scaled at 1/8 size, blurred and darkened there (cheap), then enlarged.
        small_w, small_h = even(width / 8), even(height / 8)
        cover = max(small_w / src_w, small_h / src_h)
        down = graph.add("scale", f"{even(src_w * cover)}:{even(src_h * cover)}:flags=bilinear")
        cut = graph.add("crop", f"{small_w}:{small_h}")
        small_rgb = graph.add("format", "rgb24")
        blur = graph.add("gblur", "sigma=3")
        dim = graph.add("colorchannelmixer", "rr=0.72:gg=0.72:bb=0.72")
        up = graph.add("scale", f"{width}:{height}:flags=bilinear")
        split.link_to(down, 0, 0)
        graph.link_nodes(down, cut, small_rgb, blur, dim, up)
        # Foreground: the whole clip fitted inside the frame, centred.
        fit_scale = min(width / src_w, height / src_h)
        fw, fh = min(width, even(src_w * fit_scale)), min(height, even(src_h * fit_scale))
        front = graph.add("scale", f"{fw}:{fh}:flags=bicubic")
        split.link_to(front, 1, 0)
        overlay = graph.add("overlay", f"{(width - fw) // 2}:{(height - fh) // 2}")
        up.link_to(overlay, 0, 0)
        front.link_to(overlay, 0, 1)
        graph.link_nodes(overlay, rgb, sink)
    graph.configure()
    return graph
