"""A three-layer composite (issue 13): the 24 Mpx corpus photo, a logo layer and a text layer,
as an 800 px JPEG, against the same composite written directly in pyvips, in the same run.
Goal: isrender <= 1.15x the direct pyvips time (parse, expand, bind, plan, layer sources and
checks included). Pairs are interleaved and the medians compared (a shared, noisy machine).
"""

from __future__ import annotations

import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

pyvips = pytest.importorskip("pyvips")

import isrender  # noqa: E402

SHARED = Path(__file__).resolve().parents[2] / "shared" / "corpus"
TEXT = r"{\rtf1{\colortbl;\red255\green255\blue255;}\cf1\b\fs360 SALE 30%25}"
MODIFIERS = (
    "wid=800&qlt=80"
    "&layer=1&src=logo.png&size=1600,800&pos=2000,1200"
    f"&layer=2&text={TEXT}&size=1600,400&pos=-1800,-1400"
)
SCALE = 800 / 6000  # canvas (the photo) to reply


@pytest.fixture(scope="module")
def photo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    if not SHARED.exists():
        pytest.skip("../shared/corpus is absent")
    folder = tmp_path_factory.mktemp("composite")
    script = SHARED / "make_synthetic.py"
    subprocess.run([sys.executable, str(script), str(folder)], check=True, capture_output=True)
    from isrender.render.vips.samples import write_samples

    write_samples(folder)  # logo.png (400x200, transparent margins) beside the photo
    return folder / "photo-6000x4000-baseline.jpg"


def _direct(photo: Path) -> bytes:
    """The same composite by hand: each source read at the reply's scale, placed, encoded."""
    canvas = pyvips.Image.thumbnail(str(photo), 800, fail_on="error")
    logo = pyvips.Image.thumbnail(str(photo.parent / "logo.png"), round(1600 * SCALE))
    mask = pyvips.Image.text("<b>SALE 30%</b>", font="DejaVu Sans 180", dpi=72, width=1600)
    white = mask.new_from_image([255, 255, 255]).bandjoin(mask).copy(interpretation="srgb")
    text = white.resize(SCALE)
    # positions as isrender places them: layer centre + pos from the canvas centre
    logo_xy = (round((3000 + 2000 - 800) * SCALE), round((2000 + 1200 - 400) * SCALE))
    text_xy = (round((3000 - 1800 - 800) * SCALE), round((2000 - 1400 - 200) * SCALE))
    image = canvas.composite([logo, text], "over", x=[logo_xy[0], text_xy[0]],
                             y=[logo_xy[1], text_xy[1]])  # fmt: skip
    image = image.flatten(background=[255, 255, 255])
    data: bytes = image.jpegsave_buffer(Q=80, optimize_coding=True, keep=0)
    return data


def _paired_medians(
    direct: Callable[[], bytes], ours: Callable[[], bytes], pairs: int = 15
) -> tuple[float, float]:
    direct_times, our_times = [], []
    for _ in range(pairs):
        for run, times in ((direct, direct_times), (ours, our_times)):
            started = time.perf_counter()
            run()
            times.append(time.perf_counter() - started)
    return statistics.median(direct_times), statistics.median(our_times)


def test_three_layer_composite_against_direct_pyvips(benchmark: Any, photo: Path) -> None:
    def ours() -> bytes:
        return isrender.render(photo, MODIFIERS).data

    mine, theirs = ours(), _direct(photo)  # warm both, and check they draw the same picture
    a = pyvips.Image.new_from_buffer(mine, "")
    b = pyvips.Image.new_from_buffer(theirs, "")
    assert (a.width, a.height) == (b.width, b.height) == (800, 533)
    difference = (a.cast("float") - b.cast("float")).abs().avg()
    assert difference < 4.0, f"the two composites differ by {difference:.2f} levels on average"
    direct_median, our_median = _paired_medians(lambda: _direct(photo), ours)
    ratio = our_median / direct_median
    benchmark.extra_info.update(direct_pyvips_median_s=direct_median, ratio=ratio)
    print(f"\nthree-layer composite: isrender {our_median * 1000:.1f} ms, direct pyvips "
          f"{direct_median * 1000:.1f} ms, ratio {ratio:.2f}x (goal <= 1.15x)")  # fmt: skip
    benchmark.pedantic(ours, rounds=5)
