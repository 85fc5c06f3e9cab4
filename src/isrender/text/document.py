"""The typed text of a text layer: paragraphs of runs, as the RTF reader (rtf.py) produces them.

Sizes are in points (RTF half-points and twips converted), so the renderer only multiplies by
``dpi / 72`` to get pixels. Everything is frozen: a document can be cached and shared.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from isrender.commands.colors import Color

__all__ = [
    "Alignment",
    "Baseline",
    "Dialect",
    "Margins",
    "Paragraph",
    "ParagraphFormat",
    "Run",
    "TextDocument",
    "Underline",
    "VerticalAlignment",
]

Alignment = Literal["left", "right", "center", "justify"]
VerticalAlignment = Literal["top", "center", "bottom"]
Underline = Literal["none", "single", "double"]
Baseline = Literal["normal", "sub", "super"]
Dialect = Literal["text", "textPs"]  # text= (WordPad-like) or textPs= (Photoshop-like)

DEFAULT_SIZE = 12.0  # \fs24: the RTF default, in points


@dataclass(frozen=True, slots=True)
class Run:
    """Characters that share one formatting. ``font`` is the \\fonttbl name ("" = the default
    font) and ``family`` its generic family (``roman``, ``swiss``, ``modern``, ... or "").
    ``color`` None is RTF "auto" (black). ``copyfit`` is the \\copyfit maximum size in points
    (0 = this run is not copy-fitted). A \\line is U+2028 (LINE SEPARATOR) in ``text``."""

    text: str
    font: str = ""
    family: str = ""
    size: float = DEFAULT_SIZE
    color: Color | None = None
    bold: bool = False
    italic: bool = False
    underline: Underline = "none"
    baseline: Baseline = "normal"
    caps: bool = False
    small_caps: bool = False
    spacing: float = 0.0  # \expnd / \expndtw: extra space between letters, points
    copyfit: float = 0.0


@dataclass(frozen=True, slots=True)
class ParagraphFormat:
    """How a paragraph is set (RTF \\pard resets it). Indents and spacing in points;
    ``line_spacing`` 0 is single, > 0 "at least", < 0 exactly (RTF \\sl), or a multiple of
    single spacing when ``line_multiple``."""

    align: Alignment = "left"
    last_align: Alignment | None = None  # \lastq*: the last line of a justified paragraph
    left_indent: float = 0.0
    right_indent: float = 0.0
    first_indent: float = 0.0
    space_before: float = 0.0
    space_after: float = 0.0
    line_spacing: float = 0.0
    line_multiple: bool = False


@dataclass(frozen=True, slots=True)
class Paragraph(ParagraphFormat):
    """One paragraph (ended by \\par, or the end of the text): its runs, set as its format
    says."""

    runs: tuple[Run, ...] = ()

    @property
    def text(self) -> str:
        return "".join(run.text for run in self.runs)


@dataclass(frozen=True, slots=True)
class Margins:
    """Text box margins (\\margl \\margt \\margr \\margb), points."""

    left: float = 0.0
    top: float = 0.0
    right: float = 0.0
    bottom: float = 0.0


@dataclass(frozen=True, slots=True)
class TextDocument:
    """A parsed text layer. ``alignments`` lists every alignment word used, in order (the
    classic renderer refuses several when it auto-sizes); ``warnings`` are what a lenient read
    ignored, each naming the position."""

    paragraphs: tuple[Paragraph, ...]
    margins: Margins = Margins()
    vertical_align: VerticalAlignment = "top"
    copyfit_lines: int = 0  # \copyfitlines N (0: no limit)
    copyfit_max_lines: int = 0  # \copyfitmaxlines N (0: no limit)
    alignments: tuple[tuple[Alignment, int], ...] = ()
    warnings: tuple[str, ...] = field(default=())
    is_rtf: bool = True

    @property
    def text(self) -> str:
        """The plain text, paragraphs separated by newlines (\\line as U+2028)."""
        return "\n".join(p.text for p in self.paragraphs)

    @property
    def fonts(self) -> tuple[tuple[str, str], ...]:
        """Every (font name, generic family) the runs use, in first-use order."""
        seen: dict[tuple[str, str], None] = {}
        for paragraph in self.paragraphs:
            for run in paragraph.runs:
                seen.setdefault((run.font, run.family), None)
        return tuple(seen)

    @property
    def copyfits(self) -> bool:
        return any(r.copyfit > r.size for p in self.paragraphs for r in p.runs)
