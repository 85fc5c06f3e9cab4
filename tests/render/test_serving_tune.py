"""render/vips/renderer.py tune_for_serving: libvips' info messages stay out of Python."""

from __future__ import annotations

import gc
import logging

import pytest
import pyvips

from isrender.render.vips.renderer import tune_for_serving
from tests.render_fixtures import gradient


def test_info_messages_stay_out_and_warnings_come_through(caplog: pytest.LogCaptureFixture):
    tune_for_serving()
    # INFO, not DEBUG: pyvips' debug records would hold the images and keep them alive
    caplog.set_level(logging.INFO, logger="pyvips")
    gradient(400, 300).resize(0.75).avg()  # libvips says "residual reducev by 0.75" (info)
    assert not [r for r in caplog.records if r.name == "pyvips" and r.levelno < logging.WARNING]
    cut = gradient(400, 300).jpegsave_buffer()[:2000]  # truncated: libjpeg warns
    image = pyvips.Image.jpegload_buffer(cut, fail_on="none")
    image.avg()
    del image
    gc.collect()  # the loader reports its warnings as it is freed
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert any("premature end" in message.lower() for message in warnings), warnings
