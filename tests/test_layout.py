"""The package layout shows the architecture (issue 12): imports point one way, only
``render/vips/`` loads libvips, and every package says what it exports."""

from __future__ import annotations

import ast
import importlib
import re
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[1] / "src" / "isrender"

# Lowest first: a unit may import only units at its own rank or below (DESIGN.md).
RANKS = [
    ("errors", "config", "logs"),
    ("language",),
    ("commands",),
    ("text", "macros"),
    ("request",),
    ("render",),
    ("render.vips",),
    ("service",),
    ("catalog",),
    ("jobs",),
    ("migrations",),  # the schema of the catalog database: catalog's and jobs' tables
    ("server", "bench"),
    ("cli",),
    ("__init__",),
]
RANK = {unit: i for i, units in enumerate(RANKS) for unit in units}
# Deliberate calls upward, each a lazy import inside a function, with its reason.
UPWARD = {
    # isrender.render(...) is the public render function: the package forwards to the service.
    ("render/__init__.py", "service"),
    # A catalog opens its database through the schema (which knows the jobs tables too).
    ("catalog/service.py", "migrations"),
}


def _unit(parts: tuple[str, ...]) -> str:
    if parts[:2] == ("render", "vips") and len(parts) > 2:
        return "render.vips"
    return parts[0].removesuffix(".py")


def _imported_units(path: Path) -> set[str]:
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        names = []
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("isrender."):
            names = [node.module]
        elif isinstance(node, ast.Import):
            names = [a.name for a in node.names if a.name.startswith("isrender.")]
        found |= {_unit((*name.split(".")[1:], "x")) for name in names}
    return found


def _sources() -> list[Path]:
    # migrations/env.py and versions/ are alembic's scripts, loaded only by alembic
    return sorted(
        p for p in SRC.rglob("*.py") if not p.relative_to(SRC).as_posix().startswith(
            ("migrations/env.py", "migrations/versions/"))
    )  # fmt: skip


def test_every_unit_has_a_rank() -> None:
    units = {_unit(p.relative_to(SRC).parts) for p in _sources()}
    assert units <= set(RANK), sorted(units - set(RANK))


@pytest.mark.parametrize("path", _sources(), ids=lambda p: p.relative_to(SRC).as_posix())
def test_imports_point_down(path: Path) -> None:
    relative = path.relative_to(SRC)
    unit = _unit(relative.parts)
    upward = {
        other
        for other in _imported_units(path) - {unit}
        if RANK[other] > RANK[unit] and (relative.as_posix(), other) not in UPWARD
    }
    assert not upward, f"{relative} ({unit}) imports {sorted(upward)} from above"


@pytest.mark.parametrize("library", ["pyvips", "simplejpeg", "PIL"])  # the pixel codecs
def test_only_render_vips_imports_pixel_libraries(library: str) -> None:
    importers = {
        p.relative_to(SRC).as_posix()
        for p in SRC.rglob("*.py")
        if re.search(rf"^\s*(import {library}|from {library})\b", p.read_text(), re.MULTILINE)
    }
    outside = sorted(p for p in importers if not p.startswith("render/vips/"))
    assert importers and not outside, outside


PACKAGES = ["language", "commands", "macros", "request", "text"]


@pytest.mark.parametrize("package", PACKAGES)
def test_packages_declare_their_public_names(package: str) -> None:
    module = importlib.import_module(f"isrender.{package}")
    exported = getattr(module, "__all__", None)
    assert exported, f"isrender.{package} has no __all__"
    missing = [name for name in exported if not hasattr(module, name)]
    assert not missing, f"isrender.{package}.__all__ names {missing}, which it does not define"


def test_the_public_api_is_the_documented_one() -> None:
    import isrender

    assert set(isrender.__all__) == {
        "CatalogAttributes", "RenderResult", "render", "ConstraintError", "ExpansionLimits",
        "ImageRequest", "InvalidEncodingError", "InvalidValueError", "IsRenderError",
        "LayerNameError", "LimitExceededError", "MacroDefinitionError", "MacroRegistry",
        "ModifierError", "ModifierString", "ModifierSyntaxError", "UnknownCommandError",
        "UnknownMacroError", "__version__", "bind", "expand", "export_modifiers", "parse",
        "serialize",
    }  # fmt: skip
    assert callable(isrender.render)  # the render package forwards calls to the service
    import isrender.render.plan

    assert callable(isrender.render)


def test_the_chain_is_written_in_one_module() -> None:
    """parse -> expand -> bind appears only in service.py (ImageService.prepare)."""
    chain = re.compile(r"(?<![.\w])(?:bind|expand|expand_request)\(")
    writers = sorted(
        p.relative_to(SRC).as_posix()
        for p in _sources()
        if p.name not in ("bind.py", "registry.py", "templates.py")  # where they are defined
        and chain.search(re.sub(r'"""[\s\S]*?"""', "", p.read_text()))
    )
    assert writers == ["service.py"], writers
