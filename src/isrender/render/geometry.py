"""Pure sizing arithmetic: layer 0's geometry and the view transform (spec §6.0, §6.0.1).

Everything here is in floating-point pixel units of the full-resolution source; rendering may
read a smaller version of the source and scales the numbers accordingly. Sizes round half up
with a minimum of 1 pixel (D-01).

Hostile values: every size is bounded by ``MAX_PX`` (D-32's signed 32-bit range) and a view scale
may not shrink the image below one pixel; past that a ViewGeometryError (400) names the command,
instead of an overflow or a libvips error deep in the render.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from isrender.commands.values import Align, Dpr, Edges, Fit, Rect, Size, ViewRect
from isrender.errors import ViewGeometryError
from isrender.request.model import Attributes

__all__ = [
    "MAX_PX",
    "LayerGeometry",
    "ViewGeometry",
    "geometry_of",
    "layer_geometry",
    "round_px",
    "view_geometry",
]

MAX_PX = 2**31 - 1  # D-32: no side of any image may exceed a signed 32-bit number


def round_px(value: float) -> int:
    """D-01: round half up, at least 1 pixel. NaN, infinity and sizes above MAX_PX raise."""
    if not value <= MAX_PX:  # also true for NaN
        raise ViewGeometryError(f"a size of {value:.3g} pixels is out of range (at most {MAX_PX})")
    return max(1, math.floor(value + 0.5))


def _bounded(width: float, height: float, cause: str) -> None:
    """Refuse a size no image can have, naming the command that asked for it."""
    largest = max(width, height)
    if not largest <= MAX_PX:
        raise ViewGeometryError(
            f"{cause} makes the image {width:.3g}x{height:.3g} pixels; at most {MAX_PX} per side"
        )


def _layer_cause(size: Size | None, scale: float | None, res: float | None) -> str:
    if size is not None and (size.width or size.height):
        return "size="
    if scale is not None:
        return f"scale={scale:g}"
    return f"res={res:g}" if res is not None else "crop=/extend="


@dataclass(frozen=True, slots=True)
class LayerGeometry:
    """Layer 0 from source to composite: crop (source pixels, may reach outside the image),
    scale factor, rotation and margins (composite pixels). ``width``/``height`` is the
    composite size."""

    crop: Rect
    scale: float
    rotate: float
    extend: Edges
    width: float
    height: float

    def crops(self, source_width: int, source_height: int) -> bool:
        """Whether the crop box is anything but the whole source."""
        box = self.crop
        return (box.x, box.y, box.width, box.height) != (0, 0, source_width, source_height)


def layer_geometry(
    source_width: int,
    source_height: int,
    *,
    crop: Rect | None = None,
    crop_normalised: bool = False,
    size: Size | None = None,
    scale: float | None = None,
    res: float | None = None,
    resolution: float = 100.0,
    rotate: float = 0.0,
    extend: Edges | None = None,
    extend_normalised: bool = False,
) -> LayerGeometry:
    """Apply crop, size › scale › res, rotate and extend in the order of §6.0 step A."""
    if crop is None:
        box = Rect(0, 0, source_width, source_height)
    elif crop_normalised:
        box = Rect(
            crop.x * source_width,
            crop.y * source_height,
            crop.width * source_width,
            crop.height * source_height,
        )
    else:
        box = crop
    factor = _layer_scale(box.width, box.height, size, scale, res, resolution)
    w, h = box.width * factor, box.height * factor
    angle = rotate % 360
    if angle:
        radians = math.radians(angle)
        cos, sin = abs(math.cos(radians)), abs(math.sin(radians))
        w, h = w * cos + h * sin, w * sin + h * cos
    margins = extend or Edges(0, 0, 0, 0)
    if extend_normalised:
        margins = Edges(margins.left * w, margins.top * h, margins.right * w, margins.bottom * h)
    w += margins.left + margins.right
    h += margins.top + margins.bottom
    _bounded(w, h, _layer_cause(size, scale, res))
    return LayerGeometry(box, factor, angle, margins, max(w, 1.0), max(h, 1.0))


def _layer_scale(
    w: float, h: float, size: Size | None, scale: float | None, res: float | None, base: float
) -> float:
    """size= (fit into the box, up or down, D-37) › scale= › res= ÷ resolution › 1."""
    if size is not None and (size.width or size.height):
        factors = []
        if size.width:
            factors.append(size.width / w)
        if size.height:
            factors.append(size.height / h)
        return min(factors)
    if scale is not None:
        return scale
    if res is not None:
        return res / base
    return 1.0


def geometry_of(
    attrs: Attributes,
    width: int,
    height: int,
    *,
    size: Size | None = None,
    resolution: float = 100.0,
    from_source: bool = True,
) -> LayerGeometry:
    """A layer's geometry from its commands, for layer 0 and the others alike: crop, size
    (``size``: already in canvas pixels), scale and res apply to a layer read from a source
    image (``from_source``); rotate and extend to every layer."""
    extend = attrs.get("extend")
    edges = extend.value if extend else None
    normal = bool(extend and extend.name == "extendN")
    rotate = attrs.value("rotate", 0.0)
    if not from_source:
        return layer_geometry(width, height, rotate=rotate, extend=edges, extend_normalised=normal)
    crop = attrs.get("crop")
    return layer_geometry(
        width,
        height,
        crop=crop.value if crop else None,
        crop_normalised=bool(crop and crop.name == "cropN"),
        size=size,
        scale=attrs.value("scale"),
        res=attrs.value("res"),
        resolution=resolution,
        rotate=rotate,
        extend=edges,
        extend_normalised=normal,
    )


@dataclass(frozen=True, slots=True)
class ViewGeometry:
    """The view transform: the composite scaled by ``sx``/``sy`` and placed with its point
    (``rx``,``ry``) at view pixel (``ox``,``oy``) of a ``width`` x ``height`` view; then the
    reply tile ``tile`` (``rect=``) is cut out of the view, whose size after ``rect=``'s scale
    factor is ``extent``."""

    sx: float
    sy: float
    width: int
    height: int
    ox: float
    oy: float
    rx: float
    ry: float
    tile: tuple[int, int, int, int]
    extent: tuple[int, int] = (0, 0)  # the view after rect='s scale factor

    @property
    def reply_size(self) -> tuple[int, int]:
        return self.tile[2], self.tile[3]


def view_geometry(
    composite_width: float,
    composite_height: float,
    *,
    wid: int | None = None,
    hei: int | None = None,
    scl: float | None = None,
    fit: Fit | None = None,
    align: Align | None = None,
    rgn: Rect | None = None,
    rect: ViewRect | None = None,
    dpr: Dpr | None = None,
    default_pix: tuple[int, int] = (0, 0),
    max_pix: tuple[int, int] = (0, 0),
) -> ViewGeometry:
    """§6.0.1, including fit modes (D-27, D-34, D-35), rgn (D-29), dpr (D-28) and rect."""
    rx, ry, rw, rh = (rgn.x, rgn.y, rgn.width, rgn.height) if rgn else (0, 0, 0, 0)
    if not rgn:
        rw, rh = composite_width, composite_height
    uses_align = True
    if scl is not None:
        s = 1 / scl
        _bounded(rw * s, rh * s, f"scl={scl:g}")
        if max(rw * s, rh * s) < 1:
            raise ViewGeometryError(
                f"scl={scl:g} shrinks the {rw:g}x{rh:g} image below one pixel; "
                f"use scl <= {max(rw, rh):g}"
            )
        sx = sy = s
        vw = wid if wid is not None else round_px(rw * s)
        vh = hei if hei is not None else round_px(rh * s)
    elif wid is not None or hei is not None:
        _bounded(*_fitted_extremes(rw, rh, wid, hei), "wid=/hei=")
        sx, sy, vw, vh, uses_align = _fitted(rw, rh, wid, hei, fit)
        _bounded(rw * sx, rh * sy, "wid=/hei=")
    else:
        dw, dh = default_pix
        s = min(1.0, dw / rw if dw else math.inf, dh / rh if dh else math.inf)
        sx = sy = s
        vw, vh = round_px(rw * s), round_px(rh * s)
        uses_align = False
    ax, ay = (align.x, align.y) if (align and uses_align) else (0.0, 0.0)
    ox: float = math.floor((vw - rw * sx) * (ax + 1) / 2 + 0.5)  # D-01: half up
    oy: float = math.floor((vh - rh * sy) * (ay + 1) / 2 + 0.5)
    if dpr is not None and dpr.enabled and dpr.ratio and dpr.ratio != 1:
        v = _capped_ratio(dpr.ratio, vw, vh, max_pix)
        _bounded(vw * v, vh * v, f"dpr ratio {dpr.ratio:g}")
        sx, sy, ox, oy = sx * v, sy * v, ox * v, oy * v
        vw, vh = round_px(vw * v), round_px(vh * v)
    tile = (0, 0, vw, vh)
    extent = (vw, vh)
    if rect is not None:
        f = rect.scale
        _bounded(vw * f, vh * f, f"rect= scale {f:g}")
        sx, sy, ox, oy = sx * f, sy * f, ox * f, oy * f
        extent = (round_px(vw * f), round_px(vh * f))
        tile = (rect.x, rect.y, rect.width, rect.height)
    return ViewGeometry(sx, sy, vw, vh, ox, oy, rx, ry, tile, extent)


def _fitted_extremes(rw: float, rh: float, wid: int | None, hei: int | None) -> tuple[float, float]:
    """The free side when only one of wid/hei is given (the case _fitted rounds unchecked)."""
    if wid is not None and hei is None:
        return wid, rh * wid / rw
    if hei is not None and wid is None:
        return rw * hei / rh, hei
    return 0.0, 0.0


def _fitted(
    rw: float, rh: float, wid: int | None, hei: int | None, fit: Fit | None
) -> tuple[float, float, int, int, bool]:
    """Scale and view size for wid/hei with or without fit= (returns sx, sy, vw, vh, align?)."""
    if fit is None:
        if wid is not None and hei is not None:
            s = min(wid / rw, hei / rh)  # D-35: may enlarge
            return s, s, wid, hei, True
        if wid is not None:
            s = wid / rw
            return s, s, wid, round_px(rh * s), False
        assert hei is not None
        s = hei / rh
        return s, s, round_px(rw * s), hei, False
    fx = wid / rw if wid is not None else None
    fy = hei / rh if hei is not None else None
    if not fit.upscale:
        fx = None if fx is None else min(fx, 1.0)
        fy = None if fy is None else min(fy, 1.0)
    if fx is None or fy is None:  # D-27: the other dimension is unconstrained
        one = fx if fx is not None else fy
        assert one is not None
        return one, one, round_px(rw * one), round_px(rh * one), False
    assert wid is not None and hei is not None
    sx, sy = fx, fy
    mode = fit.mode
    if mode == "stretch":
        return sx, sy, wid, hei, False
    if mode in ("fit", "crop", "hfit", "vfit"):
        s = {"fit": min(sx, sy), "crop": max(sx, sy), "hfit": sx, "vfit": sy}[mode]
        return s, s, wid, hei, True
    s = min(sx, sy) if mode == "constrain" else max(sx, sy)  # constrain, wrap
    return s, s, round_px(rw * s), round_px(rh * s), False


def _capped_ratio(ratio: float, vw: int, vh: int, max_pix: tuple[int, int]) -> float:
    """D-28: reduce the ratio so the view fits MaxPix in both dimensions, keeping aspect."""
    mw, mh = max_pix
    v = ratio
    if mw and vw * v > mw:
        v = mw / vw
    if mh and vh * v > mh:
        v = min(v, mh / vh)
    return v
