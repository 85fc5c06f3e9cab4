"""The spec's effective-list notation (``G{wid=240 fmt=png} L0{crop=...}``) for tests."""

from __future__ import annotations

import re

from isrender.request import ImageRequest, iter_commands

_SCOPE_NAME = re.compile(r" *(G|C|L\d+(?:\.E-?\d+)?)\{")


def effective(request: ImageRequest) -> dict[str, dict[str, str]]:
    scopes: dict[str, dict[str, str]] = {}
    for scope, bound in iter_commands(request):
        scopes.setdefault(scope, {})[bound.name.lower()] = bound.text
    return scopes


def expected_scopes(notation: str) -> dict[str, dict[str, str]]:
    """Read ``G{a=1 b=2} L0{src=is{x}}``: a scope name, then a body with balanced braces."""
    scopes: dict[str, dict[str, str]] = {}
    pos = 0
    while notation != "-" and pos < len(notation):
        match = _SCOPE_NAME.match(notation, pos)
        assert match, f"bad notation {notation!r} at {pos}"
        depth, end = 1, match.end()
        while depth:
            depth += {"{": 1, "}": -1}.get(notation[end], 0)
            end += 1
        items = scopes.setdefault(match.group(1), {})
        for item in notation[match.end() : end - 1].split(" "):
            name, _, value = item.partition("=")
            items[name.lower()] = value
        pos = end
    return scopes
