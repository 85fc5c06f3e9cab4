"""Source and geometry commands (§6.4): layer scope; in comp scope most go to layer 0 (§1.9)."""

from __future__ import annotations

import re
from dataclasses import dataclass

from isrender.commands.args import Arg, Int, Keyword, Real, Rest, Text, checked_length
from isrender.commands.registry import (
    GEOMETRY,
    LAYERS,
    NOT_RENDERED,
    InComp,
    Scope,
    Tag,
    command,
    declare,
)
from isrender.commands.values import Edges, Perspective, Point, Rect, Size

L = Scope.LAYER


def _four_ints(*names: str, positive_size: bool = False) -> tuple[Arg, ...]:
    lo = 1 if positive_size else None
    return tuple(
        Int(n, lo=lo) if lo is not None and i >= 2 else Int(n) for i, n in enumerate(names)
    )


@command(
    "crop",
    L,
    Tag.CORE,
    *_four_ints("x", "y", "width", "height", positive_size=True),
    renders="crop",
)
def crop(x: int, y: int, width: int, height: int) -> Rect:
    """Crops the source in full-resolution pixels before scaling; outside the image is clear."""
    return Rect(x, y, width, height)


@command(
    "cropN",
    L,
    Tag.CORE,
    Real("x"),
    Real("y"),
    Real("width", lo=0, lo_open=True),
    Real("height", lo=0, lo_open=True),
    slot="crop",
    renders="crop",
)
def crop_n(x: float, y: float, width: float, height: float) -> Rect:
    """crop normalised to the source size, offset from the top-left (0..1)."""
    return Rect(x, y, width, height)


@command("size", L, Tag.CORE, Int("width", lo=0), Int("height", lo=0), renders=GEOMETRY)
def size(width: int, height: int) -> Size:
    """Layer size: the (cropped) source is fitted into it, keeping aspect; 0 = free."""
    return Size(width, height)


@command(
    "sizeN",
    L,
    Tag.LAYER,
    Real("width", lo=0, hi=1),
    Real("height", lo=0, hi=1),
    slot="size",
    in_comp=InComp.FORBIDDEN,
    renders=GEOMETRY,
)
def size_n(width: float, height: float) -> Size:
    """size relative to layer 0 (0..1); not permitted for comp or layer 0."""
    return Size(width, height)


declare(
    "scale",
    L,
    Tag.CORE,
    Real("factor", lo=0, lo_open=True),
    renders=GEOMETRY,
    summary="Direct scale factor on the source (0.5 halves); ignored when size= is present.",
)


declare(
    "res",
    L,
    Tag.CORE,
    Real("resolution", lo=0, lo_open=True),
    renders=GEOMETRY,
    summary="Scale by resolution: factor = res / the object's catalog resolution.",
)


declare(
    "rotate",
    L,
    Tag.CORE,
    Real("degrees"),
    renders="rotate",
    summary="Rotation in degrees, clockwise; the layer grows to the rotated bounding box.",
)


declare(
    "flip",
    L,
    Tag.CORE,
    Keyword("direction", choices=("lr", "ud", "lrud")),
    in_comp=InComp.COMPOSITE,
    renders="flip",
    summary="Mirror: lr (horizontal), ud (vertical) or lrud; in comp scope flips the composite.",
)


@command("extend", L, Tag.CORE, *_four_ints("left", "top", "right", "bottom"), renders="extend")
def extend(left: int, top: int, right: int, bottom: int) -> Edges:
    """Margins added (negative: removed) after crop, scaling and rotation."""
    return Edges(left, top, right, bottom)


@command(
    "extendN",
    L,
    Tag.CORE,
    Real("left"),
    Real("top"),
    Real("right"),
    Real("bottom"),
    slot="extend",
    renders="extend",
)
def extend_n(left: float, top: float, right: float, bottom: float) -> Edges:
    """extend normalised to the layer rectangle after its transforms."""
    return Edges(left, top, right, bottom)


def _point_commands(name: str, doc_pixels: str, doc_normal: str, **options: object) -> None:
    """anchor/origin/pos come as a pixel form and a normalised N form sharing one slot."""

    def pixels(x: int, y: int) -> Point:
        return Point(x, y)

    def normal(x: float, y: float) -> Point:
        return Point(x, y)

    pixels.__doc__, normal.__doc__ = doc_pixels, doc_normal
    command(name, L, Tag.LAYER, Int("x"), Int("y"), renders=LAYERS, **options)(pixels)
    command(f"{name}N", L, Tag.LAYER, Real("x"), Real("y"), slot=name, renders=LAYERS,
            **options)(normal)  # fmt: skip


_point_commands(
    "anchor",
    "Anchor point in source pixels: rotation centre and default layer origin.",
    "Anchor normalised from the source centre (-0.5,-0.5 is the top-left corner).",
)
_point_commands(
    "origin",
    "Layer origin in pixels from the top-left of the layer rectangle.",
    "Layer origin normalised from the centre of the layer rectangle.",
)
_point_commands(
    "pos",
    "Offset of this layer's origin from layer 0's origin, in pixels.",
    "Layer offset normalised to the size of layer 0.",
    in_comp=InComp.IGNORED,
    in_effect=True,
)

_RES_OPTION = re.compile(r"R[123]\Z|R3T([0-9]+)\Z")


@dataclass(frozen=True)
class ResOption(Arg):
    """perspective resampling: R1 nearest, R2 bilinear, R3 supersampling, R3T<n> (0..200)."""

    kind = "R1, R2, R3 or R3T<n> (n 0..200, case-sensitive)"

    def convert(self, part: str) -> str:
        match = _RES_OPTION.match(checked_length(part, self.name))
        if not match or (match.group(1) is not None and int(match.group(1)) > 200):
            raise self.problem(part)
        return part


def _perspective(*c: float | str) -> Perspective:
    points = [Point(float(c[i]), float(c[i + 1])) for i in range(0, 8, 2)]
    return Perspective((points[0], points[1], points[2], points[3]), str(c[8]))


_CORNERS = tuple(Real(f"{corner}{axis}") for corner in ("tl", "tr", "br", "bl") for axis in "xy")


@command(
    "perspective",
    L,
    Tag.LAYER,
    *_CORNERS,
    ResOption("resampling", optional=True, default="R3"),
    renders=NOT_RENDERED,
)
def perspective(*values: float | str) -> Perspective:
    """Maps the source into the quadrilateral of 4 target corners (layer-0 pixels)."""
    return _perspective(*values)


@command(
    "perspectiveN",
    L,
    Tag.LAYER,
    *_CORNERS,
    ResOption("resampling", optional=True, default="R3"),
    slot="perspective",
    renders=NOT_RENDERED,
)
def perspective_n(*values: float | str) -> Perspective:
    """perspective with corners normalised to layer 0 (0,0 top-left .. 1,1 bottom-right)."""
    return _perspective(*values)


declare(
    "src",
    L,
    Tag.LAYER,
    Text("object"),
    slot="content",
    renders="load",
    summary="Layer source: a catalog object, a file path, or a nested is{...}/ir{...}/{url} group.",
)


declare(
    "mask",
    L,
    Tag.LAYER,
    Text("object"),
    renders="layer_mask",
    summary="Layer mask: an object or a nested group; its alpha (or gray values) masks the layer.",
)


declare(
    "maskUse",
    L,
    Tag.LAYER,
    Keyword("use", choices=("norm", "invert", "off")),
    in_effect=True,
    renders="mask",
    summary="How the mask is used: norm (foreground), invert (background) or off (opaque).",
)


@command(
    "cropPathE",
    L,
    Tag.LAYER,
    Text("path"),
    Rest("paths", item=Text("path")),
    in_comp=InComp.COMPOSITE,
    renders=NOT_RENDERED,
)
def crop_path_e(first: str, more: tuple[str, ...]) -> tuple[str, ...]:
    """Crops to the bounding box of each named embedded Photoshop path in turn."""
    return (first, *more)
