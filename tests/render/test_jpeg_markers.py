"""render/jpeg_markers.py: the EXIF segment left out, everything else kept, nothing broken."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from isrender.render.jpeg_markers import without_exif
from tests.conftest import shared_path

SOI, SOS, EOI = b"\xff\xd8", b"\xff\xda\x00\x02", b"\xff\xd9"
SCAN = SOS + b"\x12\x34\xff\x00\x56" + EOI  # entropy-coded bytes, with a stuffed 0xFF


def segment(marker: int, payload: bytes) -> bytes:
    return bytes((0xFF, marker)) + (len(payload) + 2).to_bytes(2, "big") + payload


JFIF = segment(0xE0, b"JFIF\x00\x01\x01\x01\x00\x48\x00\x48\x00\x00")
EXIF = segment(0xE1, b"Exif\x00\x00MM\x00*" + bytes(40))
XMP = segment(0xE1, b"http://ns.adobe.com/xap/1.0/\x00<x:xmpmeta/>")
ICC = segment(0xE2, b"ICC_PROFILE\x00\x01\x01" + bytes(20))
DQT = segment(0xDB, bytes(65))

ROWS = [
    # name, input, expected output
    ("EXIF left out", SOI + JFIF + EXIF + DQT + SCAN, SOI + JFIF + DQT + SCAN),
    ("XMP and ICC kept", SOI + EXIF + XMP + ICC + SCAN, SOI + XMP + ICC + SCAN),
    ("two EXIF segments", SOI + EXIF + DQT + EXIF + SCAN, SOI + DQT + SCAN),
    ("no EXIF: unchanged", SOI + JFIF + DQT + SCAN, SOI + JFIF + DQT + SCAN),
    ("fill bytes before a marker", SOI + b"\xff" + EXIF + SCAN, SOI + b"\xff" + SCAN),
    ("not a JPEG", b"\x89PNG\r\n\x1a\n" + EXIF, b"\x89PNG\r\n\x1a\n" + EXIF),
    ("a segment longer than the file", SOI + EXIF[:-10], SOI + EXIF[:-10]),
    ("no scan", SOI + JFIF + EXIF, SOI + JFIF + EXIF),
    ("EXIF after the scan is pixels", SOI + DQT + SCAN + EXIF, SOI + DQT + SCAN + EXIF),
]


@pytest.mark.parametrize(("name", "data", "expected"), ROWS, ids=[row[0] for row in ROWS])
def test_without_exif(name: str, data: bytes, expected: bytes) -> None:
    assert without_exif(data) == expected


@given(st.binary(max_size=300), st.sampled_from([b"", SOI, SOI + JFIF, SOI + EXIF]))
def test_never_raises_and_only_ever_removes(tail: bytes, head: bytes) -> None:
    data = head + tail
    out = without_exif(data)
    assert out == data or (len(out) < len(data) and out.startswith(SOI))


def test_a_camera_photo_decodes_to_the_same_pixels() -> None:
    import pyvips

    photo = shared_path("corpus", "jpeg", "giunchedi-srgb.jpg")  # EXIF with a thumbnail
    data = photo.read_bytes()
    stripped = without_exif(data)
    assert len(stripped) < len(data)
    full = pyvips.Image.jpegload_buffer(data, shrink=2)
    lean = pyvips.Image.jpegload_buffer(stripped, shrink=2)
    assert "exif-data" in full.get_fields() and "exif-data" not in lean.get_fields()
    assert "icc-profile-data" in lean.get_fields()
    assert (full - lean).abs().max() == 0
