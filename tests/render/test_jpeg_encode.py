"""render/vips/jpeg_encode.py: libjpeg-turbo through Pillow writes the bytes libvips'
``jpegsave`` writes, for the replies it takes; the others are left to libvips."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest
import pyvips

from isrender.errors import RenderTimeout
from isrender.render.stop import StopSignal
from isrender.render.vips import jpeg_encode
from tests import render_fixtures as fixtures
from tests.conftest import shared_path

NONE = pyvips.enums.ForeignKeep.NONE
SIZES = [(1, 1), (8, 8), (37, 25), (300, 200), (301, 201), (999, 666)]
QUALITIES = [1, 5, 24, 25, 50, 80, 89]  # from 25 the tables fit baseline without clamping
GREY_QUALITIES = [*QUALITIES, 90, 95, 100]  # colour is 4:4:4 from 90: left to libvips


def _small(grey: bool = False) -> pyvips.Image:
    return fixtures.textured(40, 30, grey=grey)


def _libvips(image: pyvips.Image, quality: int, full_chroma: bool) -> bytes:
    data: bytes = image.jpegsave_buffer(
        Q=quality, optimize_coding=True, keep=NONE,
        subsample_mode="off" if full_chroma else "auto",
    )  # fmt: skip
    return data


def _encoded(image: pyvips.Image, quality: int, full_chroma: bool) -> bytes:
    pixels = jpeg_encode.pixels(image, quality, full_chroma)
    assert pixels is not None, "left to libvips"
    encoded = pixels.encode(quality, full_chroma)
    assert encoded is not None, "Pillow could not encode it"
    return encoded


@pytest.mark.parametrize("width, height", SIZES)
def test_the_bytes_are_libvips_bytes(width: int, height: int) -> None:
    image = fixtures.textured(width, height)
    for quality in QUALITIES:
        assert _encoded(image, quality, False) == _libvips(image, quality, False), f"{quality}"


@pytest.mark.parametrize("full_chroma", [False, True], ids=["qlt=q", "qlt=q,1"])
@pytest.mark.parametrize("width, height", SIZES)
def test_the_grey_bytes_are_libvips_bytes(width: int, height: int, full_chroma: bool) -> None:
    image = fixtures.textured(width, height, grey=True)
    for quality in GREY_QUALITIES:
        expected = _libvips(image, quality, full_chroma)
        assert _encoded(image, quality, full_chroma) == expected, f"qlt={quality}"


@pytest.mark.parametrize("quality, full_chroma", [(90, False), (100, False), (80, True)])
def test_colour_at_4_4_4_is_left_to_libvips(quality: int, full_chroma: bool) -> None:
    """4:4:4 may not fit Pillow's output buffer (noise at quality 70 takes 1.05 bytes a pixel
    against its 1): libvips encodes it, from the computed pixels too (jpegSize)."""
    image = _small()
    assert jpeg_encode.pixels(image, quality, full_chroma) is None
    pixels = jpeg_encode.pixels(image, 80, False)
    assert pixels is not None and pixels.encode(quality, full_chroma) is None


def test_the_chroma_rule_is_libvips_auto_at_every_quality() -> None:
    """Both encoders follow full_chroma_at(); libvips' own "auto" is the reference."""
    image = fixtures.textured(48, 32)
    for quality in range(1, 101):
        ours = "off" if jpeg_encode.full_chroma_at(quality, False) else "on"
        chosen = image.jpegsave_buffer(Q=quality, keep=NONE, subsample_mode=ours)
        assert chosen == image.jpegsave_buffer(Q=quality, keep=NONE), f"qlt={quality}"


def test_the_corpus_photo_reply_is_libvips_bytes() -> None:
    photo = shared_path("corpus", "jpeg", "giunchedi-srgb.jpg")
    image = pyvips.Image.thumbnail(str(photo), 300).copy_memory()
    assert _encoded(image, 80, False) == _libvips(image, 80, False)


def test_the_image_resolution_changes_no_byte() -> None:
    """libvips writes no JFIF density when it keeps no metadata, whatever the resolution."""
    image = fixtures.textured(120, 80).copy(xres=300 / 25.4, yres=150 / 25.4)
    assert _encoded(image, 80, False) == _libvips(image, 80, False)


LEFT_TO_LIBVIPS = {
    "CMYK": lambda: _small().icc_transform("cmyk", input_profile="srgb"),
    "RGBA": lambda: _small().bandjoin(255),
    "grey and alpha": lambda: _small(grey=True).bandjoin(255),
    "16 bits": lambda: _small().cast("ushort").copy(interpretation="rgb16"),
    "float": lambda: _small().cast("float"),
    "three bands, not sRGB": lambda: _small().copy(interpretation="multiband"),
    "over MAX_PIXELS": lambda: pyvips.Image.black(1001, 1000, bands=3).copy(interpretation="srgb"),
}


@pytest.mark.parametrize("case", LEFT_TO_LIBVIPS)
def test_what_it_should_not_encode_is_left_to_libvips(case: str) -> None:
    assert jpeg_encode.pixels(LEFT_TO_LIBVIPS[case](), 80, False) is None


def test_the_largest_reply_it_takes_is_max_pixels() -> None:
    image = pyvips.Image.black(1000, 1000, bands=3).copy(interpretation="srgb")
    assert jpeg_encode.MAX_PIXELS == 1000 * 1000
    assert jpeg_encode.pixels(image, 80, False) is not None


def _noise(width: int, height: int, bands: int = 3) -> pyvips.Image:
    """The worst case for JPEG's size: a different value at every pixel of every band."""
    noise = [pyvips.Image.gaussnoise(width, height, sigma=120, mean=128) for _ in range(bands)]
    image = noise[0].bandjoin(noise[1:]) if bands == 3 else noise[0]
    return image.cast("uchar").copy(interpretation="srgb" if bands == 3 else "b-w").copy_memory()


@pytest.mark.parametrize("bands, quality", [(3, 89), (1, 89), (1, 94), (1, 100)])
def test_noise_fits_pillows_buffer(bands: int, quality: int) -> None:
    """Colour noise at 4:2:0 takes 0.78 bytes a pixel at quality 89, grey noise 1 at 100:
    within Pillow's buffer (1 byte a pixel, 2 from quality 95, at least 64 KB)."""
    for width, height in ((300, 200), (1000, 1000)):
        image = _noise(width, height, bands)
        assert _encoded(image, quality, False) == _libvips(image, quality, False)


def test_more_than_pillows_buffer_is_left_to_libvips(monkeypatch: pytest.MonkeyPatch) -> None:
    """A reply that does not fit Pillow's buffer is encoded by libvips from the same pixels."""
    from PIL import ImageFile

    from isrender.render.steps import EncodeOptions
    from isrender.render.vips import save

    monkeypatch.setattr(ImageFile, "MAXBLOCK", 1024)
    image = _noise(64, 16)  # 1,024 pixels: ~800 bytes of scans, ~600 of tables
    pixels = jpeg_encode.pixels(image, 85, False)
    assert pixels is not None and pixels.encode(85, False) is None
    options = EncodeOptions(format="jpeg", compression=None, quality=85)
    assert save.encode(image, options, False) == _libvips(image, 85, False)


@pytest.mark.parametrize("grey", [False, True], ids=["srgb", "grey"])
def test_the_pixels_go_back_to_libvips_as_they_came(grey: bool) -> None:
    image = fixtures.textured(37, 25, grey=grey)
    pixels = jpeg_encode.pixels(image, 80, False)
    assert pixels is not None
    again = pixels.image()
    assert (again.interpretation, again.bands, again.format) == (
        image.interpretation, image.bands, "uchar",
    )  # fmt: skip
    assert again.write_to_memory() == image.write_to_memory()


def test_a_jpeg_without_jfif_is_left_whole() -> None:
    data = _libvips(fixtures.textured(16, 16), 80, False)  # SOI then DQT: no APP0
    assert jpeg_encode._without_jfif(data) == data


# ---- whole replies ------------------------------------------------------------------------


def _grey_source(tmp_path: Path) -> Path:
    source = tmp_path / "grey.jpg"
    fixtures.gradient(1200, 800).colourspace("b-w").jpegsave(str(source))
    return source


REPLY_ROWS = [
    ("photo", "wid=300&fmt=jpeg&qlt=80", True),
    ("photo", "wid=300&qlt=95", False),  # 4:4:4 from quality 90
    ("photo", "wid=300&qlt=80,1", False),  # 4:4:4 asked for
    ("photo", "wid=300&fmt=jpeg,gray&qlt=95,1", True),  # grey: every quality
    ("photo", "wid=400&fmt=jpeg&jpegSize=8", True),  # several qualities tried
    ("photo", "wid=300&fmt=jpeg,gray", True),
    ("grey", "wid=300&fmt=jpeg", True),
    ("photo", "wid=300&fmt=jpeg&iccEmbed=1", False),  # metadata: libvips writes it
    ("photo", "wid=300&fmt=jpeg&printRes=200", False),
    ("photo", "wid=300&fmt=pjpeg", False),  # progressive: mozjpeg's scan script
    ("photo", "wid=300&fmt=jpeg,cmyk", False),
]


@pytest.mark.parametrize("source, modifiers, taken", REPLY_ROWS)
def test_a_reply_is_the_same_bytes_either_way(
    source: str, modifiers: str, taken: bool, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = _grey_source(tmp_path) if source == "grey" else shared_path(
        "corpus", "jpeg", "giunchedi-srgb.jpg"
    )  # fmt: skip
    computed, fast, libvips = fixtures.both_ways(
        monkeypatch, jpeg_encode, "pixels", path, modifiers
    )
    assert any(computed) == taken, "taken by the wrong encoder"
    assert libvips == fast


def test_a_stop_kills_the_pixels_it_computes(monkeypatch: pytest.MonkeyPatch) -> None:
    """The pixels are computed by libvips into memory before the encode: a stop kills them
    there as it kills libvips' own encoder, and the render reports a timeout."""
    from isrender.language import parse
    from isrender.render.vips.renderer import plan_render
    from isrender.request import bind

    source = fixtures.gradient(3000, 3000).jpegsave_buffer()
    slow = "wid=900&layer=0&op_blur=100&op_noise=50&layer=comp&op_blur=100&fmt=jpeg"
    job = plan_render(source, bind(parse(slow)))
    asked: list[pyvips.Image] = []
    pixels = jpeg_encode.pixels
    monkeypatch.setattr(jpeg_encode, "pixels", lambda *args: asked.append(args[0]) or pixels(*args))
    stop = StopSignal()
    threading.Timer(0.3, stop.stop).start()
    started = time.monotonic()
    with pytest.raises(RenderTimeout):
        job.run(stop)
    assert time.monotonic() - started < 1.0  # the blurs alone take seconds
    assert asked, "the reply was not for this encoder"
