"""Admission for renders: bounded, decided before any work, with a short wait queue.

A request's life in the server (one thread hop):

1. On the event loop, before the query is parsed or the catalog read, a render request takes a
   *ticket*: one of ``render_slots + render_queue``. With none left it is refused at once (503
   with Retry-After, in microseconds), so an overload costs the server almost nothing. Requests
   that are probably cheap (a conditional one, or one naming ``req=``) take no ticket here.
2. In one pool thread the request is prepared (parse, catalog, ETag). Cheap answers (304,
   ``req=exists|resolve|validate``) are made there and never wait. A render then waits for a
   *slot*: at most ``render_slots`` run at once, and their estimated decode memory stays within
   ``render_memory_mb`` (a render over the budget runs alone). Slots go first come, first
   served: a waiting render is served before any that came after it, even one small enough to
   fit now, so a large render is never starved by a stream of small ones. The wait is bounded
   by ``render_queue_timeout``: a short burst waits instead of failing, a long one gets 503.
3. A render runs with a deadline: past ``render_timeout`` its StopSignal (render/stop.py) is
   stopped by the gate's deadlines thread (deadlines.py), which kills libvips' pipeline at its
   next tile (render/vips/executor.py), the request answers 504, and the slot comes back.

Queueing without limit would turn a burst into minutes of latency and unbounded memory.
"""

from __future__ import annotations

import asyncio
import contextvars
import threading
import time
from collections import deque
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import TypeVar

from isrender.errors import RenderBusy, RenderTimeout
from isrender.render.stop import StopSignal
from isrender.server.deadlines import Deadlines

__all__ = ["Admission", "Busy", "RenderGate", "RenderTimeout", "Ticket"]

T = TypeVar("T")
Busy = RenderBusy  # the name ops.py and older callers use
CHEAP_IN_FLIGHT = 64  # untickted (probably cheap) requests in flight; beyond: 503
CHEAP_THREADS = 8  # pool threads beyond one per ticket, for cheap answers
GRACE = 2.0  # seconds the event loop waits past the thread's own deadlines before giving up


class Ticket:
    """A place among ``slots + queue``, held from admission until the request ends."""

    __slots__ = ("_gate", "_held", "_kind")

    def __init__(self, gate: RenderGate, kind: str) -> None:
        self._gate, self._kind, self._held = gate, kind, True

    def release(self) -> None:
        if self._held:
            self._held = False
            self._gate._give_back(self._kind)


class RenderGate:
    def __init__(
        self,
        slots: int,
        timeout: float,
        queue: int = 0,
        queue_timeout: float = 0.0,
        memory_mb: int = 0,
    ) -> None:
        self.slots, self.timeout = slots, timeout
        self.queue, self.queue_timeout = queue, queue_timeout
        self.memory_budget = memory_mb * 2**20  # 0: no memory bound
        self._tickets = {"render": 0, "cheap": 0}
        self._busy = 0
        self._memory = 0
        self._lock = threading.Lock()
        # renders waiting for a slot, in arrival order; each waits on its own condition (on the
        # same lock) so a freed slot wakes the oldest waiter only
        self._line: deque[threading.Condition] = deque()
        self._pool = ThreadPoolExecutor(
            max_workers=slots + queue + CHEAP_THREADS, thread_name_prefix="isrender-request"
        )
        self.deadlines = Deadlines()

    @property
    def busy(self) -> int:
        """Renders running now."""
        return self._busy

    @property
    def queued(self) -> int:
        """Renders in line for a slot now (prepared, waiting their turn)."""
        return len(self._line)

    @property
    def waiting(self) -> int:
        """Render requests admitted and not yet rendering (preparing or queued)."""
        return max(0, self._tickets["render"] - self._busy)

    def admit(self, cheap: bool = False) -> Ticket:
        """A ticket, or RenderBusy at once. Called on the event loop before any parsing."""
        kind, limit = ("cheap", CHEAP_IN_FLIGHT) if cheap else ("render", self.slots + self.queue)
        with self._lock:
            if self._tickets[kind] >= limit:
                refusal = RenderBusy(f"all {self.slots} render slots and {self.queue} queue "
                                     f"places are taken; retry shortly")  # fmt: skip
            else:
                self._tickets[kind] += 1
                return Ticket(self, kind)
        self.on_refused("busy")
        raise refusal

    async def run(self, work: Callable[[Admission], T], ticket: Ticket) -> T:
        """``work`` in a pool thread (the request's one thread hop); ``ticket`` is released
        when it ends, however it ends."""
        admission = Admission(self, ticket)
        # The request's context (its request id, for every log line) goes along to the thread.
        context = contextvars.copy_context()
        future: Future[T] = self._pool.submit(context.run, work, admission)
        future.add_done_callback(lambda _done: admission.finish())
        limit = self.queue_timeout + self.timeout + GRACE
        try:
            return await asyncio.wait_for(asyncio.wrap_future(future), limit)
        except TimeoutError:  # the render did not stop in time after its deadline
            admission.cancel()
            self.on_refused("timeout")
            raise RenderTimeout(f"the render took longer than {self.timeout:g} s") from None
        except asyncio.CancelledError:  # the client went away: stop its render too
            admission.cancel()
            raise

    def close(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)
        self.deadlines.close()

    # ---- hooks (MeasuredGate counts them) ---------------------------------------------------

    def on_refused(self, reason: str) -> None:
        """A request was refused: ``busy`` (503) or ``timeout`` (504)."""

    def on_rendered(self, result: object, seconds: float) -> None:
        """A render finished in a slot in ``seconds``."""

    # ---- slots (called from pool threads) ---------------------------------------------------

    def _take_slot(self, cost: int, cancelled: StopSignal) -> int:
        """Wait, in arrival order, for a slot with room for ``cost`` bytes; the cost charged,
        or RenderBusy past ``render_queue_timeout``."""
        charged = min(cost, self.memory_budget) if self.memory_budget else 0
        deadline = time.monotonic() + self.queue_timeout
        with self._lock:
            if not self._line and self._has_room(charged):  # nobody is ahead: no queueing
                return self._charge(charged)
            turn = threading.Condition(self._lock)
            self._line.append(turn)
            try:
                while not (self._line[0] is turn and self._has_room(charged)):
                    left = deadline - time.monotonic()
                    if left <= 0 or cancelled.stopped:
                        refusal = RenderBusy(
                            f"no render slot came free within {self.queue_timeout:g} s; "
                            "retry shortly"
                        )
                        break
                    turn.wait(left)
                else:
                    return self._charge(charged)
            finally:
                self._leave_line(turn)
        self.on_refused("busy")
        raise refusal

    def _charge(self, charged: int) -> int:
        self._busy += 1
        self._memory += charged
        return charged

    def _leave_line(self, turn: threading.Condition) -> None:
        """Out of the line (served, timed out or cancelled); the next in line may fit now."""
        was_first = self._line[0] is turn
        self._line.remove(turn)
        if was_first and self._line:
            self._line[0].notify()

    def _has_room(self, charged: int) -> bool:
        if self._busy >= self.slots:
            return False
        # a render over the whole budget still runs, alone
        return self._busy == 0 or self._memory + charged <= self.memory_budget or not charged

    def _give_slot(self, charged: int) -> None:
        with self._lock:
            self._busy -= 1
            self._memory -= charged
            if self._line:
                self._line[0].notify()

    def _wake_line(self) -> None:
        """Every waiter looks again (one was cancelled: it leaves, the rest keep their order)."""
        with self._lock:
            for turn in self._line:
                turn.notify()

    def _give_back(self, kind: str) -> None:
        with self._lock:
            self._tickets[kind] -= 1


class Admission:
    """What a request's pool thread uses to render: a slot, a deadline, cancellation."""

    def __init__(self, gate: RenderGate, ticket: Ticket) -> None:
        self._gate, self._ticket = gate, ticket
        self._stop = StopSignal()  # stopped at the deadline, or when the client goes away

    def render(self, cost: int, job: Callable[[StopSignal], T]) -> T:
        """Run ``job(stop)`` in a slot; ``stop`` is stopped past the deadline or when the
        request is cancelled. ``cost``: estimated bytes of memory."""
        gate = self._gate
        if self._ticket._kind == "cheap":  # it turned out to be a render: it needs a ticket
            self._ticket.release()
            self._ticket = gate.admit()
        charged = gate._take_slot(cost, self._stop)
        started = time.monotonic()
        forget = gate.deadlines.at(started + gate.timeout, self._stop.stop)
        try:
            result = job(self._stop)
        except RenderTimeout:
            gate.on_refused("timeout")
            raise
        finally:
            forget()
            gate._give_slot(charged)
        gate.on_rendered(result, time.monotonic() - started)
        return result

    def cancel(self) -> None:
        self._stop.stop()
        self._gate._wake_line()  # a cancelled waiter leaves the line now, not at its timeout

    def finish(self) -> None:
        self._ticket.release()
