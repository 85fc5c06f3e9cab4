"""The CLI starts fast (issue 15): --help, check and explain import no catalog, job, server or
libvips module, the lazy command table matches what the modules register, and the start-up
cost on top of the language core stays small. `make bench` reports the absolute times."""

from __future__ import annotations

import importlib
import os
import resource
import subprocess
import sys
from pathlib import Path

import click
import pytest

from isrender.cli import _LAZY_COMMANDS, main

ROOT = Path(__file__).resolve().parents[2]
HEAVY = ("sqlalchemy", "pydantic", "pydantic_settings", "pyvips", "fastapi", "uvicorn",
         "alembic", "celery", "isrender.catalog", "isrender.jobs", "isrender.server",
         "isrender.render.vips.renderer", "rich.progress")  # fmt: skip
FAST_COMMANDS = [("--help",), ("--version",), ("check", "wid=200&fmt=png"),
                 ("explain", "wid=200&fmt=png&$v$&$v=1"), ("check", "--help")]  # fmt: skip


def test_the_lazy_table_names_every_command_with_its_own_summary() -> None:
    """Each module's register() adds exactly the commands the table lists for it, and the
    summary --help shows without importing is the command's own first line."""
    for module in sorted({module for module, _ in _LAZY_COMMANDS.values()}):
        group = click.Group()
        importlib.import_module(module).register(group)
        listed = {name for name, (owner, _) in _LAZY_COMMANDS.items() if owner == module}
        assert set(group.commands) == listed, module
        for name, command in group.commands.items():
            placeholder = click.Command(name, help=_LAZY_COMMANDS[name][1])
            assert placeholder.get_short_help_str(200) == command.get_short_help_str(200), name


def test_help_lists_every_command() -> None:
    listed = main.list_commands(click.Context(main))
    assert listed == sorted(_LAZY_COMMANDS)


def _modules_after(*args: str) -> set[str]:
    probe = (
        "import sys; from isrender.cli import main\n"
        "try:\n    main()\nexcept SystemExit:\n    pass\n"
        "print(' '.join(sorted(sys.modules)), file=sys.stderr)"
    )
    done = subprocess.run([sys.executable, "-c", probe, *args], capture_output=True, text=True,
                          cwd=ROOT, timeout=60, check=False)  # fmt: skip
    return set(done.stderr.split()[-1000:]) if done.stderr else set()


@pytest.mark.parametrize("args", FAST_COMMANDS, ids=" ".join)
def test_fast_commands_import_nothing_heavy(args: tuple[str, ...]) -> None:
    loaded = _modules_after(*args)
    assert "isrender.cli" in loaded
    heavy = sorted(m for m in loaded if m.split(".")[0] in HEAVY or m.startswith(HEAVY))
    assert heavy == [], f"isrender {' '.join(args)} imported {heavy[:8]}"


def _cpu_seconds(command: list[str]) -> float:
    """User + system CPU of one child process: steadier than wall time on a shared machine."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    subprocess.run(command, capture_output=True, cwd=ROOT, timeout=60, check=False,
                   env={**os.environ, "PYTHONDONTWRITEBYTECODE": "1"})  # fmt: skip
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def test_check_costs_little_more_than_importing_the_language_core() -> None:
    """`isrender check` = the core (parse, macros, bind: isrender/__init__) + click, rich and
    the grammar build. Interleaved, best of 5: importing SQLAlchemy or pydantic would add more
    than the 0.15 s allowed here."""
    core = [sys.executable, "-c", "import isrender"]
    check = [sys.executable, "-c", "from isrender.cli import main; main()", "check", "wid=1"]
    core_times, check_times = [], []
    for _ in range(5):
        core_times.append(_cpu_seconds(core))
        check_times.append(_cpu_seconds(check))
    assert min(check_times) - min(core_times) < 0.15, (min(core_times), min(check_times))
