"""Value decoding (§1.4) and variable substitution (§2.2, D-17), on one value at a time.

Order matters and is the spec's: a value is split off its segment raw, then %-decoded (``+`` is a
space, D-05; a bad escape is an error, D-06, or a literal ``%`` when lenient), then split on
commas by its command; variable references are substituted in the decoded text and never
decoded again.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from isrender.errors import InvalidEncodingError, Location

__all__ = ["bad_escape", "decode_value", "substitute"]

_ESCAPE = re.compile(r"%([0-9A-Fa-f]{2})")
_BAD_ESCAPE = re.compile(r"%(?![0-9A-Fa-f]{2})")
_REFERENCE_NAME = re.compile(r"[A-Za-z0-9._-]+")


def bad_escape(raw: str) -> str | None:
    """The first invalid %-escape in a raw value as written (``%s``, ``%``), or None."""
    bad = _BAD_ESCAPE.search(raw) if "%" in raw else None
    return raw[bad.start() : bad.start() + 2] if bad else None


def decode_value(raw: str, at: Location | tuple[str, int], *, lenient: bool = False) -> str:
    """%-decode one raw value. ``at`` locates the value's first character for errors, as a
    Location or, cheaper on the hot path, as ``(source, position)``.

    Escapes are collected as bytes and decoded as UTF-8, falling back to ISO-8859-1 when the
    bytes are not valid UTF-8 (D-04). ``lenient``: a ``%`` that does not start an escape is a
    literal ``%`` (unfilled ``%s`` templates), as if written ``%25``.
    """
    if "%" not in raw:
        return raw.replace("+", " ") if "+" in raw else raw
    bad = _BAD_ESCAPE.search(raw)
    if bad and lenient:
        raw = _BAD_ESCAPE.sub("%25", raw)
    elif bad:
        if not isinstance(at, Location):
            at = Location(at[0], at[1])
        # Show the '%' and the characters that fail to be its two hex digits.
        tail = raw[bad.start() + 1 : bad.start() + 3]
        good = len(tail) - len(tail.lstrip("0123456789abcdefABCDEF"))
        shown = raw[bad.start() : bad.start() + 2 + min(good, 1)]
        raise InvalidEncodingError(
            f"bad %-escape {shown!r}",
            Location(at.source, at.position + bad.start(), len(shown), at.origin),
            "a '%' must be followed by two hex digits; write %25 for a literal '%'",
        )
    data = bytearray()
    last = 0
    for match in _ESCAPE.finditer(raw):
        data += raw[last : match.start()].replace("+", " ").encode("utf-8", "surrogatepass")
        data.append(int(match.group(1), 16))
        last = match.end()
    # surrogatepass: JSON may carry a lone surrogate ("\ud800"); it becomes ISO-8859-1 text
    # below instead of an exception (found by `make fuzz`)
    data += raw[last:].replace("+", " ").encode("utf-8", "surrogatepass")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return data.decode("iso-8859-1")


def substitute(value: str, variables: Mapping[str, str]) -> str:
    """Replace ``$name$`` references to defined variables (names case-insensitive).

    D-17: scan left to right; at each ``$`` look for the next ``$``; if the text between is a
    valid name of a defined variable, replace the reference and continue after it; otherwise
    keep the first ``$`` literally and continue at the next character. Substituted text is not
    scanned again (no recursion, §2.1).
    """
    if "$" not in value or not variables:
        return value
    out: list[str] = []
    i = 0
    n = len(value)
    while i < n:
        start = value.find("$", i)
        if start < 0:
            break
        out.append(value[i:start])
        stop = value.find("$", start + 1)
        name = value[start + 1 : stop] if stop > 0 else ""
        replacement = (
            variables.get(name.lower()) if name and _REFERENCE_NAME.fullmatch(name) else None
        )
        if replacement is None:
            out.append("$")
            i = start + 1
        else:
            out.append(replacement)
            i = stop + 1
    out.append(value[i:])
    return "".join(out)
