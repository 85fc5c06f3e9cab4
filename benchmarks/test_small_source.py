"""What libvips costs on a small source against Pillow's draft decode (issue 10).

The work of one request on the 800x533 corpus JPEG: a 300 px wide JPEG at quality 80; and
the same on the 6000x4000 progressive one (Pillow, libvips as the raw app and from the file,
and isrender, which leaves out the AC scans a 1/8 decode never reads: render/jpeg_scans.py).
Pillow does it as thumbor's PIL engine does (``draft`` to the smallest DCT scale not below
the target, LANCZOS ``resize``, ``save`` with ``optimize`` and ``progressive``, thumbor's
defaults); libvips as the raw app (``thumbnail_buffer``), from the file (``thumbnail``, which
opens it sequentially), with and without a second Huffman pass (``optimize_coding``), with
JPEG shrink-on-load as far as the target allows (as Pillow's draft; ``thumbnail`` keeps a 2x
reduce after it, so it decodes the whole 800 px source), and through isrender's whole library
render (ImageService: parse, bind, ETag, plan, cached header, render), also with libvips
decoding what libjpeg-turbo decodes in one call (render/vips/jpeg_turbo.py), and with libvips
encoding what libjpeg-turbo encodes through Pillow (render/vips/jpeg_encode.py). Process
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

from isrender.render.vips import jpeg_encode, jpeg_turbo
from isrender.render.vips.renderer import tune_for_serving
from isrender.service import render

CORPUS = Path(__file__).resolve().parents[2] / "shared" / "corpus" / "jpeg"
PHOTO = CORPUS / "giunchedi-srgb.jpg"
BIG = CORPUS / "photo-6000x4000-progressive.jpg"
SOURCES = {"800x533 JPEG": (PHOTO, 20),  # the file, calls per variant and round
           "6000x4000 progressive JPEG": (BIG, 3)}  # fmt: skip
WIDTH, QUALITY = 300, 80
MODIFIERS = f"wid={WIDTH}&fmt=jpeg&qlt={QUALITY}"
ROUNDS = int(os.environ.get("ISRENDER_BENCH_ROUNDS", "9"))
MEDIANS: dict[tuple[str, str], float] = {}  # (source, variant) -> median CPU ms a call
SPREAD: dict[tuple[str, str], tuple[float, float]] = {}  # -> (lowest, highest) round median


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


def _with_libvips(module: Any, name: str) -> Callable[[Path], bytes]:
    """isrender's render with ``module.name`` answering None, so that libvips does that part
    as before: what the decoder (render/vips/jpeg_turbo.py) or the encoder
    (render/vips/jpeg_encode.py) saves."""

    def work(path: Path) -> bytes:
        original = getattr(module, name)
        setattr(module, name, lambda *args: None)
        try:
            return render(path, MODIFIERS).data
        finally:
            setattr(module, name, original)

    return work


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
    "isrender library render, libvips decoding": _with_libvips(jpeg_turbo, "decode"),
    "isrender library render, libvips encoding": _with_libvips(jpeg_encode, "pixels"),
}  # fmt: skip


ON_BOTH = ("pillow draft (thumbor)", "pyvips thumbnail_buffer (raw app)",
           "pyvips thumbnail file", "isrender library render",
           "isrender library render, libvips decoding",
           "isrender library render, libvips encoding")  # fmt: skip


def _cpu_ms(work: Callable[[Path], bytes], path: Path, calls: int) -> float:
    times = []
    for _ in range(calls):
        started = time.process_time()
        assert work(path)[:2] == b"\xff\xd8"
        times.append(time.process_time() - started)
    return statistics.median(times) * 1000


@pytest.mark.parametrize("source", SOURCES)
def test_libvips_against_pillow_draft(source: str, benchmark: Any) -> None:
    path, calls = SOURCES[source]
    if not path.is_file():
        pytest.skip("the corpus (../shared/corpus) is absent")
    tune_for_serving()
    names = list(VARIANTS) if path == PHOTO else list(ON_BOTH)
    rounds: dict[str, list[float]] = {name: [] for name in names}
    for number in range(ROUNDS + 1):  # round 0 warms every variant and is dropped
        for name in names[number % len(names) :] + names[: number % len(names)]:
            cpu = _cpu_ms(VARIANTS[name], path, calls)
            if number:
                rounds[name].append(cpu)
    for name, values in rounds.items():
        MEDIANS[source, name] = statistics.median(values)
        SPREAD[source, name] = (min(values), max(values))
    benchmark.pedantic(lambda: VARIANTS["isrender library render"](path), rounds=1)


def report() -> str:
    lines = []
    for (source, name), ms in MEDIANS.items():
        pillow = MEDIANS[source, "pillow draft (thumbor)"]
        low, high = SPREAD[source, name]
        lines.append(f"{source} -> {WIDTH} px JPEG, CPU a call: {name:42} {ms:7.2f} ms = "
                     f"{ms / pillow:.2f}x Pillow (rounds {low:.2f}-{high:.2f})")  # fmt: skip
    return "\n".join(lines)
