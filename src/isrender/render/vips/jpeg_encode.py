"""Small baseline JPEG replies encoded by libjpeg-turbo through Pillow, with libvips' bytes.

libvips' ``jpegsave`` has a fixed cost (its sink and write thread, an encoder set up for
mozjpeg) and a slower two-pass Huffman coder: the 300x200 reply of the 800x533 corpus photo,
from pixels in memory, took 1.6 ms of CPU to encode through libvips and 0.6 ms through Pillow,
with the same Huffman optimisation, quantisation tables, DCT and chroma subsampling. In a
render, where libvips computes the pixels anyway, the whole render took ~6% less CPU
(benchmarks/test_small_source.py). The bytes are libvips' bytes once Pillow's JFIF header is
left out (APP0, which libvips does not write when it keeps no metadata):
tests/render/test_jpeg_encode.py compares them over sizes, qualities, grey and noise, and
whole replies either way.

Only for replies that keep no metadata (no ``iccEmbed``, ``xmpEmbed`` or ``printRes``: libvips
writes those segments its own way), baseline (``fmt=pjpeg`` stays with libvips, whose scan
script is mozjpeg's), 8-bit sRGB at 4:2:0 or grey (``Pixels.encode`` says why not 4:4:4), and
up to ``MAX_PIXELS``. The pixels are computed into memory first, by libvips, where a stop still
kills them; then one call encodes them, which cannot be stopped: ~10-30 ms for the largest.
``RenderJob.memory_bytes`` counts the reply at 4 bytes a pixel: the pixels (3) and Pillow's
output buffer (1).
"""

from __future__ import annotations

import io
from dataclasses import dataclass

import pyvips
from PIL import Image

__all__ = ["MAX_PIXELS", "Pixels", "full_chroma_at", "pixels"]

MAX_PIXELS = 1_000_000  # a 1000x1000 reply: 3 MB held, at most ~30 ms to encode
# libvips' interpretation (8-bit) -> Pillow's mode and the bands (new_from_memory names the
# same bands the same way)
_LAYOUTS = {"b-w": ("L", 1), "srgb": ("RGB", 3)}
_FULL_CHROMA_FROM = 90  # 4:2:0 below quality 90, 4:4:4 from it (libvips' subsample_mode="auto")


@dataclass(frozen=True)
class Pixels:
    """A reply's pixels in memory, ready to encode at any quality (``jpegSize`` tries several)."""

    data: bytes
    size: tuple[int, int]
    interpretation: str

    def encode(self, quality: int, full_chroma: bool) -> bytes | None:
        """The JPEG libvips' ``jpegsave(Q=quality, optimize_coding=True, keep=NONE)`` writes;
        None to leave it to libvips: colour at 4:4:4 (``qlt=q,1``, or from quality 90).

        Pillow gives a two-pass (optimised) encode one output buffer, which libjpeg cannot
        suspend on when it fills: 1 byte a pixel (2 from quality 95), at least 64 KB. Noise,
        the worst case measured, takes 0.78 bytes a pixel at 4:2:0 and quality 89, but 1.05 at
        4:4:4 and quality 70, up to 3 at quality 100; grey noise fits at every quality (tests).
        A larger ``ImageFile.MAXBLOCK`` would be Pillow's remedy, but a 4 MB buffer per save
        cost ~1 ms a render, more than this encoder saves. Should anything still overflow,
        libvips encodes it."""
        if _leaves(self.interpretation, quality, full_chroma):
            return None
        mode = _LAYOUTS[self.interpretation][0]
        image = Image.frombuffer(mode, self.size, self.data, "raw", mode, 0, 1)
        options: dict[str, int | bool] = {"quality": quality, "optimize": True}
        if mode == "RGB":  # on grey, Pillow's 4:2:0 would change the sampling factors
            options["subsampling"] = 2  # 4:2:0: full_chroma_at() is False here (_leaves)
        buffer = io.BytesIO()
        try:
            image.save(buffer, "JPEG", **options)
        except OSError:  # "Suspension not allowed here": the buffer above was too small
            return None
        return _without_jfif(buffer.getvalue())

    def image(self) -> pyvips.Image:
        """The pixels as a libvips image again (no copy), for libvips to encode."""
        width, height = self.size
        bands = _LAYOUTS[self.interpretation][1]
        image: pyvips.Image = pyvips.Image.new_from_memory(self.data, width, height, bands, "uchar")
        return image


def pixels(image: pyvips.Image, quality: int, full_chroma: bool) -> Pixels | None:
    """``image`` computed into memory, if this encoder is for it at ``quality`` (and below:
    ``jpegSize`` only lowers it); None: libvips encodes."""
    interpretation = image.interpretation
    layout = _LAYOUTS.get(interpretation)
    if layout is None or layout[1] != image.bands or image.format != "uchar":
        return None
    if image.width * image.height > MAX_PIXELS or _leaves(interpretation, quality, full_chroma):
        return None
    return Pixels(image.write_to_memory(), (image.width, image.height), interpretation)


def full_chroma_at(quality: int, asked: bool) -> bool:
    """Whether a JPEG at ``quality`` keeps full chroma (4:4:4): asked (``qlt=q,1``), or from
    quality 90, as libvips' ``subsample_mode="auto"`` decides (tests/render/test_jpeg_encode.py
    compares with it). Both encoders follow this one rule."""
    return asked or quality >= _FULL_CHROMA_FROM


def _leaves(interpretation: str, quality: int, full_chroma: bool) -> bool:
    """Whether a JPEG at ``quality`` is left to libvips: colour at 4:4:4, which may overflow
    Pillow's output buffer (``Pixels.encode``)."""
    return interpretation == "srgb" and full_chroma_at(quality, full_chroma)


def _without_jfif(data: bytes) -> bytes:
    """``data`` without the JFIF APP0 segment Pillow writes right after SOI. Should a later
    Pillow not write it, the JPEG is left whole: still valid, one header longer than libvips'
    (the byte comparisons of the tests would say so)."""
    if data[2:4] != b"\xff\xe0" or data[6:11] != b"JFIF\x00":
        return data
    return data[:2] + data[4 + int.from_bytes(data[4:6], "big") :]
