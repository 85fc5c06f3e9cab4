"""A JPEG held in memory, decoded at 1/2, 1/4 or 1/8 by libjpeg-turbo in one call and handed
to libvips as pixels.

libvips' JPEG loader feeds libjpeg 4 KB of the file at a time and asks for one row per call:
libjpeg-turbo then decodes much of the entropy-coded data on its careful path (the fast one
wants more bytes at hand than a 4 KB buffer keeps). On the 800x533 corpus photo, decoding at
1/2 took 7.3 ms of CPU through libvips and 4.3 ms through libjpeg-turbo's own API given the
whole file (simplejpeg), a third of a 300 px render (README, "Performance"). The pixels are the
same: the same scaled IDCT and the same upsampling (tests/render/test_jpeg_turbo.py compares
them byte for byte with libvips', over the corpus and odd sizes; tests/render/test_load.py
compares the replies).

Only for what the direct path of render/vips/load.py already holds in memory (a baseline file
up to 2 MB, a progressive one at 1/8 without its AC scans), and within ``MAX_BYTES`` in and
``MAX_PIXELS`` out: one call cannot be stopped halfway as a libvips pipeline can, so it must
stay short (tens of milliseconds, well inside a render_timeout's second), and its whole output
is held in memory (counted by ``RenderJob.memory_bytes``). A file libjpeg warns about
(damaged, truncated), or that simplejpeg cannot read at all, is left to libvips, which decides
as it always did (``fail_on="error"``).
"""

from __future__ import annotations

import pyvips
import simplejpeg

__all__ = ["MAX_BYTES", "MAX_PIXELS", "MIN_SIDE", "decode", "decodes"]

# Below this a neighbouring libjpeg scale (3/8 next to 1/2) could give the same rounded size
# and other pixels; such small sources gain nothing anyway.
MIN_SIDE = 64
MAX_BYTES = 4 << 20  # entropy-coded data: ~20 ms of decode at most
MAX_PIXELS = 4_000_000  # the decoded image, held whole: 12 MB in RGB
# bands -> the colour spaces stored in the file, the one decoded to, libvips' interpretation
_COLOURSPACES = {1: (("Gray",), "GRAY", "b-w"), 3: (("YCbCr", "RGB"), "RGB", "srgb")}


def decodes(width: int, height: int, shrink: int) -> bool:
    """Whether a ``width`` x ``height`` JPEG at ``1/shrink`` is small enough for ``decode``."""
    fits = min(width, height) >= MIN_SIDE * shrink
    return fits and -(-width // shrink) * -(-height // shrink) <= MAX_PIXELS


def decode(data: bytes, shrink: int, bands: int) -> pyvips.Image | None:
    """``data`` decoded at ``1/shrink`` as libvips' ``jpegload(shrink=...)`` decodes it (its
    size rounded down); None when this decoder should not (libvips then does)."""
    colourspaces = _COLOURSPACES.get(bands)
    if colourspaces is None or len(data) > MAX_BYTES:
        return None
    try:
        height, width, stored, _ = simplejpeg.decode_jpeg_header(data)
        height, width = int(height), int(width)
        if stored not in colourspaces[0] or not decodes(width, height, shrink):
            return None  # CMYK, YCCK (libvips knows their inks); too small or too large
        wanted = (-(-height // shrink), -(-width // shrink), bands)  # libjpeg rounds up
        pixels = simplejpeg.decode_jpeg(
            data, colorspace=colourspaces[1], min_height=wanted[0], min_width=wanted[1],
            strict=True,
        )  # fmt: skip
    except Exception:  # a warning, an error, a sampling it has no name for (4:4:1: KeyError)
        return None  # libvips decides, as before
    if pixels.shape != wanted:
        return None
    rows, columns = height // shrink, width // shrink
    # libvips' size: the first rows stay one block of memory, fewer columns are copied (~0.2 ms
    # less than building libvips' crop and copy operations on the 800x533 photo).
    pixels = pixels[:rows] if columns == wanted[1] else pixels[:rows, :columns].copy()
    image = pyvips.Image.new_from_memory(pixels.data, columns, rows, bands, "uchar")
    if image.interpretation != colourspaces[2]:  # libvips names 3 bands srgb, 1 band b-w
        image = image.copy(interpretation=colourspaces[2])
    # As libvips' sequential load marks its image: a resize further down (a nested request's
    # result resized again) computes otherwise and differs by 1-2 levels in places.
    image.set_type(pyvips.GValue.gint_type, "vips-sequential", 1)
    return image
