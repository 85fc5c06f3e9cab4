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
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

import pyvips

from isrender.commands.formats import FORMATS
from isrender.errors import (
    CorruptSourceError,
    RenderError,
    RenderTimeout,
    SourceFormatError,
    UnsupportedFeatureError,
)
from isrender.render.attributes import CatalogAttributes
from isrender.render.layer_plan import MeasuredText
from isrender.render.layer_sources import Resolver, beside, layer_source_paths
from isrender.render.layers import ContentKind, content_kind
from isrender.render.nested import layer0_content, nested_info, plan_nested, source_loads
from isrender.render.plan import RenderPlan, SourceInfo, plan, solid_canvas
from isrender.render.steps import Encode, Load, SolidColour
from isrender.render.stop import StopSignal
from isrender.render.vips.executor import VipsOps
from isrender.render.vips.headers import HeaderFacts, Source, header_facts, read_source_info
from isrender.render.vips.load import held_bytes, load_source
from isrender.render.vips.text import font_map_at, measure_text_layer
from isrender.request import ImageRequest, NestedSource
from isrender.text.fonts import FontMap

__all__ = [
    "HeaderFacts",
    "RenderJob",
    "RenderResult",
    "plan_render",
    "raw_thumbnail",
    "read_source_info",
    "render_request",
    "set_threads",
    "tune_for_serving",
]


@dataclass(frozen=True)
class RenderResult:
    data: bytes
    media_type: str
    width: int
    height: int
    format: str
    extension: str
    plan: RenderPlan | None = None


def render_request(
    source: Source,
    request: ImageRequest,
    attributes: CatalogAttributes | None = None,
    stop: StopSignal | None = None,
    *,
    lenient: bool = False,
    resolve: Resolver | None = None,
) -> RenderResult:
    job = plan_render(source, request, attributes, lenient=lenient, resolve=resolve)
    return job.run(stop)


def plan_render(
    source: Source | None,
    request: ImageRequest,
    attributes: CatalogAttributes | None = None,
    *,
    lenient: bool = False,
    resolve: Resolver | None = None,
) -> RenderJob:
    """The header read (once per file version: render/vips/headers.py) and the plan made, with
    limits checked; no pixel is decoded until ``run``. ``resolve`` finds the file of a layer's
    ``src=`` object (default: next to the source file, then in the working directory).
    Layer 0's own ``src=`` replaces ``source`` (§1.9): an object (resolved like a layer's) or
    a nested ``is{...}`` request (render/nested.py). Without either, layer 0 must be a solid
    colour (``color=`` with ``size=``)."""
    attrs = attributes or CatalogAttributes()
    layers = _layer_headers(request, resolve or beside(source))
    infos = {name: layer_facts.info for name, (_, layer_facts) in layers.items()}
    fonts = font_map_at(attrs.font_map)

    def measure(measured: ImageRequest, canvas: tuple[int, int]) -> dict[int, MeasuredText]:
        return _measured_texts(measured, canvas, fonts, strict=not lenient)

    content, nested = layer0_content(request), None
    if isinstance(content, NestedSource):
        nested = plan_nested(content, infos, attrs, lenient=lenient, depth=1, where="layer 0",
                             measure=measure)  # fmt: skip
        source, facts = None, HeaderFacts(nested_info(nested), False, False, True, False)
    elif isinstance(content, str):
        source, facts = layers[content]
    else:
        facts = header_facts(source) if source is not None else _solid_facts(request)
    texts = measure(request, (facts.info.width, facts.info.height))
    render_plan = plan(request, facts.info, attrs, lenient=lenient, layer_sources=infos,
                       layer_texts=texts, layer0_nested=nested, measure_texts=measure)  # fmt: skip
    return RenderJob(source, facts, render_plan, attrs, layers)


def _measured_texts(
    request: ImageRequest, canvas: tuple[int, int], fonts: FontMap, *, strict: bool
) -> dict[int, MeasuredText]:
    """Each text layer above 0 laid out and drawn once to know its size (§6.7 auto-size), so
    the plan can place it; drawing it while rendering reuses this drawing (text.py)."""
    texts: dict[int, MeasuredText] = {}
    for layer in request.layers:
        if layer.number > 0 and content_kind(layer.attributes) is ContentKind.TEXT:
            layout, size = measure_text_layer(layer.attributes, fonts, canvas=canvas,
                                              strict=strict)  # fmt: skip
            texts[layer.number] = (layout, size, strict)
    return texts


def _solid_facts(request: ImageRequest) -> HeaderFacts:
    """A solid-colour layer 0 has no file: its "header" is its size (plan.solid_canvas)."""
    return HeaderFacts(solid_canvas(request), False, False, True, False)


def _layer_headers(request: ImageRequest, resolve: Resolver) -> dict[str, tuple[Path, HeaderFacts]]:
    """The file and header of every layer's src= object (render/layer_sources.py)."""
    paths = layer_source_paths(request, resolve)
    return {name: (path, header_facts(path)) for name, path in paths.items()}


@dataclass(frozen=True)
class RenderJob:
    """A planned render: what it will cost in memory, and running it."""

    source: Source | None  # None: layer 0 is a solid colour
    facts: HeaderFacts
    plan: RenderPlan
    attrs: CatalogAttributes
    layers: Mapping[str, tuple[Path, HeaderFacts]] = field(default_factory=dict)

    @cached_property  # a job is kept per ETag (catalog/images.py): worked out once
    def memory_bytes(self) -> int:
        """Estimated peak memory: the decode (a whole source for loaders that cannot stream
        or shrink on load: progressive JPEG, interlaced PNG, GIF, HEIF; measured ~3 bytes a
        pixel for a 24 Mpx progressive JPEG) plus the reduced image (and a JPEG decoded whole at
        its shrink: render/vips/jpeg_turbo.py) and the reply."""
        info, first = self.plan.source, self.plan.steps[0]
        loaded = first.width * first.height * 4 if isinstance(first, Load | SolidColour) else 0
        if isinstance(first, Load):
            loaded += held_bytes(self.facts, first)
        width, height = self.plan.reply_size
        reply = width * height * 4
        layers = sum(step.width * step.height * 4 for step in self._layer_loads())
        if self.facts.streams:
            return loaded + layers + reply
        return info.pixels * max(3, info.bands) + loaded + layers + reply

    def _layer_loads(self) -> list[Load]:
        """The other decodes (layers' and nested requests' sources, down the tree) and the
        nested results."""
        first = self.plan.steps[0]
        return [step for step in source_loads(self.plan.steps, results=True) if step is not first]

    def _open_layer(
        self, name: str, in_memory: Callable[[pyvips.Image], pyvips.Image]
    ) -> tuple[Callable[[Load], pyvips.Image], SourceInfo]:
        path, facts = self.layers[name]
        return (lambda step: load_source(path, facts, step, in_memory=in_memory)), facts.info

    def run(self, stop: StopSignal | None = None) -> RenderResult:
        """Decode, process and encode. When ``stop`` is stopped while libvips computes, the
        pipeline is killed at its next tile and RenderTimeout raised."""
        render_plan, facts = self.plan, self.facts
        source = self.source
        whole = b"" if source is None else source  # None: a solid colour, nothing to load
        embeds = _embeds_profiles(render_plan)
        ops = VipsOps(
            lambda step: load_source(whole, facts, step, ops.in_memory, profiles=embeds),
            render_plan.source,
            hold_in_memory=any(step.reorders_rows for step in render_plan.steps),
            icc_profiles=self.attrs.icc_profiles,
            source_xmp=facts.has_xmp,
            stop=stop,
            open_layer=lambda name: self._open_layer(name, ops.in_memory),  # stops with it
        )
        ops.font_map = font_map_at(self.attrs.font_map)  # the font_map setting's, as measured
        value: Any = self.source
        try:
            for step in render_plan.steps:  # from the source (Load) to bytes (Encode)
                value = step.apply(value, ops)
        except pyvips.Error as exc:
            if ops.killed.is_set():
                raise RenderTimeout(
                    "the render took longer than render_timeout; it was stopped"
                ) from None
            raise _decode_error(exc, facts, self.source) from None
        output = render_plan.output
        width, height = ops.reply_size
        return RenderResult(value, output.media_type, width, height, output.format,
                            output.extension, render_plan)  # fmt: skip


def _embeds_profiles(render_plan: RenderPlan) -> bool:
    """Whether the reply may carry the source's ICC profile or XMP (iccEmbed, xmpEmbed)."""
    return any(
        isinstance(step, Encode) and (step.options.embed_icc or step.options.embed_xmp)
        for step in render_plan.steps
    )


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
    _libvips_warnings_only()
    libc_name = ctypes.util.find_library("c")
    if libc_name:
        m_arena_max = -8  # glibc's M_ARENA_MAX
        ctypes.CDLL(libc_name).mallopt(m_arena_max, malloc_arenas)


def _libvips_warnings_only() -> None:
    """pyvips hands every libvips log message to Python logging, info ones included ("reducev:
    using vector path", eight a thumbnail); each takes the GIL from a libvips worker thread,
    which then waits behind whatever Python thread holds it. Warnings and errors still come
    through; info and debug go to GLib's default handler, which drops them."""
    flags = pyvips.GLogLevelFlags
    levels = (flags.LEVEL_MESSAGE | flags.LEVEL_WARNING | flags.LEVEL_CRITICAL
              | flags.LEVEL_ERROR | flags.FLAG_FATAL | flags.FLAG_RECURSION)  # fmt: skip
    remove, callback = (
        getattr(pyvips, "_remove_log_handler", None),
        getattr(pyvips, "_log_handler_cb", None),
    )
    if remove is None or callback is None:  # another pyvips: leave its logging as it is
        return
    remove()
    pyvips._log_handler_id = pyvips.glib_lib.g_log_set_handler(  # removed again at exit
        b"VIPS", levels, callback, pyvips.ffi.NULL
    )


def set_threads(threads: int) -> None:
    """libvips threads per operation, process-wide. A pool of N parallel conversions runs
    best with 1: measured on 2 cores, 2 export workers went from 1.61x to 1.81x a plain
    pyvips loop once libvips stopped adding threads of its own (benchmarks/test_export.py)."""
    pyvips.concurrency_set(max(1, threads))


# The savers whose quality option is Q (the others write losslessly).
_QUALITY_SAVERS = ("jpeg", "webp", "heif")


def raw_thumbnail(
    path: str | Path, width: int, height: int, fmt: str, quality: int, keep_alpha: bool = False
) -> bytes:
    """The floor ``isrender bench`` compares against: plain pyvips ``thumbnail`` to exactly
    ``width`` x ``height``, flattened onto white unless the reply keeps alpha, saved as
    ``fmt`` (isrender's names) at ``quality``, with no parsing, planning or checks: what
    libvips alone costs for the same reply."""
    spec = FORMATS.get(fmt)
    if spec is None or spec.saver is None or spec.optional_codec:
        raise UnsupportedFeatureError(f"no raw pyvips floor for fmt={fmt}")
    suffix = spec.extension
    options: dict[str, Any] = {"keep": pyvips.enums.ForeignKeep.NONE}
    if spec.saver in _QUALITY_SAVERS:
        options["Q"] = quality
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


# How libjpeg, libpng, giflib, libtiff, libwebp and libheif report damaged data.
_DAMAGED = re.compile(
    r"premature|unexpected end|read error|truncat|corrupt|bad huffman|out of data|incomplete"
    r"|not enough data|invalid (?:data|image|chunk|block)|decode error",
    re.IGNORECASE,
)


def _decode_error(exc: pyvips.Error, facts: HeaderFacts, source: Source | None) -> RenderError:
    """A public message for a libvips failure (file paths are never shown)."""
    detail = f"{exc.message} {exc.detail or ''}"
    if facts.info.loader == "heifload" and facts.heif_hevc:
        return SourceFormatError(
            "HEIC (HEVC) images cannot be decoded by this build: its libheif has no HEVC decoder"
        )
    if _DAMAGED.search(detail):
        return CorruptSourceError("the source image is truncated or damaged and cannot be decoded")
    first = detail.strip().splitlines()[0] if detail.strip() else "unknown error"
    if isinstance(source, str | Path):
        first = first.replace(str(source), Path(source).name)
    return RenderError(f"image processing failed: {first}")
