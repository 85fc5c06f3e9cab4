"""The pixel operations of a RenderPlan, on pyvips images (8-bit sRGB, optional alpha).

Filters work on the colour bands and leave alpha alone; geometric steps that uncover area
add an alpha band so the new area is transparent (§6.0) until the output flattens it onto bgc.
Resampling and blurring happen on premultiplied alpha so edges do not darken.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import pyvips

from isrender.commands.colors import Color
from isrender.commands.values import Colorize, Edges, Noise, Rect, Unsharp

__all__ = [
    "apply_filter",
    "crop",
    "extend",
    "fill",
    "flatten",
    "flip",
    "opacity",
    "place",
    "resize",
    "rotate",
    "sharpen",
    "to_srgb8",
    "unsharp",
]

CLEAR = [0, 0, 0, 0]


def to_srgb8(image: pyvips.Image) -> pyvips.Image:
    """Any loaded image as 8-bit sRGB (3 bands, or 4 with alpha)."""
    if image.interpretation != "srgb" or image.format != "uchar":
        image = image.colourspace("srgb")
    if image.format != "uchar":
        image = image.cast("uchar")
    if image.bands > 4:
        image = image[:4]
    return image


def has_alpha(image: pyvips.Image) -> bool:
    return bool(image.bands in (2, 4))


def with_alpha(image: pyvips.Image) -> pyvips.Image:
    return image if has_alpha(image) else image.bandjoin(255)


def _split(image: pyvips.Image) -> tuple[pyvips.Image, pyvips.Image | None]:
    if has_alpha(image):
        return image[: image.bands - 1], image[image.bands - 1]
    return image, None


def _join(colour: pyvips.Image, alpha: pyvips.Image | None) -> pyvips.Image:
    colour = colour.cast("uchar") if colour.format != "uchar" else colour
    result = colour if alpha is None else colour.bandjoin(alpha)
    return result.copy(interpretation="srgb")


def crop(image: pyvips.Image, rect: Rect, load_scale: tuple[float, float]) -> pyvips.Image:
    """Crop in source pixels (scaled to the loaded size); outside the image is transparent."""
    lx, ly = load_scale
    x, y = round(rect.x * lx), round(rect.y * ly)
    w, h = max(1, round(rect.width * lx)), max(1, round(rect.height * ly))
    inside = x >= 0 and y >= 0 and x + w <= image.width and y + h <= image.height
    if inside:
        return image.crop(x, y, w, h)
    return with_alpha(image).embed(-x, -y, w, h, extend="background", background=CLEAR)


def resize(image: pyvips.Image, width: int, height: int, kernel: str) -> pyvips.Image:
    """Resample to exactly ``width`` x ``height``."""
    if (image.width, image.height) == (width, height):
        return image
    alpha = has_alpha(image)
    work = image.premultiply() if alpha else image
    work = work.resize(width / image.width, vscale=height / image.height, kernel=kernel)
    if (work.width, work.height) != (width, height):
        work = work.embed(0, 0, width, height, extend="copy")
    if alpha:
        work = work.unpremultiply()
    return work.cast("uchar").copy(interpretation="srgb")


def flip(image: pyvips.Image, direction: str) -> pyvips.Image:
    if direction in ("lr", "lrud"):
        image = image.fliphor()
    if direction in ("ud", "lrud"):
        image = image.flipver()
    return image


def rotate(image: pyvips.Image, angle: float) -> pyvips.Image:
    """Clockwise; the canvas grows to the rotated bounding box, new corners transparent."""
    quarter = {90: image.rot90, 180: image.rot180, 270: image.rot270}.get(int(angle))
    if quarter is not None and float(angle).is_integer():
        return quarter()
    work = with_alpha(image).premultiply()
    work = work.rotate(angle, background=CLEAR, interpolate=pyvips.Interpolate.new("bicubic"))
    return work.unpremultiply().cast("uchar").copy(interpretation="srgb")


def extend(image: pyvips.Image, edges: Edges) -> pyvips.Image:
    """Add (or, when negative, remove) margins; new area transparent."""
    left, top, right, bottom = (int(v) for v in (edges.left, edges.top, edges.right, edges.bottom))
    width = max(1, image.width + left + right)
    height = max(1, image.height + top + bottom)
    return with_alpha(image).embed(left, top, width, height, extend="background", background=CLEAR)


def _solid(image: pyvips.Image, color: Color, alpha: float) -> pyvips.Image:
    r, g, b = color.to_rgb8()
    return image.new_from_image([r, g, b, round(alpha * 255)]).copy(interpretation="srgb")


def fill(image: pyvips.Image, color: Color) -> pyvips.Image:
    """Put ``color`` (with its alpha) behind the transparent parts of the image."""
    if not has_alpha(image):
        return image
    background = _solid(image, color, color.alpha)
    return background.composite2(image, "over").cast("uchar")


def flatten(image: pyvips.Image, color: Color) -> pyvips.Image:
    """Composite onto an opaque colour (bgc ignores alpha, §6.2) and drop alpha."""
    if not has_alpha(image):
        return image
    return image.flatten(background=list(color.to_rgb8())).cast("uchar")


def opacity(image: pyvips.Image, percent: int) -> pyvips.Image:
    colour, alpha = _split(with_alpha(image))
    assert alpha is not None
    return _join(colour, alpha.linear(percent / 100, 0))


def place(
    image: pyvips.Image, x: float, y: float, view: tuple[int, int], tile: Rect
) -> pyvips.Image:
    """Put the scaled composite on the transparent view canvas and cut the reply tile."""
    vw, vh = view
    ix, iy = math.floor(x + 0.5), math.floor(y + 0.5)
    tx, ty, tw, th = int(tile.x), int(tile.y), int(tile.width), int(tile.height)
    covers = ix <= 0 and iy <= 0 and ix + image.width >= vw and iy + image.height >= vh
    if covers and (tx, ty, tw, th) == (0, 0, vw, vh):
        return image.crop(-ix, -iy, vw, vh) if (image.width, image.height) != (vw, vh) else image
    canvas = with_alpha(image).embed(ix, iy, vw, vh, extend="background", background=CLEAR)
    if (tx, ty, tw, th) == (0, 0, vw, vh):
        return canvas
    return canvas.embed(-tx, -ty, tw, th, extend="background", background=CLEAR)


# ---- filters (§6.5) ---------------------------------------------------------------------------


def apply_filter(image: pyvips.Image, name: str, value: Any, radius_scale: float) -> pyvips.Image:
    colour, alpha = _split(image)
    if name == "op_blur":
        sigma = value * radius_scale / 2
        if sigma < 0.2:
            return image
        work = image.premultiply() if alpha is not None else image
        work = work.gaussblur(sigma, min_ampl=0.01)  # small sigmas keep a real kernel
        work = work.unpremultiply() if alpha is not None else work
        return work.cast("uchar").copy(interpretation="srgb")
    if name == "op_noise":
        return _join(_noise(colour, value), alpha)
    operation = _POINTWISE[name]
    return _join(operation(colour, value), alpha)


def _brightness(rgb: pyvips.Image, amount: int) -> pyvips.Image:
    return rgb.linear(1, amount * 2.55)


def _contrast(rgb: pyvips.Image, percent: int) -> pyvips.Image:
    a = 1 + percent / 100 if percent <= 0 else 1 / max(1e-3, 1 - percent / 100)
    return rgb.linear(a, 127.5 * (1 - a))


def _colorbalance(rgb: pyvips.Image, value: tuple[int, int, int]) -> pyvips.Image:
    return rgb.linear([1, 1, 1], [v * 2.55 for v in value])


def _hue(rgb: pyvips.Image, degrees: int) -> pyvips.Image:
    lch = rgb.colourspace("lch")
    return lch.linear([1, 1, 1], [0, 0, degrees % 360]).colourspace("srgb")


def _saturation(rgb: pyvips.Image, amount: int) -> pyvips.Image:
    lch = rgb.colourspace("lch")
    return lch.linear([1, 1 + amount / 100, 1], [0, 0, 0]).colourspace("srgb")


def _invert(rgb: pyvips.Image, invert: bool) -> pyvips.Image:
    return rgb.invert() if invert else rgb


def _colorize(rgb: pyvips.Image, value: Colorize) -> pyvips.Image:
    """Luminance only, recoloured: shadows stay dark, highlights light; ``norm`` moves the
    median to 50 %; ``contrast`` > 0 stretches the 2..98 % range to that share of 0..255."""
    # percent() reads the image and the result reads it again: materialise the (already
    # reduced) image so a sequential source is not read out of order.
    gray = rgb.colourspace("b-w").cast("float").copy_memory()
    if value.normalize == "norm":
        gray = gray.linear(1, 127.5 - gray.percent(50))
        if value.contrast > 0:
            low, high = gray.percent(2), gray.percent(98)
            span = max(1.0, high - low)
            target = 255 * value.contrast / 100
            gray = gray.linear(target / span, 127.5 - target / span * (low + high) / 2)
    gray = gray.linear(1 / 255, 0)
    tint = list(value.color.to_rgb8())
    dark = gray * 2 * tint
    light = (gray * 2 - 1) * [255 - c for c in tint] + tint
    return (gray < 0.5).ifthenelse(dark, light)


_POINTWISE: dict[str, Callable[[pyvips.Image, Any], pyvips.Image]] = {
    "op_brightness": _brightness,
    "op_contrast": _contrast,
    "op_colorbalance": _colorbalance,
    "op_hue": _hue,
    "op_saturation": _saturation,
    "op_invert": _invert,
    "op_colorize": _colorize,
}


def _noise(rgb: pyvips.Image, value: Noise) -> pyvips.Image:
    """Noise of ``amount`` % of full scale: uniform in +-amount, or gaussian with sigma
    amount/2; monochrome uses one noise image for every band."""
    if value.amount == 0:
        return rgb
    strength = value.amount * 2.55
    bands = 1 if value.monochrome else rgb.bands
    noise = [_noise_band(rgb.width, rgb.height, value.distribution) for _ in range(bands)]
    layer = noise[0] if bands == 1 else noise[0].bandjoin(noise[1:])
    scale = strength / 2 if value.distribution == "gaussian" else strength
    return rgb + layer * scale


def _noise_band(width: int, height: int, distribution: str) -> pyvips.Image:
    normal = pyvips.Image.gaussnoise(width, height, mean=0, sigma=1)
    if distribution == "gaussian":
        return normal
    # Uniform in -1..1 from a normal variate through the logistic approximation of its CDF.
    return ((normal * -1.702).exp() + 1) ** -1 * 2 - 1


def sharpen(image: pyvips.Image) -> pyvips.Image:
    colour, alpha = _split(image)
    return _join(colour.sharpen().colourspace("srgb"), alpha)


def unsharp(image: pyvips.Image, usm: Unsharp, radius_scale: float) -> pyvips.Image:
    """Unsharp mask: image + amount x (image - blur(radius)), where the difference is at
    least ``threshold`` (0..255). Monochrome sharpens lightness only."""
    sigma = usm.radius * radius_scale
    if usm.amount == 0 or sigma < 0.1:
        return image
    colour, alpha = _split(image)
    if usm.monochrome:
        lab = colour.colourspace("lab")
        lightness = _usm_band(lab[0], sigma, usm.amount, usm.threshold * 100 / 255)
        sharpened = lightness.bandjoin(lab[1:]).copy(interpretation="lab").colourspace("srgb")
    else:
        sharpened = _usm_band(colour.cast("float"), sigma, usm.amount, usm.threshold)
    return _join(sharpened, alpha)


def _usm_band(band: pyvips.Image, sigma: float, amount: float, threshold: float) -> pyvips.Image:
    difference = band - band.gaussblur(sigma)
    if threshold > 0:
        difference = (difference.abs() >= threshold).ifthenelse(difference, 0)
    return band + difference * amount
