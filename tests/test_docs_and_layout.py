"""The README's examples run, and the layers import in the direction DESIGN.md sets."""

from __future__ import annotations

import ast
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def test_readme_python_example_runs() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    (code,) = re.findall(r"```python\n(.*?)```", readme, re.DOTALL)
    cwd = os.getcwd()
    os.chdir(ROOT)
    try:
        exec(compile(code, "README.md", "exec"), {})
    finally:
        os.chdir(cwd)


def test_readme_shows_the_two_setup_commands() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert "make demo" in readme and "make test" in readme


@pytest.mark.parametrize(
    "module",
    [
        "isrender",
        "isrender.language",
        "isrender.commands",
        "isrender.macros",
        "isrender.request",
        "isrender.render.formats",
        "isrender.cli",
    ],
)
def test_language_layers_do_not_import_pyvips(module: str) -> None:
    """Parsing, binding and planning stay pure: only the renderer may load libvips."""
    probe = f"import sys, {module}; print('pyvips' in sys.modules)"
    result = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True, cwd=ROOT
    )
    assert result.stdout.strip() == "False"


# Import direction and the one pyvips corner: tests/test_layout.py.


def test_the_exception_tree_in_errors_docstring_is_the_real_one() -> None:
    import inspect

    import isrender.errors as errors

    classes = [c for c in vars(errors).values()
               if inspect.isclass(c) and issubclass(c, errors.IsRenderError)]  # fmt: skip

    def drawn(base: type, depth: int) -> list[str]:
        lines = []
        for child in sorted(
            (c for c in classes if c.__bases__[0] is base), key=lambda c: c.__name__
        ):
            lines += ["    " * depth + child.__name__, *drawn(child, depth + 1)]
        return lines

    expected = ["IsRenderError", *drawn(errors.IsRenderError, 1)]
    doc = (errors.__doc__ or "").split("::\n\n", 1)[1].split("\n\n", 1)[0]
    assert [line[4:] for line in doc.splitlines()] == expected


def test_public_exceptions_live_in_errors_py() -> None:
    """Only private signalling classes (``_Name`` or ``...Problem``) may live elsewhere."""
    found = []
    for path in (ROOT / "src" / "isrender").rglob("*.py"):
        if path.name == "errors.py":
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if (
                isinstance(node, ast.ClassDef)
                and any(
                    getattr(b, "id", getattr(b, "attr", "")).endswith(
                        ("Error", "Exception", "Fault")
                    )
                    for b in node.bases
                )
                and not (node.name.startswith("_") or node.name.endswith("Problem"))
            ):
                found.append(f"{path.relative_to(ROOT)}:{node.lineno} {node.name}")
    assert found == []
