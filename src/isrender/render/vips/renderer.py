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
import threading
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pyvips

from isrender.errors import (
    CorruptSourceError,
    RenderError,
    RenderTimeout,
    SourceFormatError,
    SourceNotFoundError,
    UnsupportedFeatureError,
)
from isrender.language import ModifierString, parse
from isrender.macros import MacroRegistry, expand
from isrender.render.attributes import CatalogAttributes
from isrender.render.plan import RenderPlan, SourceInfo, Step, plan
from isrender.render.vips import ops as vips_ops
from isrender.render.vips import save as vips_save
from isrender.request import ImageRequest, bind

__all__ = [
    "RenderJob",
    "RenderResult",
    "plan_render",
    "raw_thumbnail",
    "read_source_info",
    "render",
    "render_request",
    "set_threads",
    "tune_for_serving",
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
    source: Source,
    request: ImageRequest,
    attributes: CatalogAttributes | None = None,
    should_stop: Callable[[], bool] | None = None,
) -> RenderResult:
    return plan_render(source, request, attributes).run(should_stop)


def plan_render(
    source: Source, request: ImageRequest, attributes: CatalogAttributes | None = None
) -> RenderJob:
    """The header read (once per file version: see ``_header_facts``) and the plan made, with
    limits checked; no pixel is decoded until ``run``."""
    attrs = attributes or CatalogAttributes()
    facts = _header_facts(source)
    return RenderJob(source, facts, plan(request, facts.info, attrs), attrs)


@dataclass(frozen=True)
class RenderJob:
    """A planned render: what it will cost in memory, and running it."""

    source: Source
    facts: HeaderFacts
    plan: RenderPlan
    attrs: CatalogAttributes

    @property
    def memory_bytes(self) -> int:
        """Estimated peak memory: the decode (a whole source for loaders that cannot stream
        or shrink on load: progressive JPEG, interlaced PNG, GIF, HEIF; measured ~3 bytes a
        pixel for a 24 Mpx progressive JPEG) plus the reduced image and the reply."""
        info, load = self.plan.source, self.plan.steps[0]
        loaded = int(load.arg("width")) * int(load.arg("height")) * 4
        width, height = self.plan.reply_size
        reply = width * height * 4
        if self.facts.streams:
            return loaded + reply
        return info.pixels * max(3, info.bands) + loaded + reply

    def run(self, should_stop: Callable[[], bool] | None = None) -> RenderResult:
        """Decode, process and encode. ``should_stop`` is polled as libvips computes (once per
        tile); when it answers True, libvips is killed and RenderTimeout raised."""
        render_plan, facts = self.plan, self.facts
        killed = threading.Event()
        try:
            image = _run(self.source, facts, render_plan, self.attrs)
            if should_stop is not None:
                _stop_when(image, should_stop, killed)
            data = vips_save.encode(image, dict(render_plan.steps[-1].args), facts.has_xmp)
        except pyvips.Error as exc:
            if killed.is_set():
                raise RenderTimeout(
                    "the render took longer than render_timeout; it was stopped"
                ) from None
            raise _decode_error(exc, facts, self.source) from None
        output = render_plan.output
        return RenderResult(data, output.media_type, image.width, image.height, output.format,
                            output.extension, render_plan)  # fmt: skip


def _stop_when(
    image: pyvips.Image, should_stop: Callable[[], bool], killed: threading.Event
) -> None:
    """Kill ``image``'s computation (and everything upstream of it) once ``should_stop()``."""

    def on_eval(evaluated: pyvips.Image, _progress: Any) -> None:
        if not killed.is_set() and should_stop():
            killed.set()
            evaluated.set_kill(True)

    image.set_progress(True)
    image.signal_connect("eval", on_eval)


def tune_for_serving(threads: int = 1, malloc_arenas: int = 2) -> None:
    """Process-wide settings for a server: measured with 4 threads each making 300 px
    thumbnails of a 24 Mpx progressive JPEG, peak RSS went from 580 MB to 351 MB (and back to
    148 MB between bursts) with libvips' operation cache off (it keeps decoded sources) and
    glibc limited to 2 malloc arenas (each thread otherwise keeps freed memory in its own).
    One libvips thread per render: the render slots already use the cores."""
    import ctypes
    import ctypes.util

    pyvips.cache_set_max(0)
    set_threads(threads)
    libc_name = ctypes.util.find_library("c")
    if libc_name:
        m_arena_max = -8  # glibc's M_ARENA_MAX
        ctypes.CDLL(libc_name).mallopt(m_arena_max, malloc_arenas)


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
    return _header_facts(source).info


@dataclass(frozen=True)
class HeaderFacts:
    """Everything a render needs from the header, so the header is read once (a render then
    opens the file only through ``thumbnail``)."""

    info: SourceInfo
    to_srgb: bool  # an embedded non-sRGB profile: convert on load
    has_xmp: bool
    streams: bool  # decodes top to bottom in strips (or shrinks on load): no whole-image buffer
    heif_hevc: bool


# Header facts by (path, mtime, size): catalog originals never change in place, and a file
# that does change gets a new key. Bounded; a hit saves a header parse per request.
_HEADERS: OrderedDict[tuple[str, int, int], HeaderFacts] = OrderedDict()
_HEADERS_LOCK = threading.Lock()
HEADER_CACHE_SIZE = 4096
_WHOLE_IMAGE_LOADERS = ("gifload", "heifload", "magickload", "svgload", "pdfload")


def _header_facts(source: Source) -> HeaderFacts:
    if isinstance(source, bytes):
        return _read_facts(_open(source))
    try:
        stat = Path(source).stat()
    except OSError:
        raise SourceNotFoundError(f"source image {Path(source).name!r} not found") from None
    key = (str(source), stat.st_mtime_ns, stat.st_size)
    with _HEADERS_LOCK:
        if key in _HEADERS:
            _HEADERS.move_to_end(key)
            return _HEADERS[key]
    facts = _read_facts(_open(source))
    with _HEADERS_LOCK:
        _HEADERS[key] = facts
        while len(_HEADERS) > HEADER_CACHE_SIZE:
            _HEADERS.popitem(last=False)
    return facts


def _read_facts(header: pyvips.Image) -> HeaderFacts:
    info = source_info(header)
    interlaced = header.get_typeof("interlaced") != 0 and bool(header.get("interlaced"))
    hevc = header.get_typeof("heif-compression") != 0 and header.get("heif-compression") == "hevc"
    streams = not interlaced and not info.loader.startswith(_WHOLE_IMAGE_LOADERS)
    return HeaderFacts(info, _needs_profile_conversion(header), _has_xmp(header), streams,
                       bool(hevc))  # fmt: skip


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


def _load(source: Source, facts: HeaderFacts, step: Step) -> pyvips.Image:
    options: dict[str, Any] = {"height": step.arg("height"), "size": "force", "fail_on": "error"}
    if facts.to_srgb:
        options["export_profile"] = "srgb"
    if isinstance(source, bytes):
        image = pyvips.Image.thumbnail_buffer(source, step.arg("width"), **options)
    else:
        image = pyvips.Image.thumbnail(str(source), step.arg("width"), **options)
    return vips_ops.to_srgb8(image)


# ---- running the plan -------------------------------------------------------------------------


def _run(
    source: Source, facts: HeaderFacts, render_plan: RenderPlan, attrs: CatalogAttributes
) -> pyvips.Image:
    info = render_plan.source
    image = _load(source, facts, render_plan.steps[0])
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


def _decode_error(exc: pyvips.Error, facts: HeaderFacts, source: Source) -> RenderError:
    """A public message for a libvips failure (file paths are never shown)."""
    detail = f"{exc.message} {exc.detail or ''}"
    if facts.info.loader == "heifload" and facts.heif_hevc:
        return SourceFormatError(
            "HEIC (HEVC) images cannot be decoded by this build: its libheif has no HEVC decoder"
        )
    if _DAMAGED.search(detail):
        return CorruptSourceError("the source image is truncated or damaged and cannot be decoded")
    first = detail.strip().splitlines()[0] if detail.strip() else "unknown error"
    if not isinstance(source, bytes):
        first = first.replace(str(source), Path(source).name)
    return RenderError(f"image processing failed: {first}")
