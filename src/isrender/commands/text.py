"""Text layer commands (§6.7). Text values keep their commas and raw braces (D-07)."""

from __future__ import annotations

from isrender.commands.args import ArgProblem, Int, Keyword, Real, Text
from isrender.commands.paths import PathArg
from isrender.commands.registry import Scope, Tag, command
from isrender.commands.values import PathAttr, PathDefinition, TextAttr

L = Scope.LAYER


@command("text", L, Tag.LAYER, Text("rtf"), whole=True, slot="content")
def text(rtf: str) -> str:
    """Text layer content (RTF or plain) for the classic renderer; auto-sizes without size=."""
    return rtf


@command("textPs", L, Tag.LAYER, Text("rtf"), whole=True, slot="content")
def text_ps(rtf: str) -> str:
    """Text layer content for the Photoshop-compatible renderer (copy-fit, paths, flow)."""
    return rtf


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
)
def text_attr(resolution: int, antialias: str, mode: str, wrap: str) -> TextAttr:
    """Text resolution in dpi, anti-aliasing, resolution mode and wrapping."""
    return TextAttr(resolution, antialias, mode, wrap)


@command("textAngle", L, Tag.LAYER, Real("degrees"))
def text_angle(degrees: float) -> float:
    """Text direction inside the box, in degrees (textPs only)."""
    return degrees


@command("textPath", L, Tag.LAYER, PathArg("path"), whole=True)
def text_path(path: PathDefinition) -> PathDefinition:
    """Baseline path(s) for textPs text (not closed automatically)."""
    return path


@command(
    "pathAttr",
    L,
    Tag.LAYER,
    Keyword("direction", choices=("norm", "reverse")),
    Real("start", lo=0, hi=1, optional=True, default=0.0),
    Real("end", lo=0, optional=True, default=1.0),
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


@command("textFlowPath", L, Tag.LAYER, PathArg("path"), whole=True, empty=True)
def text_flow_path(path: PathDefinition | None) -> PathDefinition | None:
    """Regions textPs text flows into; empty is ignored."""
    return path


@command("textFlowXPath", L, Tag.LAYER, PathArg("path"), whole=True, empty=True)
def text_flow_x_path(path: PathDefinition | None) -> PathDefinition | None:
    """Regions excluded from the text flow (needs textFlowPath); empty is ignored."""
    return path
