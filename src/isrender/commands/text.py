"""Text layer commands (§6.7). Text values keep their commas and raw braces (D-07)."""

from __future__ import annotations

from isrender.commands.args import ArgProblem, Int, Keyword, Real, Text
from isrender.commands.paths import PathArg
from isrender.commands.registry import NOT_RENDERED, Scope, Tag, command, declare
from isrender.commands.values import PathAttr, TextAttr

L = Scope.LAYER


declare(
    "text",
    L,
    Tag.LAYER,
    Text("rtf"),
    whole=True,
    slot="content",
    renders=NOT_RENDERED,
    summary="Text layer content (RTF or plain) for the classic renderer; auto-sizes without size=.",
)


declare(
    "textPs",
    L,
    Tag.LAYER,
    Text("rtf"),
    whole=True,
    slot="content",
    renders=NOT_RENDERED,
    summary="Text layer content for the Photoshop-compatible renderer (copy-fit, paths, flow).",
)


@command(
    "textAttr",
    L,
    Tag.LAYER,
    Int("resolution", lo=1),
    Keyword(
        "antialias",
        choices=("off", "norm", "crisp", "sharp", "strong", "smooth"),
        optional=True,
        default="norm",
    ),
    Keyword(
        "resolutionMode",
        choices=("fixedRes", "autoRes", "maxRes"),
        optional=True,
        default="fixedRes",
    ),
    Keyword("wrap", choices=("wrap", "noWrap", "nbWrap"), optional=True, default="wrap"),
    renders=NOT_RENDERED,
)
def text_attr(resolution: int, antialias: str, mode: str, wrap: str) -> TextAttr:
    """Text resolution in dpi, anti-aliasing, resolution mode and wrapping."""
    return TextAttr(resolution, antialias, mode, wrap)


declare(
    "textAngle",
    L,
    Tag.LAYER,
    Real("degrees"),
    renders=NOT_RENDERED,
    summary="Text direction inside the box, in degrees (textPs only).",
)


declare(
    "textPath",
    L,
    Tag.LAYER,
    PathArg("path"),
    whole=True,
    renders=NOT_RENDERED,
    summary="Baseline path(s) for textPs text (not closed automatically).",
)


@command(
    "pathAttr",
    L,
    Tag.LAYER,
    Keyword("direction", choices=("norm", "reverse")),
    Real("start", lo=0, hi=1, optional=True, default=0.0),
    Real("end", lo=0, optional=True, default=1.0),
    renders=NOT_RENDERED,
)
def path_attr(direction: str, start: float, end: float) -> PathAttr:
    """Direction and start/end fractions of the text on a textPath."""
    if start >= 1:
        raise ArgProblem("start must be below 1", argument="start", value=f"{start:g}", index=1)
    if not start < end <= start + 1:
        raise ArgProblem(
            "end must be after start and at most one path length further",
            argument="end",
            value=f"{end:g}",
            index=2,
        )
    return PathAttr(direction, start, end)


declare(
    "textFlowPath",
    L,
    Tag.LAYER,
    PathArg("path"),
    whole=True,
    empty=True,
    renders=NOT_RENDERED,
    summary="Regions textPs text flows into; empty is ignored.",
)


declare(
    "textFlowXPath",
    L,
    Tag.LAYER,
    PathArg("path"),
    whole=True,
    empty=True,
    renders=NOT_RENDERED,
    summary="Regions excluded from the text flow (needs textFlowPath); empty is ignored.",
)
