"""What the effective ``fmt=`` means for the output file: format, media type, extension (§3.7).

Pure data, no pyvips: the renderer maps these onto savers, and exports name files with them
(``fileToExport.jpg`` + ``&fmt=png`` + ``$test$`` (fmt=tif) -> ``fileToExport.tiff``).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import PurePath

from isrender.commands.values import Format
from isrender.request.model import ImageRequest

__all__ = ["OutputFormat", "export_filename", "extension_for", "output_format"]

DEFAULT_FORMAT = "jpeg"  # §6.3: fmt=jpeg with the default pixel type

_FAMILIES: tuple[tuple[str, str, str], ...] = (
    # (format name prefix, extension, media type); longer prefixes first
    ("jpeg2000", ".jp2", "image/jp2"),
    ("jpegxr", ".jxr", "image/vnd.ms-photo"),
    ("pjpeg", ".jpg", "image/jpeg"),
    ("jpeg", ".jpg", "image/jpeg"),
    ("jpg", ".jpg", "image/jpeg"),
    ("png", ".png", "image/png"),
    ("gif", ".gif", "image/gif"),
    ("tif", ".tiff", "image/tiff"),
    ("webp", ".webp", "image/webp"),
    ("avif", ".avif", "image/avif"),
    ("heic", ".heic", "image/heic"),
    ("pdf", ".pdf", "application/pdf"),
    ("eps", ".eps", "image/eps"),
    ("swf", ".swf", "application/x-shockwave-flash"),
    ("f4m", ".f4m", "application/f4m+xml"),
    ("m3u8", ".m3u8", "application/vnd.apple.mpegurl"),
)


@dataclass(frozen=True, slots=True)
class OutputFormat(Format):
    """The effective ``fmt=`` with what it means for the file: extension and media type."""

    extension: str = ""
    media_type: str = ""


def _family(name: str) -> tuple[str, str]:
    for prefix, extension, media_type in _FAMILIES:
        if name.startswith(prefix):
            return extension, media_type
    raise ValueError(f"no output family for fmt={name}")  # the table covers every format


def extension_for(format_name: str) -> str:
    """``tif-alpha`` -> ``.tiff``, ``pjpeg`` -> ``.jpg``, ``png8`` -> ``.png``, ..."""
    return _family(format_name)[0]


def output_format(request: ImageRequest) -> OutputFormat:
    """The reply format the effective ``fmt=`` asks for (JPEG when there is none)."""
    fmt: Format = request.globals.value("fmt") or Format(DEFAULT_FORMAT)
    extension, media_type = _family(fmt.format)
    return OutputFormat(fmt.format, fmt.pixel_type, fmt.compression, extension, media_type)


def export_filename(original: str, request: ImageRequest) -> str:
    """The exported file's name: the original's stem with the effective format's extension."""
    return PurePath(original).stem + output_format(request).extension
