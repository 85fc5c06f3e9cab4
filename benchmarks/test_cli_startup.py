"""CLI start-up (issue 15: --help, check and explain within 0.3 s): each command timed in its
own process, the commands interleaved round by round so a busy machine slows them alike,
beside two floors measured the same way (`python -c pass` and `import isrender`)."""

from __future__ import annotations

import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
ROUNDS = 15
TARGET = 0.3  # seconds, the budget for --help, check and explain
CLI = [sys.executable, "-c", "from isrender.cli import main; main()"]
COMMANDS = {
    "python -c pass": [sys.executable, "-c", "pass"],
    "import isrender": [sys.executable, "-c", "import isrender"],
    "isrender --help": [*CLI, "--help"],
    "isrender --version": [*CLI, "--version"],
    "isrender check": [*CLI, "check", "wid=500&fmt=webp&qlt=80,1&op_usm=1,1,6,0"],
    "isrender explain": [*CLI, "explain", "wid=500&fmt=webp&qlt=80,1&rotate=90&flip=lr"],
    "isrender config show": [*CLI, "config", "show"],
}
TARGETED = ("isrender --help", "isrender check", "isrender explain")
MEDIANS: dict[str, float] = {}


def _wall_seconds(command: list[str]) -> float:
    start = time.perf_counter()
    subprocess.run(command, capture_output=True, cwd=ROOT, timeout=60, check=True)
    return time.perf_counter() - start


def _interleaved() -> dict[str, list[float]]:
    times: dict[str, list[float]] = {name: [] for name in COMMANDS}
    names = list(COMMANDS)
    for round_number in range(ROUNDS):
        shift = round_number % len(names)  # which command goes first rotates
        for name in names[shift:] + names[:shift]:
            times[name].append(_wall_seconds(COMMANDS[name]))
    return times


def test_cli_startup_interleaved(benchmark: Any) -> None:
    times = benchmark.pedantic(_interleaved, rounds=1, iterations=1)
    MEDIANS.update({name: statistics.median(values) for name, values in times.items()})
    assert all(MEDIANS.values())


def report() -> str:
    if not MEDIANS:
        return ""
    lines = [f"cli start-up, median of {ROUNDS} interleaved runs (target {TARGET:.1f} s):"]
    for name, seconds in MEDIANS.items():
        mark = (
            ""
            if name.startswith(("python", "import"))
            else ("  ok" if seconds <= TARGET else "  over the target")
        )
        lines.append(f"  {name:<22} {seconds * 1e3:6.0f} ms{mark}")
    return "\n".join(lines)
