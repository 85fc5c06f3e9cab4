"""Macro definition files: the IS tab-separated catalog format and TOML (spec §3.2)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

import isrender
from isrender.macros import MacroRegistry, expand
from isrender.macros.files import MacroFileError, read_macro_file
from tests.conftest import jsonl


def write(tmp_path: Path, name: str, data: bytes) -> Path:
    path = tmp_path / name
    path.write_bytes(data)
    return path


@pytest.mark.parametrize("newline", [b"\n", b"\r\n", b"\r"], ids=["LF", "CRLF", "CR"])
def test_record_separators(tmp_path: Path, newline: bytes) -> None:
    data = newline.join([b"Name\tDefinition", b"a\twid=1", b"", b"b\t$a$&hei=2", b""])
    entries, warnings = read_macro_file(write(tmp_path, "m.tsv", data))
    assert [(e.name, e.definition, e.where) for e in entries] == [
        ("a", "wid=1", "m.tsv:2"),
        ("b", "$a$&hei=2", "m.tsv:4"),
    ]
    assert warnings == []


def test_encodings_utf8_with_bom_and_latin1(tmp_path: Path) -> None:
    text = "Name\tDefinition\nt\t$text=Caf\u00e9\n"
    utf8 = write(tmp_path, "u.tsv", b"\xef\xbb\xbf" + text.encode("utf-8"))
    latin = write(tmp_path, "l.tsv", text.encode("iso-8859-1"))
    for path in (utf8, latin):
        (entry,), _ = read_macro_file(path)
        assert entry.definition == "$text=Caf\u00e9"


def test_quoted_fields_columns_and_header_case(tmp_path: Path) -> None:
    data = (
        b".note\tDEFINITION\tname\tOwner\n"
        b'ignored\t"text=say ""hi""\tthere\r\nnext line"\tquoted\tme\n'
        b"x\twid=1\tplain\t\n"
    )
    entries, warnings = read_macro_file(write(tmp_path, "q.tsv", data))
    assert [(e.name, e.definition) for e in entries] == [
        ("quoted", 'text=say "hi"\tthere\r\nnext line'),
        ("plain", "wid=1"),
    ]
    assert entries[1].where == "q.tsv:4"  # the quoted line break counts
    assert warnings == ["q.tsv:1: unknown column 'Owner' ignored"]


def test_missing_header_columns_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(MacroFileError, match="needs the columns Name and Definition"):
        read_macro_file(write(tmp_path, "bad.tsv", b"Key\tValue\na\tb\n"))


def test_duplicates_later_wins_with_a_warning(tmp_path: Path) -> None:
    path = write(tmp_path, "d.tsv", b"Name\tDefinition\nv\twid=1\nuse\t$v$\nV\twid=2\n")
    registry = MacroRegistry.from_files(path)
    assert registry.get("v").definition == "wid=2"  # type: ignore[union-attr]
    assert registry.get("use").expansion() == "wid=1"  # type: ignore[union-attr]  # as loaded
    assert registry.warnings == ("d.tsv:4: macro 'V' defined again; the later wins",)


def test_toml_same_semantics(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "m.toml",
        b'title = "x"\n[macros]\nview = "wid=240"\n# comment\npdp = "$view$&hei=240"\n'
        b'early = "$late$"\nlate = "hei=1"\nnumber = 3\n',
    )
    registry = MacroRegistry.from_files(path)
    assert registry.names() == ("view", "pdp", "early", "late")
    assert registry.get("PDP").expansion() == "wid=240&hei=240"  # type: ignore[union-attr]
    (problem,) = registry.problems()
    assert problem.where == "m.toml:6" and "defined later (m.toml:7)" in str(problem)
    assert registry.warnings == ("m.toml:8: macro 'number' is not a string; ignored",)


@pytest.mark.parametrize(
    ("content", "message"),
    [(b"[macros\n", "not valid TOML"), (b'[other]\na = "b"\n', "no [macros] table")],
)
def test_toml_errors(tmp_path: Path, content: bytes, message: str) -> None:
    with pytest.raises(MacroFileError, match=re.escape(message)):
        read_macro_file(write(tmp_path, "bad.toml", content))


def test_unreadable_file_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(MacroFileError, match=r"cannot read macro file nope\.tsv"):
        read_macro_file(tmp_path / "nope.tsv")


def test_example_config_file_loads() -> None:
    path = Path(__file__).resolve().parents[2] / "examples" / "macros.toml"
    registry = MacroRegistry.from_files(path)
    assert not registry.problems() and registry.get("test").expansion() == "fmt=tif"  # type: ignore[union-attr]


def test_realworld_presets_load_and_expand(tmp_path: Path) -> None:
    """Every stored preset of the sample, loaded as an IS macro file, loads and expands;
    binding then succeeds or fails with an understandable ModifierError."""
    rows = jsonl("realworld-presets-sample.jsonl")
    lines = ["Name\tDefinition"]
    for i, row in enumerate(rows):
        match = re.search(r"image preset \S+?/(\S+)", row.get("note", ""))
        name = re.sub(r"[^A-Za-z0-9._-]", "_", match.group(1)) if match else f"preset{i}"
        lines.append(f"{name}_{i}\t{row['query']}")
    path = write(tmp_path, "presets.tsv", ("\n".join(lines) + "\n").encode("utf-8"))
    registry = MacroRegistry.from_files(path)
    assert len(registry) == len(rows) and not registry.problems()
    bound = 0
    for macro in registry.default.values():
        flat = expand(isrender.parse(f"${macro.name}$&wid=100"), registry)
        assert isrender.serialize(flat).endswith("wid=100")
        try:
            isrender.bind(flat, strict=False)
            bound += 1
        except isrender.ModifierError as exc:
            assert exc.at.origin.startswith(f"macro '{macro.name}'"), exc
    assert bound >= len(rows) - 3, json.dumps(bound)
