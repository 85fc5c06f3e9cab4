"""render(): a source image and a modifier string -> encoded bytes, on libvips.

Steps: read the header only (SourceInfo), plan (limits checked, nothing decoded yet), load the
source already reduced to the needed size with ``thumbnail`` (shrink-on-load for JPEG, WebP,
TIFF pyramids, HEIF; EXIF orientation applied; CMYK and non-sRGB profiles converted to sRGB),
run the planned steps, encode. libvips is demand-driven, so nothing is computed until the
encoder pulls pixels; ``fail_on="error"`` makes a truncated or damaged file an error instead
of a grey image.

Animated sources (GIF, WebP) render their first frame; multi-page TIFFs their first page.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pyvips

from isrender import vips_ops, vips_save
from isrender.attributes import CatalogAttributes
from isrender.errors import (
    CorruptSourceError,
    RenderError,
    SourceFormatError,
    SourceNotFoundError,
    UnsupportedFeatureError,
)
from isrender.language import ModifierString, parse
from isrender.macros import MacroRegistry, expand
from isrender.plan import RenderPlan, SourceInfo, Step, plan
from isrender.request import ImageRequest, bind

__all__ = [
    "RenderResult",
    "raw_thumbnail",
    "read_source_info",
    "render",
    "render_request",
    "set_threads",
]

Source = str | Path | bytes


@dataclass(frozen=True)
class RenderResult:
    data: bytes
    media_type: str
    width: int
    height: int
    format: str
    extension: str
    plan: RenderPlan | None = None


def render(
    source: Source,
    modifiers: str | ModifierString = "",
    macros: MacroRegistry | None = None,
    *,
    attributes: CatalogAttributes | None = None,
    strict: bool = True,
    catalog: str | None = None,
    modifier: str | None = None,
    post_modifier: str | None = None,
    object: str | None = None,
) -> RenderResult:
    """Render ``source`` (a path or the file's bytes) with ``modifiers``.

    Raises ModifierError subclasses for the string, RenderError subclasses for the image.
    """
    ast = modifiers if isinstance(modifiers, ModifierString) else parse(modifiers)
    flat = expand(ast, macros, catalog=catalog, modifier=modifier, post_modifier=post_modifier)
    request = bind(flat, strict=strict, object=object)
    return render_request(source, request, attributes)


def render_request(
    source: Source, request: ImageRequest, attributes: CatalogAttributes | None = None
) -> RenderResult:
    attrs = attributes or CatalogAttributes()
    header = _open(source)
    info = source_info(header)
    render_plan = plan(request, info, attrs)
    try:
        image = _run(source, header, render_plan, attrs)
        data = vips_save.encode(image, dict(render_plan.steps[-1].args), _has_xmp(header))
    except pyvips.Error as exc:
        raise _decode_error(exc, header, source) from None
    output = render_plan.output
    return RenderResult(
        data,
        output.media_type,
        image.width,
        image.height,
        output.format,
        output.extension,
        render_plan,
    )


def set_threads(threads: int) -> None:
    """libvips threads per operation, process-wide. A pool of N parallel conversions runs
    best with 1: measured on 2 cores, 2 export workers went from 1.61x to 1.81x a plain
    pyvips loop once libvips stopped adding threads of its own (benchmarks/test_export.py)."""
    pyvips.concurrency_set(max(1, threads))


# Save suffix and quality option for the floor, by the prefix of isrender's format name.
_FLOOR_SAVERS = (("jp", ".jpg", "Q"), ("pjpeg", ".jpg", "Q"), ("png", ".png", None),
                 ("gif", ".gif", None), ("tif", ".tif", None), ("webp", ".webp", "Q"),
                 ("avif", ".avif", "Q"))  # fmt: skip


def raw_thumbnail(
    path: str | Path, width: int, height: int, fmt: str, quality: int, keep_alpha: bool = False
) -> bytes:
    """The floor ``isrender bench`` compares against: plain pyvips ``thumbnail`` to exactly
    ``width`` x ``height``, flattened onto white unless the reply keeps alpha, saved as
    ``fmt`` (isrender's names) at ``quality``, with no parsing, planning or checks: what
    libvips alone costs for the same reply."""
    saver = next((s for s in _FLOOR_SAVERS if fmt.startswith(s[0])), None)
    if saver is None:
        raise UnsupportedFeatureError(f"no raw pyvips floor for fmt={fmt}")
    _, suffix, quality_option = saver
    options: dict[str, Any] = {"keep": pyvips.enums.ForeignKeep.NONE}
    if quality_option:
        options[quality_option] = quality
    if suffix == ".jpg":
        options["optimize_coding"] = True  # as isrender's JPEG encoder
    try:
        image = pyvips.Image.thumbnail(
            str(path), width, height=height, size="force", fail_on="error"
        )
        if image.hasalpha() and not keep_alpha:
            image = image.flatten(background=255)
        data: bytes = image.write_to_buffer(suffix, **options)
    except pyvips.Error as exc:
        first = (exc.message or "unknown error").strip().splitlines()[0]
        raise RenderError(f"raw pyvips thumbnail failed: {first}") from None
    return data


# ---- the source -------------------------------------------------------------------------------


def _open(source: Source) -> pyvips.Image:
    """The header (no pixels decoded)."""
    try:
        if isinstance(source, bytes):
            return pyvips.Image.new_from_buffer(source, "")
        path = Path(source)
        if not path.is_file():
            raise SourceNotFoundError(f"source image {path.name!r} not found")
        return pyvips.Image.new_from_file(str(path))
    except pyvips.Error:
        raise SourceFormatError("the source is not an image format isrender can read") from None


def read_source_info(source: Source) -> SourceInfo:
    """SourceInfo from the header of a path or bytes."""
    return source_info(_open(source))


def source_info(header: pyvips.Image) -> SourceInfo:
    fields = set(header.get_fields())
    orientation = int(header.get("orientation")) if "orientation" in fields else 1
    width, height = header.width, header.height
    if orientation in (5, 6, 7, 8):
        width, height = height, width
    pages = int(header.get("n-pages")) if "n-pages" in fields else 1
    bits = int(header.get("bits-per-sample")) if "bits-per-sample" in fields else 8
    return SourceInfo(
        width=width,
        height=height,
        bands=header.bands,
        interpretation=str(header.interpretation),
        has_alpha=bool(header.hasalpha()),
        has_icc="icc-profile-data" in fields,
        orientation=orientation,
        pages=pages,
        loader=str(header.get("vips-loader")) if "vips-loader" in fields else "",
        bits=bits,
    )


def _has_xmp(header: pyvips.Image) -> bool:
    return bool(header.get_typeof("xmp-data") != 0)


# How libjpeg, libpng, giflib, libtiff, libwebp and libheif report damaged data.
_DAMAGED = re.compile(
    r"premature|unexpected end|read error|truncat|corrupt|bad huffman|out of data|incomplete"
    r"|not enough data|invalid (?:data|image|chunk|block)|decode error",
    re.IGNORECASE,
)
_SRGB_NAMES = re.compile(rb"sRGB|c2\x00|IEC61966", re.IGNORECASE)


def _needs_profile_conversion(header: pyvips.Image) -> bool:
    """Convert to sRGB when the embedded profile is not an sRGB one (thumbnail converts CMYK
    by itself). The profile's description is searched for sRGB names; 'c2' is the compact
    sRGB profile many web images carry."""
    if header.get_typeof("icc-profile-data") == 0 or header.interpretation == "cmyk":
        return False
    profile: bytes = header.get("icc-profile-data")
    return not _SRGB_NAMES.search(profile[:1024])


def _load(source: Source, header: pyvips.Image, step: Step) -> pyvips.Image:
    options: dict[str, Any] = {"height": step.arg("height"), "size": "force", "fail_on": "error"}
    if _needs_profile_conversion(header):
        options["export_profile"] = "srgb"
    if isinstance(source, bytes):
        image = pyvips.Image.thumbnail_buffer(source, step.arg("width"), **options)
    else:
        image = pyvips.Image.thumbnail(str(source), step.arg("width"), **options)
    return vips_ops.to_srgb8(image)


# ---- running the plan -------------------------------------------------------------------------


def _run(
    source: Source, header: pyvips.Image, render_plan: RenderPlan, attrs: CatalogAttributes
) -> pyvips.Image:
    info = render_plan.source
    image = _load(source, header, render_plan.steps[0])
    if any(_reads_out_of_order(step) for step in render_plan.steps):
        # The loader streams top to bottom; rotating or flipping upside down reads rows in
        # another order, so keep the (already reduced) image in memory for those.
        image = image.copy_memory()
    load_scale = (image.width / info.width, image.height / info.height)
    for step in render_plan.steps[1:-1]:
        image = _apply(image, step, load_scale, attrs)
    return image


def _reads_out_of_order(step: Step) -> bool:
    if step.kind == "rotate":
        return True
    return step.kind == "flip" and step.arg("direction") in ("ud", "lrud")


def _apply(
    image: pyvips.Image, step: Step, load_scale: tuple[float, float], attrs: CatalogAttributes
) -> pyvips.Image:
    kind = step.kind
    if kind == "crop":
        return vips_ops.crop(image, step.arg("rect"), load_scale)
    if kind == "resize":
        return vips_ops.resize(image, step.arg("width"), step.arg("height"), step.arg("kernel"))
    if kind == "filter":
        return vips_ops.apply_filter(
            image, step.arg("name"), step.arg("value"), step.arg("radius_scale")
        )
    if kind == "place":
        view = (step.arg("view_width"), step.arg("view_height"))
        return vips_ops.place(image, step.arg("x"), step.arg("y"), view, step.arg("tile"))
    if kind == "unsharp":
        return vips_ops.unsharp(image, step.arg("usm"), step.arg("radius_scale"))
    if kind == "colour":
        return vips_save.to_output_space(
            image, step.arg("profile"), step.arg("pixel_type"), attrs.icc_profiles
        )
    simple = {
        "fill": lambda: vips_ops.fill(image, step.arg("color")),
        "flip": lambda: vips_ops.flip(image, step.arg("direction")),
        "rotate": lambda: vips_ops.rotate(image, step.arg("angle")),
        "extend": lambda: vips_ops.extend(image, step.arg("edges")),
        "opacity": lambda: vips_ops.opacity(image, step.arg("percent")),
        "sharpen": lambda: vips_ops.sharpen(image),
        "flatten": lambda: vips_ops.flatten(image, step.arg("color")),
    }
    return simple[kind]()


def _decode_error(exc: pyvips.Error, header: pyvips.Image, source: Source) -> RenderError:
    """A public message for a libvips failure (file paths are never shown)."""
    detail = f"{exc.message} {exc.detail or ''}"
    loader = header.get("vips-loader") if header.get_typeof("vips-loader") else ""
    hevc = header.get_typeof("heif-compression") and header.get("heif-compression") == "hevc"
    if loader == "heifload" and hevc:
        return SourceFormatError(
            "HEIC (HEVC) images cannot be decoded by this build: its libheif has no HEVC decoder"
        )
    if _DAMAGED.search(detail):
        return CorruptSourceError("the source image is truncated or damaged and cannot be decoded")
    first = detail.strip().splitlines()[0] if detail.strip() else "unknown error"
    if not isinstance(source, bytes):
        first = first.replace(str(source), Path(source).name)
    return RenderError(f"image processing failed: {first}")
