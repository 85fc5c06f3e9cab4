"""The base of every plan step, and ``Load``, the first one. render/steps.py has the core
steps and the ``Ops`` protocol, render/layer_step_types.py the steps of layers; steps.py
re-exports them all. Pure."""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass, fields
from typing import TYPE_CHECKING, Any, ClassVar

from isrender.commands.colors import Color

if TYPE_CHECKING:
    from isrender.render.steps import Ops

__all__ = ["Image", "Load", "Step", "show_value"]

Image = Any  # a pyvips.Image at run time; opaque here


def show_value(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.6g}"
    if isinstance(value, Color):
        return str(value)
    return repr(value) if isinstance(value, str) else str(value)


@dataclass(frozen=True, slots=True)
class Step(ABC):
    """One operation of a plan. ``name`` is what ``explain`` prints; ``note`` says why.

    ``reorders_rows``: the step reads its input in another order than top to bottom, so the
    streaming loader's output must be held in memory first.
    """

    name: ClassVar[str] = ""
    note: ClassVar[str] = ""

    @abstractmethod
    def apply(self, image: Image, ops: Ops) -> Image:
        """This step's operation on ``image`` (a Load ignores it and reads the source)."""

    @property
    def reorders_rows(self) -> bool:
        return False

    def describe(self) -> str:
        shown = ", ".join(
            f"{f.name}={show_value(getattr(self, f.name))}"
            for f in fields(self)
            if f.name != "where"
        )
        text = f"{self.name}({shown})" if shown else self.name
        why = ", ".join(w for w in (self.note, getattr(self, "where", "")) if w)
        return f"{text}  # {why}" if why else text


@dataclass(frozen=True, slots=True)
class Load(Step):
    """Decode the source at ``scale`` (shrink-on-load), EXIF orientation and sRGB applied."""

    name: ClassVar[str] = "load"
    width: int
    height: int
    scale: float
    where: str = ""

    def apply(self, image: Image, ops: Ops) -> Image:
        return ops.load(self)
