"""What libvips costs on a small source against Pillow's draft decode (issue 10).

The work of one request on the 800x533 corpus JPEG: a 300 px wide JPEG at quality 80.
Pillow does it as thumbor's PIL engine does (``draft`` to the smallest DCT scale not below
the target, LANCZOS ``resize``, ``save`` with ``optimize`` and ``progressive``, thumbor's
defaults); libvips as the raw app (``thumbnail_buffer``), from the file (``thumbnail``, which
opens it sequentially), with and without a second Huffman pass (``optimize_coding``), with
JPEG shrink-on-load as far as the target allows (as Pillow's draft; ``thumbnail`` keeps a 2x
reduce after it, so it decodes the whole 800 px source), and through isrender's whole library
render (ImageService: parse, bind, ETag, plan, cached header, render). Process
CPU a call (libvips computes in its own worker thread), serving tuning on (libvips cache off,
one thread), in interleaved rounds; the medians of the round medians are printed, each as
a ratio to Pillow's.
"""

from __future__ import annotations

import io
import os
import statistics
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import pyvips
from PIL import Image

from isrender.render.vips.renderer import tune_for_serving
from isrender.service import render

PHOTO = Path(__file__).resolve().parents[2] / "shared" / "corpus" / "jpeg" / "giunchedi-srgb.jpg"
WIDTH, QUALITY = 300, 80
MODIFIERS = f"wid={WIDTH}&fmt=jpeg&qlt={QUALITY}"
ROUNDS = int(os.environ.get("ISRENDER_BENCH_ROUNDS", "9"))
CALLS = 20  # per variant and round
MEDIANS: dict[str, float] = {}  # variant -> median CPU ms a call
SPREAD: dict[str, tuple[float, float]] = {}  # variant -> (lowest, highest) round median


def pillow_draft(path: Path) -> bytes:
    with Image.open(path) as image:
        height = round(image.height * WIDTH / image.width)
        image.draft(None, (WIDTH, height))  # pyright: ignore[reportArgumentType]
        small = image.resize((WIDTH, height), Image.Resampling.LANCZOS)
    out = io.BytesIO()
    small.save(out, "JPEG", quality=QUALITY, optimize=True, progressive=True)
    return out.getvalue()


def _vips_jpeg(image: pyvips.Image, optimize: bool = True) -> bytes:
    data: bytes = image.write_to_buffer(".jpg", Q=QUALITY, optimize_coding=optimize, keep="none")
    return data


def _draft_like(path: Path) -> pyvips.Image:
    shrunk = pyvips.Image.new_from_file(str(path), shrink=2, access="sequential",
                                        fail_on="error")  # fmt: skip
    height = round(shrunk.height * WIDTH / shrunk.width)
    return shrunk.resize(WIDTH / shrunk.width, vscale=height / shrunk.height)


VARIANTS: dict[str, Callable[[Path], bytes]] = {
    "pillow draft (thumbor)": pillow_draft,
    "pyvips thumbnail_buffer (raw app)": lambda path: _vips_jpeg(
        pyvips.Image.thumbnail_buffer(path.read_bytes(), WIDTH, fail_on="error")
    ),
    "pyvips thumbnail file": lambda path: _vips_jpeg(
        pyvips.Image.thumbnail(str(path), WIDTH, fail_on="error")
    ),
    "pyvips thumbnail file, one Huffman pass": lambda path: _vips_jpeg(
        pyvips.Image.thumbnail(str(path), WIDTH, fail_on="error"), optimize=False
    ),
    "pyvips shrink-on-load as far as draft": lambda path: _vips_jpeg(_draft_like(path)),
    "isrender library render": lambda path: render(path, MODIFIERS).data,
}  # fmt: skip


def _cpu_ms(work: Callable[[Path], bytes]) -> float:
    times = []
    for _ in range(CALLS):
        started = time.process_time()
        assert work(PHOTO)[:2] == b"\xff\xd8"
        times.append(time.process_time() - started)
    return statistics.median(times) * 1000


def test_libvips_against_pillow_draft(benchmark: Any) -> None:
    if not PHOTO.is_file():
        pytest.skip("the corpus (../shared/corpus) is absent")
    tune_for_serving()
    rounds: dict[str, list[float]] = {name: [] for name in VARIANTS}
    names = list(VARIANTS)
    for number in range(ROUNDS + 1):  # round 0 warms every variant and is dropped
        for name in names[number % len(names) :] + names[: number % len(names)]:
            cpu = _cpu_ms(VARIANTS[name])
            if number:
                rounds[name].append(cpu)
    for name, values in rounds.items():
        MEDIANS[name] = statistics.median(values)
        SPREAD[name] = (min(values), max(values))
    benchmark.pedantic(lambda: VARIANTS["isrender library render"](PHOTO), rounds=1)


def report() -> str:
    if not MEDIANS:
        return ""
    pillow = MEDIANS["pillow draft (thumbor)"]
    return "\n".join(
        f"800x533 JPEG -> {WIDTH} px JPEG, CPU a call: {name:40} {ms:6.2f} ms = "
        f"{ms / pillow:.2f}x Pillow (rounds {SPREAD[name][0]:.2f}-{SPREAD[name][1]:.2f})"
        for name, ms in MEDIANS.items()
    )
