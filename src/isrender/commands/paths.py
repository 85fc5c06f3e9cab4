"""Path definitions (§5.11): ``M x,y``, ``L x,y{,x,y}``, ``C x1,y1,x2,y2,x,y{,...}``, ``Z``.

Commas are the only separator; upper case is absolute, lower case relative. A path starts with
a move. Used by clipPath, clipXPath, textPath, textFlowPath and textFlowXPath.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from isrender.commands.args import Arg, ArgProblem, checked_length
from isrender.commands.values import PathDefinition

__all__ = ["MAX_COORDINATE", "STEP_NUMBERS", "PathArg", "PathProblem", "parse_path"]

_NUMBER = re.compile(r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?")
STEP_NUMBERS = {"m": 2, "l": 2, "c": 6, "z": 0}  # numbers per repetition of each step
MAX_COORDINATE = 1e7  # far beyond any layer; keeps SVG numbers and bounds finite


class PathProblem(ArgProblem):
    """A path that does not parse: ``problem`` says what, at ``position`` (``length`` chars)."""

    def __init__(self, problem: str, position: int, length: int = 1) -> None:
        super().__init__(f"{problem} (character {position} of the path)")
        self.problem, self.position, self.length = problem, position, max(1, length)


def parse_path(text: str) -> PathDefinition:
    """Parse a path definition (the only tokenizer of §5.11 paths); raises PathProblem
    naming the character that is wrong."""
    steps: list[tuple[str, tuple[float, ...]]] = []
    pos = 0
    while pos < len(text):
        letter = text[pos]
        if letter.lower() not in STEP_NUMBERS:
            raise PathProblem(f"unexpected {letter!r}: a path step is M, L, C or Z", pos)
        if not steps and letter.lower() != "m":
            raise PathProblem("a path starts with M or m", pos)
        numbers, end = _numbers(text, pos + 1)
        _check_arity(letter, numbers, pos, end)
        steps.append((letter, tuple(numbers)))
        pos = end
    if not steps:
        raise PathProblem("the path is empty", 0)
    return PathDefinition(tuple(steps))


def _numbers(text: str, pos: int) -> tuple[list[float], int]:
    numbers: list[float] = []
    while True:
        match = _NUMBER.match(text, pos)
        if match is None:
            if numbers:  # a comma was followed by something that is not a number
                raise PathProblem("a number must follow ','", pos)
            return numbers, pos
        value = float(checked_length(match.group(), "path number"))
        if not abs(value) <= MAX_COORDINATE:
            raise PathProblem(f"{match.group()} is beyond ±{MAX_COORDINATE:g}", pos,
                              len(match.group()))  # fmt: skip
        numbers.append(value)
        pos = match.end()
        if text[pos : pos + 1] != ",":
            return numbers, pos
        pos += 1


def _check_arity(letter: str, numbers: list[float], start: int, end: int) -> None:
    group = STEP_NUMBERS[letter.lower()]
    count = len(numbers)
    if group == 0 and count:
        raise PathProblem(f"{letter} takes no numbers", start + 1, end - start - 1)
    if letter.lower() == "m" and count != 2:
        raise PathProblem(f"{letter} takes one point x,y, not {count} numbers", start,
                          end - start)  # fmt: skip
    if group and (count == 0 or count % group):
        raise PathProblem(f"{letter} takes numbers in groups of {group}, not {count}", start,
                          end - start)  # fmt: skip


@dataclass(frozen=True)
class PathArg(Arg):
    """A whole-value path definition."""

    kind = "a path (M x,y L x,y C ... Z)"

    def convert(self, part: str) -> PathDefinition:
        try:
            return parse_path(part)
        except ArgProblem as problem:
            raise self.problem(part, problem.message) from None
