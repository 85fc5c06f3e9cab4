"""Filter commands (§6.5): layer scope; in comp scope they act on the composite, and the
sharpening commands on the final view after all scaling (§1.9)."""

from __future__ import annotations

from isrender.commands.args import Flag, Int, Keyword, Real
from isrender.commands.colors import Color, ColorArg, ColorSpace
from isrender.commands.registry import InComp, Scope, Tag, command
from isrender.commands.values import Colorize, Noise, Unsharp

L = Scope.LAYER
COMPOSITE = InComp.COMPOSITE


def _percent(name: str) -> Int:
    return Int(name, lo=-100, hi=100)


@command("op_blur", L, Tag.CORE, Real("radius", lo=0, hi=100), in_comp=COMPOSITE, in_effect=True)
def op_blur(radius: float) -> float:
    """Blur radius 0..100 in composite pixels; also feathers effect layers."""
    return radius


@command("op_brightness", L, Tag.CORE, _percent("amount"), in_comp=COMPOSITE)
def op_brightness(amount: int) -> int:
    """Darken (<0) or brighten (>0), -100..100."""
    return amount


@command("op_contrast", L, Tag.CORE, _percent("percent"), in_comp=COMPOSITE)
def op_contrast(percent: int) -> int:
    """Contrast -100..100: pixels above 50 % brightness move up, below move down."""
    return percent


@command(
    "op_colorbalance",
    L,
    Tag.CORE,
    _percent("red"),
    _percent("green"),
    _percent("blue"),
    in_comp=COMPOSITE,
)
def op_colorbalance(red: int, green: int, blue: int) -> tuple[int, int, int]:
    """Per-channel adjustment of red, green and blue, each -100..100."""
    return red, green, blue


@command("op_hue", L, Tag.CORE, Int("degrees", lo=-180, hi=180), in_comp=COMPOSITE)
def op_hue(degrees: int) -> int:
    """Rotates the hue of visible pixels by -180..180 degrees."""
    return degrees


@command("op_saturation", L, Tag.CORE, _percent("amount"), in_comp=COMPOSITE)
def op_saturation(amount: int) -> int:
    """Saturation -100..100; -100 removes all colour."""
    return amount


@command("op_invert", L, Tag.CORE, Flag("invert"), in_comp=COMPOSITE)
def op_invert(invert: bool) -> bool:
    """Negative of every colour component."""
    return invert


@command(
    "op_colorize",
    L,
    Tag.CORE,
    ColorArg("color", spaces=frozenset({ColorSpace.RGB})),
    Keyword("normalize", choices=("off", "norm"), optional=True, default="norm"),
    Real("contrast", lo=0, hi=100, optional=True, default=0.0),
    in_comp=COMPOSITE,
    aliases=("colorize",),  # D-42: reference examples write colorize=
)
def op_colorize(color: Color, normalize: str, contrast: float) -> Colorize:
    """Recolours from luminance with an RGB colour; norm centres brightness; contrast 0..100."""
    return Colorize(color, normalize, contrast)


@command(
    "op_noise",
    L,
    Tag.CORE,
    Int("amount", lo=0, hi=100),
    Keyword("distribution", choices=("uniform", "gaussian"), optional=True, default="uniform"),
    Flag("monochrome", optional=True, default=False),
    in_comp=COMPOSITE,
    in_effect=True,
)
def op_noise(amount: int, distribution: str, monochrome: bool) -> Noise:
    """Adds noise to the foreground: amount 0..100 %, uniform or gaussian, monochrome flag."""
    return Noise(amount, distribution, monochrome)


@command("op_sharpen", L, Tag.CORE, Flag("sharpen"), in_comp=InComp.VIEW)
def op_sharpen(sharpen: bool) -> bool:
    """Basic sharpening; in comp scope on the final view."""
    return sharpen


_USM = (
    Real("amount", lo=0, hi=5),
    Real("radius", lo=0, hi=250, optional=True, default=0.0),
    Int("threshold", lo=0, hi=255, optional=True, default=0),
    Flag("monochrome", optional=True, default=False),
)


@command("op_usmR", L, Tag.CORE, *_USM, slot="op_usm", in_comp=InComp.VIEW)
@command("op_usm", L, Tag.CORE, *_USM, in_comp=InComp.VIEW)
def op_usm(amount: float, radius: float, threshold: int, monochrome: bool) -> Unsharp:
    """Unsharp mask: amount 0..5, radius 0..250, threshold 0..255, monochrome.

    op_usm's radius is at full resolution and shrinks with the image (D-30); op_usmR's is used
    as given.
    """
    return Unsharp(amount, radius, threshold, monochrome)


@command("op_grow", L, Tag.LAYER, _percent("pixels"), in_comp=COMPOSITE, in_effect=True)
def op_grow(pixels: int) -> int:
    """Dilate (>0) or erode (<0) image data per channel; mainly sizes effects."""
    return pixels


@command("op_growMaskR", L, Tag.LAYER, _percent("pixels"), slot="op_growMask")
@command("op_growMask", L, Tag.LAYER, _percent("pixels"))
def op_grow_mask(pixels: int) -> int:
    """Dilate/erode the mask; op_growMask's radius scales with the image, op_growMaskR's not."""
    return pixels
