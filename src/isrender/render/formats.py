"""What the effective ``fmt=`` means for the output file: format, media type, extension (§3.7).

Pure data, no pyvips: the renderer maps these onto savers, and exports name files with them
(``fileToExport.jpg`` + ``&fmt=png`` + ``$test$`` (fmt=tif) -> ``fileToExport.tiff``).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import PurePath

from isrender.commands.formats import FORMATS, FormatSpec
from isrender.commands.values import Format
from isrender.request.model import ImageRequest

__all__ = ["OutputFormat", "export_filename", "extension_for", "output_format"]

DEFAULT_FORMAT = "jpeg"  # §6.3: fmt=jpeg with the default pixel type


@dataclass(frozen=True, slots=True)
class OutputFormat(Format):
    """The effective ``fmt=`` with what it means for the file: extension and media type."""

    extension: str = ""
    media_type: str = ""

    @property
    def spec(self) -> FormatSpec:
        return FORMATS[self.format]


def extension_for(format_name: str) -> str:
    """``tif-alpha`` -> ``.tiff``, ``pjpeg`` -> ``.jpg``, ``png8`` -> ``.png``, ..."""
    return FORMATS[format_name].extension


def output_format(request: ImageRequest) -> OutputFormat:
    """The reply format the effective ``fmt=`` asks for (JPEG when there is none)."""
    fmt: Format = request.globals.value("fmt") or Format(DEFAULT_FORMAT)
    spec = FORMATS[fmt.format]
    return OutputFormat(fmt.format, fmt.pixel_type, fmt.compression, spec.extension,
                        spec.media_type)  # fmt: skip


def export_filename(original: str, request: ImageRequest) -> str:
    """The exported file's name: the original's stem with the effective format's extension."""
    return PurePath(original).stem + output_format(request).extension
