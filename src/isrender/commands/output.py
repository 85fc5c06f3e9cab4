"""Output commands (§6.3): reply format, quality, palette, colour profile, metadata."""

from __future__ import annotations

import re
from dataclasses import dataclass

from isrender.commands.args import Arg, ConstraintProblem, Flag, Int, Keyword, Real, Rest, Text
from isrender.commands.formats import CMYK, FORMATS, PIXEL_TYPES, RGB, format_spec
from isrender.commands.registry import NO_PIXELS, NOT_RENDERED, Scope, Tag, command, declare
from isrender.commands.values import Format, Icc, Quality, Quantize

R = Scope.REQUEST


# Standard profile identifiers of §6.3 icc= and the pixel type each converts to. Names outside
# this table are looked up in the deployment's profile map when rendering.
_RGB_PROFILES = (
    "AdobeRGB",
    "AppleRGB",
    "CIERGB",
    "ColorMatchRGB",
    "NTSC",
    "PAL",
    "ProPhoto",
    "SMPTE",
    "sRGB",
    "WideGamutRGB",
)
_CMYK_PROFILES = (
    "CoatedFogra27",
    "CoatedFogra39",
    "CoatedGraCol",
    "EuropeISOCoated",
    "EuroscaleCoated",
    "EuroscaleUncoated",
    "JapanColorCoated",
    "JapanColorNewspaper",
    "JapanColorUncoated",
    "JapanColorWebCoated",
    "JapanWebCoated",
    "NewsprintSNAP2007",
    "PS4Default",
    "PS5Default",
    "SheetfedCoated",
    "SheetfedUncoated",
    "UncoatedFogra29",
    "WebCoated",
    "WebCoatedFogra28",
    "WebCoatedGrade3",
    "WebCoatedGrade5",
    "WebUncoated",
)
_COMMON_NAMES = {
    "Adobe RGB (1998)": "AdobeRGB",
    "Apple RGB": "AppleRGB",
    "ProPhoto RGB": "ProPhoto",
    "sRGB IEC61966-2.1": "sRGB",
    "Wide Gamut RGB": "WideGamutRGB",
    "ColorMatch RGB": "ColorMatchRGB",
}
STANDARD_PROFILES: dict[str, str] = {
    **{name.lower(): RGB for name in _RGB_PROFILES},
    **{name.lower(): CMYK for name in _CMYK_PROFILES},
    **{common.lower(): RGB for common in _COMMON_NAMES},
}


def profile_pixel_type(profile: str) -> str | None:
    """The pixel type of a standard profile identifier or common name; None if unknown."""
    return STANDARD_PROFILES.get(profile.lower())


@command(
    "fmt",
    R,
    Tag.CORE,
    Keyword("format", choices=tuple(FORMATS)),
    Keyword("pixelType", choices=PIXEL_TYPES, optional=True, skippable=True),
    Keyword(
        "compression",
        choices=("jpeg", "lossy", "lossless", "lzw", "none", "zip"),
        optional=True,
    ),
    renders="encode",
)
def fmt(format: str, pixel_type: str | None, compression: str | None) -> Format:
    """Reply format, with an optional pixel type (rgb, gray, cmyk) and compression."""
    rule = format_spec(format)
    if pixel_type is not None and pixel_type not in rule.pixel_types:
        allowed = ", ".join(rule.pixel_types) or "none"
        raise ConstraintProblem(
            f"fmt={format} cannot be {pixel_type}", f"{format} allows pixel types: {allowed}"
        )
    if compression is not None and compression not in rule.compressions:
        allowed = ", ".join(rule.compressions) or "no compression option (D-39)"
        raise ConstraintProblem(
            f"fmt={format} does not take compression {compression!r}", f"{format} allows {allowed}"
        )
    return Format(format, pixel_type, compression)


@command(
    "qlt",
    R,
    Tag.CORE,
    Int("quality", lo=1, hi=100),
    Flag("chroma", optional=True, default=False),
    renders="encode",
)
def qlt(quality: int, chroma: bool) -> Quality:
    """JPEG quality 1-100; a second argument of 1 disables chroma subsampling."""
    return Quality(quality, chroma)


_HEX6 = re.compile(r"[0-9A-Fa-f]{6}\Z")


@dataclass(frozen=True)
class Hex6(Arg):
    """A palette colour: exactly six hex digits, no ``0x`` (§6.3 quantize)."""

    kind = "six hex digits (RRGGBB)"

    def convert(self, part: str) -> tuple[int, int, int]:
        if not _HEX6.match(part):
            raise self.problem(part)
        r, g, b = bytes.fromhex(part)
        return r, g, b


@command(
    "quantize",
    R,
    Tag.CORE,
    Keyword("palette", choices=("adaptive", "web", "mac")),
    Keyword("dither", choices=("diffuse", "off"), optional=True, default="diffuse"),
    Int("numColors", lo=2, hi=256, optional=True, default=256),
    Rest("colors", item=Hex6("color")),
    renders="encode",
)
def quantize(
    palette: str, dither: str, num_colors: int, colors: tuple[tuple[int, int, int], ...]
) -> Quantize:
    """Palette for gif and png8: adaptive, web or mac; dithering; colour count; forced colours."""
    return Quantize(palette, dither, num_colors, colors)


declare(
    "pscan",
    R,
    Tag.CORE,
    Keyword("scans", choices=("auto", "3", "4", "5")),
    renders=NO_PIXELS,
    summary="Number of progressive scans for fmt=pjpeg: auto, 3, 4 or 5.",
)


declare(
    "jpegSize",
    R,
    Tag.CORE,
    Int("kilobytes", lo=0),
    renders="encode",
    summary="Cap on the JPEG size in kilobytes (0 = none); quality is lowered until it fits.",
)


@command(
    "icc",
    R,
    Tag.CORE,
    Text("profile"),
    Keyword(
        "intent",
        choices=("perceptual", "relative", "saturation", "absolute"),
        optional=True,
    ),
    Flag("blackPointCompensation", optional=True),
    Flag("dither", optional=True),
    renders="colour",
)
def icc(profile: str, intent: str | None, bpc: bool | None, dither: bool | None) -> Icc:
    """Output colour profile (a profile name; its pixel type becomes the output's) and intent."""
    return Icc(_COMMON_NAMES.get(profile, profile), intent, bpc, dither)


declare(
    "iccEmbed",
    R,
    Tag.CORE,
    Flag("embed"),
    renders="encode",
    summary="Embed the output colour profile in the reply.",
)


declare(
    "xmpEmbed",
    R,
    Tag.CORE,
    Flag("embed"),
    renders="encode",
    summary="Copy the source's XMP metadata into the reply (jpeg, tif).",
)


declare(
    "pathEmbed",
    R,
    Tag.SERVER,
    Flag("embed"),
    renders=NOT_RENDERED,
    summary="Copy the source's Photoshop paths into the reply (jpeg, tif, eps).",
)


declare(
    "printRes",
    R,
    Tag.CORE,
    Real("dpi", lo=0, lo_open=True),
    renders="encode",
    summary="Print resolution in dpi written into the reply header; pixel size does not change.",
)


declare(
    "resMode",
    R,
    Tag.CORE,
    Keyword(
        "mode", choices=("bilin", "bicub", "sharp2", "bisharp"), aliases=(("sharp", "sharp2"),)
    ),
    renders="resize",
    summary="Resampling for every scaling step: bilin, bicub, sharp2 or bisharp (sharp = sharp2).",
)
