"""Colour values (spec §5.9): gray, RGB and CMYK, decimal or hex, with alpha and the ``s`` flag.

The number of decimal components plus the suffix letter decides the pixel type: 1-2 -> gray in
percent, 3-4 -> RGB(A) 0-255, 4-5 with ``k`` -> CMYK(A) in percent. Hex needs ``0x`` for
2/4-digit gray; 6/8/10 digits work without it. Components are stored normalised to 0..1.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum

from isrender.commands.args import Arg, ArgProblem, ArgReader, checked_length

__all__ = ["Color", "ColorArg", "ColorSpace", "parse_color"]

_HEX = re.compile(r"[0-9a-fA-F]+\Z")
_DECIMAL_PART = re.compile(r"[0-9]+([grksGRKS]*)\Z")
_SUFFIX = re.compile(r"[grksGRKS]*\Z")


class ColorSpace(StrEnum):
    GRAY = "gray"
    RGB = "rgb"
    CMYK = "cmyk"


_TYPE_LETTER = {ColorSpace.GRAY: "g", ColorSpace.RGB: "r", ColorSpace.CMYK: "k"}


@dataclass(frozen=True, slots=True)
class Color:
    """A colour: ``components`` and ``alpha`` in 0..1; ``source`` is the ``s`` suffix (the
    colour is in the source/input colour space of its type rather than the output space)."""

    space: ColorSpace
    components: tuple[float, ...]
    alpha: float = 1.0
    source: bool = False

    def to_rgb8(self) -> tuple[int, int, int]:
        """Naive conversion to 8-bit RGB (how IS treats a colour of another pixel type)."""
        if self.space is ColorSpace.GRAY:
            v = _byte(self.components[0])
            return v, v, v
        if self.space is ColorSpace.RGB:
            r, g, b = (_byte(c) for c in self.components)
            return r, g, b
        c, m, y, k = self.components
        return _byte((1 - c) * (1 - k)), _byte((1 - m) * (1 - k)), _byte((1 - y) * (1 - k))

    def __str__(self) -> str:
        if self.space is ColorSpace.RGB:
            body = ",".join(str(_byte(c)) for c in self.components)
        else:
            body = ",".join(f"{c * 100:g}%" for c in self.components)
        alpha = "" if self.alpha == 1.0 else f" alpha {self.alpha * 100:.0f}%"
        return f"{self.space.value}({body}){alpha}{' source' if self.source else ''}"


def _byte(value: float) -> int:
    return int(value * 255 + 0.5)


def _split_suffix(token: str) -> tuple[str, str]:
    match = _SUFFIX.search(token)
    assert match is not None
    return token[: match.start()], token[match.start() :].lower()


def _check_suffix(suffix: str, space: ColorSpace, required: bool) -> bool:
    """Validate ``[type letter]['s']``; returns the ``s`` flag."""
    letter = _TYPE_LETTER[space]
    if suffix in ("", "s"):
        if required:
            raise ArgProblem(f"a {space.value} colour needs the '{letter}' suffix")
        return suffix == "s"
    if suffix in (letter, letter + "s"):
        return suffix.endswith("s")
    raise ArgProblem(f"suffix {suffix!r} does not fit a {space.value} colour")


def _parse_hex(token: str) -> Color:
    body = token[2:] if token[:2].lower() == "0x" else token
    digits, suffix = _split_suffix(body)
    if not _HEX.match(digits):
        raise ArgProblem(f"{token!r} is not a hex colour")
    data = bytes.fromhex(digits) if len(digits) % 2 == 0 else b""
    prefixed = body is not token
    is_cmyk = suffix[:1] == "k"
    n = len(data)
    if is_cmyk and n in (4, 5):
        space = ColorSpace.CMYK
    elif not is_cmyk and n in (3, 4):
        space = ColorSpace.RGB
    elif prefixed and not is_cmyk and n in (1, 2):
        space = ColorSpace.GRAY
    else:
        raise ArgProblem(f"{token!r} has the wrong number of hex digits for a colour")
    source = _check_suffix(suffix, space, required=space is ColorSpace.CMYK)
    channels = {ColorSpace.GRAY: 1, ColorSpace.RGB: 3, ColorSpace.CMYK: 4}[space]
    values = tuple(b / 255 for b in data)
    alpha = values[channels] if n > channels else 1.0
    return Color(space, values[:channels], alpha, source)


def _looks_hex(token: str) -> bool:
    if token[:2].lower() == "0x":
        return True
    digits, _ = _split_suffix(token)
    return len(digits) in (6, 8, 10) and bool(_HEX.match(digits))


def _take_decimal(reader: ArgReader, max_parts: int) -> tuple[list[int], str]:
    """Greedily take decimal components; a suffix letter ends the colour."""
    values: list[int] = []
    suffix = ""
    while len(values) < max_parts:
        part = reader.peek()
        match = _DECIMAL_PART.match(part) if part else None
        if match is None:
            break
        reader.take()
        values.append(int(checked_length(part[: match.start(1)], "color")))  # type: ignore[index]
        suffix = match.group(1).lower()
        if suffix:
            break
    return values, suffix


def _decimal_color(values: list[int], suffix: str, token: str) -> Color:
    n = len(values)
    if suffix[:1] == "k" or n == 5:
        if n not in (4, 5):
            raise ArgProblem(f"a CMYK colour has 4 or 5 components, not {n}")
        space = ColorSpace.CMYK
    elif n in (1, 2):
        space = ColorSpace.GRAY
    elif n in (3, 4):
        space = ColorSpace.RGB
    else:
        raise ArgProblem(f"{token!r} is not a colour")
    source = _check_suffix(suffix, space, required=space is ColorSpace.CMYK)
    top = 255 if space is ColorSpace.RGB else 100
    for v in values:
        if v > top:
            unit = "0..255" if top == 255 else "a percentage 0..100"
            raise ArgProblem(f"colour component {v} is out of range ({space.value} uses {unit})")
    channels = {ColorSpace.GRAY: 1, ColorSpace.RGB: 3, ColorSpace.CMYK: 4}[space]
    normal = tuple(v / top for v in values)
    alpha = normal[channels] if n > channels else 1.0
    return Color(space, normal[:channels], alpha, source)


def parse_color(reader: ArgReader, spaces: frozenset[ColorSpace]) -> Color:
    """Read one colour from ``reader``, taking as many parts as it needs (§5.9)."""
    token = reader.peek() or ""
    if _looks_hex(token):
        reader.take()
        color = _parse_hex(token)
    else:
        max_parts = 5 if ColorSpace.CMYK in spaces else 4 if ColorSpace.RGB in spaces else 2
        values, suffix = _take_decimal(reader, max_parts)
        if not values:
            raise ArgProblem(f"{token!r} is not a colour")
        color = _decimal_color(values, suffix, token)
    if color.space not in spaces:
        allowed = "/".join(s.value for s in ColorSpace if s in spaces)
        raise ArgProblem(f"a {color.space.value} colour is not allowed here (only {allowed})")
    return color


_ALL_SPACES = frozenset(ColorSpace)


@dataclass(frozen=True)
class ColorArg(Arg):
    """A colour argument; ``spaces`` limits the pixel types (``op_colorize``: RGB only)."""

    spaces: frozenset[ColorSpace] = _ALL_SPACES

    def describe(self) -> str:
        kinds = "/".join(s.value for s in ColorSpace if s in self.spaces)
        return f"a {kinds} colour"

    def read(self, reader: ArgReader) -> Color:
        index = reader.index
        token = reader.peek() or ""
        try:
            if token == "":
                raise ArgProblem(f"empty {self.name}")
            return parse_color(reader, self.spaces)
        except ArgProblem as problem:
            problem.argument, problem.value = self.name, token
            problem.expected, problem.index = self.describe(), index
            raise
