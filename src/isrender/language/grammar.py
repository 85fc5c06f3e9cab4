"""Loading ``grammar/modifiers.lark``: found once, built once (LALR, contextual lexer), cached."""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Any

from lark import Lark, Token, Transformer

__all__ = ["grammar_path", "modifier_parser"]


def grammar_path() -> Path:
    """The grammar file: beside the sources in a checkout, or inside the installed package."""
    here = Path(__file__).resolve()
    for candidate in (
        here.parents[3] / "grammar" / "modifiers.lark",  # checkout: src/isrender/language/
        here.parents[1] / "grammar" / "modifiers.lark",  # wheel: isrender/grammar/
    ):
        if candidate.is_file():
            return candidate
    raise FileNotFoundError("grammar/modifiers.lark is missing from this installation")


class _Shape(Transformer[Token, Any]):
    """Runs while the parser reduces (inline), so no parse tree is ever built.

    ``start`` yields the flat list of RUN tokens and nested groups; a nested group becomes
    ``(opening token, raw body text, closing token)``; bodies are joined back into text because
    the nested parser reads them again on its own.
    """

    def start(self, children: list[Any]) -> list[Any]:
        return children

    def nested(self, children: list[Any]) -> tuple[Token, str, Token]:
        opening, body, closing = children
        return opening, body, closing

    def brace_body(self, children: list[str]) -> str:
        return "".join(children)

    paren_body = brace_body


@cache
def modifier_parser() -> Lark:
    """The LALR parser for whole modifier strings, built on first use and then shared.

    Lark parsers are safe to share between threads: all per-parse state lives in the call.
    """
    return Lark(
        grammar_path().read_text(encoding="utf-8"),
        parser="lalr",
        lexer="contextual",
        transformer=_Shape(),
        maybe_placeholders=False,
    )
