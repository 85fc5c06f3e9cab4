"""Layer masks: clip paths (§5.11, §6.6 ``clipPath=``/``clipXPath=``) rasterised into one-band
masks, ``mask=``/``maskUse=`` applied to a layer, and growing a mask (``op_grow*``, §6.5).

The path becomes an SVG document (render/clip_path.py) that libvips' ``svgload_buffer`` (librsvg)
draws anti-aliased; the mask is its alpha band: 255 inside, 0 outside, edges in between.
"""

from __future__ import annotations

import pyvips

from isrender.errors import UnsupportedFeatureError
from isrender.render.clip_path import ClipPath, to_svg
from isrender.render.effects import EXACT_DISC_RADIUS, MaskUse, disc_decomposition

__all__ = [
    "MAX_MASK_PIXELS",
    "apply_clip",
    "apply_mask",
    "clip_mask",
    "grow_alpha",
    "grow_band",
    "mask_band",
    "path_mask",
]

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


# ---- layer masks (§6.0 A2, §6.4 mask=/maskUse=, §6.5 op_grow*) ------------------------------


def mask_band(mask: pyvips.Image) -> pyvips.Image:
    """The one-band mask a ``mask=`` image stands for: its alpha when it has one, else its
    gray values (§6.4: a separate, unassociated mask)."""
    if mask.bands in (2, 4):
        band = mask[mask.bands - 1]
    elif mask.bands == 1:
        band = mask
    else:
        band = mask[:3].colourspace("b-w")
    if band.format != "uchar":
        band = band.cast("uchar")
    return band.copy(interpretation="b-w")


def apply_mask(
    layer: pyvips.Image, mask: pyvips.Image | None = None, use: MaskUse = "norm"
) -> pyvips.Image:
    """``layer`` (RGB or RGBA uchar) with the alpha ``mask=``/``maskUse=`` give it (§6.4).

    The mask is ``mask`` (resized to the layer when its size differs: a catalog mask has the
    source's pixel size, a nested one may not), else the layer's own alpha, else opaque.
    ``invert`` keeps the background only (no mask: nothing shows); ``off`` is the opaque
    rectangle, the foreground over black, as a premultiplied source shows it."""
    colour = layer[:3] if layer.bands >= 3 else layer[:1]
    own = layer[layer.bands - 1] if layer.bands in (2, 4) else None
    if use == "off":
        shown = layer.flatten(background=[0] * colour.bands) if own is not None else colour
        return shown.cast("uchar").bandjoin(255).copy(interpretation=layer.interpretation)
    band = _fitted(mask_band(mask), layer.width, layer.height) if mask is not None else own
    if band is None:
        band = colour.new_from_image(255)[0].cast("uchar")
    if use == "invert":
        band = band.invert()
    return colour.bandjoin(band).copy(interpretation=layer.interpretation)


def _fitted(band: pyvips.Image, width: int, height: int) -> pyvips.Image:
    if (band.width, band.height) == (width, height):
        return band
    resized = band.resize(width / band.width, vscale=height / band.height)
    return resized.embed(0, 0, width, height, extend="copy").cast("uchar")


def grow_band(band: pyvips.Image, pixels: int) -> pyvips.Image:
    """Dilate (> 0) or erode (< 0) a one-band uchar image by a disc of ``pixels`` radius:
    grey values grow as their maximum (minimum) over the disc, so soft edges stay soft.
    Radii above EXACT_DISC_RADIUS use the octagon of four line segments (disc_decomposition)."""
    if pixels == 0:
        return band
    if pixels < 0:
        return _dilate(band.invert(), -pixels).invert()
    return _dilate(band, pixels)


def grow_alpha(layer: pyvips.Image, pixels: int) -> pyvips.Image:
    """``op_growMask``/``op_growMaskR`` (radius already resolved): grow the layer's mask."""
    if pixels == 0 or layer.bands not in (2, 4):
        return layer
    alpha = grow_band(layer[layer.bands - 1], pixels)
    return layer[: layer.bands - 1].bandjoin(alpha).copy(interpretation=layer.interpretation)


def _dilate(band: pyvips.Image, radius: int) -> pyvips.Image:
    if radius <= EXACT_DISC_RADIUS:
        return band.morph(_disc(radius), "dilate")
    axis, diagonal = disc_decomposition(radius)
    for element in _lines(axis, diagonal):
        band = band.morph(element, "dilate")
    return band


def _disc(radius: int) -> pyvips.Image:
    # 255 = the pixel counts, 128 = ignored; (r + 0.5)^2 keeps the four axis tips single pixels
    limit = (radius + 0.5) ** 2
    rows = [[255 if x * x + y * y <= limit else 128 for x in range(-radius, radius + 1)]
            for y in range(-radius, radius + 1)]  # fmt: skip
    return pyvips.Image.new_from_list(rows)


def _lines(axis: int, diagonal: int) -> list[pyvips.Image]:
    elements = []
    if axis:
        elements.append(pyvips.Image.new_from_list([[255] * (2 * axis + 1)]))
        elements.append(pyvips.Image.new_from_list([[255] for _ in range(2 * axis + 1)]))
    if diagonal:
        side = range(2 * diagonal + 1)
        main = [[255 if x == y else 128 for x in side] for y in side]
        elements.append(pyvips.Image.new_from_list(main))
        elements.append(pyvips.Image.new_from_list([row[::-1] for row in main]))
    return elements


def apply_clip(
    layer: pyvips.Image, path: ClipPath, exclude: ClipPath | None = None
) -> pyvips.Image:
    """``clipPath=``/``clipXPath=`` (§6.6): outside the clip area the layer is transparent.
    The paths are in the layer's pixels (``ClipPath.transformed`` moves or scales them)."""
    rgba = layer if layer.bands in (2, 4) else layer.bandjoin(255)
    alpha = rgba[rgba.bands - 1]
    clip = clip_mask(path, rgba.width, rgba.height, exclude)
    clipped = (alpha * clip / 255 + 0.5).cast("uchar")
    return rgba[: rgba.bands - 1].bandjoin(clipped).copy(interpretation=layer.interpretation)
