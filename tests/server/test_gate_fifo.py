"""The render gate gives slots first come, first served, and keeps its memory budget rule.

Real threads take slots through ``Admission.render`` as the server's pool threads do. Each
waiter is in line (``gate.queued``) before the next one starts, so arrival order is known.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import pytest

from isrender.errors import RenderBusy
from isrender.server.gate import Admission, RenderGate

MB = 2**20
WAIT = 10.0  # seconds a test waits for a thread to reach a state; never reached when it passes


def _until(condition: Callable[[], bool]) -> None:
    deadline = time.monotonic() + WAIT
    while not condition():
        assert time.monotonic() < deadline, "a render thread never reached the expected state"
        time.sleep(0.002)


class RecordingGate(RenderGate):
    """Records which render took each slot, under the gate's lock, as it is taken (two
    renders starting together could otherwise report in either order)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.slot_order: list[str] = []
        self.taken_at: dict[str, float] = {}

    def _charge(self, charged: int) -> int:
        name = threading.current_thread().name.removeprefix("render-")
        self.slot_order.append(name)
        self.taken_at[name] = time.monotonic()
        return super()._charge(charged)


class Renders:
    """Renders in threads: each records when it got its slot and holds it until released."""

    def __init__(self, gate: RecordingGate) -> None:
        self.gate = gate
        self.refused: list[str] = []
        self.release: dict[str, threading.Event] = {}
        self.admissions: dict[str, Admission] = {}
        self.threads: list[threading.Thread] = []

    def start(self, name: str, mb: int, hold: bool = False) -> None:
        """Start render ``name`` costing ``mb`` and wait until it runs or is in line."""
        admission = Admission(self.gate, self.gate.admit())
        self.admissions[name] = admission
        self.release[name] = release = threading.Event()
        if not hold:
            release.set()
        queued_before = self.gate.queued

        def job(_stop: object) -> None:
            assert release.wait(WAIT)

        def run() -> None:
            try:
                admission.render(mb * MB, job)
            except RenderBusy:
                self.refused.append(name)
            finally:
                admission.finish()

        thread = threading.Thread(target=run, name=f"render-{name}")
        self.threads.append(thread)
        thread.start()
        _until(lambda: name in self.started or self.gate.queued > queued_before)

    @property
    def started(self) -> list[str]:
        """Renders in the order they took a slot."""
        return self.gate.slot_order

    def finish(self, name: str) -> None:
        self.release[name].set()

    def join(self) -> None:
        for release in self.release.values():
            release.set()
        for thread in self.threads:
            thread.join(WAIT)
            assert not thread.is_alive()


@contextmanager
def renders(slots: int, memory_mb: int = 0, queue_timeout: float = WAIT) -> Iterator[Renders]:
    gate = RecordingGate(slots, timeout=WAIT, queue=16, queue_timeout=queue_timeout,
                      memory_mb=memory_mb)  # fmt: skip
    running = Renders(gate)
    try:
        yield running
    finally:
        running.join()
        gate.close()


# (case, slots, memory budget MB, renders holding slots (name, MB), arrivals in order (name, MB),
#  order in which the arrivals must get their slots once the holders finish)
FIFO_ROWS = [
    ("one slot, five waiters", 1, 0, [("holder", 0)],
     [("a", 0), ("b", 0), ("c", 0), ("d", 0), ("e", 0)], ["a", "b", "c", "d", "e"]),
    ("two slots, six waiters", 2, 0, [("h1", 0), ("h2", 0)],
     [("a", 0), ("b", 0), ("c", 0), ("d", 0), ("e", 0), ("f", 0)],
     ["a", "b", "c", "d", "e", "f"]),
    # the small render would fit beside the holder now, but the large one came first
    ("memory: small waits behind large", 4, 100, [("holder", 60)],
     [("large", 80), ("small", 10)], ["large", "small"]),
    ("memory: over-budget render runs alone, in turn", 4, 100, [("holder", 10)],
     [("huge", 500), ("small", 10), ("tiny", 1)], ["huge", "small", "tiny"]),
]  # fmt: skip


@pytest.mark.parametrize(("case", "slots", "budget", "holders", "arrivals", "order"), FIFO_ROWS,
                         ids=[row[0] for row in FIFO_ROWS])  # fmt: skip
def test_slots_go_in_arrival_order(
    case: str, slots: int, budget: int, holders: list[tuple[str, int]],
    arrivals: list[tuple[str, int]], order: list[str],
) -> None:  # fmt: skip
    with renders(slots, budget) as running:
        for name, mb in holders:
            running.start(name, mb, hold=True)
        for name, mb in arrivals:
            running.start(name, mb)
        assert running.started == [name for name, _mb in holders], case
        assert running.gate.queued == len(arrivals)
        for name, _mb in holders:
            running.finish(name)
        _until(lambda: len(running.started) == len(holders) + len(arrivals))
        assert running.started[len(holders) :] == order, case
        assert running.refused == []


def test_memory_budget_still_holds_for_the_first_in_line() -> None:
    with renders(slots=4, memory_mb=100) as running:
        running.start("holder", 60, hold=True)
        running.start("large", 80)
        time.sleep(0.05)  # room for a wrong wake-up to let it in
        assert running.started == ["holder"]
        assert running.gate.busy == 1
        running.finish("holder")
        _until(lambda: running.started == ["holder", "large"])


def test_a_cancelled_waiter_leaves_and_the_next_keeps_its_place() -> None:
    with renders(slots=1) as running:
        running.start("holder", 0, hold=True)
        for name in ("a", "b", "c"):
            running.start(name, 0)
        running.admissions["a"].cancel()
        _until(lambda: running.refused == ["a"])
        assert running.gate.queued == 2
        running.finish("holder")
        _until(lambda: len(running.started) == 3)
        assert running.started == ["holder", "b", "c"]


def test_a_waiter_timing_out_first_in_line_passes_the_turn_on() -> None:
    """The first in line gives up while the next one would fit: the next runs at once, not
    at its own timeout."""
    queue_timeout = 1.0
    with renders(slots=4, memory_mb=100, queue_timeout=queue_timeout) as running:
        running.start("holder", 60, hold=True)
        running.start("large", 80)
        time.sleep(queue_timeout / 2)
        small_arrived = time.monotonic()
        running.start("small", 10)
        _until(lambda: running.refused == ["large"])
        _until(lambda: "small" in running.started)
        assert running.gate.taken_at["small"] < small_arrived + queue_timeout - 0.2
        assert running.started == ["holder", "small"]


def test_the_render_thread_logs_with_the_request_id() -> None:
    """Log lines written while rendering carry the id of the request they belong to."""
    import asyncio

    from isrender import logs

    gate = RenderGate(slots=2, timeout=5, queue=0)

    async def one(request_id: str) -> str:
        logs.request_id.set(request_id)
        return await gate.run(lambda _admission: logs.request_id.get(), gate.admit())

    async def both() -> list[str]:
        return list(await asyncio.gather(one("req-a"), one("req-b")))

    try:
        assert asyncio.run(both()) == ["req-a", "req-b"]
    finally:
        gate.close()
