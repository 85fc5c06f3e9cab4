"""render/vips/load.py: the direct JPEG path (shrink on load, no EXIF parse) gives what
decoding the whole file gives."""

from __future__ import annotations

from pathlib import Path

import pytest
import pyvips

import isrender
from isrender.render.jpeg_markers import without_exif
from isrender.render.vips import jpeg_turbo, load
from tests.conftest import shared_path
from tests.render_fixtures import both_ways, four_four_one, gradient, textured

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


@pytest.mark.parametrize("unit", ["cm", "in"])
def test_the_resolution_unit_exif_gave_is_kept(
    unit: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    source = tmp_path / f"per-{unit}.jpg"
    image = gradient(1200, 800).copy(xres=DPI, yres=DPI)
    image.set_type(pyvips.GValue.gstr_type, "resolution-unit", unit)
    image.jpegsave(str(source), keep=pyvips.enums.ForeignKeep.ALL)
    modifiers = "wid=300&fmt=jpeg&printRes=200"  # the reply's EXIF carries the resolution
    lean = isrender.render(source, modifiers).data
    monkeypatch.setattr(load, "EXIF_SKIP_MAX_BYTES", 0)
    assert isrender.render(source, modifiers).data == lean


def test_a_missing_original_is_not_found_not_an_internal_error(tmp_path: Path) -> None:
    from isrender.errors import SourceNotFoundError
    from isrender.language import parse
    from isrender.render.vips.renderer import plan_render
    from isrender.request import bind

    source = tmp_path / "gone.jpg"
    gradient(1200, 800).jpegsave(str(source))
    job = plan_render(source, bind(parse("wid=300")))  # planned (a server keeps the plan)
    source.unlink()
    with pytest.raises(SourceNotFoundError):
        job.run()


@pytest.mark.parametrize(
    "modifiers", ["wid=300&fmt=jpeg&qlt=80", "wid=750&fmt=png", "wid=200&hei=200"]
)
def test_a_progressive_file_without_its_unread_scans_changes_no_byte(
    modifiers: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    photo = shared_path("corpus", "jpeg", "photo-6000x4000-progressive.jpg")  # shrinks by 8
    lean = isrender.render(photo, modifiers).data
    monkeypatch.setattr(load, "SCANS_SKIP_MAX_BYTES", 0)  # too big: libvips reads the file
    assert isrender.render(photo, modifiers).data == lean


def test_a_progressive_file_given_as_bytes_renders_as_from_disk(tmp_path: Path) -> None:
    source = tmp_path / "progressive.jpg"
    gradient(2400, 1600).copy(xres=DPI, yres=DPI).jpegsave(str(source), interlace=True)
    from_disk = isrender.render(source, "wid=300&fmt=png").data
    assert isrender.render(source.read_bytes(), "wid=300&fmt=png").data == from_disk
    assert pyvips.Image.new_from_buffer(from_disk, "").xres == pytest.approx(DPI, rel=1e-3)


def test_a_truncated_progressive_file_decodes_as_before(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from isrender.errors import CorruptSourceError

    whole = textured_progressive(tmp_path)
    source = tmp_path / "truncated.jpg"
    source.write_bytes(whole.read_bytes()[: whole.stat().st_size // 2])
    outcomes: list[bytes | str] = []
    for limit in (load.SCANS_SKIP_MAX_BYTES, 0):
        monkeypatch.setattr(load, "SCANS_SKIP_MAX_BYTES", limit)
        try:
            outcomes.append(isrender.render(source, "wid=150&fmt=png").data)
        except CorruptSourceError as error:
            outcomes.append(str(error))
    assert outcomes[0] == outcomes[1]  # libvips, from the file, reports the damage both times


def textured_progressive(tmp_path: Path) -> Path:
    source = tmp_path / "whole.jpg"
    textured(2400, 1600, mean=128).jpegsave(str(source), interlace=True)
    return source


def _thumbnail_only(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(load, "_jpeg_shrink", lambda facts, width, height: 1)


def _progressive_copy(path: Path, tmp_path: Path) -> Path:
    copy = tmp_path / f"progressive-{path.name}"
    pyvips.Image.new_from_file(str(path)).jpegsave(
        str(copy), interlace=True, keep=pyvips.enums.ForeignKeep.ALL
    )  # the EXIF orientation goes with it
    return copy


@pytest.mark.parametrize("progressive", [False, True], ids=["baseline", "progressive"])
@pytest.mark.parametrize("modifiers", ["wid=200&fmt=png", "wid=360&fmt=png", "hei=150&fmt=png"])
@pytest.mark.parametrize("orientation", range(1, 9))
def test_an_exif_orientation_is_applied_on_the_direct_path_as_thumbnail_does(
    orientation: int, modifiers: str, progressive: bool, tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:  # fmt: skip
    """1800x1200 as displayed: 1/8, 1/4 and 1/8 decodes, turned upright after the resize;
    the same picture as libvips' thumbnail gives. The two differ by 1.7-1.8 of 255 on
    average at orientation 1 (thumbnail decodes at 1/4 where the direct path decodes at 1/8);
    a wrong turn or flip of this photo differs by 70-85."""
    source = shared_path("corpus", "exif", f"Landscape_{orientation}.jpg")
    if progressive:
        source = _progressive_copy(source, tmp_path)
    direct = pyvips.Image.new_from_buffer(isrender.render(source, modifiers).data, "")
    _thumbnail_only(monkeypatch)
    expected = pyvips.Image.new_from_buffer(isrender.render(source, modifiers).data, "")
    assert (direct.width, direct.height) == (expected.width, expected.height)
    assert (direct.width, direct.height) in ((200, 133), (360, 240), (225, 150))
    difference = (direct.cast("float") - expected.cast("float")).abs().avg()
    assert difference < 2.5, f"mean difference {difference:.2f}"


def _libvips_decodes(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(jpeg_turbo, "decode", lambda data, shrink, bands: None)


def _plain_grey(tmp_path: Path) -> Path:
    source = tmp_path / "grey.jpg"
    gradient(1200, 800).colourspace("b-w").jpegsave(str(source))
    return source


TURBO_ROWS = [
    (("jpeg", "giunchedi-srgb.jpg"), "wid=300&fmt=jpeg&qlt=80"),  # at 1/2
    (("jpeg", "giunchedi-srgb.jpg"), "wid=300&fmt=jpeg&iccEmbed=1&xmpEmbed=1"),
    (("jpeg", "giunchedi-srgb.jpg"), "wid=300&fmt=jpeg&printRes=200"),
    (("exif", "Landscape_6.jpg"), "wid=300&fmt=png"),  # stored sideways, at 1/4
    (("exif", "Landscape_3.jpg"), "wid=800&fmt=png"),  # upside down, at 1/2
    (("jpeg", "photo-6000x4000-progressive.jpg"), "wid=300&fmt=jpeg"),  # 1/8, AC scans out
    (None, "wid=300&fmt=png"),  # one band
]


@pytest.mark.parametrize("source, modifiers", TURBO_ROWS)
def test_libjpeg_turbo_decoding_changes_no_byte(
    source: tuple[str, str] | None, modifiers: str, tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:  # fmt: skip
    path = _plain_grey(tmp_path) if source is None else shared_path("corpus", *source)
    decoded, turbo, libvips = both_ways(monkeypatch, jpeg_turbo, "decode", path, modifiers)
    assert decoded and decoded[0] is not None, "libjpeg-turbo did not decode it"
    assert libvips == turbo


def test_an_embedded_profile_survives_the_turbo_decode() -> None:
    photo = shared_path("corpus", "jpeg", "giunchedi-srgb.jpg")
    reply = isrender.render(photo, "wid=300&fmt=jpeg&iccEmbed=1&xmpEmbed=1").data
    image = pyvips.Image.new_from_buffer(reply, "")
    assert image.get_typeof("icc-profile-data") and image.get_typeof("xmp-data")


def test_a_nested_result_resized_again_is_as_libvips_decoded_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The decoded image is marked sequential as libvips' load marks it: the outer resize of
    a nested request's result computes otherwise (1-2 levels apart in places without)."""
    for folder, name in (("jpeg", "giunchedi-srgb.jpg"), ("exif", "Landscape_6.jpg")):
        (tmp_path / name).symlink_to(shared_path("corpus", folder, name))
    modifiers = "src=is{?src=Landscape_6.jpg&wid=500&fmt=png}&wid=480&fmt=png"
    turbo = isrender.render(tmp_path / "giunchedi-srgb.jpg", modifiers).data
    _libvips_decodes(monkeypatch)
    assert isrender.render(tmp_path / "giunchedi-srgb.jpg", modifiers).data == turbo


def test_a_sampling_simplejpeg_cannot_name_is_left_to_libvips(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """4:4:1 (luma sampled 1x4; a transposed 4:1:1 file): simplejpeg's header reader raises
    KeyError for it, which must not escape the render."""
    data = four_four_one()
    turbo = isrender.render(data, "wid=100&fmt=png").data
    _libvips_decodes(monkeypatch)
    assert isrender.render(data, "wid=100&fmt=png").data == turbo


def test_a_truncated_small_file_renders_as_libvips_decides(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from isrender.errors import CorruptSourceError

    whole = textured_progressive(tmp_path).read_bytes()
    baseline = pyvips.Image.new_from_buffer(whole, "").jpegsave_buffer(Q=90)
    source = tmp_path / "cut.jpg"
    source.write_bytes(baseline[: len(baseline) // 2])
    outcomes: list[bytes | str] = []
    for turbo in (True, False):
        if not turbo:
            _libvips_decodes(monkeypatch)
        try:
            outcomes.append(isrender.render(source, "wid=300&fmt=png").data)
        except CorruptSourceError as error:
            outcomes.append(str(error))
    assert outcomes[0] == outcomes[1]


def test_the_decode_held_in_memory_is_counted(monkeypatch: pytest.MonkeyPatch) -> None:
    from isrender.language import parse
    from isrender.render.vips.renderer import plan_render
    from isrender.request import bind

    photo = shared_path("corpus", "jpeg", "giunchedi-srgb.jpg")  # decoded at 1/2: 400x267
    counted = plan_render(photo, bind(parse("wid=300"))).memory_bytes
    monkeypatch.setattr(jpeg_turbo, "MAX_PIXELS", 0)  # libvips streams it instead
    assert counted - plan_render(photo, bind(parse("wid=300"))).memory_bytes == 400 * 267 * 3
