"""RenderPlan: a bound request plus the source's header -> a fixed-order list of small steps.

Pure (no pyvips): ``isrender explain SRC MODS`` prints it, tests read it, and render.py runs it.
The order is §6.0's: layer 0 (crop, scale, filters, color, flip, rotate, extend, bgColor),
composite (flip, filters, opacity), view (scale, place, tile), view sharpening, output.

Scaling is planned once: the source is loaded already reduced to the size the output needs
(shrink-on-load, ``Load.scale``), cropped, then resized to the exact layer size in view pixels.
Limits are checked here, before anything is decoded: source pixels from the header, MaxPix
and the render area from the planned reply size.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from isrender.commands.colors import Color
from isrender.commands.values import Edges, Rect
from isrender.errors import OutputLimitError, SourceTooLargeError, UnsupportedFeatureError
from isrender.render.attributes import CatalogAttributes
from isrender.render.formats import OutputFormat, output_format
from isrender.render.geometry import (
    LayerGeometry,
    ViewGeometry,
    layer_geometry,
    round_px,
    view_geometry,
)
from isrender.request.model import Attributes, ImageRequest

__all__ = ["RenderPlan", "SourceInfo", "Step", "plan"]

KERNELS = {"bilin": "linear", "bicub": "cubic", "sharp2": "lanczos3", "bisharp": "lanczos3"}
# Layer filters in the order of §6.0 step A5 (D-26); sharpening is handled apart.
FILTER_ORDER = (
    "op_brightness",
    "op_contrast",
    "op_colorbalance",
    "op_hue",
    "op_saturation",
    "op_colorize",
    "op_invert",
    "op_blur",
    "op_noise",
)
# Commands with a pixel effect that phase 1 does not render ([layer] features, §0.1).
UNRENDERED = (
    "mask", "maskUse", "text", "textPs", "perspective", "clipPath", "clipXPath", "cropPathE",
    "op_grow", "op_growMask", "template",
)  # fmt: skip
IGNORED_ON_LAYER0 = ("anchor", "origin", "pos", "blendMode", "map", "mapA", "textAttr")


@dataclass(frozen=True, slots=True)
class SourceInfo:
    """What the header says, after EXIF orientation (width/height are as displayed)."""

    width: int
    height: int
    bands: int
    interpretation: str
    has_alpha: bool
    has_icc: bool
    orientation: int = 1
    pages: int = 1
    loader: str = ""
    bits: int = 8

    @property
    def pixels(self) -> int:
        return self.width * self.height


@dataclass(frozen=True, slots=True)
class Step:
    """One operation. ``kind`` picks the executor in render.py; ``args`` are its parameters."""

    kind: str
    args: tuple[tuple[str, Any], ...] = ()
    note: str = ""

    def arg(self, name: str) -> Any:
        return dict(self.args)[name]

    def describe(self) -> str:
        shown = ", ".join(f"{k}={_show(v)}" for k, v in self.args)
        text = f"{self.kind}({shown})" if shown else self.kind
        return f"{text}  # {self.note}" if self.note else text


def _show(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.6g}"
    if isinstance(value, Color):
        return str(value)
    return repr(value) if isinstance(value, str) else str(value)


def _step(kind: str, note: str = "", **args: Any) -> Step:
    return Step(kind, tuple(args.items()), note)


@dataclass(frozen=True)
class RenderPlan:
    source: SourceInfo
    layer: LayerGeometry
    view: ViewGeometry
    output: OutputFormat
    steps: tuple[Step, ...]

    @property
    def reply_size(self) -> tuple[int, int]:
        return self.view.reply_size

    def describe(self) -> str:
        return "\n".join(f"{i + 1:2}. {step.describe()}" for i, step in enumerate(self.steps))


def plan(
    request: ImageRequest, source: SourceInfo, attributes: CatalogAttributes | None = None
) -> RenderPlan:
    """The plan for ``request`` on ``source``; raises before any decoding when a limit or an
    unrendered feature is in the way."""
    attrs = attributes or CatalogAttributes()
    if source.pixels > attrs.max_source_pixels:
        raise SourceTooLargeError(
            f"the source is {source.width}x{source.height} "
            f"({source.pixels / 1e6:.1f} Mpx), above the limit of "
            f"{attrs.max_source_pixels / 1e6:g} Mpx"
        )
    _check_renderable(request)
    layer0 = _layer0(request)
    g = request.globals
    geometry = _layer_geometry(layer0, source, attrs)
    view = view_geometry(
        geometry.width,
        geometry.height,
        wid=g.value("wid"),
        hei=g.value("hei"),
        scl=g.value("scl"),
        fit=g.value("fit"),
        align=g.value("align"),
        rgn=g.value("rgn"),
        rect=g.value("rect"),
        dpr=g.value("dpr"),
        default_pix=attrs.default_pix,
        max_pix=attrs.max_pix,
    )
    _check_reply(view, attrs)
    output = output_format(request)
    steps = _steps(request, layer0, source, geometry, view, output, attrs)
    return RenderPlan(source, geometry, view, output, tuple(steps))


def _layer0(request: ImageRequest) -> Attributes:
    layer = request.layer(0)
    return layer.attributes if layer else Attributes()


def _check_renderable(request: ImageRequest) -> None:
    if any(layer.number != 0 for layer in request.layers):
        raise UnsupportedFeatureError("layered requests (layer=1 and above) are not rendered yet")
    req = request.globals.value("req")
    if req is not None and req.type != "img":
        raise UnsupportedFeatureError(f"req={req.type} is not answered by the renderer")
    layer0 = _layer0(request)
    for scope in (layer0, request.comp):
        for name in UNRENDERED:
            if name in scope:
                raise UnsupportedFeatureError(f"{name}= is not rendered yet (a [layer] feature)")
    if request.comp_effects or any(layer.effects for layer in request.layers):
        raise UnsupportedFeatureError("effect layers are not rendered yet")
    if "template" in request.globals:
        raise UnsupportedFeatureError("template= is not rendered yet")
    content = layer0.get("src")
    if content is not None and not isinstance(content.value, str):
        raise UnsupportedFeatureError("nested and embedded sources are not rendered yet")


def _layer_geometry(
    layer0: Attributes, source: SourceInfo, attrs: CatalogAttributes
) -> LayerGeometry:
    crop = layer0.get("crop")
    extend = layer0.get("extend")
    return layer_geometry(
        source.width,
        source.height,
        crop=crop.value if crop else None,
        crop_normalised=bool(crop and crop.name == "cropN"),
        size=layer0.value("size"),
        scale=layer0.value("scale"),
        res=layer0.value("res"),
        resolution=attrs.resolution,
        rotate=layer0.value("rotate", 0.0),
        extend=extend.value if extend else None,
        extend_normalised=bool(extend and extend.name == "extendN"),
    )


def _check_reply(view: ViewGeometry, attrs: CatalogAttributes) -> None:
    w, h = view.reply_size
    mw, mh = attrs.max_pix
    if (mw and w > mw) or (mh and h > mh):
        raise OutputLimitError(f"the reply would be {w}x{h}, larger than MaxPix {mw}x{mh}")
    if w * h > attrs.max_render_pixels:
        raise OutputLimitError(
            f"the reply would be {w}x{h} ({w * h / 1e6:.1f} Mpx), above the render limit of "
            f"{attrs.max_render_pixels / 1e6:g} Mpx"
        )


def _steps(
    request: ImageRequest,
    layer0: Attributes,
    source: SourceInfo,
    geometry: LayerGeometry,
    view: ViewGeometry,
    output: OutputFormat,
    attrs: CatalogAttributes,
) -> list[Step]:
    g, comp = request.globals, request.comp
    kernel = KERNELS[g.value("resMode") or attrs.res_mode]
    sx, sy = geometry.scale * view.sx, geometry.scale * view.sy
    uniform = math.isclose(sx, sy) or not geometry.rotate
    # Shrink-on-load: read the source at the scale the output needs (twice that when a kernel
    # other than lanczos3 must do the last reduction), never above full resolution.
    need = min(1.0, max(sx, sy) * (1 if kernel == "lanczos3" else 2))
    steps = [
        _step(
            "load",
            "shrink-on-load, EXIF orientation and ICC to sRGB applied" if need < 1 else "",
            width=round_px(source.width * need),
            height=round_px(source.height * need),
            scale=need,
        )
    ]
    crop = geometry.crop
    if geometry.crops(source.width, source.height):
        steps.append(_step("crop", "source pixels; outside the image is transparent", rect=crop))
    first_x, first_y = (sx, sy) if uniform else (geometry.scale, geometry.scale)
    steps.append(
        _step(
            "resize",
            "to the layer size in view pixels",
            width=round_px(crop.width * first_x),
            height=round_px(crop.height * first_y),
            kernel=kernel,
        )
    )
    steps += _filters(layer0, first_x, "layer 0", include_sharpen=True)
    if "color" in layer0:
        steps.append(_step("fill", "color=: behind transparent parts", color=layer0.value("color")))
    if "flip" in layer0:
        steps.append(_step("flip", "layer 0", direction=layer0.value("flip")))
    if geometry.rotate:
        steps.append(_step("rotate", "clockwise; new corners transparent", angle=geometry.rotate))
    e = geometry.extend
    if any((e.left, e.top, e.right, e.bottom)):
        m = Edges(*(round(v * first_x) for v in (e.left, e.top, e.right, e.bottom)))
        steps.append(_step("extend", "new area transparent", edges=m))
    if "bgColor" in layer0:
        steps.append(_step("fill", "bgColor=", color=layer0.value("bgColor")))
    if not uniform:
        steps.append(
            _step(
                "resize",
                "view scale (non-uniform)",
                width=round_px(geometry.width * view.sx),
                height=round_px(geometry.height * view.sy),
                kernel=kernel,
            )
        )
    if "flip" in comp:
        steps.append(_step("flip", "composite", direction=comp.value("flip")))
    steps += _filters(comp, view.sx, "composite", include_sharpen=False)
    for scope in (layer0, comp):
        if "opac" in scope:
            steps.append(_step("opacity", percent=scope.value("opac").opacity))
    x0, y0, w, h = view.tile
    steps.append(
        _step(
            "place",
            "view canvas; uncovered areas transparent",
            view_width=view.extent[0],
            view_height=view.extent[1],
            x=view.ox - view.rx * view.sx,
            y=view.oy - view.ry * view.sy,
            tile=Rect(x0, y0, w, h),
        )
    )
    steps += _sharpening(comp, view.sx, "final view")
    steps += _output_steps(g, output, attrs)
    return steps


def _filters(scope: Attributes, scale: float, where: str, include_sharpen: bool) -> list[Step]:
    steps = [
        _step("filter", where, name=name, value=scope.value(name), radius_scale=scale)
        for name in FILTER_ORDER
        if name in scope
    ]
    if include_sharpen:
        steps += _sharpening(scope, scale, where)
    return steps


def _sharpening(scope: Attributes, scale: float, where: str) -> list[Step]:
    steps = []
    if scope.value("op_sharpen"):
        steps.append(_step("sharpen", where))
    usm = scope.get("op_usm")
    if usm is not None and usm.value.amount > 0:
        # D-30: op_usm's radius is at full resolution and shrinks with the image; op_usmR's not.
        factor = min(1.0, scale) if usm.name == "op_usm" else 1.0
        steps.append(_step("unsharp", f"{usm.name} {where}", usm=usm.value, radius_scale=factor))
    return steps


def _output_steps(g: Attributes, output: OutputFormat, attrs: CatalogAttributes) -> list[Step]:
    icc = g.value("icc")
    steps = []
    if not output.keeps_alpha:
        bgc = g.value("bgc") or attrs.bkg_color
        steps.append(_step("flatten", "formats without alpha; bgc ignores alpha", color=bgc))
    if icc is not None or output.pixel_type not in (None, "rgb"):
        profile = icc.profile if icc else None
        steps.append(_step("colour", "output space", profile=profile, pixel_type=output.pixel_type))
    quality = g.value("qlt") or attrs.jpeg_quality
    steps.append(
        _step(
            "encode",
            output.media_type,
            format=output.format,
            compression=output.compression,
            quality=quality.quality,
            full_chroma=quality.full_chroma,
            quantize=g.value("quantize"),
            jpeg_size=g.value("jpegSize", 0),
            embed_icc=bool(g.value("iccEmbed")),
            embed_xmp=bool(g.value("xmpEmbed")),
            print_res=g.value("printRes"),
        )
    )
    return steps
