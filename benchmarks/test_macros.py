"""Macro loading and expansion (issue 3): a 10,000-macro file, and a request invoking three
nested macros, beside a plain csv read of the same file in the same run."""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Any

import pytest

import isrender
from isrender.language import parse_uncached
from isrender.macros import MacroRegistry, expand

TIMES: dict[str, float] = {}
REQUEST = "$m9997$&wid=480&$m9998$&$m9999$"


@pytest.fixture(scope="module")
def macro_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """10,000 macros; every tenth invokes the one before it, as real preset files do."""
    lines = ["Name\tDefinition"]
    for i in range(10_000):
        body = f"wid={100 + i % 900}&hei={100 + i % 700}&fmt=jpeg&qlt=85,1&op_usm=1,1,6,0"
        if i % 10 == 9:
            body = f"$m{i - 1}$&{body}"
        lines.append(f"m{i}\t{body}")
    path = tmp_path_factory.mktemp("macros") / "macros.tsv"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def test_baseline_csv_read(benchmark: Any, macro_file: Path) -> None:
    def read() -> int:
        with macro_file.open(encoding="iso-8859-1", newline="") as fh:
            return sum(1 for _ in csv.reader(fh, delimiter="\t"))

    assert benchmark.pedantic(read, rounds=5) == 10_001
    TIMES["csv"] = benchmark.stats.stats.median


def test_load_10000_macros(benchmark: Any, macro_file: Path) -> None:
    registry = benchmark.pedantic(MacroRegistry.from_files, args=(macro_file,), rounds=5)
    assert len(registry) == 10_000 and not registry.problems()
    TIMES["load"] = benchmark.stats.stats.median


def test_expand_three_nested_macros_cold(benchmark: Any, macro_file: Path) -> None:
    registry = MacroRegistry.from_files(macro_file)
    request = benchmark(lambda: isrender.bind(expand(parse_uncached(REQUEST), registry)))
    assert request.globals.value("wid") == 100 + 9999 % 900
    TIMES["cold"] = benchmark.stats.stats.median


def test_expand_three_nested_macros_cached(benchmark: Any, macro_file: Path) -> None:
    registry = MacroRegistry.from_files(macro_file)
    request = benchmark(lambda: isrender.bind(expand(isrender.parse(REQUEST), registry)))
    assert request.globals.value("qlt").quality == 85
    TIMES["cached"] = benchmark.stats.stats.median


def report() -> str:
    if not {"csv", "load", "cold", "cached"} <= TIMES.keys():
        return ""
    return (
        f"macros: load 10,000 = {TIMES['load'] * 1e3:.0f} ms ({TIMES['load'] / TIMES['csv']:.1f}x "
        f"a csv read of the file); expand+bind 3 nested macros: cold {TIMES['cold'] * 1e6:.0f} us, "
        f"cached {TIMES['cached'] * 1e6:.2f} us"
    )
