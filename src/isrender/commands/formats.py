"""The output formats of ``fmt=`` (§6.3): the one table every other part reads.

Parsing (which names ``fmt=`` accepts, with which pixel types and compressions), planning (does
the reply keep alpha), encoding (which libvips saver), file names and media types, the formats
an ExportJob can produce and ``isrender commands fmt`` are all derived from ``FORMATS`` below.
A format named anywhere else is a bug (tests/test_docs_and_layout.py looks for one).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

__all__ = [
    "CMYK",
    "FORMATS",
    "GRAY",
    "PIXEL_TYPES",
    "PRODUCIBLE",
    "RGB",
    "FormatSpec",
    "format_spec",
]

RGB, GRAY, CMYK = "rgb", "gray", "cmyk"
PIXEL_TYPES = _ALL = (RGB, GRAY, CMYK)
_LOSSY = ("lossy", "lossless")


@dataclass(frozen=True, slots=True)
class FormatSpec:
    """One ``fmt=`` name and everything it means.

    ``saver`` is the encoder family in render/vips/save.py (None: isrender cannot write the
    format; a request for it is refused before decoding). ``optional_codec`` marks a saver that
    many libvips builds lack (HEVC): exports refuse it up front instead of failing each entry.
    """

    name: str
    extension: str
    media_type: str
    pixel_types: tuple[str, ...]
    compressions: tuple[str, ...] = ()
    alpha: bool = False
    saver: str | None = None
    progressive: bool = False
    palette: bool = False
    codec: str = ""  # the heif saver's compression: av1 or hevc
    optional_codec: bool = False
    other_extensions: tuple[str, ...] = ()  # other spellings of ``extension`` in file names

    @property
    def writable(self) -> bool:
        return self.saver is not None


def _family(
    names: tuple[str, ...], extension: str, media_type: str, pixel_types: tuple[str, ...],
    compressions: tuple[str, ...] = (), saver: str | None = None, **extra: Any,
) -> dict[str, FormatSpec]:  # fmt: skip
    """A family's plain name and its ``-alpha`` variant share everything else."""
    specs = {}
    for name in names:
        alpha = name.endswith("-alpha")
        specs[name] = FormatSpec(name, extension, media_type, pixel_types, compressions, alpha,
                                 saver, **extra)  # fmt: skip
    return specs


_JPG = (".jpeg", ".jpe", ".jfif")
_TIF_ALPHA = FormatSpec("tif-alpha", ".tiff", "image/tiff", _ALL, ("none", "lzw", "zip"), True,
                        "tiff", other_extensions=(".tif",))  # fmt: skip
FORMATS: dict[str, FormatSpec] = {
    **_family(("jpeg", "jpg"), ".jpg", "image/jpeg", _ALL, saver="jpeg", other_extensions=_JPG),
    **_family(
        ("pjpeg",),
        ".jpg",
        "image/jpeg",
        _ALL,
        saver="jpeg",
        progressive=True,
        other_extensions=_JPG,
    ),
    **_family(("png", "png-alpha"), ".png", "image/png", (RGB, GRAY), saver="png"),
    **_family(("png8", "png8-alpha"), ".png", "image/png", (RGB,), saver="png", palette=True),
    **_family(("gif", "gif-alpha"), ".gif", "image/gif", (RGB, GRAY), saver="gif", palette=True),
    **_family(
        ("tif",),
        ".tiff",
        "image/tiff",
        _ALL,
        ("none", "lzw", "zip", "jpeg"),
        "tiff",
        other_extensions=(".tif",),
    ),
    "tif-alpha": _TIF_ALPHA,
    **_family(("webp", "webp-alpha"), ".webp", "image/webp", (RGB,), _LOSSY, "webp"),
    **_family(
        ("avif", "avif-alpha"), ".avif", "image/avif", (RGB,), _LOSSY, "heif", codec="av1"
    ),  # D-40
    # D-40: lossless only, a no-op
    **_family(
        ("heic",),
        ".heic",
        "image/heic",
        (RGB,),
        ("lossless",),
        "heif",
        codec="hevc",
        optional_codec=True,
    ),
    **_family(("jpeg2000", "jpeg2000-alpha"), ".jp2", "image/jp2", (RGB, GRAY), _LOSSY),
    **_family(("jpegxr", "jpegxr-alpha"), ".jxr", "image/vnd.ms-photo", (RGB,), _LOSSY),
    **_family(("pdf",), ".pdf", "application/pdf", _ALL, ("none", "zip", "jpeg")),
    **_family(("eps",), ".eps", "image/eps", _ALL),
    **_family(
        ("swf", "swf-alpha", "swf3", "swf3-alpha"),
        ".swf",
        "application/x-shockwave-flash",
        (RGB, GRAY),
    ),
    # streaming manifests, req=mbrSet only
    **_family(("f4m",), ".f4m", "application/f4m+xml", ()),
    **_family(("m3u8",), ".m3u8", "application/vnd.apple.mpegurl", ()),
}

# What an ExportJob can write (§2.8.5): every writable format but optional codecs.
PRODUCIBLE = frozenset(n for n, s in FORMATS.items() if s.writable and not s.optional_codec)


def format_spec(name: str) -> FormatSpec:
    """The spec of a format name ``fmt=`` accepted (KeyError for any other name)."""
    return FORMATS[name]
