"""Reading macro definition files: the IS catalog data format (TSV) and TOML (spec §3.2).

Both give the same thing: ``MacroEntry`` records (name, definition, file:line) in file order,
plus warnings. Semantics (case-insensitive names, define-before-use, later duplicate wins) are
the registry's, so both containers behave alike.

IS format: plain text, ISO-8859-1 or UTF-8 when it starts with a BOM; records end at CR, LF or
CRLF; fields are separated by one TAB; a field may be double-quoted (a quote inside is written
twice, and quoted fields may hold TAB, CR and LF); the first record is a header whose names are
case-insensitive; ``Name`` and ``Definition`` are required; ``.``-columns are ignored; other
unknown columns are ignored with a warning.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from isrender.errors import MacroFileError

__all__ = ["MacroEntry", "MacroFileError", "read_macro_file"]

_BOM = b"\xef\xbb\xbf"
_LINE_BREAK = re.compile(r"\r\n|\r|\n")


@dataclass(frozen=True, slots=True)
class MacroEntry:
    name: str
    definition: str
    where: str  # "file:line"


def read_macro_file(path: str | Path) -> tuple[list[MacroEntry], list[str]]:
    """Entries in file order and warnings ("file:line: message"), by the file's extension:
    ``.toml`` is TOML, anything else the IS tab-separated format."""
    path = Path(path)
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise MacroFileError(f"cannot read macro file {path.name}: {exc.strerror}") from None
    if path.suffix.lower() == ".toml":
        return _read_toml(path.name, data)
    return _read_tsv(path.name, data)


# ---- IS catalog data format -------------------------------------------------------------------


def _decode(data: bytes) -> str:
    if data.startswith(_BOM):
        try:
            return data[len(_BOM) :].decode("utf-8")
        except UnicodeDecodeError as exc:  # a BOM promises UTF-8 (found by `make fuzz`)
            raise MacroFileError(f"not UTF-8 after its BOM (byte {exc.start + 3})") from None
    return data.decode("iso-8859-1")


def _records(text: str) -> Iterator[tuple[int, list[str]]]:
    """(first line number, fields) for each record; quotes may span TABs and line breaks."""
    if '"' not in text:  # the common case: no quoting, so lines and tabs are the structure
        lines = _LINE_BREAK.split(text)
        if lines and lines[-1] == "":
            lines.pop()
        for number, line in enumerate(lines, 1):
            yield number, line.split("\t")
        return
    yield from _quoted_records(text)


def _quoted_records(text: str) -> Iterator[tuple[int, list[str]]]:
    fields: list[str] = []
    field: list[str] = []
    line = start = 1
    i, n = 0, len(text)
    quoted = False
    while i < n:
        char = text[i]
        if quoted:
            if char == '"' and text[i + 1 : i + 2] == '"':
                field.append('"')
                i += 1
            elif char == '"':
                quoted = False
            else:
                line += char == "\n" or (char == "\r" and text[i + 1 : i + 2] != "\n")
                field.append(char)
        elif char == '"' and not field:
            quoted = True
        elif char == "\t":
            fields.append("".join(field))
            field = []
        elif char in "\r\n":
            if char == "\r" and text[i + 1 : i + 2] == "\n":
                i += 1
            fields.append("".join(field))
            yield start, fields
            fields, field = [], []
            line += 1
            start = line
        else:
            field.append(char)
        i += 1
    if field or fields:
        fields.append("".join(field))
        yield start, fields


def _read_tsv(name: str, data: bytes) -> tuple[list[MacroEntry], list[str]]:
    records = _records(_decode(data))
    header_line, header = next(records, (1, []))
    columns = [h.strip().lower() for h in header]
    if "name" not in columns or "definition" not in columns:
        raise MacroFileError(
            f"{name}:{header_line}: the header needs the columns Name and Definition "
            f"(found: {', '.join(header) or 'nothing'})"
        )
    warnings = [
        f"{name}:{header_line}: unknown column {h!r} ignored"
        for h, c in zip(header, columns, strict=True)
        if c not in ("name", "definition") and not c.startswith(".")
    ]
    name_at, definition_at = columns.index("name"), columns.index("definition")
    entries = []
    for line, fields in records:
        if not any(fields):
            continue  # blank line
        padded = fields + [""] * (len(columns) - len(fields))
        entries.append(MacroEntry(padded[name_at], padded[definition_at], f"{name}:{line}"))
    return entries, warnings


# ---- TOML ----------------------------------------------------------------------------------------


def _read_toml(name: str, data: bytes) -> tuple[list[MacroEntry], list[str]]:
    """``[macros]`` with ``name = "definition"`` pairs, in file order."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise MacroFileError(f"{name}: not UTF-8 at byte {exc.start} (TOML is UTF-8)") from None
    try:
        document = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise MacroFileError(f"{name}: not valid TOML: {exc}") from None
    macros = document.get("macros")
    if not isinstance(macros, dict):
        raise MacroFileError(f'{name}: no [macros] table (write [macros] then name = "...")')
    lines = _key_lines(text)
    entries, warnings = [], []
    for key, value in macros.items():
        where = f"{name}:{lines.get(key, 0)}"
        if not isinstance(value, str):
            warnings.append(f"{where}: macro {key!r} is not a string; ignored")
            continue
        entries.append(MacroEntry(key, value, where))
    return entries, warnings


def _key_lines(text: str) -> dict[str, int]:
    """Line numbers of ``key =`` lines in the [macros] table (tomllib does not keep them)."""
    lines: dict[str, int] = {}
    in_macros = False
    for number, raw in enumerate(text.splitlines(), 1):
        line = raw.strip()
        if line.startswith("["):
            in_macros = line.replace(" ", "") == "[macros]"
        elif in_macros and "=" in line and not line.startswith("#"):
            key = line.partition("=")[0].strip().strip("\"'")
            lines.setdefault(key, number)
    return lines
