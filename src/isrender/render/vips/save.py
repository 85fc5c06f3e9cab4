"""Output: colour space, palette and encoding (spec §6.3), on pyvips images.

Profiles: ``sRGB`` (and its common names) and every standard CMYK identifier resolve to
libvips' built-in sRGB and CMYK profiles, so a CMYK output works with no files installed;
``CatalogAttributes.icc_profiles`` maps other names (``AdobeRGB``, a press profile) to files.
Formats this libvips build cannot write are refused with UnsupportedFeatureError.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from pathlib import Path

import pyvips

from isrender.commands.output import profile_pixel_type
from isrender.commands.values import Quantize
from isrender.errors import OutputLimitError, UnsupportedFeatureError
from isrender.render.steps import EncodeOptions
from isrender.render.vips import jpeg_encode

__all__ = ["encode", "to_output_space"]

KEEP = pyvips.enums.ForeignKeep


def _profile_file(name: str, profiles: dict[str, str]) -> str:
    """The profile to hand libvips for an ``icc=`` name."""
    for key, path in profiles.items():
        if key.lower() == name.lower():
            return str(Path(path))
    kind = profile_pixel_type(name)
    if kind == "cmyk":
        return "cmyk"
    if name.lower() in ("srgb", "srgb iec61966-2.1"):
        return "srgb"
    raise UnsupportedFeatureError(
        f"no ICC profile file is configured for icc={name}; built in are sRGB and CMYK "
        f"(add it to the catalog's icc_profiles)"
    )


def to_output_space(
    image: pyvips.Image, profile: str | None, pixel_type: str | None, profiles: dict[str, str]
) -> pyvips.Image:
    """Convert to the ``icc=`` profile or the ``fmt`` pixel type (D-38: icc wins)."""
    if profile is not None:
        target = _profile_file(profile, profiles)
        converted = image.icc_transform(target, input_profile="srgb", embedded=False)
        return converted.cast("uchar")
    if pixel_type == "gray":
        return image.colourspace("b-w")
    if pixel_type == "cmyk":
        return image.icc_transform("cmyk", input_profile="srgb", embedded=False).cast("uchar")
    return image


def encode(image: pyvips.Image, options: EncodeOptions, source_xmp: bool) -> bytes:
    """Encode with the options of the plan's ``encode`` step."""
    spec = options.spec
    if spec.saver is None:
        raise UnsupportedFeatureError(f"fmt={spec.name} output is not supported by this build")
    keep = KEEP.NONE
    if options.embed_icc and image.get_typeof("icc-profile-data") != 0:
        keep |= KEEP.ICC
    if options.embed_xmp and source_xmp:
        keep |= KEEP.XMP
    if options.print_res:
        image = _with_print_resolution(image, options.print_res)
        if spec.saver == "jpeg":
            keep |= KEEP.EXIF  # JPEG carries the density in EXIF; the source's is removed
    return _SAVERS[spec.saver](image, options, keep)


def _with_print_resolution(image: pyvips.Image, dpi: float) -> pyvips.Image:
    """The image with ``dpi`` as its resolution and no EXIF of the source's (camera data and
    locations stay private; libvips writes a minimal EXIF block from the resolution). The
    EXIF thumbnail goes too: libvips would write it back, and it shows the whole original,
    crops and all."""
    per_mm = dpi / 25.4
    image = image.copy(xres=per_mm, yres=per_mm)
    for name in image.get_fields():
        if name.startswith("exif-") or name == "jpeg-thumbnail-data":
            image.remove(name)
    return image


def _jpeg(image: pyvips.Image, options: EncodeOptions, keep: int) -> bytes:
    # A small baseline reply with no metadata: libjpeg-turbo writes libvips' bytes, faster.
    lean = keep == KEEP.NONE and not options.spec.progressive
    full_chroma = options.full_chroma
    pixels = jpeg_encode.pixels(image, options.quality, full_chroma) if lean else None

    def save(quality: int) -> bytes:
        fast = pixels.encode(quality, full_chroma) if pixels is not None else None
        if fast is not None:
            return fast
        computed = image if pixels is None else pixels.image()  # not computed twice
        data: bytes = computed.jpegsave_buffer(
            Q=quality,
            interlace=options.spec.progressive,
            subsample_mode="off" if jpeg_encode.full_chroma_at(quality, full_chroma) else "on",
            optimize_coding=True,
            keep=keep,
        )
        return data

    limit = options.jpeg_size * 1024
    if limit and pixels is None:
        image = image.copy_memory()  # encoded several times: decode the source once
    data = save(options.quality)
    if not limit or len(data) <= limit:
        return data
    # jpegSize: the highest quality that fits (binary search), else an error (§6.3).
    low, high, best = 1, options.quality - 1, None
    while low <= high:
        middle = (low + high) // 2
        attempt = save(middle)
        if len(attempt) <= limit:
            best, low = attempt, middle + 1
        else:
            high = middle - 1
    if best is None:
        raise OutputLimitError(
            f"jpegSize={options.jpeg_size} cannot be met: even quality 1 is "
            f"{len(save(1)) / 1024:.0f} KB"
        )
    return best


def _palette(
    image: pyvips.Image, quantize: Quantize | None, alpha: bool
) -> tuple[pyvips.Image, int, float]:
    """The image ready for a palette save, the colour count and the dither amount."""
    q = quantize or Quantize("adaptive")
    if q.palette == "mac":
        raise UnsupportedFeatureError("quantize=mac (the classic Mac OS palette) is not supported")
    dither = 1.0 if q.dither == "diffuse" else 0.0
    if q.forced:
        if len(q.forced) < q.colors:
            raise UnsupportedFeatureError(
                "quantize= with forced colours is supported when they fill the palette "
                f"({len(q.forced)} forced of {q.colors})"
            )
        return _nearest(image, q.forced[: q.colors]), q.colors, 0.0
    colours = q.colors - (1 if alpha and image.bands in (2, 4) else 0)
    if q.palette == "web":
        # The web-safe palette: each channel on multiples of 51 (216 colours), then the exact
        # colours survive the palette save.
        colour = image[:3] if image.bands >= 3 else image
        snapped = ((colour / 51 + 0.5).floor() * 51).cast("uchar")
        image = snapped.bandjoin(image[3]) if image.bands == 4 else snapped
        colours, dither = 256, 0.0
    return image, max(2, colours), dither


def _nearest(image: pyvips.Image, palette: tuple[tuple[int, int, int], ...]) -> pyvips.Image:
    """Each pixel replaced by its nearest palette colour (Euclidean in RGB); alpha kept."""
    alpha = image[3] if image.bands == 4 else None
    colour = (image[:3] if image.bands >= 3 else image.colourspace("srgb")).cast("float")
    best_distance = None
    result = None
    for rgb in palette:
        distance = ((colour - list(rgb)) ** 2).bandmean()
        if best_distance is None or result is None:
            best_distance, result = distance, colour.new_from_image(list(rgb))
            continue
        closer = distance < best_distance
        result = closer.ifthenelse(list(rgb), result)
        best_distance = closer.ifthenelse(distance, best_distance)
    assert result is not None
    result = result.cast("uchar").copy(interpretation="srgb")
    return result.bandjoin(alpha) if alpha is not None else result


def _png(image: pyvips.Image, options: EncodeOptions, keep: int) -> bytes:
    if options.spec.palette:
        image, colours, dither = _palette(image, options.quantize, options.spec.alpha)
        bitdepth = 8 if colours > 16 else 4 if colours > 4 else 2 if colours > 2 else 1
        data: bytes = image.pngsave_buffer(
            palette=True, Q=100, colours=colours, dither=dither, bitdepth=bitdepth, keep=keep
        )
        return data
    data = image.pngsave_buffer(compression=6, keep=keep)
    return data


def _gif(image: pyvips.Image, options: EncodeOptions, keep: int) -> bytes:
    image, colours, dither = _palette(image, options.quantize, options.spec.alpha)
    bitdepth = max(1, min(8, math.ceil(math.log2(colours))))
    data: bytes = image.gifsave_buffer(bitdepth=bitdepth, dither=dither, keep=KEEP.NONE)
    return data


_TIFF_COMPRESSION = {None: "none", "none": "none", "lzw": "lzw", "zip": "deflate", "jpeg": "jpeg"}


def _tiff(image: pyvips.Image, options: EncodeOptions, keep: int) -> bytes:
    data: bytes = image.tiffsave_buffer(
        compression=_TIFF_COMPRESSION[options.compression],
        Q=options.quality,
        keep=keep,
    )
    return data


def _heif(image: pyvips.Image, options: EncodeOptions, keep: int) -> bytes:
    hevc = options.spec.codec == "hevc"
    lossless = hevc or options.compression == "lossless"
    try:
        data: bytes = image.heifsave_buffer(
            compression=options.spec.codec,
            Q=options.quality,
            lossless=lossless,
            keep=keep,
        )
    except pyvips.Error:
        if hevc:
            raise UnsupportedFeatureError(
                f"fmt={options.format}: this build has no HEVC encoder"
            ) from None
        raise
    return data


def _webp(image: pyvips.Image, options: EncodeOptions, keep: int) -> bytes:
    lossless = options.compression == "lossless"
    data: bytes = image.webpsave_buffer(Q=options.quality, lossless=lossless, keep=keep)
    return data


# FormatSpec.saver (commands/formats.py) -> the function that writes it.
_SAVERS: dict[str, Callable[[pyvips.Image, EncodeOptions, int], bytes]] = {
    "jpeg": _jpeg,
    "png": _png,
    "gif": _gif,
    "tiff": _tiff,
    "webp": _webp,
    "heif": _heif,
}
