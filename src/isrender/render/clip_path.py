"""Path definitions (spec §5.11) as geometry: parse ``clipPath=`` text into absolute subpaths,
measure them, and write the SVG document that rasterises a filled mask (vips_mask.py).

Syntax: ``M x,y`` / ``m`` move (starts a subpath), ``L x,y{,x,y}`` / ``l`` lines, ``C x1,y1,x2,
y2,x,y{,...}`` / ``c`` cubic Béziers, ``Z``/``z`` close; commas are the only separator, upper
case is absolute layer pixels, lower case relative to the current point. A relative ``m`` that
starts a subpath is relative to the previous subpath's start if it was closed, its end if open,
or 0,0. Clip and flow paths are closed implicitly; ``closed`` records what the text said (text
paths stay open). Filling uses the non-zero winding rule (SVG's and PostScript's default).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from isrender.commands.paths import STEP_NUMBERS, PathProblem, parse_path
from isrender.commands.values import PathDefinition, Point
from isrender.errors import Location, PathSyntaxError

__all__ = [
    "ClipPath",
    "CubicTo",
    "LineTo",
    "Point",
    "Subpath",
    "from_definition",
    "parse",
    "to_svg",
]


@dataclass(frozen=True, slots=True)
class LineTo:
    to: Point


@dataclass(frozen=True, slots=True)
class CubicTo:
    c1: Point
    c2: Point
    to: Point


Segment = LineTo | CubicTo


@dataclass(frozen=True, slots=True)
class Subpath:
    start: Point
    segments: tuple[Segment, ...]
    closed: bool


@dataclass(frozen=True, slots=True)
class ClipPath:
    """Absolute subpaths in layer pixels."""

    subpaths: tuple[Subpath, ...]

    def bounds(self) -> tuple[float, float, float, float]:
        """(left, top, right, bottom) of the drawn outline, curves' extremes included."""
        points = [p for sub in self.subpaths for p in _outline_extremes(sub)]
        if not points:
            return 0.0, 0.0, 0.0, 0.0
        xs, ys = [p.x for p in points], [p.y for p in points]
        return min(xs), min(ys), max(xs), max(ys)

    def transformed(self, scale: float = 1.0, dx: float = 0.0, dy: float = 0.0) -> ClipPath:
        """The path scaled about 0,0 then moved (a layer drawn at another size or place)."""

        def move(p: Point) -> Point:
            return Point(p.x * scale + dx, p.y * scale + dy)

        def segment(s: Segment) -> Segment:
            return LineTo(move(s.to)) if isinstance(s, LineTo) else CubicTo(
                move(s.c1), move(s.c2), move(s.to))  # fmt: skip

        return ClipPath(tuple(Subpath(move(sub.start), tuple(map(segment, sub.segments)),
                                      sub.closed) for sub in self.subpaths))  # fmt: skip


def parse(text: str) -> ClipPath:
    """Parse a path definition (commands/paths.py reads it); PathSyntaxError points at the
    offending character."""
    try:
        definition = parse_path(text)
    except PathProblem as problem:
        raise PathSyntaxError(
            problem.problem, Location(text, problem.position, problem.length)
        ) from None
    return from_definition(definition)


def from_definition(definition: PathDefinition) -> ClipPath:
    """The absolute geometry of a parsed definition (the bound ``clipPath=`` value)."""
    subpaths: list[Subpath] = []
    start = current = Point(0.0, 0.0)  # after Z the current point is the subpath's start
    segments: list[Segment] = []
    closed = opened = False

    def finish() -> None:
        if opened:  # a lone move is a subpath that draws nothing
            subpaths.append(Subpath(start, tuple(segments), closed))

    for letter, numbers in definition.steps:
        kind, base = letter.lower(), (current if letter.islower() else None)
        if kind == "m" or (closed and kind != "z"):  # a step after Z starts a new subpath
            finish()
            segments, closed, opened = [], False, True
            start = current = _point(numbers, base) if kind == "m" else current
            if kind == "m":
                continue
        if kind == "z":
            closed, current = True, start
            continue
        size = STEP_NUMBERS[kind]
        for i in range(0, len(numbers), size):
            base = current if letter.islower() else None
            points = [_point(numbers[i + j : i + j + 2], base) for j in range(0, size, 2)]
            segments.append(LineTo(points[0]) if kind == "l" else CubicTo(*points))
            current = points[-1]
    finish()
    return ClipPath(tuple(subpaths))


def _point(pair: tuple[float, ...], base: Point | None) -> Point:
    x, y = pair[0], pair[1]
    return Point(x + base.x, y + base.y) if base else Point(x, y)


def _outline_extremes(sub: Subpath) -> list[Point]:
    points = [sub.start]
    current = sub.start
    for s in sub.segments:
        if isinstance(s, CubicTo):
            points.extend(_cubic_at(current, s, t) for t in _cubic_turns(current, s))
        points.append(s.to)
        current = s.to
    return points


def _cubic_turns(p0: Point, s: CubicTo) -> list[float]:
    """Parameters in (0, 1) where the curve turns in x or y (roots of the derivative)."""
    turns: list[float] = []
    for a0, a1, a2, a3 in ((p0.x, s.c1.x, s.c2.x, s.to.x), (p0.y, s.c1.y, s.c2.y, s.to.y)):
        a, b, c = -a0 + 3 * a1 - 3 * a2 + a3, 2 * (a0 - 2 * a1 + a2), a1 - a0
        if abs(a) < 1e-12:
            roots = [-c / b] if abs(b) > 1e-12 else []
        else:
            disc = b * b - 4 * a * c
            roots = [(-b + sign * math.sqrt(disc)) / (2 * a) for sign in (1, -1)] if disc >= 0 \
                else []  # fmt: skip
        turns.extend(t for t in roots if 0 < t < 1)
    return turns


def _cubic_at(p0: Point, s: CubicTo, t: float) -> Point:
    u = 1 - t
    w = (u * u * u, 3 * u * u * t, 3 * u * t * t, t * t * t)
    pts = (p0, s.c1, s.c2, s.to)
    return Point(sum(k * p.x for k, p in zip(w, pts, strict=True)),
                 sum(k * p.y for k, p in zip(w, pts, strict=True)))  # fmt: skip


def to_svg(path: ClipPath, width: int, height: int) -> str:
    """An SVG document ``width`` x ``height`` px with ``path`` filled white (every subpath
    closed: clip paths close implicitly) on transparency."""
    data = []
    for sub in path.subpaths:
        data.append(f"M{_n(sub.start.x)},{_n(sub.start.y)}")
        for s in sub.segments:
            if isinstance(s, LineTo):
                data.append(f"L{_n(s.to.x)},{_n(s.to.y)}")
            else:
                data.append("C" + ",".join(_n(v) for p in (s.c1, s.c2, s.to) for v in (p.x, p.y)))
        data.append("Z")
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}"><path fill="#fff" fill-rule="nonzero" '
        f'd="{" ".join(data)}"/></svg>'
    )


def _n(value: float) -> str:
    return f"{value:.4f}".rstrip("0").rstrip(".")
