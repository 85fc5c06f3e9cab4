"""Layering and compositing commands (§6.6): layer=/effect= segments, opacity, colours, clips."""

from __future__ import annotations

import re

from isrender.commands.args import ArgProblem, Flag, Int, Keyword, Rest, Text
from isrender.commands.colors import ColorArg
from isrender.commands.paths import PathArg
from isrender.commands.registry import (
    LAYERS,
    NO_PIXELS,
    NOT_RENDERED,
    InComp,
    Scope,
    Tag,
    command,
    declare,
)
from isrender.commands.values import LayerSelect, Opacity

L = Scope.LAYER

# D-08: layer names are not purely numeric, compared case-insensitively, and 'comp' is reserved.
LAYER_NAME = re.compile(r"[A-Za-z0-9._-]*[A-Za-z._-][A-Za-z0-9._-]*\Z")


def _layer_name(name: str, index: int) -> str:
    if not LAYER_NAME.match(name) or name.lower() == "comp":
        raise ArgProblem(
            f"{name!r} is not a layer name",
            argument="name",
            value=name,
            expected="letters, digits, '.', '_', '-', not only digits, not 'comp' (D-08)",
            index=index,
        )
    return name


def _layer_number(text: str) -> int | None:
    if text.lower() == "comp":
        return None
    value = Int("number", lo=0).convert(text)
    return value


@command(
    "layer", Scope.SEGMENT, Tag.LAYER, Text("layer"), Text("name", optional=True), renders=LAYERS
)
def layer(first: str, name: str | None) -> LayerSelect:
    """Starts a layer segment: layer=n, layer=comp, layer=n,name or layer=name (n >= 0)."""
    if name is not None:
        return LayerSelect(_layer_number(first), _layer_name(name, 1), first.lower() == "comp")
    if first.lower() == "comp":
        return LayerSelect(None, None, True)
    if re.fullmatch(r"[+-]?[0-9]+", first):
        return LayerSelect(_layer_number(first))
    return LayerSelect(None, _layer_name(first, 0))


@command("effect", Scope.SEGMENT, Tag.LAYER, Int("number"), renders=NOT_RENDERED)
def effect(number: int) -> int:
    """Starts an effect segment on the current layer: < 0 outer effect, > 0 inner (never 0)."""
    if number == 0:
        raise ArgProblem("effect=0 is not an effect layer", argument="number", value="0", index=0)
    return number


@command(
    "opac",
    L,
    Tag.LAYER,
    Int("opacity", lo=0, hi=100),
    Int("fill", lo=0, hi=100, optional=True, default=100),
    in_comp=InComp.COMPOSITE,
    in_effect=True,
    renders="opacity",
)
def opac(opacity: int, fill: int) -> Opacity:
    """Opacity 0..100 of the layer and its effects, and fill opacity of the content."""
    return Opacity(opacity, fill)


declare(
    "blendMode",
    L,
    Tag.LAYER,
    Keyword("mode", choices=("norm", "dissolve", "lighten", "darken", "mult", "screen")),
    in_comp=InComp.IGNORED,
    in_effect=True,
    renders=LAYERS,
    summary="Photoshop-like blending: norm, dissolve, lighten, darken, mult, screen.",
)


declare(
    "color",
    L,
    Tag.LAYER,
    ColorArg("color"),
    in_effect=True,
    renders="fill",
    summary="Foreground of solid-colour and effect layers; fills transparent areas of image "
    "layers.",
)


declare(
    "bgColor",
    L,
    Tag.CORE,
    ColorArg("color"),
    renders="fill",
    summary="Fills transparent areas of the layer after rotate and extend (default transparent).",
)


declare(
    "hide",
    L,
    Tag.LAYER,
    Flag("hide"),
    renders="opacity",
    summary="Hides the layer without removing its commands.",
)


_NAMES = (Text("path"), Rest("paths", item=Text("path")))


def _names(first: str, more: tuple[str, ...]) -> tuple[str, ...]:
    return (first, *more)


declare(
    "clipPath",
    L,
    Tag.LAYER,
    PathArg("path"),
    whole=True,
    in_comp=InComp.COMPOSITE,
    renders="clip",
    summary="Clips the layer to a path (M/L/C/Z with commas); outside is transparent.",
)


@command(
    "clipPathE",
    L,
    Tag.LAYER,
    *_NAMES,
    slot="clipPath",
    in_comp=InComp.COMPOSITE,
    renders=NOT_RENDERED,
)
def clip_path_e(first: str, more: tuple[str, ...]) -> tuple[str, ...]:
    """Clips to the intersection of named embedded Photoshop paths."""
    return _names(first, more)


declare(
    "clipXPath",
    L,
    Tag.LAYER,
    PathArg("path"),
    whole=True,
    in_comp=InComp.COMPOSITE,
    renders="clip",
    summary="Excludes a path from the clip area (needs clipPath).",
)


@command(
    "clipXPathE",
    L,
    Tag.LAYER,
    *_NAMES,
    slot="clipXPath",
    in_comp=InComp.COMPOSITE,
    renders=NOT_RENDERED,
)
def clip_x_path_e(first: str, more: tuple[str, ...]) -> tuple[str, ...]:
    """Excludes named embedded paths from the clip area."""
    return _names(first, more)


@command(
    "map",
    L,
    Tag.REQ,
    Text("areas"),
    whole=True,
    empty=True,
    in_comp=InComp.COMPOSITE,
    renders=NO_PIXELS,
)
def map_(areas: str | None) -> str:
    """Image map <AREA> elements in layer coordinates (req=map); empty: no map for the layer."""
    return areas or ""


@command(
    "mapA",
    L,
    Tag.REQ,
    Text("areas"),
    whole=True,
    empty=True,
    in_comp=InComp.COMPOSITE,
    renders=NO_PIXELS,
)
def map_a(areas: str | None) -> str:
    """Image map in source-image coordinates; ignored when map= is present."""
    return areas or ""
