"""render/stop.py StopSignal, and a stop killing a real libvips pipeline from another thread."""

from __future__ import annotations

import threading
import time

import pytest

from isrender.errors import RenderTimeout
from isrender.render.stop import StopSignal


def test_listeners_hear_a_stop_once_and_forgotten_ones_not_at_all() -> None:
    signal, heard = StopSignal(), []
    signal.listen(lambda: heard.append("a"))
    forget = signal.listen(lambda: heard.append("b"))
    forget()
    signal.stop()
    signal.stop()
    assert heard == ["a"] and signal.stopped


def test_listening_after_the_stop_hears_it_at_once() -> None:
    signal, heard = StopSignal(), []
    signal.stop()
    signal.listen(lambda: heard.append("late"))
    assert heard == ["late"]


def test_a_stop_from_another_thread_kills_a_running_render() -> None:
    """No progress callback: the stopping thread kills the pipeline itself."""
    import isrender
    from isrender.language import parse
    from isrender.render.vips.renderer import plan_render
    from isrender.request import bind
    from tests.render_fixtures import gradient

    source = gradient(3000, 3000).jpegsave_buffer()
    slow = "wid=3000&layer=0&op_blur=100&op_noise=50&layer=comp&op_blur=100&fmt=png"
    job = plan_render(source, bind(parse(slow)))
    signal = threading.Timer(0.3, lambda: stop.stop())
    stop = StopSignal()
    started = time.monotonic()
    signal.start()
    with pytest.raises(RenderTimeout):
        job.run(stop)
    assert time.monotonic() - started < 1.0  # the blurs alone take seconds
    assert isrender  # the package (and its pyvips) is the one under test
