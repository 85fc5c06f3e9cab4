"""render/vips/jpeg_turbo.py: libjpeg-turbo's decode at 1/k is libvips' ``jpegload(shrink=k)``
pixel for pixel, and whatever it should not decode is left to libvips."""

from __future__ import annotations

import pytest
import pyvips

from isrender.render.jpeg_scans import for_eighth_scale
from isrender.render.vips import jpeg_turbo
from tests import render_fixtures as fixtures
from tests.conftest import shared_path

SHRINKS = (1, 2, 4, 8)
CORPUS = [
    ("jpeg", "giunchedi-srgb.jpg"),  # baseline 4:4:4, ICC, EXIF
    ("jpeg", "concert-grey-icc.jpg"),  # one band
    ("jpeg", "progressive-orient6.jpg"),  # progressive 4:4:4
    ("jpeg", "sample-a98.jpg"),  # 4:2:0, odd height (442)
    ("exif", "Landscape_6.jpg"),  # 4:2:0, stored sideways
]


SYNTHETIC = {
    "801x537 4:2:0": lambda: fixtures.textured(801, 537).jpegsave_buffer(Q=85, subsample_mode="on"),
    "803x541 4:4:4": lambda: fixtures.textured(803, 541).jpegsave_buffer(
        Q=85, subsample_mode="off"
    ),
    "807x533 progressive 4:2:0": lambda: fixtures.textured(807, 533).jpegsave_buffer(
        Q=85, interlace=True, subsample_mode="on"
    ),
    "805x539 grey": lambda: fixtures.textured(805, 539, grey=True).jpegsave_buffer(Q=85),
    "1600x1064 progressive, AC scans left out": lambda: for_eighth_scale(
        fixtures.textured(1600, 1064).jpegsave_buffer(Q=85, interlace=True)
    ),
}


def _libvips(data: bytes, shrink: int) -> pyvips.Image:
    return pyvips.Image.jpegload_buffer(data, shrink=shrink, fail_on="error")


def _assert_same_pixels(data: bytes, shrink: int) -> None:
    expected = _libvips(data, shrink)
    decoded = jpeg_turbo.decode(data, shrink, expected.bands)
    assert decoded is not None, "decoded by libvips instead"
    assert (decoded.width, decoded.height, decoded.bands) == (
        expected.width, expected.height, expected.bands,
    )  # fmt: skip
    assert decoded.interpretation == expected.interpretation
    assert decoded.format == "uchar"
    assert decoded.write_to_memory() == expected.write_to_memory()


@pytest.mark.parametrize("shrink", SHRINKS)
@pytest.mark.parametrize("folder, name", CORPUS)
def test_a_corpus_jpeg_decodes_to_libvips_pixels(folder: str, name: str, shrink: int) -> None:
    data = shared_path("corpus", folder, name).read_bytes()
    header = _libvips(data, 1)
    if not jpeg_turbo.decodes(header.width, header.height, shrink):  # too small at this shrink
        assert jpeg_turbo.decode(data, shrink, header.bands) is None
        return
    _assert_same_pixels(data, shrink)


@pytest.mark.parametrize("shrink", SHRINKS)
@pytest.mark.parametrize("made", list(SYNTHETIC))
def test_an_odd_sized_jpeg_decodes_to_libvips_pixels(made: str, shrink: int) -> None:
    """Odd sizes: libjpeg rounds a scaled size up, libvips down; the rows and columns they
    share must be the same."""
    data = SYNTHETIC[made]()
    assert data, "the fixture made no file"
    _assert_same_pixels(data, shrink)


def _truncated() -> bytes:
    return shared_path("corpus", "bad", "truncated.jpg").read_bytes()


def _small() -> bytes:
    side = jpeg_turbo.MIN_SIDE * 2 - 1
    return bytes(fixtures.textured(side, side).jpegsave_buffer(Q=85))


LEFT_TO_LIBVIPS = {
    "CMYK": (lambda: shared_path("corpus", "jpeg", "cmyk-icc.jpg").read_bytes(), 2, 4),
    "truncated (libjpeg warns)": (_truncated, 2, 3),
    "half a file": (lambda: SYNTHETIC["801x537 4:2:0"]()[:20000], 2, 3),
    "a corrupt header": (
        lambda: shared_path("corpus", "bad", "corrupt-header.jpg").read_bytes(),
        2,
        3,
    ),
    "not a JPEG": (lambda: bytes(fixtures.textured(300, 300).pngsave_buffer()), 2, 3),
    "too small to shrink by 2": (_small, 2, 3),
    "4:4:1 (simplejpeg raises KeyError)": (fixtures.four_four_one, 2, 3),
    "grey asked of a colour file": (lambda: SYNTHETIC["801x537 4:2:0"](), 2, 1),
    "colour asked of a grey file": (lambda: SYNTHETIC["805x539 grey"](), 2, 3),
}


@pytest.mark.parametrize("case", list(LEFT_TO_LIBVIPS))
def test_what_libvips_decodes_instead(case: str) -> None:
    make, shrink, bands = LEFT_TO_LIBVIPS[case]
    assert jpeg_turbo.decode(make(), shrink, bands) is None


def test_the_same_file_decodes_when_small_enough() -> None:
    """The refusals above are for what they name: this file decodes at 1/2."""
    side = jpeg_turbo.MIN_SIDE * 2
    assert jpeg_turbo.decode(bytes(fixtures.textured(side, side).jpegsave_buffer(Q=85)), 2, 3)


LIMITS = {
    "MAX_BYTES": lambda data: len(data) - 1,
    "MAX_PIXELS": lambda data: 400 * 267 - 1,  # the photo at 1/2, libjpeg's rounding
}


@pytest.mark.parametrize("limit", list(LIMITS))
def test_past_a_limit_libvips_decodes(limit: str, monkeypatch: pytest.MonkeyPatch) -> None:
    data = shared_path("corpus", "jpeg", "giunchedi-srgb.jpg").read_bytes()  # 800x533
    assert jpeg_turbo.decode(data, 2, 3) is not None
    monkeypatch.setattr(jpeg_turbo, limit, LIMITS[limit](data))
    assert jpeg_turbo.decode(data, 2, 3) is None
