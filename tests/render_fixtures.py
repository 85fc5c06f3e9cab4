"""Spec §0.5 fixture images, generated: every pixel says where it came from.

``photo`` (2000x1500), ``tall`` (1000x2000) and ``small`` (100x80) are gradients: red grows
with x, green with y, blue is 64, so the colour at a point tells which source pixel is shown.
``logo`` (400x200) is RGBA: an opaque blue 200x100 block in the middle, transparent margins.
``grayimg`` (600x400) is a one-band gradient.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import pyvips


def gradient(width: int, height: int) -> pyvips.Image:
    xy = pyvips.Image.xyz(width, height)
    red = xy[0] * (255 / max(1, width - 1))
    green = xy[1] * (255 / max(1, height - 1))
    blue = red * 0 + 64
    return red.bandjoin([green, blue]).cast("uchar").copy(interpretation="srgb")


def textured(width: int, height: int, mean: float = 0.0, grey: bool = False) -> pyvips.Image:
    """A gradient with noise: AC coefficients in every block, at every bit (JPEG tests);
    computed into memory, as one band (``b-w``) when ``grey``."""
    noise = pyvips.Image.gaussnoise(width, height, sigma=40, mean=mean)
    image = (gradient(width, height) + noise).cast("uchar").copy(interpretation="srgb")
    return (image.colourspace("b-w") if grey else image).copy_memory()


def four_four_one() -> bytes:
    """A 4:4:4 JPEG whose frame header says luma is sampled 1x4 (4:4:1): simplejpeg's header
    reader has no name for that sampling and raises KeyError."""
    data = bytearray(textured(256, 256).jpegsave_buffer(Q=85, subsample_mode="off"))
    frame = data.index(b"\xff\xc0")  # SOF0: length, precision, height, width, components
    data[frame + 11] = 0x14  # the first component's sampling: 1 across, 4 down
    return bytes(data)


def logo() -> pyvips.Image:
    colour = pyvips.Image.black(400, 200).new_from_image([0, 0, 255]).cast("uchar")
    alpha = pyvips.Image.black(400, 200).draw_rect(255, 100, 50, 200, 100, fill=True)
    return colour.bandjoin(alpha.cast("uchar")).copy(interpretation="srgb")


def write_fixtures(folder: Path) -> dict[str, Path]:
    images = {
        "photo": gradient(2000, 1500),
        "tall": gradient(1000, 2000),
        "small": gradient(100, 80),
        "logo": logo(),
        "grayimg": pyvips.Image.xyz(600, 400)[0]
        .linear(255 / 599, 0)
        .cast("uchar")
        .copy(interpretation="b-w"),
    }
    paths = {}
    for name, image in images.items():
        paths[name] = folder / f"{name}.png"
        image.pngsave(str(paths[name]), compression=1)
    return paths


def pixel(data: bytes, x: int, y: int) -> list[float]:
    image = pyvips.Image.new_from_buffer(data, "")
    return list(image.getpoint(x, y))


def image_of(data: bytes) -> pyvips.Image:
    return pyvips.Image.new_from_buffer(data, "")


def both_ways(
    monkeypatch: pytest.MonkeyPatch, module: Any, name: str, source: Path, modifiers: str
) -> tuple[list[Any], bytes, bytes]:
    """A render with ``module.name`` as it is (what it returned, call by call, and the reply),
    then the reply again with it answering None, so that libvips does that part (the fast
    paths of render/vips/ must not change a byte)."""
    import isrender

    returned: list[Any] = []
    original = getattr(module, name)
    monkeypatch.setattr(
        module, name, lambda *args: returned.append(original(*args)) or returned[-1]
    )
    first = isrender.render(source, modifiers).data
    monkeypatch.setattr(module, name, lambda *args: None)
    return returned, first, isrender.render(source, modifiers).data
