"""render/vips/load.py: the direct JPEG path (shrink on load, no EXIF parse) gives what
decoding the whole file gives."""

from __future__ import annotations

from pathlib import Path

import pytest
import pyvips

import isrender
from isrender.render.jpeg_markers import without_exif
from isrender.render.vips import load
from tests.conftest import shared_path
from tests.render_fixtures import gradient

DPI = 300 / 25.4  # pixels per mm, as libvips keeps resolutions


@pytest.mark.parametrize("modifiers", ["wid=300&fmt=jpeg&qlt=80", "wid=150&fmt=png", "wid=390"])
def test_reading_the_file_without_its_exif_changes_no_byte(
    modifiers: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    photo = shared_path("corpus", "jpeg", "giunchedi-srgb.jpg")  # 800x533, EXIF and ICC
    lean = isrender.render(photo, modifiers).data
    monkeypatch.setattr(load, "EXIF_SKIP_MAX_BYTES", 0)  # every file is too big: libvips reads it
    assert isrender.render(photo, modifiers).data == lean


def test_the_resolution_only_exif_gave_is_kept(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    source = tmp_path / "300dpi.jpg"
    gradient(1200, 800).copy(xres=DPI, yres=DPI).jpegsave(
        str(source), keep=pyvips.enums.ForeignKeep.ALL
    )  # libvips writes no JFIF segment: the resolution is in the EXIF alone
    stripped = pyvips.Image.jpegload_buffer(without_exif(source.read_bytes()))
    assert stripped.xres != pytest.approx(DPI)  # so the test bites: EXIF gone, 300 dpi gone
    lean = isrender.render(source, "wid=300&fmt=png").data  # pngsave writes the resolution
    assert pyvips.Image.new_from_buffer(lean, "").xres == pytest.approx(DPI, rel=1e-3)
    monkeypatch.setattr(load, "EXIF_SKIP_MAX_BYTES", 0)
    assert isrender.render(source, "wid=300&fmt=png").data == lean
