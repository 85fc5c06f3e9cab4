"""Filter commands (§6.5): layer scope; in comp scope they act on the composite, and the
sharpening commands on the final view after all scaling (§1.9)."""

from __future__ import annotations

from isrender.commands.args import Flag, Int, Keyword, Real
from isrender.commands.colors import Color, ColorArg, ColorSpace
from isrender.commands.registry import InComp, Scope, Tag, command, declare
from isrender.commands.values import Colorize, Noise, Unsharp

L = Scope.LAYER
COMPOSITE = InComp.COMPOSITE


# The colour and blur filters are declared in the order §6.0 step A5 applies them (D-26):
# render/phases.py takes FILTER_ORDER from this table.


def _percent(name: str) -> Int:
    return Int(name, lo=-100, hi=100)


declare(
    "op_brightness",
    L,
    Tag.CORE,
    _percent("amount"),
    in_comp=COMPOSITE,
    renders="filter",
    summary="Darken (<0) or brighten (>0), -100..100.",
)


declare(
    "op_contrast",
    L,
    Tag.CORE,
    _percent("percent"),
    in_comp=COMPOSITE,
    renders="filter",
    summary="Contrast -100..100: pixels above 50 % brightness move up, below move down.",
)


@command(
    "op_colorbalance",
    L,
    Tag.CORE,
    _percent("red"),
    _percent("green"),
    _percent("blue"),
    in_comp=COMPOSITE,
    renders="filter",
)
def op_colorbalance(red: int, green: int, blue: int) -> tuple[int, int, int]:
    """Per-channel adjustment of red, green and blue, each -100..100."""
    return red, green, blue


declare(
    "op_hue",
    L,
    Tag.CORE,
    Int("degrees", lo=-180, hi=180),
    in_comp=COMPOSITE,
    renders="filter",
    summary="Rotates the hue of visible pixels by -180..180 degrees.",
)


declare(
    "op_saturation",
    L,
    Tag.CORE,
    _percent("amount"),
    in_comp=COMPOSITE,
    renders="filter",
    summary="Saturation -100..100; -100 removes all colour.",
)


@command(
    "op_colorize",
    L,
    Tag.CORE,
    ColorArg("color", spaces=frozenset({ColorSpace.RGB})),
    Keyword("normalize", choices=("off", "norm"), optional=True, default="norm"),
    Real("contrast", lo=0, hi=100, optional=True, default=0.0),
    in_comp=COMPOSITE,
    aliases=("colorize",),  # D-42: reference examples write colorize=
    renders="filter",
)
def op_colorize(color: Color, normalize: str, contrast: float) -> Colorize:
    """Recolours from luminance with an RGB colour; norm centres brightness; contrast 0..100."""
    return Colorize(color, normalize, contrast)


declare(
    "op_invert",
    L,
    Tag.CORE,
    Flag("invert"),
    in_comp=COMPOSITE,
    renders="filter",
    summary="Negative of every colour component.",
)


declare(
    "op_blur",
    L,
    Tag.CORE,
    Real("radius", lo=0, hi=100),
    in_comp=COMPOSITE,
    in_effect=True,
    renders="filter",
    summary="Blur radius 0..100 in composite pixels; also feathers effect layers.",
)


@command(
    "op_noise",
    L,
    Tag.CORE,
    Int("amount", lo=0, hi=100),
    Keyword("distribution", choices=("uniform", "gaussian"), optional=True, default="uniform"),
    Flag("monochrome", optional=True, default=False),
    in_comp=COMPOSITE,
    in_effect=True,
    renders="filter",
)
def op_noise(amount: int, distribution: str, monochrome: bool) -> Noise:
    """Adds noise to the foreground: amount 0..100 %, uniform or gaussian, monochrome flag."""
    return Noise(amount, distribution, monochrome)


declare(
    "op_sharpen",
    L,
    Tag.CORE,
    Flag("sharpen"),
    in_comp=InComp.VIEW,
    renders="sharpen",
    summary="Basic sharpening; in comp scope on the final view.",
)


_USM = (
    Real("amount", lo=0, hi=5),
    Real("radius", lo=0, hi=250, optional=True, default=0.0),
    Int("threshold", lo=0, hi=255, optional=True, default=0),
    Flag("monochrome", optional=True, default=False),
)


@command("op_usmR", L, Tag.CORE, *_USM, slot="op_usm", in_comp=InComp.VIEW, renders="unsharp")
@command("op_usm", L, Tag.CORE, *_USM, in_comp=InComp.VIEW, renders="unsharp")
def op_usm(amount: float, radius: float, threshold: int, monochrome: bool) -> Unsharp:
    """Unsharp mask: amount 0..5, radius 0..250, threshold 0..255, monochrome.

    op_usm's radius is at full resolution and shrinks with the image (D-30); op_usmR's is used
    as given.
    """
    return Unsharp(amount, radius, threshold, monochrome)


declare(
    "op_grow",
    L,
    Tag.LAYER,
    _percent("pixels"),
    in_comp=COMPOSITE,
    in_effect=True,
    renders="grow",
    summary="Dilate (>0) or erode (<0) image data per channel; mainly sizes effects.",
)


_GROW_MASK = (
    "Dilate/erode the mask; op_growMask's radius scales with the image, op_growMaskR's not."
)
declare(
    "op_growMaskR",
    L,
    Tag.LAYER,
    _percent("pixels"),
    slot="op_growMask",
    renders="grow_mask",
    summary=_GROW_MASK,
)
declare(
    "op_growMask",
    L,
    Tag.LAYER,
    _percent("pixels"),
    renders="grow_mask",
    summary=_GROW_MASK,
)
