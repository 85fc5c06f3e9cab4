"""Read the RTF subset of text layers (spec §6.7) into a TextDocument; plain text is one too.

The reader walks the text once. Groups save and restore the character, paragraph and
destination state; control words change it; text goes into runs of the current paragraph. Fonts
and colours are kept as table indexes while reading and resolved at the end, so tables may come
after their use. Every malformed input raises RtfSyntaxError (a ModifierError pointing into the
text); unknown control words are ignored with a warning, or refused when ``strict``.

Decisions where the spec is silent: a trailing empty paragraph (``...\\par}``) is dropped, as
WordPad shows none; ``\\'hh`` bytes decode with the ``\\ansicpg`` code page (cp1252 by
default); lone UTF-16 surrogates from ``\\u`` become U+FFFD; C0 control characters other than
tab are dropped (Pango cannot draw them); an unknown ``\\f`` or ``\\cf`` index falls back to the
default font or colour with a warning (an error for ``\\f`` when strict).
"""

from __future__ import annotations

import codecs
import re
from dataclasses import dataclass, field, replace
from typing import Any, NoReturn

from isrender.errors import ConstraintError, Location, RtfSyntaxError
from isrender.text.document import Alignment, Dialect, Margins, TextDocument, VerticalAlignment
from isrender.text.rtf_state import CharState, ParaState, RawRun, Tables, build_paragraph
from isrender.text.rtf_words import (
    ALIGNMENTS,
    CHARACTERS,
    CODEPAGES,
    LAST_ALIGNMENTS,
    NO_EFFECT,
    PARAGRAPH_TWIPS,
    SKIPPED_DESTINATIONS,
    SYMBOLS,
    TABLE_DESTINATIONS,
    TEXTPS_ONLY,
    UNDERLINES,
)

__all__ = ["MAX_DEPTH", "parse", "parse_plain", "single_alignment"]

MAX_DEPTH = 100  # group nesting; real RTF stays far below
_WORD = re.compile(r"([a-zA-Z]{1,32})(-?[0-9]{1,10})? ?")
_HEX = re.compile(r"[0-9a-fA-F]{2}")
_CONTROL_CHARS = dict.fromkeys(c for c in range(32) if c != 9)
_MARGINS = {"margl": "left", "margr": "right", "margt": "top", "margb": "bottom"}
_VERTICAL: dict[str, VerticalAlignment] = {
    "vertalt": "top",
    "vertalb": "bottom",
    "vertalc": "center",
}


def parse(text: str, *, dialect: Dialect = "text", strict: bool = False) -> TextDocument:
    """The document of a ``text=``/``textPs=`` value: RTF when it starts with ``{\\rtf``,
    else plain text (each line a paragraph)."""
    if not text.lstrip().startswith("{\\rtf"):
        return parse_plain(text)
    return _Reader(text, dialect, strict).read()


def parse_plain(text: str) -> TextDocument:
    """Plain text: every line is a left-aligned paragraph in the default font."""
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    paragraphs = tuple(build_paragraph([RawRun(line.translate(_CONTROL_CHARS), CharState())],
                                       ParaState(), Tables()) for line in lines)  # fmt: skip
    return TextDocument(paragraphs, is_rtf=False)


def single_alignment(doc: TextDocument, source: str) -> Alignment:
    """The one alignment of an auto-sized ``text=`` layer (§6.7: only one of \\ql \\qr \\qc
    may be used, else an error). ``source`` is the text, for the error's caret."""
    used: dict[Alignment, int] = {}
    for alignment, position in doc.alignments:
        used.setdefault(alignment, position)
        if len(used) > 1:
            raise ConstraintError(
                f"an auto-sized text layer uses one alignment, not {' and '.join(used)}",
                Location(source, position, 3),
                "give the layer a size= or use one of \\ql \\qr \\qc",
            )
    return next(iter(used), "left")


@dataclass
class _Group:
    """What a group saves: the character and paragraph state and where its text goes."""

    char: CharState
    para: ParaState
    destination: str  # "body", a table name, or "skip"
    opened_at: int


@dataclass
class _Reader:
    source: str
    dialect: Dialect
    strict: bool
    pos: int = 0
    char: CharState = field(default_factory=CharState)
    para: ParaState = field(default_factory=ParaState)
    destination: str = "body"
    stack: list[_Group] = field(default_factory=list)
    tables: Tables = field(default_factory=Tables)
    runs: list[RawRun] = field(default_factory=list)
    paragraphs: list[tuple[list[RawRun], ParaState]] = field(default_factory=list)
    margins: dict[str, float] = field(default_factory=dict)
    vertical: VerticalAlignment = "top"
    copyfit_lines: int = 0
    copyfit_max_lines: int = 0
    alignments: list[tuple[Alignment, int]] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    pending_bytes: bytearray = field(default_factory=bytearray)
    codepage: str = "cp1252"
    skip_chars: int = 0  # fallback characters still to skip after a \u
    high_surrogate: int = 0
    ignorable: bool = False  # the last token was \*
    ended: bool = False  # the outer {\rtf group closed

    def read(self) -> TextDocument:
        text = self.source
        self.pos = len(text) - len(text.lstrip())
        while self.pos < len(text):
            c = text[self.pos]
            if self.ended:
                self._after_end(c)
            elif c == "{":
                self._open()
            elif c == "}":
                self._close()
            elif c == "\\":
                self._control()
                continue
            elif c not in "\r\n":
                self._text(c)
            self.pos += 1
        if not self.ended:
            opened = self.stack[-1].opened_at if self.stack else 0
            self._fail("unterminated group: a '{' has no '}'", opened)
        return self._document()

    # structure -------------------------------------------------------------------------
    def _open(self) -> None:
        self._flush_bytes()
        if len(self.stack) >= MAX_DEPTH:
            self._fail(f"groups nest deeper than {MAX_DEPTH}", self.pos)
        self.stack.append(_Group(self.char, self.para, self.destination, self.pos))
        self.skip_chars = 0
        if self.destination in TABLE_DESTINATIONS:
            self.tables.begin_entry(self.destination)

    def _close(self) -> None:
        self._flush_bytes()
        self._append("")  # ends a pending surrogate
        if not self.stack:
            self._fail("unbalanced '}': no group is open", self.pos)
        group = self.stack.pop()
        if not self.stack and self.runs:  # the last paragraph keeps its own alignment
            self._end_paragraph()
        if self.destination in TABLE_DESTINATIONS:
            self.tables.end_group(self.destination)
        self.char, self.para, self.destination = group.char, group.para, group.destination
        self.skip_chars = 0
        if not self.stack:
            self.ended = True

    def _after_end(self, c: str) -> None:
        if c in "{}":
            self._fail(f"unbalanced {c!r} after the end of the RTF", self.pos)
        if not c.isspace():
            self._lenient(f"text after the closing '}}' of the RTF at {self.pos} ignored")
            self.pos = len(self.source) - 1

    # control words and symbols -----------------------------------------------------------
    def _control(self) -> None:
        start = self.pos
        nxt = self.source[start + 1 : start + 2]
        if not nxt:
            self._fail("a lone '\\' ends the text (write \\\\ for a backslash)", start)
        if nxt == "'":
            self._hex_byte(start)
            return
        self._flush_bytes()
        match = _WORD.match(self.source, start + 1)
        if match is None:
            self.pos = start + 2
            self._symbol(nxt, start)
            return
        self.pos = match.end()
        word, param = match.group(1), match.group(2)
        ignorable, self.ignorable = self.ignorable, False
        self._word(word, int(param) if param is not None else None, start, ignorable)

    def _hex_byte(self, start: int) -> None:
        digits = _HEX.match(self.source, start + 2)
        if digits is None:
            self._fail("\\' must be followed by two hex digits", start, 4)
        self.pos = start + 4
        if self._skipping_fallback():
            return
        self.pending_bytes.append(int(digits.group(), 16))

    def _symbol(self, symbol: str, start: int) -> None:
        if symbol in "\\{}":
            self._text(symbol)
        elif symbol == "*":
            self.ignorable = True
        elif symbol in "\r\n":
            self._word("par", None, start, False)
        elif symbol in SYMBOLS:
            if not self._skipping_fallback():
                self._append(SYMBOLS[symbol])
        else:
            self._unknown(f"\\{symbol}", start)

    def _word(self, word: str, param: int | None, start: int, ignorable: bool) -> None:
        if word in TABLE_DESTINATIONS:
            if word == "iscolortbl" and self.dialect == "text":
                self._lenient(f"\\iscolortbl at {start} is a textPs= feature; text= ignores it")
                self.destination = "skip"
            else:
                self.destination = word
            return
        if word in SKIPPED_DESTINATIONS or (ignorable and not self._known(word)):
            self.destination = "skip"
            return
        if self.destination == "skip":
            return
        if self.destination in TABLE_DESTINATIONS:
            self.tables.word(self.destination, word, param, start, self._fail)
            return
        if word in TEXTPS_ONLY and self.dialect == "text":
            self._lenient(f"\\{word} at {start} is a textPs= feature; text= ignores it")
            return
        self._body_word(word, param, start)

    def _body_word(self, word: str, param: int | None, start: int) -> None:
        if word == "par":
            self._end_paragraph()
        elif word == "line":
            self._append("\u2028")
        elif word == "u":
            self._unicode(param, start)
        elif word in CHARACTERS:
            if not self._skipping_fallback():
                self._append(CHARACTERS[word])
        elif word in ALIGNMENTS:
            self.para = replace(self.para, align=ALIGNMENTS[word])
            self.alignments.append((ALIGNMENTS[word], start))
        elif word in LAST_ALIGNMENTS:
            self.para = replace(self.para, last_align=LAST_ALIGNMENTS[word])
        elif word in PARAGRAPH_TWIPS:
            twips: dict[str, Any] = {PARAGRAPH_TWIPS[word]: (param or 0) / 20}
            self.para = replace(self.para, **twips)
        elif word == "slmult":
            self.para = replace(self.para, line_multiple=bool(param))
        elif word == "pard":
            self.para = ParaState()
        elif word in _MARGINS:
            self.margins[_MARGINS[word]] = max(0, param or 0) / 20
        elif word in _VERTICAL:
            self.vertical = _VERTICAL[word]
        elif word == "copyfitlines":
            self.copyfit_lines = max(0, param or 0)
        elif word == "copyfitmaxlines":
            self.copyfit_max_lines = max(0, param or 0)
        elif word in CODEPAGES or word == "ansicpg":
            self._set_codepage(word, param, start)
        elif word == "uc":
            self.char = replace(self.char, uc=max(0, param if param is not None else 1))
        elif word == "deff":
            self.tables.default_font = param or 0
        elif not self._character_word(word, param, start) and word not in NO_EFFECT:
            self._unknown(f"\\{word}", start)

    def _character_word(self, word: str, param: int | None, start: int) -> bool:
        try:
            char = self.char.apply(word, param, self.tables.default_font)
        except ValueError as problem:
            self._fail(f"\\{word}{'' if param is None else param}: {problem}", start)
        if char is None:
            return word in UNDERLINES and self._underline(word, param)
        self.char = char
        return True

    def _underline(self, word: str, param: int | None) -> bool:
        kind = "none" if param == 0 else UNDERLINES[word]
        self.char = replace(self.char, underline=kind)
        return True

    def _unicode(self, param: int | None, start: int) -> None:
        if param is None or not -32768 <= param <= 65535:
            self._fail("\\u needs a number from -32768 to 65535", start)
        code = param + 65536 if param < 0 else param
        self.skip_chars = self.char.uc
        if 0xD800 <= code < 0xDC00:
            self.high_surrogate = code
            return
        if 0xDC00 <= code < 0xE000:
            high, self.high_surrogate = self.high_surrogate, 0
            code = 0x10000 + ((high - 0xD800) << 10) + (code - 0xDC00) if high else 0xFFFD
        self._append(chr(code))

    def _set_codepage(self, word: str, param: int | None, start: int) -> None:
        name = CODEPAGES.get(word) or f"cp{param}"
        try:
            self.codepage = codecs.lookup(name).name
        except LookupError:
            self._lenient(f"code page {param} at {start} is unknown; cp1252 used")

    # text ------------------------------------------------------------------------------
    def _skipping_fallback(self) -> bool:
        if self.skip_chars > 0:
            self.skip_chars -= 1
            return True
        return False

    def _text(self, c: str) -> None:
        self._flush_bytes()
        if self._skipping_fallback():
            return
        if self.destination in TABLE_DESTINATIONS:
            self.tables.text(self.destination, c, self.pos, self._fail)
        elif self.destination == "body":
            self._append(c)

    def _flush_bytes(self) -> None:
        if self.pending_bytes:
            decoded = bytes(self.pending_bytes).decode(self.codepage, errors="replace")
            self.pending_bytes.clear()
            if self.destination in TABLE_DESTINATIONS:
                for c in decoded:
                    self.tables.text(self.destination, c, self.pos, self._fail)
            elif self.destination == "body":
                self._append(decoded)

    def _append(self, text: str) -> None:
        if self.high_surrogate:  # a high surrogate not followed by a low one
            self.high_surrogate = 0
            text = "\ufffd" + text
        text = text.translate(_CONTROL_CHARS)
        if self.destination != "body" or not text:
            return
        if self.runs and self.runs[-1].char == self.char:
            self.runs[-1] = RawRun(self.runs[-1].text + text, self.char)
        else:
            self.runs.append(RawRun(text, self.char))

    def _end_paragraph(self) -> None:
        self.paragraphs.append((self.runs, self.para))
        self.runs = []

    def _document(self) -> TextDocument:
        self._flush_bytes()
        if self.runs or not self.paragraphs:
            self._end_paragraph()
        paragraphs = tuple(build_paragraph(r, p, self.tables) for r, p in self.paragraphs)
        return TextDocument(
            paragraphs=paragraphs,
            margins=Margins(**self.margins),
            vertical_align=self.vertical,
            copyfit_lines=self.copyfit_lines,
            copyfit_max_lines=self.copyfit_max_lines,
            alignments=tuple(self.alignments),
            warnings=(*self.warnings, *self.tables.warnings),
        )

    # problems --------------------------------------------------------------------------
    def _known(self, word: str) -> bool:
        return word in TABLE_DESTINATIONS or word in NO_EFFECT or word in TEXTPS_ONLY

    def _unknown(self, what: str, start: int) -> None:
        if self.strict:
            self._fail(f"unknown RTF control word {what}", start, len(what))
        self.warnings.append(f"ignored RTF control word {what} at {start}")

    def _lenient(self, message: str) -> None:
        self.warnings.append(message)

    def _fail(self, problem: str, position: int, length: int = 1) -> NoReturn:
        raise RtfSyntaxError(problem, Location(self.source, position, length))
