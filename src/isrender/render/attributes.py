"""Catalog attributes (spec §4.2): the defaults behind absent commands, and the per-company
attributes the image server applies.

``CatalogAttributes`` is what a render runs with. Its own defaults are a conversion tool's:
no DefaultPix or MaxPix limit (exports deliver full resolution, D-50), a 100 Mpx source limit
against decompression bombs, lanczos3 (sharp2) resampling, JPEG q80. The spec's test fixture
(§0.5) is ``CatalogAttributes.spec_fixture()``.

``ATTRIBUTES`` is the one table of the attributes a company can set (``isrender company set``,
``PUT /api/ips/v1/companies/{c}/attributes``), in the text form of an IS catalog file
(``DefaultPix=400,400``). A company stores only the attributes it sets; the others follow the
server-wide setting named in the table, whose defaults are the IS ones (DefaultPix 400,400,
MaxPix 2000,2000). ``resolve`` turns both into ``ServingAttributes``.
"""

from __future__ import annotations

import hashlib
import math
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

from isrender.commands.colors import Color, ColorSpace
from isrender.commands.values import Quality
from isrender.errors import InvalidAttributeError, IpsFault, closest

if TYPE_CHECKING:
    from isrender.config import Settings

__all__ = [
    "ATTRIBUTES",
    "AttributeSpec",
    "CatalogAttributes",
    "ServingAttributes",
    "attribute_spec",
    "effective_texts",
    "resolve",
]

WHITE = Color(ColorSpace.RGB, (1.0, 1.0, 1.0))
QUALITY_80 = Quality(80, False)
NEVER_EXPIRES = 365 * 24 * 3600  # Cache-Control max-age for Expiration=-1 ("never")


@dataclass(frozen=True)
class CatalogAttributes:
    default_pix: tuple[int, int] = (0, 0)  # 0 = unlimited
    max_pix: tuple[int, int] = (0, 0)  # 0 = unlimited
    bkg_color: Color = WHITE
    jpeg_quality: Quality = QUALITY_80
    res_mode: str = "sharp2"
    resolution: float = 100.0  # catalog::Resolution for res=
    max_source_pixels: int = 100_000_000  # checked from the header, before decoding
    max_render_pixels: int = 100_000_000  # the reply (IS::MaxRenderRgnPixels)
    # nested is{...} requests inside each other (IS sets no limit; every level is planned
    # and its sources' pixels count against max_source_pixels, so this only stops abuse)
    max_nesting_depth: int = 8
    # icc= names beyond the built-in ones (sRGB and the CMYK names): name -> .icc/.icm path
    icc_profiles: dict[str, str] = field(default_factory=dict)
    # the font_map setting: a TOML file added to the shipped font map (text/fonts.py)
    font_map: Path | None = None

    @classmethod
    def spec_fixture(cls) -> CatalogAttributes:
        """The fixture configuration of image-serving.md §0.5 (what the E-nn examples assume)."""
        return cls(
            default_pix=(400, 400),
            max_pix=(2000, 2000),
            jpeg_quality=QUALITY_80,
            res_mode="bicub",
            resolution=100.0,
            max_render_pixels=16_000_000,
        )

    @property
    def fingerprint(self) -> str:
        """Changes whenever anything a render reads from here changes (ETags, result cache)."""
        profiles = sorted(self.icc_profiles.items())
        # the map's path and its file's time: an edited map changes the ETags (and the result
        # cache keys); catalog/lookups.py drops what was cached with the old one
        fonts = (str(self.font_map), _mtime_ns(self.font_map)) if self.font_map else ()
        text = repr((self.default_pix, self.max_pix, self.bkg_color, self.jpeg_quality,
                     self.res_mode, self.resolution, self.max_source_pixels,
                     self.max_render_pixels, self.max_nesting_depth, profiles, *fonts))  # fmt: skip
        return hashlib.sha256(text.encode()).hexdigest()[:16]


@dataclass(frozen=True)
class ServingAttributes:
    """A company's attributes as ``/is/image`` applies them."""

    render: CatalogAttributes
    expiration: float  # hours (attribute::Expiration): -1 never expires, 0 at once
    request_lock: bool
    request_obfuscation: bool
    default_image: str  # empty: none

    @property
    def max_age(self) -> int:
        """Cache-Control max-age of image replies, in seconds."""
        return NEVER_EXPIRES if self.expiration < 0 else round(self.expiration * 3600)


# ---- reading attribute values --------------------------------------------------------------

_PIX = re.compile(r"\s*(\d{1,5})\s*,\s*(\d{1,5})\s*\Z")
_RES_MODE_NUMBERS = {"1": "sharp2", "2": "bilin", "3": "bicub", "4": "sharp2"}  # §4.2 ResMode
_TRUE, _FALSE = ("1", "true", "on", "yes"), ("0", "false", "off", "no")


def _pix(text: str) -> tuple[int, int]:
    match = _PIX.match(text)
    if match is None:
        raise ValueError
    return int(match.group(1)), int(match.group(2))


def _bound(command: str, text: str) -> Any:
    """The value ``command=text`` binds to: the command table reads it, as in a request."""
    from isrender.commands import ArgProblem, ConstraintProblem, lookup

    spec = lookup(command)
    if spec is None or not text.strip() or "&" in text:
        raise ValueError
    try:
        return spec.parse(text.strip())
    except (ArgProblem, ConstraintProblem):
        raise ValueError from None


def _color(text: str) -> Color:
    text = text.strip()
    value = _bound("bgc", text[2:] if text[:2].lower() == "0x" else text)
    assert isinstance(value, Color)
    return value


def _quality(text: str) -> Quality:
    value = _bound("qlt", text)
    assert isinstance(value, Quality)
    return value


def _res_mode(text: str) -> str:
    text = text.strip()
    value = _RES_MODE_NUMBERS.get(text) or _bound("resMode", text)
    assert isinstance(value, str)
    return value


def _number(lo: float, hi: float, allowed: tuple[float, ...] = ()) -> Callable[[str], float]:
    def read(text: str) -> float:
        value = float(text.strip()) if len(text) <= 40 else math.nan
        if value in allowed or (math.isfinite(value) and lo <= value <= hi):
            return value
        raise ValueError

    return read


def _flag(text: str) -> bool:
    lowered = text.strip().lower()
    if lowered not in _TRUE + _FALSE:
        raise ValueError
    return lowered in _TRUE


def _object_name(text: str) -> str:
    if len(text) > 500 or any(ord(c) < 32 or ord(c) == 127 for c in text):
        raise ValueError
    return text.strip()


def _hours(settings: Settings) -> str:
    return f"{settings.expiration / 3600:g}"


@dataclass(frozen=True)
class AttributeSpec:
    name: str  # as in an IS catalog file (attribute::Name) and the JSON API
    setting: str  # the server-wide setting that is its default
    form: str  # what a value looks like (help text and error messages)
    read: Callable[[str], object]  # text -> value; ValueError when it does not read
    default: Callable[[Settings], str] | None = None  # the setting as text, when not the value

    def parse(self, text: str) -> object:
        try:
            return self.read(text)
        except ValueError:
            raise InvalidAttributeError(self.name, text, self.form) from None

    def default_text(self, settings: Settings) -> str:
        if self.default is not None:
            return self.default(settings)
        value = getattr(settings, self.setting)
        return ("1" if value else "0") if isinstance(value, bool) else f"{value}"


ATTRIBUTES: tuple[AttributeSpec, ...] = (
    AttributeSpec(
        "DefaultPix",
        "default_pix",
        "w,h: the size of a reply with no wid, hei or scl (0 = unconstrained)",
        _pix,
    ),
    AttributeSpec(
        "MaxPix", "max_pix", "w,h: the largest reply; larger is refused (0,0 = unlimited)", _pix
    ),
    AttributeSpec(
        "JpegQuality",
        "jpeg_quality",
        "quality[,chroma]: 1-100, chroma 0|1 (the qlt= default)",
        _quality,
    ),
    AttributeSpec(
        "BkgColor",
        "bkg_color",
        "an RGB hex colour such as ffffff or 0xffffff (the bgc= default)",
        _color,
    ),
    AttributeSpec("ResMode", "res_mode", "bilin|bicub|sharp2|bisharp (or 2|3|4)", _res_mode),
    AttributeSpec(
        "Resolution",
        "resolution",
        "a number > 0: the object resolution for res=",
        _number(1e-6, 1e6),
    ),
    AttributeSpec(
        "Expiration",
        "expiration",
        "hours replies may be cached: -1 never expires, 0 at once (the setting is in seconds)",
        _number(0, 87_600, (-1.0,)),
        _hours,
    ),
    AttributeSpec(
        "RequestLock", "request_lock", "0|1: require the &xxxx request lock (§1.11)", _flag
    ),
    AttributeSpec(
        "RequestObfuscation",
        "request_obfuscation",
        "0|1: modifier strings are base64 (§1.11)",
        _flag,
    ),
    AttributeSpec(
        "DefaultImage",
        "default_image",
        "an asset name served for a missing asset (empty: none)",
        _object_name,
    ),
)
BY_NAME = {s.name.lower(): s for s in ATTRIBUTES}


def attribute_spec(name: str) -> AttributeSpec:
    """The attribute named ``name`` (case-insensitive, as in IS catalog files)."""
    found = BY_NAME.get(name.lower())
    if found is None:
        near = closest(name, [s.name for s in ATTRIBUTES])
        hint = f"; did you mean {near}?" if near else ""
        known = ", ".join(s.name for s in ATTRIBUTES)
        raise IpsFault(30001, f"unknown attribute {name[:60]!r}{hint} (known: {known})")
    return found


def effective_texts(values: Mapping[str, str], settings: Settings) -> dict[str, str]:
    """Every attribute's text: the company's value, else its server-wide setting."""
    return {s.name: values.get(s.name, s.default_text(settings)) for s in ATTRIBUTES}


def resolve(values: Mapping[str, str], settings: Settings) -> ServingAttributes:
    """A company's attributes (``values``: name -> text, only those it sets) over the
    server-wide settings. A bad setting surfaces here as InvalidAttributeError."""
    read = {s.name: s.parse(text) for s, text in
            zip(ATTRIBUTES, effective_texts(values, settings).values(), strict=True)}  # fmt: skip
    render = CatalogAttributes(
        default_pix=cast(tuple[int, int], read["DefaultPix"]),
        max_pix=cast(tuple[int, int], read["MaxPix"]),
        jpeg_quality=cast(Quality, read["JpegQuality"]),
        bkg_color=cast(Color, read["BkgColor"]),
        res_mode=cast(str, read["ResMode"]),
        resolution=cast(float, read["Resolution"]),
        font_map=settings.font_map,
    )
    return ServingAttributes(
        render=render,
        expiration=cast(float, read["Expiration"]),
        request_lock=cast(bool, read["RequestLock"]),
        request_obfuscation=cast(bool, read["RequestObfuscation"]),
        default_image=cast(str, read["DefaultImage"]),
    )


def _mtime_ns(path: Path) -> int:
    try:
        return path.stat().st_mtime_ns
    except OSError:
        return 0
