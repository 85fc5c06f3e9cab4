"""Layers drawn onto the layer-0 canvas (spec §6.0 B, §6.6 opac, blendMode, color) on libvips.

Images are 8-bit sRGB with unassociated (straight) alpha, 3 or 4 bands, as everywhere in the
renderer. Blending follows the W3C/PDF compositing model with Photoshop's separable modes, in
sRGB (as Photoshop does, not in linear light). With backdrop colour ``cb`` and alpha ``ab``,
layer colour ``cs`` and alpha ``as`` (opacity included), all 0..1::

    ao = as + ab (1 - as)
    co = (cs as (1 - ab) + cb ab (1 - as) + as ab B(cb, cs)) / ao

    B: norm cs · mult cb cs · screen cb + cs - cb cs · darken min(cb, cs) · lighten max(cb, cs)

``norm`` uses libvips' ``over``, which is exactly this. libvips' other blend modes mix
premultiplied colours into B and differ from the formula by up to 60 levels where either side
is translucent, so mult, screen, darken and lighten are written out here. ``dissolve`` draws
each layer pixel fully opaque with a probability equal to its alpha, else not at all; the
choice comes from seeded noise that depends only on the seed and the pixel's position in the
layer, so a render is reproducible and a tile shows what the whole image shows.

Layer 0 clips: only the part of a layer inside the canvas is blended; the canvas keeps its
size and its band count (an opaque canvas stays opaque under every mode).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence

import pyvips

from isrender.commands.colors import Color
from isrender.render.layers import BLEND_MODES, LayerPlacement

__all__ = [
    "BLEND_MODES",
    "composite",
    "dissolve_threshold",
    "draw_layers",
    "solid",
    "with_opacity",
]

Formula = Callable[[pyvips.Image, pyvips.Image], pyvips.Image]

_SEPARABLE: dict[str, Formula] = {
    "mult": lambda cb, cs: cb * cs,
    "screen": lambda cb, cs: cb + cs - cb * cs,
    "darken": lambda cb, cs: (cb < cs).ifthenelse(cb, cs),
    "lighten": lambda cb, cs: (cb > cs).ifthenelse(cb, cs),
}


def solid(width: int, height: int, color: Color) -> pyvips.Image:
    """A solid-colour layer: ``width`` x ``height`` of ``color`` with the colour's alpha."""
    r, g, b = color.to_rgb8()
    alpha = math.floor(color.alpha * 255 + 0.5)
    base = pyvips.Image.black(max(1, width), max(1, height))
    return base.new_from_image([r, g, b, alpha]).cast("uchar").copy(interpretation="srgb")


def with_opacity(image: pyvips.Image, fraction: float) -> pyvips.Image:
    """``image`` with its alpha multiplied by ``fraction`` (0..1); an alpha band is added."""
    colour, alpha = _split(image)
    if fraction >= 1:
        return image if alpha is not None else _join(colour, _opaque(image))
    base = alpha if alpha is not None else _opaque(image)
    return _join(colour, (base * max(0.0, fraction) + 0.5).cast("uchar"))


def composite(
    canvas: pyvips.Image,
    layer: pyvips.Image,
    x: int,
    y: int,
    *,
    blend: str = "norm",
    opacity: float = 1.0,
    seed: int = 0,
) -> pyvips.Image:
    """Draw ``layer`` with its top-left at (``x``, ``y``) of ``canvas``: the part outside the
    canvas is cut off, ``opacity`` (0..1) scales the layer's alpha, ``blend`` is one of
    BLEND_MODES and ``seed`` picks dissolve's noise. Returns an image of the canvas' size and
    band count."""
    if blend not in BLEND_MODES:
        raise ValueError(f"unknown blend mode {blend!r}; one of {', '.join(BLEND_MODES)}")
    canvas, layer = _rgb(canvas), _rgb(layer)
    left, top = max(x, 0), max(y, 0)
    right, bottom = min(x + layer.width, canvas.width), min(y + layer.height, canvas.height)
    if right <= left or bottom <= top or opacity <= 0:
        return canvas
    top_layer = with_opacity(layer, opacity)
    if blend == "dissolve":
        top_layer = _dissolved(top_layer, seed)
    visible = top_layer.crop(left - x, top - y, right - left, bottom - top)
    backdrop = canvas.crop(left, top, right - left, bottom - top)
    blended = _blend(backdrop, visible, blend)
    if blended.bands != canvas.bands:  # an opaque canvas stays opaque: drop the (255) alpha
        blended = blended[: canvas.bands]
    return canvas.insert(blended.cast("uchar").copy(interpretation="srgb"), left, top)


def draw_layers(
    canvas: pyvips.Image,
    layers: Sequence[tuple[LayerPlacement, pyvips.Image]],
    scale: float,
) -> pyvips.Image:
    """Draw finished layer images (after their own steps: render/layer_plan.py) on the canvas
    at working scale ``scale``, in the order given (ascending layer number); hidden, empty and
    fully clipped layers are skipped. Dissolve's noise is seeded by the layer number, so a
    render is reproducible."""
    for placement, image in layers:
        if not placement.drawn:
            continue
        box = placement.box(scale)
        canvas = composite(
            canvas, image, box.x, box.y, blend=placement.blend, seed=placement.number
        )
    return canvas


def _blend(backdrop: pyvips.Image, layer: pyvips.Image, blend: str) -> pyvips.Image:
    if blend in ("norm", "dissolve"):
        return _with_alpha(backdrop).composite2(layer, "over")
    cb, ab = _unit(backdrop)
    cs, as_ = _unit(layer)
    ao = as_ + ab * (1 - as_)
    mixed = _SEPARABLE[blend](cb, cs)
    co = cs * as_ * (1 - ab) + cb * ab * (1 - as_) + mixed * as_ * ab
    colour = co / ao  # libvips answers 0 where ao is 0: a fully transparent pixel
    return (colour.bandjoin(ao) * 255 + 0.5).cast("uchar")


def dissolve_threshold(width: int, height: int, seed: int) -> pyvips.Image:
    """Uniform noise in 0..1 (float), fixed by ``seed`` and the pixel position: a standard
    normal variate from libvips' seeded ``gaussnoise`` through the normal CDF (the tanh form,
    within 2e-4 of the exact CDF), so every value in 0..1 is equally likely."""
    normal = pyvips.Image.gaussnoise(width, height, mean=0, sigma=1, seed=seed)
    cdf = ((normal + normal**3 * 0.044715) * math.sqrt(2 / math.pi)).tanh()
    return cdf * 0.5 + 0.5


def _dissolved(layer: pyvips.Image, seed: int) -> pyvips.Image:
    """Each pixel fully opaque where the noise is below its alpha, else transparent."""
    colour, alpha = _split(layer)
    assert alpha is not None
    noise = dissolve_threshold(layer.width, layer.height, seed)
    kept = (noise * 255 < alpha).ifthenelse(255, 0)
    return _join(colour, kept.cast("uchar"))


# ---- bands --------------------------------------------------------------------------------


def _rgb(image: pyvips.Image) -> pyvips.Image:
    """Gray (with or without alpha) as sRGB: layers of any pixel type blend in one space."""
    return image if image.bands >= 3 else image.colourspace("srgb")


def _split(image: pyvips.Image) -> tuple[pyvips.Image, pyvips.Image | None]:
    if image.bands in (2, 4):
        return image[: image.bands - 1], image[image.bands - 1]
    return image, None


def _join(colour: pyvips.Image, alpha: pyvips.Image) -> pyvips.Image:
    return colour.bandjoin(alpha).copy(interpretation="srgb")


def _opaque(image: pyvips.Image) -> pyvips.Image:
    return (image[0] * 0 + 255).cast("uchar")


def _with_alpha(image: pyvips.Image) -> pyvips.Image:
    colour, alpha = _split(image)
    return image if alpha is not None else _join(colour, _opaque(image))


def _unit(image: pyvips.Image) -> tuple[pyvips.Image, pyvips.Image]:
    """Colour and alpha as floats in 0..1 (alpha 1 for an opaque image)."""
    colour, alpha = _split(image)
    unit_alpha = alpha.cast("float") / 255 if alpha is not None else _opaque(image) / 255
    return colour.cast("float") / 255, unit_alpha
