"""Path definitions (§5.11): ``M x,y``, ``L x,y{,x,y}``, ``C x1,y1,x2,y2,x,y{,...}``, ``Z``.

Commas are the only separator; upper case is absolute, lower case relative. A path starts with
a move. Used by clipPath, clipXPath, textPath, textFlowPath and textFlowXPath.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from isrender.commands.args import Arg, ArgProblem, checked_length
from isrender.commands.values import PathDefinition

__all__ = ["PathArg", "parse_path"]

_NUMBER = re.compile(r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?")
# letter -> (numbers per group); a step takes one or more groups
_ARITY = {"m": 2, "l": 2, "c": 6, "z": 0}


def parse_path(text: str) -> PathDefinition:
    """Parse a path definition; raises ArgProblem naming the character that is wrong."""
    steps: list[tuple[str, tuple[float, ...]]] = []
    pos = 0
    while pos < len(text):
        letter = text[pos]
        if letter.lower() not in _ARITY:
            raise ArgProblem(f"unexpected {letter!r} at character {pos} of the path")
        if not steps and letter.lower() != "m":
            raise ArgProblem("a path starts with M or m")
        pos += 1
        numbers: list[float] = []
        while _ARITY[letter.lower()]:
            match = _NUMBER.match(text, pos)
            if not match:
                break
            numbers.append(float(checked_length(match.group(), "path number")))
            pos = match.end()
            if text[pos : pos + 1] != "," or not _NUMBER.match(text, pos + 1):
                break
            pos += 1
        group = _ARITY[letter.lower()]
        count = len(numbers)
        if group and (count == 0 or count % group or (letter.lower() == "m" and count != 2)):
            need = "2" if letter.lower() == "m" else f"a multiple of {group}"
            raise ArgProblem(f"{letter} takes {need} numbers, not {count}")
        steps.append((letter, tuple(numbers)))
    if not steps:
        raise ArgProblem("empty path")
    return PathDefinition(tuple(steps))


@dataclass(frozen=True)
class PathArg(Arg):
    """A whole-value path definition."""

    kind = "a path (M x,y L x,y C ... Z)"

    def convert(self, part: str) -> PathDefinition:
        try:
            return parse_path(part)
        except ArgProblem as problem:
            raise self.problem(part, problem.message) from None
