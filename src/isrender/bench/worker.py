"""What runs inside a bench worker process: one image through isrender and through the floor.

Each task renders one source with ``isrender.render`` (parse, expand, bind, plan, decode,
encode: what a user's call costs) and with ``raw_thumbnail`` to the same size and format, in
alternating order, so file cache, CPU frequency and neighbours hit both alike. Wall time
(perf_counter) and CPU time of the whole process (process_time: libvips threads included)
are taken around each. Failures come back as text, never as a timing.
"""

from __future__ import annotations

import os
import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from isrender.errors import IsRenderError
from isrender.macros import MacroRegistry

if TYPE_CHECKING:
    from isrender.render.vips.renderer import RenderResult

__all__ = ["FloorTarget", "Measurement", "Sample", "Task", "init_worker", "measure", "wait_ready"]

_state: dict[str, Any] = {}
_VMHWM = re.compile(r"^VmHWM:\s+(\d+) kB", re.MULTILINE)


@dataclass(frozen=True)
class FloorTarget:
    """What the floor must produce for one source: isrender's reply size, format, quality."""

    width: int
    height: int
    format: str
    quality: int
    keep_alpha: bool


@dataclass(frozen=True)
class Task:
    path: str
    modifiers: str
    floor: FloorTarget | None  # None: a probe, which finds the target by rendering once
    floor_first: bool = False


@dataclass(frozen=True)
class Measurement:
    seconds: float
    cpu_seconds: float
    output_bytes: int


@dataclass(frozen=True)
class Sample:
    path: str
    pid: int
    peak_rss_kb: int | None  # VmHWM of this worker so far (None off Linux)
    error: str = ""  # "ErrorClass: public message"; then nothing below was timed
    source_pixels: int = 0
    render: Measurement | None = None
    floor: Measurement | None = None
    target: FloorTarget | None = None


def init_worker(threads: int, macro_files: tuple[str, ...], barrier: Any) -> None:
    """Load libvips and the macros before any task, so no timing includes them."""
    from isrender.render.vips.renderer import set_threads

    if threads:
        set_threads(threads)
    _state["macros"] = MacroRegistry.from_files(*macro_files) if macro_files else None
    _state["barrier"] = barrier


def wait_ready(warm_up: Task | None) -> int:
    """Warm this worker with one untimed task, then wait until every worker has: each worker
    takes exactly one of these, and timing starts with the whole pool up."""
    if warm_up is not None:
        measure(warm_up)
    _state["barrier"].wait(120)
    return os.getpid()


def measure(task: Task) -> Sample:
    try:
        result, render, floor, target = _both(task, _state.get("macros"))
    except IsRenderError as exc:
        return Sample(task.path, os.getpid(), _peak_rss_kb(), _describe(exc))
    except Exception as exc:  # a bench reports every failure and keeps going
        return Sample(task.path, os.getpid(), _peak_rss_kb(), f"internal error: {_describe(exc)}")
    info = result.plan.source if result.plan else None
    pixels = info.width * info.height if info else 0
    return Sample(task.path, os.getpid(), _peak_rss_kb(), "", pixels, render, floor, target)


def _both(
    task: Task, macros: MacroRegistry | None
) -> tuple[RenderResult, Measurement, Measurement, FloorTarget]:
    if task.floor is not None and task.floor_first:
        floor = _floor(task.path, task.floor)
        result, render = _render(task, macros)
        return result, render, floor, task.floor
    result, render = _render(task, macros)
    target = task.floor or _target(result)
    return result, render, _floor(task.path, target), target


def _render(task: Task, macros: MacroRegistry | None) -> tuple[RenderResult, Measurement]:
    from isrender.service import render  # isrender.render, without the lazy lookup

    result, measured = _timed(lambda: render(task.path, task.modifiers, macros))
    return result, Measurement(measured.seconds, measured.cpu_seconds, len(result.data))


def _floor(path: str, target: FloorTarget) -> Measurement:
    from isrender.render.vips.renderer import raw_thumbnail

    def run() -> bytes:
        return raw_thumbnail(path, target.width, target.height, target.format, target.quality,
                             target.keep_alpha)  # fmt: skip

    data, measured = _timed(run)
    return Measurement(measured.seconds, measured.cpu_seconds, len(data))


def _timed(run: Callable[[], Any]) -> tuple[Any, Measurement]:
    wall, cpu = time.perf_counter(), time.process_time()
    value = run()
    return value, Measurement(time.perf_counter() - wall, time.process_time() - cpu, 0)


def _target(result: RenderResult) -> FloorTarget:
    quality = result.plan.encode.options.quality if result.plan else 80
    keep_alpha = result.plan.output.keeps_alpha if result.plan else False
    return FloorTarget(result.width, result.height, result.format, quality, keep_alpha)


def _describe(exc: Exception) -> str:
    message = exc.public_message if isinstance(exc, IsRenderError) else str(exc)
    return f"{type(exc).__name__}: {message}"


def _peak_rss_kb() -> int | None:
    """This process' own peak resident set (VmHWM): not the parent's, not the other workers'."""
    try:
        found = _VMHWM.search(Path("/proc/self/status").read_text())
    except OSError:
        return None
    return int(found.group(1)) if found else None
