"""Draw effect layers (§6.6 ``effect=``) and ``op_grow`` on layer images with libvips.

``render_effect`` turns a parent layer (RGB or RGBA uchar) and one resolved effect
(render/effects.py says what each parameter means) into an RGBA image placed relative to the
parent's top-left: outer effects reach outside the parent, inner ones stay inside it and are
already cut to the parent's coverage. ``layer_with_effects`` flattens a parent and its effects
into one image: outer effects behind, the parent, inner effects on top, each with its
``blendMode`` (against the layer's own group: a ``mult`` shadow multiplies what the group
holds, the group is then drawn onto the canvas as a whole). ``draw_with_effects`` draws them
on the canvas instead, through the compositor's draw, so effects blend with the background.
``LayerPixels`` is the pixel side of render/layer_steps.py (mask, grow, clip, text).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import pyvips

from isrender.errors import UnsupportedFeatureError
from isrender.render.clip_path import ClipPath
from isrender.render.effects import EffectParams, Extent, MaskUse, effect_extent
from isrender.render.steps import DrawText
from isrender.render.vips.composite import composite
from isrender.render.vips.mask import (
    MAX_MASK_PIXELS,
    apply_clip,
    apply_mask,
    grow_alpha,
    grow_band,
)
from isrender.render.vips.text import draw_text
from isrender.text.fonts import FontMap, default_font_map

__all__ = [
    "BLEND_MODES",
    "EffectImage",
    "LayerPixels",
    "draw_with_effects",
    "grow_layer",
    "layer_with_effects",
    "render_effect",
]

# §6.6 blend modes -> libvips composite modes (PDF blend formulas on unpremultiplied RGBA);
# dissolve is the compositor's (random per pixel), inside a group it draws as norm
BLEND_MODES = {
    "norm": "over",
    "dissolve": "over",
    "lighten": "lighten",
    "darken": "darken",
    "mult": "multiply",
    "screen": "screen",
}
NOISE_SEED = 7  # effect noise is the same on every render of the same request (ETags hold)


@dataclass(frozen=True)
class EffectImage:
    """An RGBA uchar image and where its top-left lies relative to the parent's top-left."""

    image: pyvips.Image
    x: int
    y: int
    blend: str = "norm"


def render_effect(parent: pyvips.Image, params: EffectParams) -> EffectImage:
    """The effect ``params`` of ``parent``: its shape (the parent's mask after ``maskUse``;
    the mask's outside for inner effects), grown, blurred, moved, noised and coloured."""
    extent = effect_extent(params, parent.width, parent.height)
    if extent.width * extent.height > MAX_MASK_PIXELS:
        raise UnsupportedFeatureError(
            f"an effect layer of {extent.width}x{extent.height} pixels is too large"
        )
    mask = _mask(parent, params)
    if params.kind == "outer":
        coverage = _outer_shape(mask, params, extent)
    else:
        coverage = _inner_shape(mask, params)
    coverage = _noised(coverage, params)
    alpha = coverage.linear(params.alpha, 0.5).cast("uchar")
    colour = alpha.new_from_image(list(params.rgb)).cast("uchar")
    image = colour.bandjoin(alpha).copy(interpretation="srgb")
    return EffectImage(image, extent.x, extent.y, params.blend)


def _mask(parent: pyvips.Image, params: EffectParams) -> pyvips.Image:
    """The parent's mask as the effect inherits it, modified by the effect's ``maskUse``."""
    rgba = apply_mask(parent, None, params.mask_use)
    return rgba[rgba.bands - 1]


def _outer_shape(mask: pyvips.Image, params: EffectParams, extent: Extent) -> pyvips.Image:
    # the mask moved by the offset inside the effect's extent; nothing outside the parent
    placed = mask.embed(params.dx - extent.x, params.dy - extent.y, extent.width, extent.height,
                        extend="background", background=[0])  # fmt: skip
    return _feathered(grow_band(placed, params.grow), params)


def _inner_shape(mask: pyvips.Image, params: EffectParams) -> pyvips.Image:
    """What lies outside the parent's mask, moved, grown and blurred, seen through the mask:
    the margin keeps the area beyond the parent's rectangle counted as outside."""
    margin = abs(params.dx) + abs(params.dy) + max(0, params.grow) + int(3 * params.blur) + 2
    width, height = mask.width + 2 * margin, mask.height + 2 * margin
    outside = mask.invert().embed(margin + params.dx, margin + params.dy, width, height,
                                  extend="background", background=[255])  # fmt: skip
    shape = _feathered(grow_band(outside, params.grow), params)
    inside = shape.crop(margin, margin, mask.width, mask.height)
    return (inside * mask / 255 + 0.5).cast("uchar")


def _feathered(band: pyvips.Image, params: EffectParams) -> pyvips.Image:
    if params.sigma < 0.2:
        return band
    return band.gaussblur(params.sigma, min_ampl=0.01).cast("uchar")


def _noised(coverage: pyvips.Image, params: EffectParams) -> pyvips.Image:
    """``op_noise`` on the effect: noise of ``amount`` % of full scale on its coverage, only
    where it covers something (an effect's noise never spreads over the empty canvas)."""
    noise = params.noise
    if noise is None:
        return coverage
    normal = pyvips.Image.gaussnoise(coverage.width, coverage.height, mean=0, sigma=1,
                                     seed=NOISE_SEED)  # fmt: skip
    if noise.distribution == "uniform":  # -1..1 through the logistic approximation of the CDF
        normal = ((normal * -1.702).exp() + 1) ** -1 * 2 - 1
        strength = noise.amount * 2.55
    else:
        strength = noise.amount * 2.55 / 2
    noisy = coverage + normal * strength * (coverage > 0) / 255
    return noisy.cast("uchar")


def layer_with_effects(
    parent: pyvips.Image, effects: Sequence[EffectParams]
) -> tuple[pyvips.Image, int, int]:
    """``parent`` with its effects drawn, and where the result's top-left lies relative to
    the parent's: outer effects (lowest number first) behind it, inner ones on top. The
    parent's opacity is already in each effect's alpha (resolve_effect), so a caller applies
    the parent's content opacity to ``parent`` first and draws the result at full opacity."""
    rgba = parent if parent.bands == 4 else parent.bandjoin(255)
    ordered = sorted(effects, key=lambda p: p.number)
    outer = [render_effect(rgba, p) for p in ordered if p.kind == "outer"]
    inner = [render_effect(rgba, p) for p in ordered if p.kind == "inner"]
    pieces = [*outer, EffectImage(rgba, 0, 0), *inner]
    left = min(p.x for p in pieces)
    top = min(p.y for p in pieces)
    right = max(p.x + p.image.width for p in pieces)
    bottom = max(p.y + p.image.height for p in pieces)
    canvas = pyvips.Image.black(right - left, bottom - top, bands=4).copy(interpretation="srgb")
    result = canvas.composite(
        [p.image for p in pieces],
        [BLEND_MODES[p.blend] for p in pieces],
        x=[p.x - left for p in pieces],
        y=[p.y - top for p in pieces],
    )
    return result.cast("uchar").copy(interpretation="srgb"), left, top


def grow_layer(layer: pyvips.Image, pixels: int) -> pyvips.Image:
    """``op_grow`` on an image layer (§6.5): dilate (> 0) or erode (< 0) every channel."""
    if pixels == 0:
        return layer
    bands = [grow_band(layer[i], pixels) for i in range(layer.bands)]
    return bands[0].bandjoin(bands[1:]).copy(interpretation=layer.interpretation)


Draw = Callable[[pyvips.Image, pyvips.Image, int, int, str], pyvips.Image]


def draw_with_effects(
    canvas: pyvips.Image,
    layer: pyvips.Image,
    x: int,
    y: int,
    effects: tuple[Sequence[EffectParams], Sequence[EffectParams]],
    draw: Draw,
    blend: str = "norm",
    shape: pyvips.Image | None = None,
) -> pyvips.Image:
    """Draw ``layer`` at ``x``,``y`` on ``canvas`` with its (outer, inner) effects, each
    through ``draw(canvas, image, x, y, blend)`` (the compositor's, which clips to the canvas
    and blends against everything below: a ``mult`` shadow darkens the background itself).
    ``shape`` is the layer before its content opacity (opac= fades the content, not the mask
    its effects inherit: ``opac=100,0`` shows only the effects); default ``layer``."""
    outer, inner = effects
    base = shape if shape is not None else layer
    rgba = base if base.bands == 4 else base.bandjoin(255)
    for params in outer:
        drawn = render_effect(rgba, params)
        canvas = draw(canvas, drawn.image, x + drawn.x, y + drawn.y, drawn.blend)
    canvas = draw(canvas, layer, x, y, blend)
    for params in inner:
        drawn = render_effect(rgba, params)
        canvas = draw(canvas, drawn.image, x + drawn.x, y + drawn.y, drawn.blend)
    return canvas


class LayerPixels:
    """The ``LayerOps`` of render/layer_steps.py on libvips, to mix into the executor's ops.
    ``font_map`` is the settings' map (``load_font_map(settings.font_map)``)."""

    font_map: FontMap | None = None

    def mask_use(self, image: pyvips.Image, use: MaskUse) -> pyvips.Image:
        return apply_mask(image, None, use)

    def grow_mask(self, image: pyvips.Image, pixels: int) -> pyvips.Image:
        return grow_alpha(image, pixels)

    def grow(self, image: pyvips.Image, pixels: int) -> pyvips.Image:
        return grow_layer(image, pixels)

    def clip(self, image: pyvips.Image, path: ClipPath, exclude: ClipPath | None) -> pyvips.Image:
        return apply_clip(image, path, exclude)

    def effects(
        self,
        image: pyvips.Image,
        effects: tuple[Sequence[EffectParams], Sequence[EffectParams]],
    ) -> pyvips.Image:
        """Layer 0's or comp's effects, drawn inside ``image``'s rectangle (it is the canvas:
        what an outer effect casts beyond it is cut off)."""
        rgba = image if image.bands == 4 else _rgba(image)
        empty = pyvips.Image.black(rgba.width, rgba.height, bands=4).copy(interpretation="srgb")
        return draw_with_effects(empty, rgba, 0, 0, effects, _draw_clipped)

    def text(self, step: DrawText) -> pyvips.Image:
        fonts = self.font_map or default_font_map()
        return draw_text(step.text, step.box, fonts, strict=step.strict).image


def _rgba(image: pyvips.Image) -> pyvips.Image:
    rgb = image if image.bands >= 3 else image.colourspace("srgb")
    return rgb if rgb.bands == 4 else rgb.bandjoin(255)


def _draw_clipped(
    under: pyvips.Image, image: pyvips.Image, x: int, y: int, blend: str
) -> pyvips.Image:
    """``image`` blended onto ``under`` at ``x``,``y``, cut to ``under``'s rectangle."""
    return composite(under, image, x, y, blend=blend)
