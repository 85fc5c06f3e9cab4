"""What `make fuzz` feeds: bytes in, and only isrender's own errors may come out.

``modifiers``: the bytes as a modifier string through parse -> expand (a registry with
nested, variable and positional macros) -> bind, strict and lenient, and serialize -> parse
again (the canonical text must parse to the same tree). ``macro_files``: the bytes as an IS
tab-separated file and as a TOML file, loaded into a registry (reading, load-time expansion,
warnings). An IsRenderError is an answer; any other exception is a finding.
"""

from __future__ import annotations

import contextlib
import tempfile
from collections.abc import Callable
from pathlib import Path

from isrender import MacroRegistry, bind, expand, parse, serialize
from isrender.errors import IsRenderError

__all__ = ["TARGETS"]

_REGISTRY = MacroRegistry.from_mapping(
    {
        "view": "wid=240&fmt=jpeg&qlt=85&op_usm=5,2&bgc=200,200,200&align=-1,-1",
        "pdp": "$view$&hei=240",
        "q": "qlt=$q$",
        "nested": "src=is{Acme/shoe?$view$}",
    }
)
_FOLDER = Path(tempfile.mkdtemp(prefix="isrender-fuzz-"))


def check_modifiers(data: bytes) -> None:
    text = data.decode("utf-8", "surrogateescape")
    try:
        ast = parse(text)
    except IsRenderError:
        return
    again = parse(serialize(ast))
    if serialize(again) != serialize(ast):
        raise AssertionError(f"canonical text does not round-trip: {serialize(ast)!r}")
    for strict in (True, False):
        with contextlib.suppress(IsRenderError):
            bind(expand(ast, _REGISTRY, modifier="qlt=70", post_modifier="fmt=png"), strict=strict)


def check_macro_files(data: bytes) -> None:
    for suffix in (".tsv", ".toml"):
        path = _FOLDER / f"macros{suffix}"
        path.write_bytes(data)
        try:
            registry = MacroRegistry.from_files(path)
        except IsRenderError:
            continue
        for name in registry.names():
            macro = registry.get(name)
            if macro is not None and macro.valid:
                macro.expansion()


TARGETS: dict[str, Callable[[bytes], None]] = {
    "modifiers": check_modifiers,
    "macro_files": check_macro_files,
}
