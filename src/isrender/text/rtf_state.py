"""The RTF reader's state: character and paragraph properties, and the font and colour tables.

Kept apart from rtf.py so each file stays one idea: rtf.py walks the text, this module knows
what each formatting word does and how table entries are built.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, fields, replace
from typing import Any, NoReturn

from isrender.commands.args import ArgProblem, ArgReader
from isrender.commands.colors import Color, ColorSpace, parse_color
from isrender.text.document import Baseline, Paragraph, ParagraphFormat, Run, Underline
from isrender.text.rtf_words import COLOR_COMPONENTS, FONT_FAMILIES

__all__ = ["CharState", "ParaState", "RawRun", "Tables", "build_paragraph"]

Fail = Callable[[str, int], NoReturn]
MAX_HALF_POINTS = 4000  # \fs and \copyfit: 2000 pt is far beyond any text box
_NO_EFFECT = frozenset("kerning charscalex charscaley ltrch rtlch loch hich dbch".split())


@dataclass(frozen=True, slots=True)
class CharState:
    """Character formatting while reading: fonts and colours as table indexes."""

    font: int | None = None  # None: \deff
    half_points: int = 24
    color: int = 0
    bold: bool = False
    italic: bool = False
    underline: Underline = "none"
    baseline: Baseline = "normal"
    caps: bool = False
    small_caps: bool = False
    spacing: float = 0.0
    copyfit: int = 0  # half-points
    uc: int = 1  # fallback characters after \u (group state, not formatting)

    def apply(self, word: str, param: int | None, default_font: int | None) -> CharState | None:
        """The state after ``word``; None when ``word`` is no character word. Raises
        ValueError for a value out of range."""
        on = param != 0
        if word == "plain":
            return CharState(font=default_font, uc=self.uc)
        if word in ("f", "cf"):
            return self._with("font" if word == "f" else "color", _index(param))
        if word in ("fs", "copyfit"):
            size = _half_points(param, lowest=0 if word == "copyfit" else 1)
            return self._with("half_points" if word == "fs" else "copyfit", size)
        flags = {"b": "bold", "i": "italic", "caps": "caps", "scaps": "small_caps"}
        if word in flags:
            return self._with(flags[word], on)
        if word in ("sub", "dn"):
            return replace(self, baseline="sub" if on else "normal")
        if word in ("super", "up"):
            return replace(self, baseline="super" if on else "normal")
        if word == "nosupersub":
            return replace(self, baseline="normal")
        if word in ("expnd", "expndtw"):  # quarter points / twips
            return replace(self, spacing=(param or 0) / (4 if word == "expnd" else 20))
        return self if word in _NO_EFFECT else None

    def _with(self, name: str, value: object) -> CharState:
        changes: dict[str, Any] = {name: value}
        return replace(self, **changes)


def _index(param: int | None) -> int:
    if param is None or param < 0:
        raise ValueError("needs a table index (0 or more)")
    return param


def _half_points(param: int | None, lowest: int) -> int:
    if param is None or not lowest <= param <= MAX_HALF_POINTS:
        raise ValueError(f"needs a size from {lowest} to {MAX_HALF_POINTS} half-points")
    return param


# Paragraph formatting while reading is a paragraph's format (\\pard resets it).
ParaState = ParagraphFormat


@dataclass(frozen=True, slots=True)
class RawRun:
    text: str
    char: CharState


@dataclass
class Tables:
    """\\fonttbl and the colour tables, filled while reading their groups."""

    fonts: dict[int, tuple[str, str]] = field(default_factory=dict)
    colors: dict[str, list[Color | None]] = field(default_factory=dict)
    default_font: int | None = None
    warnings: list[str] = field(default_factory=list)
    _font: int | None = None
    _family: str = ""
    _name: str = ""
    _components: dict[str, int] = field(default_factory=dict)
    _entry_text: str = ""

    def begin_entry(self, table: str) -> None:
        if table == "fonttbl":
            self._font, self._family, self._name = None, "", ""

    def end_group(self, table: str) -> None:
        if table == "fonttbl" and self._font is not None:
            self._commit_font()

    def word(self, table: str, word: str, param: int | None, at: int, fail: Fail) -> None:
        if table == "fonttbl":
            if word == "f":
                self._font = param or 0
            elif word in FONT_FAMILIES:
                self._family = word[1:]
        elif word in COLOR_COMPONENTS:
            top = COLOR_COMPONENTS[word]
            if param is None or not 0 <= param <= top:
                fail(f"\\{word} needs a value from 0 to {top}", at)
            self._components[word] = param

    def text(self, table: str, c: str, at: int, fail: Fail) -> None:
        if c != ";":
            if table == "fonttbl":
                self._name += c
            elif table == "iscolortbl":
                self._entry_text += c
            return
        if table == "fonttbl":
            self._commit_font()
        elif table == "iscolortbl":
            self._commit_is_color(at, fail)
        else:
            self._commit_components(table)

    def _commit_font(self) -> None:
        index = self._font if self._font is not None else len(self.fonts)
        self.fonts[index] = (self._name.strip(), self._family)
        self._font, self._family, self._name = None, "", ""

    def _commit_components(self, table: str) -> None:
        values, self._components = self._components, {}
        entry: Color | None = None
        if values and table == "colortbl":
            rgb = (values.get(k, 0) / 255 for k in ("red", "green", "blue"))
            entry = Color(ColorSpace.RGB, tuple(rgb))
        elif values:
            cmyk = (values.get(k, 0) / 100 for k in ("cyan", "magenta", "yellow", "black"))
            entry = Color(ColorSpace.CMYK, tuple(cmyk))
        self.colors.setdefault(table, []).append(entry)

    def _commit_is_color(self, at: int, fail: Fail) -> None:
        text, self._entry_text = self._entry_text.strip(), ""
        entry: Color | None = None
        if text:
            reader = ArgReader(text.split(","))
            try:
                entry = parse_color(reader, frozenset(ColorSpace))
            except ArgProblem as problem:
                fail(f"\\iscolortbl entry {text!r}: {problem.message}", at)
            if reader.remaining():
                fail(f"\\iscolortbl entry {text!r} is more than one colour", at)
        self.colors.setdefault("iscolortbl", []).append(entry)

    def color(self, index: int) -> Color | None:
        """IS order: \\iscolortbl before \\colortbl (\\cmykcolortbl only serves CMYK text
        layers, which this renderer does not make); no entry: None, black."""
        for table in ("iscolortbl", "colortbl"):
            entries = self.colors.get(table, [])
            if index < len(entries) and entries[index] is not None:
                return entries[index]
        return None

    def font(self, index: int | None) -> tuple[str, str]:
        if index is None:
            index = self.default_font
        if index is None:
            return "", ""
        found = self.fonts.get(index)
        if found is None:
            self.warnings.append(f"font \\f{index} is not in the font table; default font used")
            return "", ""
        return found


def build_paragraph(runs: Sequence[RawRun], para: ParaState, tables: Tables) -> Paragraph:
    """A Paragraph with fonts and colours looked up in the tables."""
    built = []
    for raw in runs:
        c = raw.char
        name, family = tables.font(c.font)
        built.append(
            Run(raw.text, name, family, c.half_points / 2, tables.color(c.color), c.bold,
                c.italic, c.underline, c.baseline, c.caps, c.small_caps, c.spacing,
                c.copyfit / 2)
        )  # fmt: skip
    return Paragraph(**{f.name: getattr(para, f.name) for f in fields(para)}, runs=tuple(built))
