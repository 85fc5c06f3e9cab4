"""Decoding a source to the size a plan's ``Load`` step asks for, with what its header said.

Two ways:
- a plain JPEG (sRGB or grey, no profile to convert) that shrinks on load by 2, 4 or 8 is
  decoded at that shrink, resized the rest of the way and turned upright (EXIF orientation),
  as Pillow's draft (thumbor) does; ``thumbnail`` keeps at least a 2x reduce after the
  shrink, so an 800 px source to 300 px decoded all of it. ~20% less CPU on small sources at
  ~44 dB PSNR against the full decode (README, "Performance"). The loader is called by name
  (the header named it: no sniffing of the file again), and a small baseline file's EXIF
  segment is left out of what libvips parses (render/jpeg_markers.py): ~1 ms of a 9 ms render;
  a progressive file decoded at 1/8 loses the AC scans that scale never reads
  (render/jpeg_scans.py): pixel-identical, 2.3-3.5x less CPU for the decode. What this reads
  into memory, libjpeg-turbo decodes in one call (render/vips/jpeg_turbo.py): the same
  pixels for a third less CPU on the small photo. (Unshrunk, ``jpegload`` + ``resize`` is not
  always thumbnail's bytes: 800x533 to 480x320 differs by 1 in places, so that stays with
  thumbnail.)
- everything else goes through ``thumbnail`` (shrink-on-load for JPEG, WebP, TIFF pyramids,
  HEIF; EXIF orientation applied; CMYK and non-sRGB profiles converted to sRGB).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pyvips

from isrender.errors import SourceNotFoundError
from isrender.render.jpeg_markers import without_exif
from isrender.render.jpeg_scans import for_eighth_scale
from isrender.render.steps import Load
from isrender.render.vips import jpeg_turbo
from isrender.render.vips import ops as vips_ops
from isrender.render.vips.headers import HeaderFacts, Source

__all__ = ["held_bytes", "load_source"]

# Files up to this size are read whole to leave their EXIF out; beyond it the decode dwarfs
# the parse, and a second copy of the file in memory is not worth the millisecond.
EXIF_SKIP_MAX_BYTES = 2 << 20
# A progressive file decoded at 1/8 is read whole to leave out its AC scans: 2.3-3.5x less
# CPU (~16% on a file whose chroma alone is refined bit by bit), and a 32 MB file's
# coefficients (~100 MB) dwarf the copy.
SCANS_SKIP_MAX_BYTES = 32 << 20


def load_source(
    source: Source, facts: HeaderFacts, step: Load,
    in_memory: Callable[[pyvips.Image], pyvips.Image] = pyvips.Image.copy_memory,
    profiles: bool = True,
) -> pyvips.Image:  # fmt: skip
    """``source`` decoded to ``step.width`` x ``step.height``, 8-bit sRGB (or grey).

    ``in_memory`` computes an image that must be whole before it is turned (a render's own
    can be stopped while it runs). ``profiles``: the image carries the source's ICC profile
    and XMP (an encode may embed them); a libjpeg-turbo decode reads them only then."""
    width, height = step.width, step.height
    shrink = _jpeg_shrink(facts, width, height)
    if shrink > 1:
        info = facts.info
        stored = (height, width) if info.orientation >= 5 else (width, height)  # 5-8: sideways
        shrunk = _jpeg_at_shrink(source, facts, shrink, profiles)
        image = shrunk.resize(stored[0] / shrunk.width, vscale=stored[1] / shrunk.height)
        if (image.width, image.height) == stored:
            image = _upright(image, info.orientation, in_memory)
            srgb = info.interpretation == "srgb" and info.bands == 3 and info.bits == 8
            return image if srgb else vips_ops.to_srgb8(image)  # 8-bit sRGB as decoded
    thumbnail: dict[str, Any] = {"height": height, "size": "force", "fail_on": "error"}
    if facts.to_srgb:
        thumbnail["export_profile"] = "srgb"
    if isinstance(source, bytes):
        image = pyvips.Image.thumbnail_buffer(source, width, **thumbnail)
    else:
        image = pyvips.Image.thumbnail(str(source), width, **thumbnail)
    return vips_ops.to_srgb8(image)


def _upright(image: pyvips.Image, orientation: int,
             in_memory: Callable[[pyvips.Image], pyvips.Image]) -> pyvips.Image:  # fmt: skip
    """The resized image turned as its EXIF orientation says (the EXIF may have been left out
    of the decode). Turning needs the whole image: it is the small, resized one, in memory."""
    if orientation == 1:
        return image
    image = in_memory(image)
    image.set_type(pyvips.GValue.gint_type, "orientation", orientation)
    return image.autorot()


def held_bytes(facts: HeaderFacts, step: Load) -> int:
    """At most what the decode of ``step`` holds whole in memory (libjpeg-turbo's output);
    libvips' own decodes stream, or are counted by the caller (progressive, GIF, HEIF)."""
    shrink = _jpeg_shrink(facts, step.width, step.height)
    info = facts.info
    from_file = not facts.streams and shrink != 8  # a progressive file libvips reads itself
    if shrink == 1 or from_file or not jpeg_turbo.decodes(info.width, info.height, shrink):
        return 0
    return -(-info.width // shrink) * -(-info.height // shrink) * info.bands


def _jpeg_shrink(facts: HeaderFacts, width: int, height: int) -> int:
    """The JPEG shrink-on-load factor for the direct path; 1: use thumbnail."""
    info = facts.info
    plain = not facts.to_srgb and info.interpretation in ("srgb", "b-w")
    if not (plain and info.loader.startswith("jpegload")):
        return 1
    fits = [k for k in (2, 4, 8) if info.width // k >= width and info.height // k >= height]
    return max(fits, default=1)


def _jpeg_at_shrink(
    source: Source, facts: HeaderFacts, shrink: int, profiles: bool
) -> pyvips.Image:
    options: dict[str, Any] = {"shrink": shrink, "access": "sequential", "fail_on": "error"}
    lean = _lean_bytes(source, facts, shrink)
    if lean is None:
        return pyvips.Image.jpegload(str(source), **options)
    lean = without_exif(lean)
    image = jpeg_turbo.decode(lean, shrink, facts.info.bands)
    if image is None:
        image = pyvips.Image.jpegload_buffer(lean, **options)
    elif profiles and (facts.info.has_icc or facts.has_xmp):  # as libvips reads them: ~0.3 ms
        image = _with_profiles(image, pyvips.Image.jpegload_buffer(lean, **options))
    return _with_header_resolution(image, facts)


def _with_profiles(image: pyvips.Image, header: pyvips.Image) -> pyvips.Image:
    """``image`` with the ICC profile and XMP of ``header`` (a load not yet decoded)."""
    image = image.copy()
    for name in ("icc-profile-data", "xmp-data"):
        if header.get_typeof(name):
            image.set_type(pyvips.GValue.blob_type, name, header.get(name))
    return image


def _lean_bytes(source: Source, facts: HeaderFacts, shrink: int) -> bytes | None:
    """What to decode from memory: the file without what this decode skips; ``None``: the file.

    A baseline file up to ``EXIF_SKIP_MAX_BYTES`` loses its EXIF; a progressive one decoded
    at 1/8 loses the AC scans that scale never reads (render/jpeg_scans.py). Any other
    progressive file decodes whole from disk: a copy of it in memory would add to the peak.
    """
    eighth = shrink == 8 and not facts.streams
    if isinstance(source, bytes):
        if eighth and len(source) <= SCANS_SKIP_MAX_BYTES:
            return for_eighth_scale(source) or source
        return source
    path = Path(source)
    try:  # a plan kept per ETag (catalog/images.py) does not look for the file again
        size = path.stat().st_size
        if eighth and size <= SCANS_SKIP_MAX_BYTES:
            return for_eighth_scale(path.read_bytes())
        return path.read_bytes() if facts.streams and size <= EXIF_SKIP_MAX_BYTES else None
    except OSError:
        raise SourceNotFoundError(f"source image {path.name!r} not found") from None


def _with_header_resolution(image: pyvips.Image, facts: HeaderFacts) -> pyvips.Image:
    """The resolution (and its unit) the header gave with EXIF, on the image loaded without."""
    unit = image.get("resolution-unit") if image.get_typeof("resolution-unit") else None
    if (image.xres, image.yres, unit) == (*facts.resolution, facts.resolution_unit):
        return image
    image = image.copy(xres=facts.resolution[0], yres=facts.resolution[1])
    if facts.resolution_unit is None:
        image.remove("resolution-unit")
    else:
        image.set_type(pyvips.GValue.gstr_type, "resolution-unit", facts.resolution_unit)
    return image
