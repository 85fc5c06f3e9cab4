"""The JSON API's layout rules (issue 12): one module per resource, each short, and one
authorization module for every way in (API, SOAP, web UI, CLI)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[2] / "src" / "isrender"
API = SRC / "server" / "api"


def calls_to(name: str) -> list[str]:
    """``path:line`` of every call of a function called ``name`` under src/isrender."""
    found = []
    for path in sorted(SRC.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text("utf-8"))):
            if isinstance(node, ast.Call):
                func = node.func
                called = func.id if isinstance(func, ast.Name) else getattr(func, "attr", "")
                if called == name:
                    found.append(f"{path.relative_to(SRC)}:{node.lineno}")
    return found


@pytest.mark.parametrize("module", sorted(p.name for p in API.glob("*.py")))
def test_every_api_module_stays_short(module: str) -> None:
    lines = (API / module).read_text("utf-8").count("\n")
    assert lines <= 400, f"server/api/{module} has {lines} lines: split it by resource"


@pytest.mark.parametrize(
    ("function", "only_in"),
    [("allowed", {"catalog/authorize.py"})],  # the role lists of catalog/roles.py
)
def test_role_lists_are_checked_by_the_one_authorization_module(
    function: str, only_in: set[str]
) -> None:
    callers = {where.partition(":")[0] for where in calls_to(function)}
    assert callers <= only_in, f"{function}() called outside {sorted(only_in)}: {callers}"
    assert callers, f"nothing calls {function}(): the rule above checks nothing"
