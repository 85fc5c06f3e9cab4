"""What lenient binding tolerates, apart from the binder's walk (issue 13, "lenient serving").

A forgiving Image Server serves strings a strict reader refuses. Each rule here ignores or
adjusts one thing and says so with a BindWarning of its own kind (WARNING_KINDS); the X-
IsRender-Ignored header and ``isrender explain`` show them. Strict binding uses none of it.
Where each rule lives: segments a lenient parse keeps (language.parser), a bad %-escape
(language.values), the mends an argument type offers for a part it refuses (commands.args.Mend),
and here: applying those mends to a value, and dropping a command that needs another.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from isrender.commands import ArgProblem, CommandSpec, ConstraintProblem
from isrender.commands.args import Mend
from isrender.commands.registry import slot_of
from isrender.errors import Location, ModifierError
from isrender.language import Command, Origin, SegmentStart, decode_value, serialize_node
from isrender.language.parser import after_group_error, is_command_name, not_a_command_error
from isrender.language.values import bad_escape
from isrender.request.constraints import NEEDS
from isrender.request.model import BindWarning, BoundCommand

__all__ = [
    "IGNORED",
    "WARNING_KINDS",
    "LenientRules",
    "mend_value",
    "part_location",
    "unmet_needs",
]

# BindWarning.kind -> what lenient binding did (the README's "Lenient serving" lists the same).
WARNING_KINDS: dict[str, str] = {
    "unknown-command": "a command name the table does not know: ignored",
    "not-a-command": "a segment that is no command, macro or variable ($$, _name=, a URL): ignored",
    "missing-separator": "a segment right after a nested group: read as if '&' stood between",
    "literal-percent": "a '%' that starts no %-escape (an unfilled %s): a literal '%'",
    "needs-another": "a command that means nothing alone (fit= without wid=/hei=): ignored",
    "trailing-comma": "an empty last argument: dropped",
    "white-space": "white space around an argument: removed",
    "rounded": "a decimal where a whole number goes: rounded",
    "near-spelling": "an unknown keyword close to a known one: read as that one",
    "default": "an unknown keyword: its default applies (or the command is ignored)",
    "ignored": "a command its scope ignores (spec §1.9)",
}

# Never dropped for an unknown keyword: req= picks the kind of reply, and a guessed one would
# answer another question than the one asked.
_NEVER_DROPPED = frozenset({"req"})

IGNORED: Any = object()  # mend_value's answer when a mend leaves the command to its default

Notes = list[tuple[Mend, int | None]]  # each mend applied, with the part it applied to


def mend_value(
    spec: CommandSpec, text: str, first: ArgProblem, *, segment: bool = False
) -> tuple[Any, str, Notes]:
    """The typed value of ``text`` after the mends its argument types offer, one part at a
    time (a part may be trimmed, then rounded or respelled), the mended text and the mends
    applied; IGNORED when a mend leaves the command to its default (never for ``segment``
    starts or req=). Raises ``first`` when no mend makes the value parse: it stays an error."""
    parts = [text] if spec.whole else text.split(",")
    problem = first
    notes: Notes = []
    for _ in range(2 * len(parts) + 1):
        mend, index = problem.mend, problem.index
        if mend is None and len(parts) > 1 and parts[-1] == "" and not spec.whole:
            mend, index = Mend("trailing-comma", f"trailing ',' in {spec.name} ignored", ""), None
            parts.pop()
        elif mend is None or index is None or index >= len(parts) or parts[index] == mend.part:
            break
        elif mend.part is None:
            if segment or spec.name in _NEVER_DROPPED:
                break
            return IGNORED, text, [*notes, (mend, index)]
        else:
            parts[index] = mend.part
        notes.append((mend, index))
        mended = ",".join(parts)
        try:
            return spec.parse(mended), mended, notes
        except ArgProblem as again:
            problem = again
        except ConstraintProblem:
            break
    raise first


def unmet_needs(scope: Mapping[str, BoundCommand]) -> Iterator[tuple[BoundCommand, str]]:
    """Each command of ``scope`` (keyed by slot) none of whose needed commands is there, with
    the warning text (constraints.NEEDS; strict binding reports it as a ConstraintError)."""
    for name, needed in NEEDS.items():
        bound = scope.get(slot_of(name))
        if bound is not None and not any(slot_of(n) in scope for n in needed):
            wanted = " or ".join(f"{n}=" for n in needed)
            yield bound, f"{bound.written}= needs {wanted}: ignored"


def part_location(raw: str, text: str, index: int | None) -> tuple[int, int]:
    """Offset and length of comma-separated part ``index`` in the raw value, when the raw text
    maps one to one onto the decoded text; otherwise the whole value."""
    if index is None or raw != text:
        return 0, max(1, len(raw))
    parts = raw.split(",")
    if index >= len(parts):
        return len(raw), 1
    return sum(len(p) + 1 for p in parts[:index]), max(1, len(parts[index]))


class LenientRules:
    """The binder's lenient half (request.bind._Binder mixes it in): each method applies one
    rule and records its warning, or, in strict mode, leaves the error as it always was."""

    strict: bool
    origin: Origin  # the text the current node's span indexes into
    source: str
    warnings: list[BindWarning]
    globals: dict[str, BoundCommand]

    def _warn(self, kind: str, message: str, node: Command) -> None:
        self.warnings.append(BindWarning(kind, message, node.span[0], node.name))

    def _labelled(self, error: ModifierError) -> ModifierError:
        label = self.origin.label
        return error if label == "request" else error.from_origin(label)

    def _decode(self, raw: str, at: Location, name: str) -> str:
        """%-decode a value; lenient: a bad escape is a literal '%', with a warning."""
        if not self.strict and "%" in raw:
            bad = bad_escape(raw)
            if bad is not None:
                message = f"bad %-escape {bad!r} in {name} read as a literal '%'"
                self.warnings.append(BindWarning("literal-percent", message, at.position, name))
        return decode_value(raw, at, lenient=not self.strict)

    def _not_a_command(self, node: Command) -> bool:
        """Whether ``node`` is a segment only a lenient parse keeps (then ignored, with a
        warning; strict binding raises the error the strict parse gives for it)."""
        if is_command_name(node.name):
            return False
        error = not_a_command_error(self.source, node.span[0], serialize_node(node))
        if self.strict:
            raise self._labelled(error)
        hint = f" ({error.hint})" if error.hint else ""
        self._warn("not-a-command", f"{error.problem}: segment ignored{hint}", node)
        return True

    def _check_separator(self, node: Command) -> None:
        """A lenient parse reads ``src=is{...}$m$`` as if '&' stood after the group."""
        end = node.span[1]
        after = self.source[end : end + 1]
        if not after or after in "&})":  # '}' or ')' closes an enclosing group
            return
        if self.strict:
            raise self._labelled(after_group_error(self.source, end))
        message = f"no '&' after the nested group of {node.name}=: read as if one stood there"
        self.warnings.append(BindWarning("missing-separator", message, end, node.name))

    def _mended(
        self,
        spec: CommandSpec,
        node: Command | SegmentStart,
        raw: str,
        text: str,
        at: Location,
        problem: ArgProblem,
    ) -> tuple[Any, str]:
        """mend_value with its warnings recorded; raises ``problem`` when nothing mends it."""
        segment = isinstance(node, SegmentStart)
        typed, mended, notes = mend_value(spec, text, problem, segment=segment)
        for mend, index in notes:
            offset = part_location(raw, text, index)[0] if index is not None else 0
            message = mend.note if mend.kind == "trailing-comma" else f"{node.name}: {mend.note}"
            self.warnings.append(BindWarning(mend.kind, message, at.position + offset, node.name))
        return typed, mended

    def _drop_unmet_needs(self) -> None:
        for bound, message in list(unmet_needs(self.globals)):
            del self.globals[bound.slot]
            self.warnings.append(
                BindWarning("needs-another", message, bound.span[0], bound.written)
            )
