"""render/jpeg_scans.py: a progressive JPEG without the AC scans a 1/8 decode never reads
decodes at 1/8 to exactly the same pixels, and anything not understood is left alone."""

from __future__ import annotations

import io
from collections.abc import Callable

import pytest
import pyvips
from hypothesis import given, settings
from hypothesis import strategies as st
from PIL import Image

from isrender.render.jpeg_scans import for_eighth_scale
from tests.conftest import shared_path
from tests.render_fixtures import textured


def _pillow(subsampling: int, grey: bool = False) -> Callable[[pyvips.Image], bytes]:
    """libjpeg-turbo's progression: every AC scan refined bit by bit, chroma and luma."""

    def encode(image: pyvips.Image) -> bytes:
        mode, bands = ("L", image.colourspace("b-w")) if grey else ("RGB", image)
        pil = Image.frombytes(mode, (image.width, image.height), bands.write_to_memory())
        out = io.BytesIO()
        pil.save(out, "JPEG", quality=85, progressive=True, subsampling=subsampling)
        return out.getvalue()

    return encode


ENCODERS: dict[str, Callable[[pyvips.Image], bytes]] = {
    "libjpeg-turbo 4:4:4": _pillow(0),
    "libjpeg-turbo 4:2:2": _pillow(1),
    "libjpeg-turbo 4:2:0": _pillow(2),
    "libjpeg-turbo grey": _pillow(0, grey=True),
    "mozjpeg 4:2:0 (libvips)": lambda image: image.jpegsave_buffer(Q=85, interlace=True),
    "mozjpeg 4:4:4 (libvips)": lambda image: image.jpegsave_buffer(
        Q=85, interlace=True, subsample_mode="off"
    ),
}
# 1 block; odd sizes (partial blocks and MCUs); 32,768 blocks: a zero run past EOB14's 32,767
SIZES = [(8, 8), (333, 77), (1037, 531), (2048, 1024)]


def _eighth(data: bytes) -> pyvips.Image:
    return pyvips.Image.jpegload_buffer(data, shrink=8, fail_on="warning")


def _assert_same_eighth(original: bytes, lean: bytes | None) -> None:
    assert lean is not None
    expected, got = _eighth(original), _eighth(lean)
    assert (got.width, got.height, got.bands) == (expected.width, expected.height, expected.bands)
    assert (got - expected).abs().max() == 0


@pytest.mark.parametrize("size", SIZES, ids=lambda size: "x".join(map(str, size)))
@pytest.mark.parametrize("encoder", ENCODERS.values(), ids=ENCODERS.keys())
def test_the_eighth_scale_decode_is_pixel_identical(
    encoder: Callable[[pyvips.Image], bytes], size: tuple[int, int]
) -> None:
    original = encoder(textured(*size))
    _assert_same_eighth(original, for_eighth_scale(original))


@pytest.mark.parametrize(
    "name",
    ["photo-6000x4000-progressive.jpg", "photo-4000x6000-progressive.jpg",
     "progressive-orient6.jpg"],
)  # fmt: skip
def test_the_corpus_progressive_photos_decode_the_same(name: str) -> None:
    original = shared_path("corpus", "jpeg", name).read_bytes()
    lean = for_eighth_scale(original)
    _assert_same_eighth(original, lean)
    assert lean is not None and len(lean) < len(original) * 0.6  # the luma AC scans are gone


def test_what_libjpeg_needs_is_kept_byte_for_byte() -> None:
    original = _pillow(2)(textured(640, 480))
    lean = for_eighth_scale(original)
    assert lean is not None
    scan = original.index(b"\xff\xda")
    assert lean[:scan] == original[:scan]  # APPn, tables and frame header
    assert lean.endswith(b"\xff\xd9")
    assert pyvips.Image.jpegload_buffer(lean).width == 640  # still a whole, valid JPEG


def _cut_last_scan(data: bytes) -> bytes:
    """The file without its last scan: a coefficient never refined to its last bit."""
    return data[: data.rindex(b"\xff\xda")] + b"\xff\xd9"


LEFT_ALONE: dict[str, Callable[[], bytes]] = {
    "baseline": lambda: textured(64, 64).jpegsave_buffer(),
    "restart intervals": lambda: textured(64, 64).jpegsave_buffer(
        interlace=True, restart_interval=2
    ),
    "a progression that stops short": lambda: _cut_last_scan(_pillow(2)(textured(64, 64))),
    "truncated": lambda: _pillow(2)(textured(64, 64))[:-200],
    "no end marker": lambda: _pillow(2)(textured(64, 64))[:-2],
    "a PNG": lambda: textured(16, 16).pngsave_buffer(),
    "empty": lambda: b"",
    "only the start marker": lambda: b"\xff\xd8",
}


@pytest.mark.parametrize("make", LEFT_ALONE.values(), ids=LEFT_ALONE.keys())
def test_what_it_does_not_understand_it_leaves_to_libjpeg(make: Callable[[], bytes]) -> None:
    assert for_eighth_scale(make()) is None


SMALL = _pillow(2)(textured(40, 24))


@settings(max_examples=300, deadline=None)
@given(st.lists(st.tuples(st.integers(0, len(SMALL) - 1), st.integers(0, 255)), max_size=4),
       st.integers(0, len(SMALL)))  # fmt: skip
def test_damaged_files_never_raise(edits: list[tuple[int, int]], keep: int) -> None:
    damaged = bytearray(SMALL)
    for at, value in edits:
        damaged[at] = value
    lean = for_eighth_scale(bytes(damaged[:keep]))
    assert lean is None or (lean.startswith(b"\xff\xd8") and b"\xff\xd9" in lean)


def _with_segments_before_the_first_scan(data: bytes, extra: bytes) -> bytes:
    first = data.index(b"\xff\xda")
    return data[:first] + extra + data[first:]


def test_a_file_of_empty_segments_is_left_to_libjpeg() -> None:
    """Python would spend seconds and hundreds of MB listing 400,000 of them; libvips, 12 ms."""
    padded = _with_segments_before_the_first_scan(SMALL, b"\xff\xfe\x00\x02" * 400_000)
    assert for_eighth_scale(padded) is None


def test_long_runs_of_fill_bytes_are_skipped_whole() -> None:
    filled = _with_segments_before_the_first_scan(SMALL, b"\xff" * 1_000_000)
    _assert_same_eighth(filled, for_eighth_scale(filled))


def test_a_left_out_scan_that_libjpeg_would_refuse_is_not_left_out() -> None:
    """A luma AC scan naming an AC table no DHT defined: libjpeg stops at it, so the rewrite,
    which would never show it to libjpeg, must not make the file decode."""
    at = SMALL.index(b"\xff\xda\x00\x08\x01\x01")  # the first one-component scan of luma
    broken = SMALL[: at + 6] + bytes([SMALL[at + 6] & 0xF0 | 3]) + SMALL[at + 7 :]
    with pytest.raises(pyvips.Error):
        _eighth(broken).avg()  # decoding the pixels is what fails
    assert for_eighth_scale(broken) is None
