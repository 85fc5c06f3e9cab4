"""The font map: RTF font names (``Arial``, ``Times New Roman``, generic ``\\froman``) -> the
fontconfig family Pango draws with, and the font files to load for it.

The default map uses fonts from the Debian packages ``fonts-liberation`` (metric-compatible
Arial, Times New Roman, Courier New) and ``fonts-dejavu-core`` (the fallback when Liberation is
absent). The ``font_map`` setting names a TOML file whose entries are added to (and override)
the default ones::

    default = "Brand Sans"                 # attribute::DefaultFont: used when RTF names none
    [fonts]
    "Brand Sans" = { family = "Brand Sans", files = ["fonts/BrandSans-Regular.otf",
                                                     "fonts/BrandSans-Bold.otf"] }
    "Helvetica Neue" = "Liberation Sans"   # short form: an installed font's family
    [generic]
    roman = "Brand Serif"                  # \\froman fonts that are not in the map

``files`` are relative to the TOML file. A name the map does not know is an error in strict
mode (spec §7.2) and falls back, with a warning, to its generic family's font or the default.
"""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from isrender.errors import FontMapError, FontNotFoundError

__all__ = ["FONT_DIR", "FontFace", "FontMap", "default_font_map", "load_font_map"]

FONT_DIR = Path("/usr/share/fonts/truetype")  # where Debian's font packages install

# RTF name -> candidates (family, folder under FONT_DIR, file stem); the first installed wins
_SANS = (
    ("Liberation Sans", "liberation", "LiberationSans"),
    ("DejaVu Sans", "dejavu", "DejaVuSans"),
)
_SERIF = (("Liberation Serif", "liberation", "LiberationSerif"),
          ("DejaVu Serif", "dejavu", "DejaVuSerif"))  # fmt: skip
_MONO = (("Liberation Mono", "liberation", "LiberationMono"),
         ("DejaVu Sans Mono", "dejavu", "DejaVuSansMono"))  # fmt: skip
_NARROW = (("Liberation Sans Narrow", "liberation", "LiberationSansNarrow"),
           ("DejaVu Sans Condensed", "dejavu", "DejaVuSansCondensed"))  # fmt: skip
DEFAULT_FACES: dict[str, tuple[tuple[str, str, str], ...]] = {
    "Arial": _SANS, "Helvetica": _SANS, "Liberation Sans": _SANS,
    "Arial Narrow": _NARROW, "Liberation Sans Narrow": _NARROW,
    "Times New Roman": _SERIF, "Times": _SERIF, "Liberation Serif": _SERIF,
    "Courier New": _MONO, "Courier": _MONO, "Liberation Mono": _MONO,
    "DejaVu Sans": _SANS[1:], "DejaVu Serif": _SERIF[1:], "DejaVu Sans Mono": _MONO[1:],
    "Verdana": _SANS[1:], "Tahoma": _SANS[1:],
}  # fmt: skip
# RTF generic families (\froman, \fswiss, ...) -> the font that stands in for an unknown name
DEFAULT_GENERIC = {"roman": "Times New Roman", "swiss": "Arial", "modern": "Courier New"}
DEFAULT_FONT = "Arial"
GENERIC_NAMES = frozenset({"nil", "roman", "swiss", "modern", "script", "decor", "tech", "bidi"})


@dataclass(frozen=True, slots=True)
class FontFace:
    """``name`` as RTF writes it, ``family`` as fontconfig knows it, ``files`` to load first
    (empty: an installed font fontconfig already finds)."""

    name: str
    family: str
    files: tuple[Path, ...] = ()


@dataclass(frozen=True)
class FontMap:
    faces: Mapping[str, FontFace]  # by lower-case name
    generic: Mapping[str, str]
    default: str

    def face(self, name: str, family: str = "", *, strict: bool = False) -> FontFace:
        """The face for an RTF font name; raises FontNotFoundError for an unknown name when
        ``strict`` (lenient callers use ``fallback`` to get the warning text)."""
        found = self.faces.get(name.lower()) if name else self._stand_in(family)
        if found is not None:
            return found
        if strict:
            raise FontNotFoundError(f"font {name!r} is not in the font map")
        return self._stand_in(family) or self.faces[self.default.lower()]

    def knows(self, name: str) -> bool:
        return not name or name.lower() in self.faces

    def _stand_in(self, family: str) -> FontFace | None:
        name = self.generic.get(family, self.default)
        return self.faces.get(name.lower()) or self.faces.get(self.default.lower())

    def merged(self, other: FontMap) -> FontMap:
        """This map with ``other``'s entries added on top."""
        return FontMap({**self.faces, **other.faces}, {**self.generic, **other.generic},
                       other.default)  # fmt: skip


def _installed(candidates: tuple[tuple[str, str, str], ...], name: str) -> FontFace:
    for family, folder, stem in candidates:
        directory = FONT_DIR / folder
        regular = [p for p in (directory / f"{stem}.ttf", directory / f"{stem}-Regular.ttf")
                   if p.is_file()]  # fmt: skip
        if regular:
            styles = sorted(directory.glob(f"{stem}-*.ttf"))
            return FontFace(name, family, tuple(dict.fromkeys([*regular, *styles])))
    return FontFace(name, candidates[-1][0])  # nothing installed: fontconfig picks a fallback


@cache
def default_font_map() -> FontMap:
    """The shipped map over the fonts installed from the system package manager."""
    faces = {name.lower(): _installed(c, name) for name, c in DEFAULT_FACES.items()}
    return FontMap(faces, DEFAULT_GENERIC, DEFAULT_FONT)


def load_font_map(path: Path | None) -> FontMap:
    """The default map, plus the entries of the ``font_map`` TOML file when one is set."""
    if path is None:
        return default_font_map()
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise FontMapError(f"font map {path.name}: cannot be read ({exc.strerror})") from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise FontMapError(f"font map {path.name} is not valid TOML: {exc}") from None
    base = default_font_map()
    faces = {n.lower(): _face(n, e, path) for n, e in _table(data, "fonts", path).items()}
    generic = {
        str(k): _text(v, f"generic.{k}", path) for k, v in _table(data, "generic", path).items()
    }
    unknown = set(generic) - GENERIC_NAMES
    if unknown:
        raise FontMapError(f"font map {path.name}: unknown generic families {sorted(unknown)}")
    default = _text(data.get("default", base.default), "default", path)
    merged = base.merged(FontMap(faces, generic, default))
    for name in (default, *generic.values()):
        if name.lower() not in merged.faces:
            raise FontMapError(f"font map {path.name}: {name!r} is not a font of the map")
    return merged


def _table(data: dict[str, object], key: str, path: Path) -> dict[str, object]:
    value = data.get(key, {})
    if not isinstance(value, dict):
        raise FontMapError(f"font map {path.name}: [{key}] must be a table")
    return value


def _text(value: object, key: str, path: Path) -> str:
    if not isinstance(value, str) or not value.strip():
        raise FontMapError(f"font map {path.name}: {key} must be a non-empty string")
    return value


def _face(name: str, entry: object, path: Path) -> FontFace:
    if isinstance(entry, str):
        return FontFace(name, _text(entry, f"fonts.{name!r}", path))
    if not isinstance(entry, dict):
        raise FontMapError(f"font map {path.name}: fonts.{name!r} must be a string or a table")
    family = _text(entry.get("family"), f"fonts.{name!r}.family", path)
    files = entry.get("files", [])
    if not isinstance(files, list):
        raise FontMapError(f"font map {path.name}: fonts.{name!r}.files must be a list")
    resolved = tuple(path.parent / _text(f, f"fonts.{name!r}.files", path) for f in files)
    for file in resolved:
        if not file.is_file():
            raise FontMapError(f"font map {path.name}: font file {file} of {name!r} not found")
    return FontFace(name, family, resolved)
