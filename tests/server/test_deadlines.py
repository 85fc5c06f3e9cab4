"""server/deadlines.py: actions run at their time, in order, unless forgotten; one thread."""

from __future__ import annotations

import threading
import time

from isrender.server.deadlines import Deadlines


def test_actions_run_at_their_time_in_order_and_forgotten_ones_never() -> None:
    deadlines, ran, done = Deadlines(), [], threading.Event()
    now = time.monotonic()
    deadlines.at(now + 0.20, lambda: (ran.append(("late", time.monotonic() - now)), done.set()))
    deadlines.at(now + 0.05, lambda: ran.append(("early", time.monotonic() - now)))
    forget = deadlines.at(now + 0.10, lambda: ran.append(("forgotten", 0.0)))
    forget()
    assert done.wait(2)
    assert [name for name, _ in ran] == ["early", "late"]
    assert 0.05 <= ran[0][1] < 0.5 and 0.20 <= ran[1][1] < 0.65
    deadlines.close()


def test_a_past_deadline_runs_at_once_and_many_share_one_thread() -> None:
    deadlines, count = Deadlines(), []
    before = threading.active_count()
    for _ in range(200):
        deadlines.at(time.monotonic() - 1, lambda: count.append(1))
    deadline = time.monotonic() + 2
    while len(count) < 200 and time.monotonic() < deadline:
        time.sleep(0.01)
    assert len(count) == 200
    assert threading.active_count() <= before + 1
    deadlines.close()
