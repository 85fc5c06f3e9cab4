"""parse(): modifier text -> ModifierString (spec §1.2-§1.3, §1.10).

The Lark grammar decides the shape and where it breaks; this module turns its coarse tokens into
nodes (one per segment, with spans) and parses nested ``is{...}``/``ir{...}``/``fxg{...}``
bodies recursively. Lark's own exceptions never leave this module: they become
ModifierSyntaxError with the position of the offending segment and a hint.
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Any
from urllib.parse import unquote

from lark import Token
from lark.exceptions import LarkError, UnexpectedCharacters, UnexpectedInput, UnexpectedToken

from isrender.errors import Location, ModifierSyntaxError
from isrender.language.ast import (
    Bracket,
    Command,
    Comment,
    MacroRef,
    ModifierString,
    Nested,
    NestedKind,
    Node,
    SegmentStart,
    VarDef,
)
from isrender.language.grammar import modifier_parser

__all__ = ["parse", "parse_uncached"]

_SEGMENT_STARTS = frozenset({"layer", "effect"})
_NAME_CHARS = re.compile(r"[A-Za-z0-9._-]+")
_COMMAND_NAME = re.compile(r"[A-Za-z][A-Za-z0-9_]*")
_ESCAPED_NAME = re.compile(r"%24([A-Za-z0-9._-]+)%24", re.IGNORECASE)


@lru_cache(maxsize=4096)
def parse(text: str) -> ModifierString:
    """Parse a whole modifier string; raises ModifierSyntaxError. Results are cached.

    The result is immutable, so handing the same object to every caller is safe.
    """
    return parse_uncached(text)


def parse_uncached(text: str) -> ModifierString:
    """parse() without the cache (benchmarks measure both)."""
    return _parse(text, 0, text)


def _parse(text: str, offset: int, whole: str) -> ModifierString:
    """Parse ``text``, which starts at ``offset`` in the top-level string ``whole``."""
    try:
        # The inline transformer's start() returns a list, not a Tree.
        items: list[Any] = modifier_parser().parse(text)  # type: ignore[assignment]
    except UnexpectedInput as exc:
        raise _syntax_error(text, exc).relocated(offset, whole) from None
    except LarkError as exc:  # pragma: no cover - Lark raises UnexpectedInput for bad text
        raise ModifierSyntaxError(f"cannot parse ({exc})", Location(whole, offset)) from None
    nodes: list[Node] = []
    for item in items:
        if isinstance(item, tuple):
            nodes.append(_nested_command(item, offset, whole))
        elif item.type == "RUN":
            _split_run(item, offset, nodes)
        # LEAD ('?') and AMP carry no meaning of their own.
    return ModifierString(tuple(nodes), whole)


def _split_run(run: Token, offset: int, out: list[Node]) -> None:
    """Classify the segments of a RUN. The lexer has already checked each one's shape, so the
    first character decides the kind (this loop is the hot path of parsing)."""
    pos = offset + (run.start_pos or 0)
    for segment in run.split("&"):
        end = pos + len(segment)
        if segment:
            first = segment[0]
            if first == "$":
                if segment[-1] == "$" and "=" not in segment:
                    out.append(MacroRef(segment[1:-1], (pos, end)))
                else:
                    name, eq, value = segment[1:].partition("=")
                    out.append(VarDef(name, value if eq else None, (pos, end)))
            elif first == ".":
                out.append(Comment(segment, (pos, end)))
            else:
                name, eq, value = segment.partition("=")
                if first in "lLeE" and name.lower() in _SEGMENT_STARTS:
                    out.append(SegmentStart(name, value if eq else None, (pos, end)))
                else:
                    out.append(Command(name, value if eq else None, (pos, end)))
        pos = end + 1


def _nested_command(item: tuple[Token, str, Token], offset: int, whole: str) -> Command:
    opening, body, closing = item
    start = offset + (opening.start_pos or 0)
    end = offset + (closing.end_pos or 0)
    name, _, group = str(opening).partition("=")
    kind = NestedKind(group[:-1])
    bracket = Bracket(group[-1])
    body_start = start + len(opening)
    obj: str | None = None
    request: ModifierString | None = None
    if kind is not NestedKind.URL:
        obj, question, modifiers = body.partition("?")
        request = _parse(modifiers, body_start + len(obj) + 1, whole) if question else None
        request = request or ModifierString((), "")
    nested = Nested(kind, bracket, body, (start + len(name) + 1, end), obj, request)
    return Command(name, nested.text, (start, end), nested)


# ---- errors ---------------------------------------------------------------------------------


def _syntax_error(text: str, exc: UnexpectedInput) -> ModifierSyntaxError:
    """Name the problem at the place the lexer or parser stopped."""
    pos = _error_position(text, exc)
    if isinstance(exc, UnexpectedToken) and exc.token.type == "$END":
        return _unterminated_group(text, exc)
    if pos > 0 and text[pos - 1] in "})" and _expects_separator(exc):
        return ModifierSyntaxError(
            f"unexpected {text[pos]!r} after a nested group",
            Location(text, pos),
            "a nested group must be followed by '&' or the end of the string",
        )
    end = text.find("&", pos)
    segment = text[pos : end if end >= 0 else len(text)]
    return _bad_segment(text, pos, segment)


def _error_position(text: str, exc: UnexpectedInput) -> int:
    if isinstance(exc, UnexpectedCharacters):
        return int(exc.pos_in_stream or 0)
    if isinstance(exc, UnexpectedToken):
        start = exc.token.start_pos
        return len(text) if start is None else int(start)
    return int(getattr(exc, "pos_in_stream", 0) or 0)


def _expects_separator(exc: UnexpectedInput) -> bool:
    expected: Any = getattr(exc, "expected", None) or getattr(exc, "allowed", None) or ()
    return "AMP" in expected and "RUN" not in expected


def _unterminated_group(text: str, exc: UnexpectedToken) -> ModifierSyntaxError:
    opening = next(
        (
            value
            for value in reversed(exc.state.value_stack if exc.state else [])
            if isinstance(value, Token) and value.type.startswith("NESTED_OPEN")
        ),
        None,
    )
    if opening is None:  # pragma: no cover - $END is only unexpected inside a group
        return ModifierSyntaxError("unexpected end of modifiers", Location(text, len(text)))
    closing = "}" if opening.endswith("{") else ")"
    start = opening.start_pos or 0
    return ModifierSyntaxError(
        f"unterminated nested group {str(opening)!r}",
        Location(text, start, len(opening)),
        f"add the missing {closing!r}",
    )


def _bad_segment(text: str, pos: int, segment: str) -> ModifierSyntaxError:
    """Explain why ``segment`` (starting at ``pos``) is neither command, macro nor variable."""
    at = Location(text, pos, max(1, len(segment)))
    if segment.startswith("?"):
        return ModifierSyntaxError(
            "unexpected '?' in the modifiers", Location(text, pos), "separate commands with '&'"
        )
    if segment.startswith("$"):
        return _bad_dollar_segment(text, pos, segment)
    if segment.startswith("%"):
        escaped = _ESCAPED_NAME.fullmatch(segment)
        hint = f"write ${escaped.group(1)}$" if escaped else "write the name unencoded"
        return ModifierSyntaxError(
            f"names are not %-decoded: {segment!r} is not a command or macro", at, hint
        )
    name = segment.partition("=")[0]
    if not name:
        return ModifierSyntaxError(
            f"missing command name before '=' in {segment!r}", at, "write name=value"
        )
    good = _COMMAND_NAME.match(name)
    bad_at = good.end() if good else 0
    char = name[bad_at]
    problem = (
        f"white space in command name {name!r}"
        if char.isspace()
        else f"invalid character {char!r} in command name {name!r}"
    )
    return ModifierSyntaxError(
        problem,
        Location(text, pos + bad_at),
        "a command name is letters, digits and '_' and starts with a letter",
    )


def _bad_dollar_segment(text: str, pos: int, segment: str) -> ModifierSyntaxError:
    at = Location(text, pos, len(segment))
    body = segment[1:]
    name = body.partition("=")[0].partition("$")[0]
    if not name:
        return ModifierSyntaxError(
            f"empty macro or variable name in {segment!r}",
            at,
            "invoke a macro as $name$ or define a variable as $name=value",
        )
    valid = _NAME_CHARS.match(name)
    if valid is None or valid.end() < len(name):
        bad_at = valid.end() if valid else 0
        decoded = unquote(name)
        hint = (
            f"names are not %-decoded: write {segment.replace(name, decoded, 1)}"
            if "%" in name and _NAME_CHARS.fullmatch(decoded)
            else "names are letters, digits, '.', '_' and '-'"
        )
        return ModifierSyntaxError(
            f"invalid character {name[bad_at]!r} in macro or variable name {name!r}",
            Location(text, pos + 1 + bad_at),
            hint,
        )
    return ModifierSyntaxError(
        f"{segment!r} is neither a macro invocation nor a variable definition",
        at,
        f"a macro invocation is a whole segment (${name}$); a variable is ${name}=value",
    )
