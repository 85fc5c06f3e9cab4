"""parse(): modifier text -> ModifierString (spec §1.2-§1.3, §1.10).

The Lark grammar decides the shape and where it breaks; this module turns its coarse tokens into
nodes (one per segment, with spans) and parses nested ``is{...}``/``ir{...}``/``fxg{...}``
bodies recursively. Lark's own exceptions never leave this module: they become
ModifierSyntaxError with the position of the offending segment and a hint.

``parse(text, lenient=True)`` is what a forgiving image server reads: where the strict parse
stops, it keeps going. A segment that is not a command, macro or variable (``_name=``, ``$$``,
``%24name%24``, a stray URL) becomes a Command whose name is not a command name, so binding
ignores it with a warning (and strict binding raises the error the strict parse would have); a
segment written right after a nested group is read as if ``&`` stood between them. An
unterminated group stays an error: nothing after it can be read.
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

__all__ = ["after_group_error", "is_command_name", "not_a_command_error", "parse", "parse_uncached"]

_SEGMENT_STARTS = frozenset({"layer", "effect"})
_NAME_CHARS = re.compile(r"[A-Za-z0-9._-]+")
_COMMAND_NAME = re.compile(r"[A-Za-z][A-Za-z0-9_]*")
_ESCAPED_NAME = re.compile(r"%24([A-Za-z0-9._-]+)%24", re.IGNORECASE)


@lru_cache(maxsize=4096)
def parse(text: str, lenient: bool = False) -> ModifierString:
    """Parse a whole modifier string; raises ModifierSyntaxError. Results are cached.

    The result is immutable, so handing the same object to every caller is safe. ``lenient``
    reads past segments the strict parse refuses (see the module docstring).
    """
    return parse_uncached(text, lenient)


def parse_uncached(text: str, lenient: bool = False) -> ModifierString:
    """parse() without the cache (benchmarks measure both)."""
    return _parse(text, 0, text, lenient)


def is_command_name(name: str) -> bool:
    """Whether ``name`` has the shape of a command name (lenient parses keep other names)."""
    return _COMMAND_NAME.fullmatch(name) is not None


def _parse(text: str, offset: int, whole: str, lenient: bool = False) -> ModifierString:
    """Parse ``text``, which starts at ``offset`` in the top-level string ``whole``."""
    nodes: list[Node] = []
    if lenient:
        _read_leniently(text, offset, whole, nodes)
    else:
        _read(text, offset, whole, nodes, lenient)
    return ModifierString(tuple(nodes), whole)


def _read(text: str, offset: int, whole: str, out: list[Node], lenient: bool) -> None:
    try:
        # The inline transformer's start() returns a list, not a Tree.
        items: list[Any] = modifier_parser().parse(text)  # type: ignore[assignment]
    except UnexpectedInput as exc:
        raise _syntax_error(text, exc).relocated(offset, whole) from None
    except LarkError as exc:  # pragma: no cover - Lark raises UnexpectedInput for bad text
        raise ModifierSyntaxError(f"cannot parse ({exc})", Location(whole, offset)) from None
    _add_items(items, offset, whole, out, lenient)


def _add_items(items: list[Any], offset: int, whole: str, out: list[Node], lenient: bool) -> None:
    for item in items:
        if isinstance(item, tuple):
            out.append(_nested_command(item, offset, whole, lenient))
        elif item.type == "RUN":
            _split_run(item, offset, out)
        # LEAD ('?') and AMP carry no meaning of their own.


def _read_leniently(text: str, offset: int, whole: str, out: list[Node]) -> None:
    """Read ``text`` as _read does, cutting it where the grammar stops: the part before the
    cut is read strictly, the refused segment is kept as a not-a-command node, and reading
    goes on after it. A loop, not recursion: a string may hold thousands of bad segments."""
    start = 0
    while True:
        piece = text[start:]
        cut = 0  # a '?' leads only the whole string: elsewhere it starts a refused segment
        if not (start and piece.startswith("?")):
            try:
                items: list[Any] = modifier_parser().parse(piece)  # type: ignore[assignment]
            except UnexpectedInput as exc:
                if isinstance(exc, UnexpectedToken) and exc.token.type == "$END":
                    raise _syntax_error(piece, exc).relocated(offset + start, whole) from None
                cut = _error_position(piece, exc)
                _read(piece[:cut], offset + start, whole, out, lenient=True)
                if cut > 0 and piece[cut - 1] in "})" and _expects_separator(exc):
                    start += cut  # text right after a group: read as if '&' stood between
                    continue
            else:
                _add_items(items, offset + start, whole, out, lenient=True)
                return
        end = piece.find("&", cut)
        stop = end if end >= 0 else len(piece)
        if stop > cut:
            name, eq, value = piece[cut:stop].partition("=")
            span = (offset + start + cut, offset + start + stop)
            out.append(Command(name, value if eq else None, span))
        if end < 0:
            return
        start += end + 1


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


def _nested_command(
    item: tuple[Token, str, Token], offset: int, whole: str, lenient: bool
) -> Command:
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
        at = body_start + len(obj) + 1
        request = _parse(modifiers, at, whole, lenient) if question else None
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
        return after_group_error(text, pos)
    end = text.find("&", pos)
    segment = text[pos : end if end >= 0 else len(text)]
    return _bad_segment(text, pos, segment)


def after_group_error(text: str, pos: int) -> ModifierSyntaxError:
    """The error for text written right after a nested group that ends at ``pos``."""
    return ModifierSyntaxError(
        f"unexpected {text[pos]!r} after a nested group",
        Location(text, pos),
        "a nested group must be followed by '&' or the end of the string",
    )


def not_a_command_error(text: str, pos: int, segment: str) -> ModifierSyntaxError:
    """The error the strict parse gives for ``segment``, which starts at ``pos`` in ``text``
    (binding raises it for the not-a-command nodes of a lenient parse in strict mode)."""
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
