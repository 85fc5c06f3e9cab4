"""Argument types of the command table (spec §5) and the reader that applies them.

A command's syntax is a tuple of Arg objects. After a value is %-decoded it is split on commas
(§1.4: an encoded comma separates too) and each Arg takes its part(s) from an ArgReader; a colour
may take several (§5.9). Every Arg knows its name, how it is written in documentation and which
values it accepts, so the docs and the checks come from one place.

A part an Arg refuses may carry a Mend: what lenient binding does instead of failing (white
space trimmed, a decimal rounded where a whole number is expected, an unknown keyword read as
its near spelling or left to its default). Strict binding never looks at it.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from isrender.errors import closest

__all__ = [
    "INT32_MAX",
    "INT32_MIN",
    "MAX_NUMBER_LENGTH",
    "Arg",
    "ArgProblem",
    "ArgReader",
    "ConstraintProblem",
    "Flag",
    "Int",
    "Keyword",
    "Mend",
    "Real",
    "Rest",
    "Text",
    "checked_length",
]

INT32_MIN = -(2**31)
INT32_MAX = 2**31 - 1  # D-32: every int argument is a signed 32-bit number

# The longest numeric value read: an int32 needs 11 characters, a real with sign, 17 digits,
# point and exponent about 25. Checked before int()/float(): Python refuses to convert ints of
# more than 4,300 digits, and a long number is never a meaningful argument.
MAX_NUMBER_LENGTH = 40

_INT = re.compile(r"[+-]?[0-9]+\Z")
_REAL = re.compile(r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?\Z")


@dataclass(frozen=True)
class Mend:
    """How lenient binding may read a refused part: as ``part`` instead, or, when ``part`` is
    None, by ignoring the whole command (its default applies). ``kind`` and ``note`` become
    the warning (``rounded``, ``white-space``, ``near-spelling``, ``default``)."""

    kind: str
    note: str
    part: str | None


# An unknown keyword is read as a choice only when the two are this alike (difflib ratio):
# pjpg -> pjpeg and sharp3 -> sharp2, but not trilin -> bilin (a different method).
NEAR_SPELLING = 0.8


class ArgProblem(Exception):
    """Raised by an Arg or a command's builder; binding turns it into InvalidValueError.

    ``index`` is the comma-separated part the problem is in (None: the whole value); ``mend``
    is what lenient binding may do about it (None: nothing, the value stays an error).
    """

    def __init__(
        self,
        message: str,
        *,
        argument: str = "",
        value: str = "",
        expected: str = "",
        index: int | None = None,
        hint: str | None = None,
        mend: Mend | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.argument = argument
        self.value = value
        self.expected = expected
        self.index = index
        self.hint = hint
        self.mend = mend


class ConstraintProblem(Exception):
    """Raised by a builder when arguments are each valid but not together (-> ConstraintError)."""

    def __init__(self, message: str, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint


class ArgReader:
    """The decoded, comma-split parts of one value, read left to right."""

    __slots__ = ("index", "parts")

    def __init__(self, parts: Sequence[str]) -> None:
        self.parts = parts
        self.index = 0

    def remaining(self) -> int:
        return len(self.parts) - self.index

    def peek(self, ahead: int = 0) -> str | None:
        i = self.index + ahead
        return self.parts[i] if i < len(self.parts) else None

    def take(self) -> str:
        part = self.parts[self.index]
        self.index += 1
        return part


@dataclass(frozen=True)
class Arg:
    """One argument position. ``optional`` ones may be left off at the end (their ``default``
    applies); ``skippable`` ones may also be left empty before a later argument
    (``fmt=tif,,lzw``, §1.7)."""

    name: str
    optional: bool = False
    default: Any = None
    skippable: bool = False

    kind = "value"

    def read(self, reader: ArgReader) -> Any:
        index = reader.index
        part = reader.take()
        if part == "":
            if self.skippable and reader.remaining() > 0:
                return self.default
            raise ArgProblem(
                f"empty {self.name}", argument=self.name, expected=self.describe(), index=index
            )
        try:
            return self.convert(part)
        except ArgProblem as problem:
            problem.index = index
            trimmed = part.strip()
            if trimmed != part and trimmed:  # 'jpeg ' from a template: trim before anything
                problem.mend = Mend("white-space", f"white space around {part!r} removed", trimmed)
            raise

    def convert(self, part: str) -> Any:
        return part

    def describe(self) -> str:
        """Type and range, for messages and `isrender commands`."""
        return self.kind

    def syntax(self) -> str:
        return f"<{self.name}>"

    def problem(
        self, part: str, why: str = "", hint: str | None = None, mend: Mend | None = None
    ) -> ArgProblem:
        message = f"{self.name} {part!r} is not {self.describe()}"
        return ArgProblem(
            f"{message} ({why})" if why else message,
            argument=self.name,
            value=part,
            expected=self.describe(),
            hint=hint,
            mend=mend,
        )


def checked_length(part: str, name: str) -> str:
    """``part`` unchanged, or an ArgProblem when it is too long to be a number (call this before
    every int()/float() of a value)."""
    if len(part) > MAX_NUMBER_LENGTH:
        raise ArgProblem(
            f"{name} is {len(part)} characters long; a number has at most {MAX_NUMBER_LENGTH}",
            argument=name,
            value=part[:MAX_NUMBER_LENGTH] + "...",
            expected="a number",
        )
    return part


def _range_text(lo: float | None, hi: float | None, lo_open: bool = False) -> str:
    if lo is not None and hi is not None:
        return f"{lo:g}..{hi:g}"
    if lo is not None:
        return f"> {lo:g}" if lo_open else f">= {lo:g}"
    if hi is not None:
        return f"<= {hi:g}"
    return ""


@dataclass(frozen=True)
class Int(Arg):
    """A decimal integer (§5.1), within ``lo``..``hi`` (D-31: out of range is an error)."""

    lo: int = INT32_MIN
    hi: int = INT32_MAX

    kind = "an integer"

    def describe(self) -> str:
        lo = None if self.lo == INT32_MIN else self.lo
        hi = None if self.hi == INT32_MAX else self.hi
        bounds = _range_text(lo, hi)
        return f"an integer {bounds}" if bounds else "an integer"

    def convert(self, part: str) -> int:
        checked_length(part, self.name)
        if not _INT.match(part):
            if _REAL.match(part):
                raise self.problem(part, hint="whole numbers only", mend=self._rounded(part))
            raise self.problem(part)
        value = int(part)
        if not self.lo <= value <= self.hi:
            raise self.problem(part, "out of range")
        return value

    def _rounded(self, part: str) -> Mend | None:
        """``0.5`` -> ``1``, ``1372.01`` -> ``1372`` (halves away from zero), if in range."""
        whole = _round_half_away(float(part))
        if whole is None or not self.lo <= whole <= self.hi:
            return None
        return Mend("rounded", f"{part} rounded to {whole}", str(whole))


def _round_half_away(value: float) -> int | None:
    if not math.isfinite(value):
        return None
    return int(math.copysign(math.floor(abs(value) + 0.5), value))


@dataclass(frozen=True)
class Real(Arg):
    """A decimal number (§5.2: ``.5`` allowed, no nan/inf). ``lo_open``: must be > lo."""

    lo: float | None = None
    hi: float | None = None
    lo_open: bool = False

    kind = "a number"

    def describe(self) -> str:
        bounds = _range_text(self.lo, self.hi, self.lo_open)
        return f"a number {bounds}" if bounds else "a number"

    def convert(self, part: str) -> float:
        checked_length(part, self.name)
        if not _REAL.match(part):
            raise self.problem(part)
        value = float(part)
        if not math.isfinite(value):  # 1e400 reads as inf
            raise self.problem(part, "out of range")
        too_low = self.lo is not None and (value <= self.lo if self.lo_open else value < self.lo)
        too_high = self.hi is not None and value > self.hi
        if too_low or too_high:
            raise self.problem(part, "out of range")
        return value


@dataclass(frozen=True)
class Flag(Arg):
    """``0`` or ``1``; ``true``/``false`` too (D-24). Read as a bool."""

    kind = "a flag (0 or 1)"

    def convert(self, part: str) -> bool:
        lowered = part.lower()
        if lowered in ("1", "true"):
            return True
        if lowered in ("0", "false"):
            return False
        whole = _round_half_away(float(part)) if _REAL.match(part) else None
        if whole in (0, 1):  # 1.0, 0.0
            raise self.problem(part, mend=Mend("rounded", f"{part} read as {whole}", str(whole)))
        raise self.problem(part)


@dataclass(frozen=True)
class Keyword(Arg):
    """One of ``choices``, case-insensitive (D-09) unless ``case_sensitive``.

    ``aliases`` maps accepted spellings to their canonical choice (``sharp`` -> ``sharp2``).
    The canonical spelling from ``choices`` is returned.
    """

    choices: tuple[str, ...] = ()
    aliases: tuple[tuple[str, str], ...] = ()
    case_sensitive: bool = False

    def describe(self) -> str:
        if len(self.choices) > 8:
            return f"a known {self.name} (see 'isrender commands')"
        return "one of " + "|".join(self.choices)

    def convert(self, part: str) -> str:
        key = part if self.case_sensitive else part.lower()
        for choice in self.choices:
            if key == (choice if self.case_sensitive else choice.lower()):
                return choice
        for alias, target in self.aliases:
            if key == alias:
                return target
        suggestion = closest(part, self.choices)
        hint = f"did you mean '{suggestion}'?" if suggestion else None
        raise self.problem(part, hint=hint, mend=self._fallback(part))

    def _fallback(self, part: str) -> Mend:
        """A near spelling of a choice, else the default, else the command is ignored."""
        near = closest(part, self.choices, cutoff=NEAR_SPELLING)
        if near is not None:
            return Mend("near-spelling", f"unknown {self.name} {part!r} read as {near!r}", near)
        if isinstance(self.default, str):
            note = f"unknown {self.name} {part!r}: the default {self.default!r} applies"
            return Mend("default", note, self.default)
        return Mend("default", f"unknown {self.name} {part!r}: ignored, the default applies", None)


@dataclass(frozen=True)
class Text(Arg):
    """Free text. Used as the only Arg of a ``whole``-value command, it keeps its commas."""

    kind = "text"


@dataclass(frozen=True)
class Rest(Arg):
    """Zero or more further arguments, each read by ``item``; the value is a tuple."""

    item: Arg | None = None
    max_count: int | None = None

    def read(self, reader: ArgReader) -> tuple[Any, ...]:
        assert self.item is not None
        values = []
        while reader.remaining():
            values.append(self.item.read(reader))
        if self.max_count is not None and len(values) > self.max_count:
            raise ArgProblem(
                f"at most {self.max_count} {self.name}", argument=self.name, index=reader.index - 1
            )
        return tuple(values)

    def describe(self) -> str:
        assert self.item is not None
        return f"a list of {self.item.describe()}"

    def syntax(self) -> str:
        assert self.item is not None
        return f"{{,{self.item.syntax()}}}"
