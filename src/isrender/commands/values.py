"""Typed values that commands bind to. Small frozen dataclasses; the renderer reads these."""

from __future__ import annotations

from dataclasses import dataclass

from isrender.commands.colors import Color
from isrender.commands.formats import FORMATS

__all__ = [
    "Align",
    "Cache",
    "Colorize",
    "Dpr",
    "Edges",
    "Fit",
    "Format",
    "Icc",
    "LayerSelect",
    "Noise",
    "Opacity",
    "PathAttr",
    "PathDefinition",
    "Perspective",
    "Point",
    "Quality",
    "Quantize",
    "Rect",
    "RequestType",
    "Size",
    "TextAttr",
    "Unsharp",
    "ViewRect",
]


@dataclass(frozen=True, slots=True)
class Point:
    """x,y: pixels (``int``) or normalised (``float``) depending on the command (§5.6)."""

    x: float
    y: float


@dataclass(frozen=True, slots=True)
class Size:
    """width,height: pixels, or normalised for the N variants; 0 means free (§5.7)."""

    width: float
    height: float


@dataclass(frozen=True, slots=True)
class Rect:
    """x,y,w,h (§5.8): never x1,y1,x2,y2."""

    x: float
    y: float
    width: float
    height: float


@dataclass(frozen=True, slots=True)
class Edges:
    """left,top,right,bottom margins of ``extend`` (negative removes)."""

    left: float
    top: float
    right: float
    bottom: float


@dataclass(frozen=True, slots=True)
class ViewRect:
    """``rect=x,y,w,h[,scale]``: the tile cut from the final view."""

    x: int
    y: int
    width: int
    height: int
    scale: float = 1.0


@dataclass(frozen=True, slots=True)
class Fit:
    mode: str
    upscale: bool = False


@dataclass(frozen=True, slots=True)
class Align:
    x: float
    y: float


@dataclass(frozen=True, slots=True)
class Dpr:
    enabled: bool
    ratio: float | None = None


@dataclass(frozen=True, slots=True)
class Format:
    """``fmt=format[,pixelType[,compression]]``; None means "not given"."""

    format: str
    pixel_type: str | None = None
    compression: str | None = None

    @property
    def keeps_alpha(self) -> bool:
        return FORMATS[self.format].alpha


@dataclass(frozen=True, slots=True)
class Quality:
    """``qlt=quality[,chroma]``: chroma=True disables chroma subsampling (4:4:4)."""

    quality: int
    full_chroma: bool = False


@dataclass(frozen=True, slots=True)
class Quantize:
    palette: str
    dither: str = "diffuse"
    colors: int = 256
    forced: tuple[tuple[int, int, int], ...] = ()


@dataclass(frozen=True, slots=True)
class Icc:
    profile: str
    intent: str | None = None
    black_point_compensation: bool | None = None
    dither: bool | None = None


@dataclass(frozen=True, slots=True)
class Cache:
    client: str
    server: str | None = None


@dataclass(frozen=True, slots=True)
class RequestType:
    """``req=type[,format[,encoding]]`` (§6.8)."""

    type: str
    format: str | None = None
    encoding: str | None = None


@dataclass(frozen=True, slots=True)
class Unsharp:
    """``op_usm``/``op_usmR``: amount 0..5, radius 0..250, threshold 0..255, monochrome."""

    amount: float
    radius: float = 0.0
    threshold: int = 0
    monochrome: bool = False


@dataclass(frozen=True, slots=True)
class Noise:
    amount: int
    distribution: str = "uniform"
    monochrome: bool = False


@dataclass(frozen=True, slots=True)
class Colorize:
    color: Color
    normalize: str = "norm"
    contrast: float = 0.0


@dataclass(frozen=True, slots=True)
class Opacity:
    opacity: int
    fill: int = 100


@dataclass(frozen=True, slots=True)
class Perspective:
    corners: tuple[Point, Point, Point, Point]
    resampling: str = "R3"


@dataclass(frozen=True, slots=True)
class LayerSelect:
    """``layer=n[,name]``, ``layer=comp[,name]`` or ``layer=name`` (§6.6).

    ``number`` is None for comp or for a selection by name alone.
    """

    number: int | None
    name: str | None = None
    comp: bool = False


@dataclass(frozen=True, slots=True)
class TextAttr:
    resolution: int
    antialias: str = "norm"
    resolution_mode: str = "fixedRes"
    wrap: str = "wrap"


@dataclass(frozen=True, slots=True)
class PathAttr:
    direction: str
    start: float = 0.0
    end: float = 1.0


@dataclass(frozen=True, slots=True)
class PathDefinition:
    """§5.11: ``(letter, numbers)`` steps, e.g. ``(("M", (10, 10)), ("L", (190, 10)), ...)``."""

    steps: tuple[tuple[str, tuple[float, ...]], ...]
