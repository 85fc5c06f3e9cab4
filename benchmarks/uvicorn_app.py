"""The isrender app as plain ``uvicorn --workers N --factory`` serves it, for
benchmarks/test_server_workers.py. ``app``: the same serving tuning as ``isrender serve``
(libvips threads, malloc arenas, GIL switch interval), so only the process model differs;
``untuned_app``: what a deployment gets from ``uvicorn isrender.server:create_app`` alone.
Settings come from ISRENDER_* as for every command.
"""

from __future__ import annotations

import sys

from fastapi import FastAPI

from isrender.cli.serve import SWITCH_INTERVAL
from isrender.render.vips.renderer import tune_for_serving
from isrender.server import create_app


def app() -> FastAPI:
    tune_for_serving()
    sys.setswitchinterval(SWITCH_INTERVAL)
    return create_app(job_worker=False)


def untuned_app() -> FastAPI:
    return create_app(job_worker=False)
