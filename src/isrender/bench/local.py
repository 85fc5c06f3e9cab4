"""Local mode: each modifier string at each worker count, on a fresh pool of worker processes.

A fresh pool per row makes each row's peak RSS its own. Workers are separate processes
(forkserver where the platform has it, else spawn: never a fork of a parent that has loaded
libvips), each with libvips limited to one thread when there are several workers, as the
export pool runs (``isrender.render.vips.renderer.set_threads``).

A row: probe every source once (untimed; it finds the floor's target size and format and
takes failing sources out, each listed with its error), warm every worker and wait until all
are up, then submit tasks until the duration is over (or the repeats are done), keeping two
tasks per worker in flight so no worker waits for the parent. A duration row always finishes
its first pass over the sources, so rows compare the same images.
"""

from __future__ import annotations

import multiprocessing
import platform
import sys
import time
from collections.abc import Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from multiprocessing.context import BaseContext
from pathlib import Path
from typing import Any, Protocol

from isrender.bench.inputs import Budget
from isrender.bench.stats import Row, summarise
from isrender.bench.worker import FloorTarget, Sample, Task, init_worker, measure, wait_ready

__all__ = ["Failure", "LocalPlan", "LocalReport", "Progress", "run_local"]


class Progress(Protocol):
    """Where a run reports how far it is (the CLI draws a rich progress bar)."""

    def start(self, label: str, total: float) -> None: ...

    def update(self, completed: float) -> None: ...


@dataclass(frozen=True)
class LocalPlan:
    sources: list[Path]
    modifiers: list[str]
    workers: tuple[int, ...]
    budget: Budget
    macro_files: tuple[str, ...] = ()


@dataclass(frozen=True)
class Failure:
    source: str
    modifiers: str
    error: str  # "ErrorClass: public message"


@dataclass
class LocalReport:
    plan: LocalPlan
    context: str
    rows: list[Row] = field(default_factory=list)
    failures: dict[tuple[str, str], Failure] = field(default_factory=dict)

    def settings(self) -> dict[str, Any]:
        from isrender import __version__

        return {
            "sources": len(self.plan.sources),
            "modifiers": self.plan.modifiers,
            "workers": list(self.plan.workers),
            "duration_s": self.plan.budget.duration_s,
            "repeat": self.plan.budget.repeat,
            "process_context": self.context,
            "cpus": multiprocessing.cpu_count(),
            "python": platform.python_version(),
            "platform": platform.platform(),
            "isrender": __version__,
        }


def _context() -> BaseContext:
    if sys.platform != "win32" and "forkserver" in multiprocessing.get_all_start_methods():
        context = multiprocessing.get_context("forkserver")
        context.set_forkserver_preload(["isrender.bench.worker"])  # pure Python: no libvips
        return context
    return multiprocessing.get_context("spawn")


def run_local(plan: LocalPlan, progress: Progress) -> LocalReport:
    context = _context()
    report = LocalReport(plan, context.get_start_method())
    targets: dict[str, dict[str, FloorTarget]] = {}
    for modifiers in plan.modifiers:
        for workers in plan.workers:
            report.rows.append(_run_row(context, report, modifiers, workers, targets, progress))
    return report


def _run_row(
    context: BaseContext,
    report: LocalReport,
    modifiers: str,
    workers: int,
    targets: dict[str, dict[str, FloorTarget]],
    progress: Progress,
) -> Row:
    plan = report.plan
    barrier = context.Barrier(workers)
    initargs = (1 if workers > 1 else 0, plan.macro_files, barrier)
    samples: list[Sample] = []
    wall, error = 0.0, ""
    with ProcessPoolExecutor(workers, context, init_worker, initargs) as pool:
        try:
            if modifiers not in targets:
                progress.start(f"probing {len(plan.sources)} sources: {modifiers}", 0)
                targets[modifiers] = _probe(pool, plan.sources, modifiers, report.failures)
            good = targets[modifiers]
            warm_up = _first_task(good, modifiers)
            list(pool.map(wait_ready, [warm_up] * workers))
            if good:
                label = f"{modifiers} x {workers} worker{'s' * (workers > 1)}"
                wall = _timed_phase(pool, good, modifiers, workers, plan.budget, samples, label,
                                    progress)  # fmt: skip
        except BrokenProcessPool:
            error = "a worker process died (killed or crashed); the row is incomplete"
    for sample in samples:
        if sample.error:
            _record(report.failures, Failure(sample.path, modifiers, sample.error))
    excluded = len(plan.sources) - len(targets.get(modifiers, {}))
    return summarise(modifiers, workers, samples, wall, excluded, error)


def _probe(
    pool: ProcessPoolExecutor,
    sources: list[Path],
    modifiers: str,
    failures: dict[tuple[str, str], Failure],
) -> dict[str, FloorTarget]:
    """Render each source once, untimed: the floor's targets, and the failing sources out."""
    good: dict[str, FloorTarget] = {}
    tasks = [Task(str(path), modifiers, None) for path in sources]
    for sample in pool.map(measure, tasks):
        if sample.error or sample.target is None:
            _record(failures, Failure(sample.path, modifiers, sample.error))
        else:
            good[sample.path] = sample.target
    return good


def _record(failures: dict[tuple[str, str], Failure], failure: Failure) -> None:
    failures.setdefault((failure.source, failure.modifiers), failure)


def _first_task(good: dict[str, FloorTarget], modifiers: str) -> Task | None:
    for path, target in good.items():
        return Task(path, modifiers, target)
    return None


def _tasks(good: dict[str, FloorTarget], modifiers: str, budget: Budget) -> Iterator[Task]:
    """Every source in turn, pass after pass; which of the pair runs first alternates both
    between neighbouring sources and between passes over the same source."""
    passes = range(budget.repeat) if budget.repeat else iter(int, 1)  # iter(int, 1): forever
    for number, _ in enumerate(passes):
        for index, (path, target) in enumerate(good.items()):
            yield Task(path, modifiers, target, floor_first=(number + index) % 2 == 1)


def _timed_phase(
    pool: ProcessPoolExecutor,
    good: dict[str, FloorTarget],
    modifiers: str,
    workers: int,
    budget: Budget,
    samples: list[Sample],
    label: str,
    progress: Progress,
) -> float:
    """Run tasks until the budget is spent; returns the wall time from first submit to last
    completion (samples are appended as they arrive, so a broken pool keeps what it had)."""
    tasks = _tasks(good, modifiers, budget)
    total = budget.duration_s or float((budget.repeat or 1) * len(good))
    progress.start(label, total)
    started = time.perf_counter()
    deadline = started + budget.duration_s if budget.duration_s else None
    in_flight: set[Future[Sample]] = set()
    submitted = 0

    def submit_next() -> None:
        # The first pass always completes, so every row covers every source.
        nonlocal submitted
        past = deadline is not None and time.perf_counter() >= deadline
        if past and submitted >= len(good):
            return
        task = next(tasks, None)
        if task is not None:
            in_flight.add(pool.submit(measure, task))
            submitted += 1

    for _ in range(2 * workers):
        submit_next()
    while in_flight:
        done, _ = wait(in_flight, timeout=0.2, return_when=FIRST_COMPLETED)
        for future in done:
            in_flight.discard(future)
            samples.append(future.result())
            submit_next()
        elapsed = time.perf_counter() - started
        progress.update(min(elapsed, total) if deadline else float(len(samples)))
    return time.perf_counter() - started
