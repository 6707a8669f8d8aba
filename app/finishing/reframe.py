"""Reframing a clip for a placement inside libavfilter: a centred crop, or the clip fitted over a blurred,
darkened copy of itself. Frames come out as RGB, ready for overlays."""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction

import av
from av.filter import Graph
from av.filter.context import FilterContext
from PIL import Image

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


def _reframe(graph: Graph, source, src_w: int, src_h: int, width: int, height: int, fit: str):
    """Link the reframing after `source`; the last node (RGB or YUV, width×height)."""
    if fit == "crop" or (src_w * height == src_h * width):
        scale = max(width / src_w, height / src_h)
        cw, ch = min(src_w, even(width / scale)), min(src_h, even(height / scale))
        crop = graph.add("crop", f"{cw}:{ch}:{(src_w - cw) // 2}:{(src_h - ch) // 2}")
        resize = graph.add("scale", f"{width}:{height}:flags=bicubic")
        graph.link_nodes(source, crop, resize)
        return resize
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
    small_yuv = graph.add("format", "yuv420p")
    up = graph.add("scale", f"{width}:{height}:flags=bilinear")
    split.link_to(down, 0, 0)
    graph.link_nodes(down, cut, small_rgb, blur, dim, small_yuv, up)
    # Foreground: the whole clip fitted inside the frame, centred.
    fit_scale = min(width / src_w, height / src_h)
    fw, fh = min(width, even(src_w * fit_scale)), min(height, even(src_h * fit_scale))
    front = graph.add("scale", f"{fw}:{fh}:flags=bicubic")
    split.link_to(front, 1, 0)
    overlay = graph.add("overlay", f"{(width - fw) // 2}:{(height - fh) // 2}")
    up.link_to(overlay, 0, 0)
    front.link_to(overlay, 0, 1)
    return overlay


def build_graph(stream: av.VideoStream, width: int, height: int, fit: str) -> Graph:
    """A configured graph: push decoded frames of `stream`, pull RGB frames of width×height."""
    graph = Graph()
    source = graph.add_buffer(template=stream)
    last = _reframe(graph, source, stream.codec_context.width, stream.codec_context.height, width, height, fit)
    graph.link_nodes(last, graph.add("format", "rgb24"), graph.add("buffersink"))
    graph.configure()
    return graph


def rgba_frame(image: Image.Image) -> av.VideoFrame:
    """An RGBA frame that keeps the picture's alpha (`VideoFrame.from_image` drops it)."""
    image = image.convert("RGBA")
    frame = av.VideoFrame(image.width, image.height, "rgba")
    plane = frame.planes[0]
    raw, row = image.tobytes(), image.width * 4
    if plane.line_size == row:
        plane.update(raw)
    else:  # rows padded for alignment
        pad = b"\0" * (plane.line_size - row)
        plane.update(b"".join(raw[i : i + row] + pad for i in range(0, len(raw), row)))
    return frame


@dataclass(frozen=True)
class Still:
    """A still RGBA picture laid over the frames whose time t (seconds) is in [start, end)."""

    image: Image.Image
    x: int
    y: int
    start: float
    end: float


def build_dressed_graph(
    stream: av.VideoStream, width: int, height: int, fit: str, fps: Fraction, stills: list[Still]
) -> tuple[Graph, FilterContext]:
    """Reframing plus the stills, blended inside libavfilter (each still is sent once and repeated), with
    yuv420p frames out for the encoder. Push frames (pts in 1/fps) into the returned source."""
    graph = Graph()
    cc = stream.codec_context
    source = graph.add_buffer(width=cc.width, height=cc.height, format=cc.pix_fmt, time_base=Fraction(1) / fps)
    last = _reframe(graph, source, cc.width, cc.height, width, height, fit)
    feeds = []
    for still in stills:
        feed = graph.add_buffer(
            width=still.image.width, height=still.image.height, format="rgba", time_base=Fraction(1) / fps
        )
        layer = graph.add(
            "overlay",
            x=str(still.x),
            y=str(still.y),
            eof_action="repeat",
            enable=f"gte(t,{still.start:.4f})*lt(t,{still.end:.4f})",
        )
        last.link_to(layer, 0, 0)
        feed.link_to(layer, 0, 1)
        feeds.append((feed, still))
        last = layer
    graph.link_nodes(last, graph.add("format", "yuv420p"), graph.add("buffersink"))
    graph.configure()
    for feed, still in feeds:
        frame = rgba_frame(still.image)
        frame.pts, frame.time_base = 0, Fraction(1) / fps
        feed.push(frame)
        feed.push(None)
    return graph, source
