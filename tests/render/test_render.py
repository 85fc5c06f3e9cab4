"""The renderer against real pixels: spec §8 examples on the §0.5 fixture images."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

pyvips = pytest.importorskip("pyvips")

import isrender  # noqa: E402
from isrender.macros import MacroRegistry  # noqa: E402
from isrender.render.attributes import CatalogAttributes  # noqa: E402
from tests.conftest import shared_path  # noqa: E402
from tests.render_fixtures import image_of, write_fixtures  # noqa: E402
from tests.tables.rendering import MACRO_ROWS, ROWS, describe  # noqa: E402

FIXTURE = CatalogAttributes.spec_fixture()
MACROS = Path(__file__).parents[1] / "fixtures" / "spec-macros.tsv"


@pytest.fixture(scope="session")
def objects(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    return write_fixtures(tmp_path_factory.mktemp("objects"))


def check(result: Any, expected: Any, checks: Any) -> None:
    media_type, width, height, bands = expected
    image = image_of(result.data)
    assert result.media_type == media_type
    assert (image.width, image.height) == (width, height) == (result.width, result.height)
    assert image.bands == bands
    for x, y, colour, tolerance in checks:
        got = image.getpoint(x, y)
        assert all(abs(g - c) <= tolerance for g, c in zip(got, colour, strict=False)), (
            f"pixel ({x},{y}) is {got}, expected {colour} +-{tolerance}"
        )


@pytest.mark.parametrize(
    ("eid", "obj", "modifiers", "expected", "checks"), ROWS, ids=[describe(r) for r in ROWS]
)
def test_render_examples(
    objects: dict[str, Path], eid: str, obj: str, modifiers: str, expected: Any, checks: Any
) -> None:
    attributes = FIXTURE
    if eid == "E-65":
        attributes = CatalogAttributes.spec_fixture()
    if isinstance(expected, tuple):
        check(isrender.render(objects[obj], modifiers, attributes=attributes), expected, checks)
    else:
        with pytest.raises(expected):
            isrender.render(objects[obj], modifiers, attributes=attributes)


@pytest.mark.parametrize(
    ("eid", "modifiers", "expected", "checks"), MACRO_ROWS, ids=[r[0] for r in MACRO_ROWS]
)
def test_render_macro_examples(
    objects: dict[str, Path], eid: str, modifiers: str, expected: Any, checks: Any
) -> None:
    macros = MacroRegistry.from_files(MACROS)
    check(
        isrender.render(objects["photo"], modifiers, macros, attributes=FIXTURE), expected, checks
    )


def test_e65_resolution_of_the_catalog(objects: dict[str, Path]) -> None:
    """res= divides by the object's resolution: 100 / 200 halves the photo."""
    attributes = CatalogAttributes(resolution=200.0, default_pix=(400, 400))
    result = isrender.render(objects["photo"], "res=100&scl=1", attributes=attributes)
    assert (result.width, result.height) == (1000, 750)


def test_e91_full_chroma_and_e90_progressive(objects: dict[str, Path]) -> None:
    full = image_of(isrender.render(objects["photo"], "qlt=85,1&wid=240", attributes=FIXTURE).data)
    assert full.get("jpeg-chroma-subsample") == "4:4:4"
    normal = image_of(isrender.render(objects["photo"], "qlt=85&wid=240", attributes=FIXTURE).data)
    assert normal.get("jpeg-chroma-subsample") == "4:2:0"
    progressive = image_of(isrender.render(objects["photo"], "fmt=pjpeg&wid=300").data)
    assert progressive.get("interlaced") == 1


def test_e94_icc_embed_and_e101_print_resolution(objects: dict[str, Path]) -> None:
    embedded = image_of(isrender.render(objects["photo"], "icc=sRGB&iccEmbed=1&wid=100").data)
    assert embedded.get_typeof("icc-profile-data") != 0
    plain = image_of(isrender.render(objects["photo"], "wid=100").data)
    assert plain.get_typeof("icc-profile-data") == 0
    dpi = image_of(isrender.render(objects["photo"], "printRes=300&wid=200").data)
    assert abs(dpi.xres * 25.4 - 300) < 1


def test_e123_desaturated_channels_are_equal(objects: dict[str, Path]) -> None:
    data = isrender.render(objects["photo"], "op_saturation=-100&wid=200&fmt=png").data
    image = image_of(data)
    for x, y in ((10, 10), (150, 100), (190, 140)):
        r, g, b = image.getpoint(x, y)
        assert max(r, g, b) - min(r, g, b) <= 2


def test_e125_filter_order_in_the_string_does_not_matter(objects: dict[str, Path]) -> None:
    one = isrender.render(objects["photo"], "op_brightness=10&op_blur=2&wid=200&fmt=png").data
    two = isrender.render(objects["photo"], "op_blur=2&op_brightness=10&wid=200&fmt=png").data
    assert one == two


def test_e126_last_sharpen_wins(objects: dict[str, Path]) -> None:
    off = isrender.render(objects["photo"], "op_sharpen=1&op_sharpen=0&wid=200&fmt=png").data
    assert off == isrender.render(objects["photo"], "wid=200&fmt=png").data


@pytest.mark.parametrize(
    "modifiers",
    [
        "op_brightness=30",
        "op_contrast=40",
        "op_colorbalance=20,-20,0",
        "op_hue=90",
        "op_invert=1",
        "op_colorize=240,122,17,norm,50",
        "op_noise=20,uniform",
        "op_noise=20,gaussian,1",
        "op_blur=4",
        "op_sharpen=1",
        "op_usm=2,3,0,1",
    ],
)
def test_every_filter_changes_the_picture(modifiers: str) -> None:
    """On a real photo (a linear gradient is, rightly, left alone by blur and sharpening)."""
    photo = shared_path("corpus", "jpeg", "giunchedi-srgb.jpg")
    plain = image_of(isrender.render(photo, "wid=200&fmt=png").data)
    changed = image_of(isrender.render(photo, f"{modifiers}&wid=200&fmt=png").data)
    assert (plain.width, plain.height) == (changed.width, changed.height)
    assert (plain - changed).abs().avg() > 0.1, modifiers


def test_filters_keep_alpha(objects: dict[str, Path]) -> None:
    data = isrender.render(objects["logo"], "op_brightness=50&op_blur=2&fmt=png-alpha").data
    image = image_of(data)
    assert image.bands == 4 and image.getpoint(5, 5)[3] == 0 and image.getpoint(200, 100)[3] == 255


def test_jpeg_size_caps_the_file(objects: dict[str, Path]) -> None:
    data = isrender.render(objects["photo"], "wid=400&qlt=95&jpegSize=4&op_noise=5").data
    assert len(data) <= 4 * 1024
    with pytest.raises(isrender.IsRenderError, match="jpegSize=1 cannot be met"):
        isrender.render(objects["photo"], "scl=1&op_noise=50&jpegSize=1")


@pytest.mark.parametrize(
    ("modifiers", "message"),
    [
        ("fmt=jpeg2000", "not supported"),
        ("fmt=heic", "HEVC encoder"),
        ("layer=1&src=ir{photo}", "Image Rendering"),  # nested is{} renders; ir{} does not
        ("req=props", "req=props"),
        ("fmt=gif&quantize=mac", "Mac"),
        ("icc=AdobeRGB", "no ICC profile"),
    ],
)
def test_unrendered_features_are_refused_clearly(
    objects: dict[str, Path], modifiers: str, message: str
) -> None:
    with pytest.raises(isrender.errors.UnsupportedFeatureError, match=message):
        isrender.render(objects["photo"], f"{modifiers}&wid=50")


def test_render_from_bytes_and_missing_source(objects: dict[str, Path]) -> None:
    result = isrender.render(objects["small"].read_bytes(), "wid=50&fmt=png")
    assert (result.width, result.height, result.extension) == (50, 40, ".png")
    with pytest.raises(isrender.errors.SourceNotFoundError, match=r"'nope\.jpg' not found"):
        isrender.render(objects["small"].parent / "nope.jpg", "wid=50")


def test_xmp_is_copied_only_when_asked() -> None:
    source = shared_path("corpus", "jpeg", "giunchedi-cmyk-noicc-orient6.jpg")  # carries XMP
    with_xmp = image_of(isrender.render(source, "wid=100&xmpEmbed=1").data)
    without = image_of(isrender.render(source, "wid=100").data)
    assert with_xmp.get_typeof("xmp-data") != 0 and without.get_typeof("xmp-data") == 0
    assert without.get_typeof("exif-data") == 0  # camera data never leaks by default


@pytest.mark.parametrize(
    "modifiers", ["wid=500&fmt=jpeg&printRes=200", "wid=300&fmt=jpeg&printRes=200"]
)
def test_print_resolution_writes_no_exif_of_the_sources(modifiers: str) -> None:
    """printRes writes an EXIF block for the density; the source's EXIF thumbnail (the whole
    original, crops and all) stays out of it, by thumbnail (wid=500) or the direct path."""
    source = shared_path("corpus", "jpeg", "giunchedi-srgb.jpg")  # EXIF with a thumbnail
    assert image_of(source.read_bytes()).get_typeof("jpeg-thumbnail-data") != 0
    reply = image_of(isrender.render(source, modifiers).data)
    assert abs(reply.xres * 25.4 - 200) < 1
    assert reply.get_typeof("jpeg-thumbnail-data") == 0
    camera = ("exif-ifd0-Make", "exif-ifd0-Model", "exif-ifd2-BodySerialNumber")
    assert not [name for name in camera if reply.get_typeof(name)]


def test_plan_describes_every_step_without_pixels(objects: dict[str, Path]) -> None:
    from isrender.render.plan import plan
    from isrender.render.vips.renderer import read_source_info

    request = isrender.bind(isrender.parse("crop=0,0,1000,1000&rotate=30&op_usm=1,1,6,0&wid=100"))
    steps = [s.name for s in plan(request, read_source_info(objects["photo"])).steps]
    assert steps == ["load", "crop", "resize", "rotate", "place", "unsharp", "flatten", "encode"]
