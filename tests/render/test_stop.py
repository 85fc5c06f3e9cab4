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


def test_a_stop_kills_an_image_made_whole_before_the_encode() -> None:
    """What a turn (an EXIF orientation, a rotation) needs in memory first is computed under
    the same stop as the encode."""
    import pyvips

    from isrender.render.vips.executor import VipsOps
    from tests.render_fixtures import gradient

    stop = StopSignal()
    ops = VipsOps(lambda step: gradient(8, 8), None, hold_in_memory=True,  # type: ignore[arg-type]
                  icc_profiles={}, source_xmp=False, stop=stop)  # fmt: skip
    slow = gradient(3000, 3000).gaussblur(100)  # seconds of work
    threading.Timer(0.3, stop.stop).start()
    started = time.monotonic()
    with pytest.raises(pyvips.Error):
        ops.in_memory(slow)
    assert time.monotonic() - started < 1.0 and ops.killed.is_set()


def test_a_layer_or_nested_plan_stops_with_its_render() -> None:
    """A sub-plan's ops (a layer's, a nested request's) hear the render's stop, and their kill
    is the render's: RenderJob.run then reports a timeout, not a damaged source."""
    import pyvips

    from isrender.render.vips.executor import VipsOps
    from tests.render_fixtures import gradient

    stop = StopSignal()
    ops = VipsOps(lambda step: gradient(8, 8), None, hold_in_memory=False,  # type: ignore[arg-type]
                  icc_profiles={}, source_xmp=False, stop=stop)  # fmt: skip
    child = ops._child(None, (), hold=True)
    threading.Timer(0.3, stop.stop).start()
    started = time.monotonic()
    with pytest.raises(pyvips.Error):
        child.in_memory(gradient(3000, 3000).gaussblur(100))
    assert time.monotonic() - started < 1.0 and ops.killed.is_set()
