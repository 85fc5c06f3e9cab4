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
        "isrender.encode",
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


# DESIGN.md: language < commands < macros < request < geometry/plan/encode < render < ...
# Each package or module may import only from the layers listed for it (and itself).
ALLOWED = {
    "language": {"language", "errors"},
    "commands": {"commands", "errors"},
    "macro_files": {"errors"},
    "macros": {"language", "errors", "macro_files"},
    "geometry": {"commands", "errors"},  # ViewGeometryError: sizes out of range
    "plan": {"attributes", "commands", "encode", "errors", "geometry", "request_model"},
}


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("isrender"):
            found.add(node.module.split(".")[1] if "." in node.module else "isrender")
        elif isinstance(node, ast.Import):
            found |= {a.name.split(".")[1] for a in node.names if a.name.startswith("isrender.")}
    return found


@pytest.mark.parametrize("layer", sorted(ALLOWED))
def test_imports_point_one_way(layer: str) -> None:
    src = ROOT / "src" / "isrender"
    files = list((src / layer).glob("*.py")) if (src / layer).is_dir() else [src / f"{layer}.py"]
    assert files
    for path in files:
        extra = _imports(path) - ALLOWED[layer]
        assert not extra, f"{path.relative_to(ROOT)} imports {sorted(extra)}"


def test_only_the_renderer_imports_pyvips() -> None:
    importers = {
        path.name
        for path in (ROOT / "src" / "isrender").rglob("*.py")
        if re.search(r"^import pyvips|^from pyvips", path.read_text(), re.MULTILINE)
    }
    assert importers == {
        "renderer.py",
        "vips_ops.py",
        "vips_save.py",
        "vips_text.py",
        "vips_mask.py",
    }


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
