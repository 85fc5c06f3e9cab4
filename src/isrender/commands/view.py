"""View commands (§6.2): global, they apply whatever layer segment they are written in."""

from __future__ import annotations

from isrender.commands.args import ArgProblem, Flag, Int, Keyword, Real
from isrender.commands.colors import ColorArg
from isrender.commands.registry import GEOMETRY, Scope, Tag, command, declare
from isrender.commands.values import Align, Dpr, Fit, Rect, ViewRect

V = Scope.VIEW
FIT_MODES = ("fit", "constrain", "crop", "wrap", "stretch", "hfit", "vfit")


declare(
    "wid",
    V,
    Tag.CORE,
    Int("width", lo=1),
    renders=GEOMETRY,
    summary="Reply width in pixels; with hei the image is fitted inside, bands filled with bgc.",
)


declare(
    "hei",
    V,
    Tag.CORE,
    Int("height", lo=1),
    renders=GEOMETRY,
    summary="Reply height in pixels (the vertical mirror of wid).",
)


declare(
    "scl",
    V,
    Tag.CORE,
    Real("factor", lo=0, lo_open=True),
    renders=GEOMETRY,
    summary="Inverse view scale: reply = composite / scl (scl=2 halves, scl=1 is full size).",
)


@command(
    "fit",
    V,
    Tag.CORE,
    Keyword("mode", choices=FIT_MODES),
    Flag("upscale", optional=True, default=False),
    renders=GEOMETRY,
)
def fit(mode: str, upscale: bool) -> Fit:
    """How the image fits wid x hei: fit, constrain, crop, wrap, stretch, hfit or vfit."""
    return Fit(mode, upscale)


@command("align", V, Tag.CORE, Real("x", lo=-1, hi=1), Real("y", lo=-1, hi=1), renders=GEOMETRY)
def align(x: float, y: float) -> Align:
    """Places the scaled image in the view: -1,-1 top-left, 0,0 centre, 1,1 bottom-right."""
    return Align(x, y)


declare(
    "bgc",
    V,
    Tag.CORE,
    ColorArg("color"),
    renders="flatten",
    summary="View background: fills bands and transparent areas (ignored for -alpha formats).",
)


@command(
    "rgn",
    V,
    Tag.CORE,
    Int("x"),
    Int("y"),
    Int("width", lo=1),
    Int("height", lo=1),
    renders=GEOMETRY,
)
def rgn(x: int, y: int, width: int, height: int) -> Rect:
    """Region of interest in composite pixels, used for view sizing instead of the composite."""
    return Rect(x, y, width, height)


@command(
    "rect",
    V,
    Tag.CORE,
    Int("x"),
    Int("y"),
    Int("width", lo=1),
    Int("height", lo=1),
    Real("scale", lo=0, lo_open=True, optional=True, default=1.0),
    renders=GEOMETRY,
)
def rect(x: int, y: int, width: int, height: int, scale: float) -> ViewRect:
    """Cuts the tile x,y,w,h from the final view (optionally rescaled); the reply is w x h."""
    return ViewRect(x, y, width, height, scale)


@command(
    "dpr",
    V,
    Tag.SERVER,
    Keyword("state", choices=("off", "on")),
    Real("ratio", lo=0, lo_open=True, optional=True),
    renders=GEOMETRY,
)
def dpr(state: str, ratio: float | None) -> Dpr:
    """Device pixel ratio: on,v multiplies the reply size by v (capped to MaxPix)."""
    if state == "off" and ratio is not None:
        raise ArgProblem("dpr=off takes no ratio", argument="ratio", index=1, hint="write dpr=on,v")
    return Dpr(state == "on", ratio)
