"""Rasterise clip paths (§5.11, §6.6 ``clipPath=``/``clipXPath=``) into one-band masks.

The path becomes an SVG document (layers/path.py) that libvips' ``svgload_buffer`` (librsvg)
draws anti-aliased; the mask is its alpha band: 255 inside, 0 outside, edges in between.
"""

from __future__ import annotations

import pyvips

from isrender.errors import UnsupportedFeatureError
from isrender.render.clip_path import ClipPath, to_svg

__all__ = ["MAX_MASK_PIXELS", "clip_mask", "path_mask"]

MAX_MASK_PIXELS = 100_000_000  # the same order as max_source_pixels: refused before drawing


def path_mask(path: ClipPath, width: int, height: int) -> pyvips.Image:
    """A ``width`` x ``height`` uchar mask of ``path`` filled (every subpath closed)."""
    if width < 1 or height < 1 or width * height > MAX_MASK_PIXELS:
        raise UnsupportedFeatureError(f"a clip mask of {width}x{height} pixels is not drawn")
    svg = to_svg(path, width, height).encode("ascii")
    drawn = pyvips.Image.svgload_buffer(svg, access="sequential")
    alpha = drawn[3] if drawn.bands == 4 else drawn[0]
    if (alpha.width, alpha.height) != (width, height):  # librsvg rounds; keep the asked size
        alpha = alpha.embed(0, 0, width, height).crop(0, 0, width, height)
    return alpha.copy(interpretation="b-w")


def clip_mask(
    path: ClipPath, width: int, height: int, exclude: ClipPath | None = None
) -> pyvips.Image:
    """The clip area of a layer: inside ``path`` and outside ``exclude`` (``clipXPath=``)."""
    mask = path_mask(path, width, height)
    if exclude is None:
        return mask
    outside = 255 - path_mask(exclude, width, height)
    return (mask * outside / 255).cast("uchar").copy(interpretation="b-w")
