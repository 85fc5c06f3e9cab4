"""Reading a source's header, once per file version: ``SourceInfo`` (what the plan needs) and
``HeaderFacts`` (what loading needs: profile conversion, XMP, whether the loader streams).
Nothing is decoded here; render/vips/renderer.py plans and loads with these facts.
"""

from __future__ import annotations

import re
import threading
from collections import OrderedDict
from dataclasses import dataclass
from pathlib import Path

import pyvips

from isrender.errors import SourceFormatError, SourceNotFoundError
from isrender.render.plan import SourceInfo

__all__ = [
    "HEADER_CACHE_SIZE",
    "HeaderFacts",
    "Source",
    "header_facts",
    "read_source_info",
    "source_info",
]

Source = str | Path | bytes


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
    return header_facts(source).info


@dataclass(frozen=True)
class HeaderFacts:
    """Everything a render needs from the header, so the header is read once (a render then
    opens the file only through ``thumbnail``)."""

    info: SourceInfo
    to_srgb: bool  # an embedded non-sRGB profile: convert on load
    has_xmp: bool
    streams: bool  # decodes top to bottom in strips (or shrinks on load): no whole-image buffer
    heif_hevc: bool
    resolution: tuple[float, float] = (0.0, 0.0)  # xres, yres (pixels/mm), EXIF's included
    resolution_unit: str | None = None  # "in" or "cm", as the source says (EXIF's included)


# Header facts by (path, mtime, size): catalog originals never change in place, and a file
# that does change gets a new key. Bounded; a hit saves a header parse per request.
_HEADERS: OrderedDict[tuple[str, int, int], HeaderFacts] = OrderedDict()
_HEADERS_LOCK = threading.Lock()
HEADER_CACHE_SIZE = 4096
_WHOLE_IMAGE_LOADERS = ("gifload", "heifload", "magickload", "svgload", "pdfload")


def header_facts(source: Source) -> HeaderFacts:
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
    unit = str(header.get("resolution-unit")) if header.get_typeof("resolution-unit") else None
    return HeaderFacts(info, _needs_profile_conversion(header), _has_xmp(header), streams,
                       bool(hevc), (header.xres, header.yres), unit)  # fmt: skip


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


_SRGB_NAMES = re.compile(rb"sRGB|c2\x00|IEC61966", re.IGNORECASE)


def _needs_profile_conversion(header: pyvips.Image) -> bool:
    """Convert to sRGB when the embedded profile is not an sRGB one (thumbnail converts CMYK
    by itself). The profile's description is searched for sRGB names; 'c2' is the compact
    sRGB profile many web images carry."""
    if header.get_typeof("icc-profile-data") == 0 or header.interpretation == "cmyk":
        return False
    profile: bytes = header.get("icc-profile-data")
    return not _SRGB_NAMES.search(profile[:1024])
