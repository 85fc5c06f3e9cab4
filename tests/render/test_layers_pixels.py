"""Layered requests rendered end to end (spec §6.0 B, §6.6, §8.12): E-181 and its kin, the
frame template's rows E-176/E-177 written out as layers, blend modes and opacity through the
whole pipeline, shrink-on-load per layer, the layer tree in the plan, and clear errors."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import pyvips

from isrender.errors import (
    SourceNotFoundError,
    UnsupportedFeatureError,
    ViewGeometryError,
)
from isrender.render.attributes import CatalogAttributes
from isrender.render.steps import Composite, Load
from isrender.render.vips.renderer import RenderResult
from isrender.service import ImageService, SourceRecord
from tests import render_fixtures

Pixel = tuple[int, ...]
TOLERANCE = 1  # levels of 255: 8-bit rounding in the blend


@pytest.fixture(scope="module")
def objects(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """The §0.5 fixture images (photo, tall, small, logo, grayimg) as PNG files."""
    return render_fixtures.write_fixtures(tmp_path_factory.mktemp("layers"))


@pytest.fixture(scope="module")
def service(objects: dict[str, Path]) -> ImageService:
    """An image service with the §0.5 fixture attributes (DefaultPix 400,400, bicub) whose
    layer sources are the fixture objects, by name (as a catalog resolves src= to an asset
    of the same company)."""
    return ImageService(CatalogAttributes.spec_fixture(), resolve=objects.get)


def render(service: ImageService, modifiers: str, object_path: Path | None = None) -> RenderResult:
    record = SourceRecord(object_path.stem if object_path else "", object_path, "")
    return service.render(service.prepare(record, modifiers, strict=True))


def pixels(result: RenderResult) -> pyvips.Image:
    return pyvips.Image.new_from_buffer(result.data, "")


def at(image: pyvips.Image, x: int, y: int) -> Pixel:
    return tuple(int(v) for v in image.getpoint(x, y))


def close(got: Pixel, expected: Pixel, tolerance: int = TOLERANCE) -> bool:
    return len(got) == len(expected) and all(
        abs(g - e) <= tolerance for g, e in zip(got, expected, strict=True)
    )


E181 = "layer=0&size=400,400&color=ffffff&layer=1&src=logo&pos=10,10&opac=50&fmt=png"
HALF_BLUE_ON_WHITE = (127, 127, 255)  # 255 x (1 - 128/255) in red and green
WHITE = (255, 255, 255)


def test_e181_logo_at_10_110_half_opaque_over_white(service: ImageService) -> None:
    result = render(service, E181)
    assert (result.media_type, result.width, result.height) == ("image/png", 400, 400)
    image = pixels(result)
    # the logo's 400x200 rectangle starts at (10,110); its opaque 200x100 block sits at
    # (100,50) inside it, so on the canvas at x 110..309, y 160..259
    for x, y in [(110, 160), (309, 259), (200, 200), (110, 259), (309, 160)]:
        assert close(at(image, x, y), HALF_BLUE_ON_WHITE), (x, y)
    for x, y in [(109, 200), (310, 200), (200, 159), (200, 260), (10, 110), (399, 300)]:
        assert at(image, x, y) == WHITE, (x, y)


def test_e181_kin_layer_0_clips_the_right_10_columns(service: ImageService) -> None:
    # the same placement with an opaque 400x200 layer: x 10..409 is cut at the canvas' edge
    result = render(service, E181.replace("src=logo", "color=0000ff&size=400,200"))
    image = pixels(result)
    assert (image.width, image.height) == (400, 400)
    for x, y in [(10, 110), (399, 110), (399, 309), (10, 309)]:
        assert close(at(image, x, y), HALF_BLUE_ON_WHITE), (x, y)
    for x, y in [(9, 200), (200, 109), (200, 310)]:
        assert at(image, x, y) == WHITE, (x, y)


@pytest.mark.parametrize(
    ("object_name", "inside", "outside"),
    [
        # E-176: photo 2000x1500 fitted into 400x400 on a 500x500 black canvas, the 400x400
        # view (DefaultPix) scales by 0.8: the photo fills (40,80)-(359,319), black elsewhere
        ("photo", (40, 80, 359, 319), [(39, 200), (360, 200), (200, 79), (200, 320)]),
        # E-177 ($object=tall): tall occupies 160x320 at (120,40)
        ("tall", (120, 40, 279, 359), [(119, 200), (280, 200), (200, 39), (200, 360)]),
    ],
    ids=["E-176", "E-177"],
)
def test_frame_template_rows_as_layers(
    service: ImageService,
    object_name: str,
    inside: tuple[int, int, int, int],
    outside: list[tuple[int, int]],
) -> None:
    modifiers = f"layer=0&size=500,500&color=000000&layer=1&src={object_name}&size=400,400&fmt=png"
    image = pixels(render(service, modifiers))
    assert (image.width, image.height) == (400, 400)
    left, top, right, bottom = inside
    # the fixture gradients: red grows with x, green with y, blue is 64
    top_left, bottom_right = at(image, left, top), at(image, right, bottom)
    assert top_left[2] == 64 and top_left[0] < 8 and top_left[1] < 8
    assert bottom_right[2] == 64 and bottom_right[0] > 247 and bottom_right[1] > 247
    for x, y in outside:
        assert at(image, x, y) == (0, 0, 0), (x, y)


def test_each_layer_reads_its_source_shrunk_on_load(service: ImageService) -> None:
    # E-176's photo layer is 400x300 on the canvas, 320x240 in the view: the layer's own load
    # reads the 2000x1500 photo at twice that (0.32: bicub, the fixture's resMode, does the
    # last reduction), not at full size
    result = render(service, "layer=0&size=500,500&color=000000&layer=1&src=photo&size=400,400")
    assert result.plan is not None
    (layer,) = result.plan.layers
    load = layer.steps[0]
    assert isinstance(load, Load)
    assert (load.width, load.height, load.scale) == (640, 480, pytest.approx(0.32))


def test_the_plan_shows_the_layer_tree(service: ImageService, objects: dict[str, Path]) -> None:
    result = render(
        service,
        "wid=500&layer=1&src=logo&pos=-10,0&layer=2,badge&color=ff0000&size=40,40&blendMode=mult",
        objects["photo"],
    )
    assert result.plan is not None
    text = result.plan.describe()
    assert "composite(scale=0.25)" in text
    assert "layer 1: image 400x200 -> 400x200 at (790,650)" in text
    assert "layer 2 (badge): solid 40x40 -> 40x40 at (980,730), blend mult" in text
    assert "solid(width=10, height=10, color=rgb(255,0,0))" in text
    composite = next(s for s in result.plan.steps if isinstance(s, Composite))
    assert [layer.placement.number for layer in composite.layers] == [1, 2]


BLEND_ROWS = [
    # a 50 % red square over 50 % gray (128): the reference formula of each mode
    ("norm", (192, 64, 64)),
    ("mult", (128, 64, 64)),
    ("screen", (192, 128, 128)),
    ("darken", (128, 64, 64)),
    ("lighten", (192, 128, 128)),
]


@pytest.mark.parametrize(("mode", "expected"), BLEND_ROWS)
def test_blend_modes_through_the_pipeline(
    service: ImageService, mode: str, expected: Pixel
) -> None:
    modifiers = (
        "layer=0&size=100,100&color=50&layer=1&color=ff0000&size=50,50&opac=50"
        f"&blendMode={mode}&fmt=png"
    )
    image = pixels(render(service, modifiers))
    assert close(at(image, 50, 50), expected), at(image, 50, 50)
    assert at(image, 10, 10) == (128, 128, 128)


def test_dissolve_is_reproducible_and_shows_about_the_opacity(service: ImageService) -> None:
    modifiers = (
        "layer=0&size=200,200&color=000000&layer=1&color=ffffff&size=200,200&opac=30"
        "&blendMode=dissolve&fmt=png"
    )
    first, again = render(service, modifiers), render(service, modifiers)
    assert first.data == again.data
    image = pixels(first)
    assert set(image[0].getpoint(x, 7)[0] for x in range(200)) <= {0.0, 255.0}
    assert image[0].avg() / 255 == pytest.approx(0.3, abs=0.02)  # 40000 pixels


def test_opacity_and_fill_opacity_multiply(service: ImageService) -> None:
    # opac=50,50: the content at 25 %; a white layer over black gives 255 x 64/255 = 64
    modifiers = "layer=0&size=20,20&color=000000&layer=1&color=ffffff&size=20,20&opac=50,50&fmt=png"
    assert close(at(pixels(render(service, modifiers)), 5, 5), (64, 64, 64))


@pytest.mark.parametrize(
    ("modifiers", "expected"),
    [
        # color= fills the logo's transparent margins opaque red, not faded by opac=50; the blue
        # block (at 50 %) sits on that red: 255 x (1 - 128/255) = 127 red, 128 blue
        ("layer=1&src=logo&color=ff0000&opac=50",
         {(10, 110): (255, 0, 0), (200, 200): (127, 0, 128), (10, 90): WHITE}),
        # a solid colour layer's foreground fades with opac=, its bgColor= border does not:
        # 10x10 red at 50 % with a 2-pixel green border: 14x14, top-left (193,193)
        ("layer=1&color=ff0000&size=10,10&extend=2,2,2,2&bgColor=00ff00&opac=50",
         {(193, 193): (0, 255, 0), (206, 206): (0, 255, 0), (200, 200): (128, 127, 0),
          (192, 200): WHITE}),
        # rotate=90 around the logo's top-left corner (anchor=0,0): the box is 200x400 with
        # its top-right corner at the origin (200,200); the block lands at x 50..149, y 300..
        ("layer=1&src=logo&rotate=90&anchor=0,0",
         {(50, 300): (0, 0, 255), (149, 399): (0, 0, 255), (100, 299): WHITE,
          (150, 350): WHITE, (49, 350): WHITE}),
    ],
    ids=["color fill", "solid with border", "rotated around its anchor"],
)  # fmt: skip
def test_layer_steps_in_pixels(
    service: ImageService, modifiers: str, expected: dict[tuple[int, int], Pixel]
) -> None:
    image = pixels(render(service, f"layer=0&size=400,400&color=ffffff&{modifiers}&fmt=png"))
    for (x, y), colour in expected.items():
        assert close(at(image, x, y), colour), ((x, y), at(image, x, y), colour)


def test_hidden_layers_and_z_order(service: ImageService) -> None:
    modifiers = (
        "layer=0&size=30,30&color=ffffff&layer=3&color=0000ff&size=10,10"
        "&layer=2&color=ff0000&size=30,30&layer=4&color=00ff00&size=30,30&hide=1&fmt=png"
    )
    image = pixels(render(service, modifiers))
    assert at(image, 15, 15) == (0, 0, 255)  # layer 3 above layer 2, whatever the order written
    assert at(image, 2, 2) == (255, 0, 0)  # layer 4 is hidden


def test_layers_follow_a_scaled_view(service: ImageService, objects: dict[str, Path]) -> None:
    # the composite is scaled as a whole: a 100x100 red square centred on the 2000x1500 photo
    # is 20x20 at the centre of a 400x300 view
    modifiers = "wid=400&layer=1&color=ff0000&size=100,100&fmt=png"
    image = pixels(render(service, modifiers, objects["photo"]))
    assert (image.width, image.height) == (400, 300)
    assert at(image, 190, 140) == (255, 0, 0) and at(image, 209, 159) == (255, 0, 0)
    assert at(image, 189, 150) != (255, 0, 0) and at(image, 210, 150) != (255, 0, 0)


@pytest.mark.parametrize(
    ("modifiers", "error", "message"),
    [
        ("layer=0&size=10,10&color=ffffff&layer=1&src=missing", SourceNotFoundError,
         "layer 1: source 'missing' not found"),
        ("layer=0&size=10,10&color=ffffff&layer=1&src=../logo", SourceNotFoundError, "'..'"),
        ("layer=0&size=10,10&color=ffffff&layer=1&src=ir{logo}", UnsupportedFeatureError,
         "an embedded Image Rendering request"),
        ("layer=0&size=10,10&color=ffffff&layer=1&color=ff0000", ViewGeometryError,
         "solid-colour layer"),
        ("wid=10&layer=1&src=logo", SourceNotFoundError, "names no source image"),
    ],
)  # fmt: skip
def test_layer_errors_are_clear(
    service: ImageService, modifiers: str, error: type[Exception], message: str
) -> None:
    with pytest.raises(error, match=message.replace(".", r"\.").replace("{", r"\{")):
        render(service, modifiers)


def test_a_text_layer_renders_among_the_layers(service: ImageService) -> None:
    modifiers = "layer=0&size=80,40&color=ffffff&layer=1&text=hello&layer=2&color=ff0000&size=8,8"
    result = render(service, modifiers + "&pos=30,0&fmt=png")
    assert result.plan is not None and result.plan.ignored == ()
    image = pixels(result)
    assert min(at(image, x, 20)[0] for x in range(20, 60)) < 128  # the text's ink, centred
    assert at(image, 70, 20) == (255, 0, 0)  # layer 2 is drawn above it


STILL_REFUSED = [
    # (modifiers on the photo, the error, whether lenient mode ignores it with this note)
    ("wid=100&text=hello", "text= is not rendered yet", "text: not rendered yet"),
    ("wid=100&layer=1&textPs=hi&textPath=M0,0L10,0", "textPath= .text on or into paths", None),
    ("wid=100&layer=1&text=hi&textAngle=30", "textAngle= other than 0", None),
]  # fmt: skip


@pytest.mark.parametrize(("modifiers", "error", "note"), STILL_REFUSED,
                         ids=[r[0] for r in STILL_REFUSED])  # fmt: skip
def test_what_text_layers_still_refuse(
    service: ImageService, objects: dict[str, Path], modifiers: str, error: str, note: str | None
) -> None:
    """Text on layer 0 (the photo itself) and text on paths or at an angle are not drawn:
    refused strictly; leniently layer 0's text is ignored with a note, a path still refused
    (what it would draw cannot be guessed)."""
    with pytest.raises(UnsupportedFeatureError, match=error):
        render(service, modifiers, objects["photo"])
    record = SourceRecord("photo", objects["photo"], "")
    lenient = service.prepare(record, modifiers, strict=False)
    if note is None:
        with pytest.raises(UnsupportedFeatureError, match=error):
            service.render(lenient)
        return
    result = service.render(lenient)
    assert result.plan is not None and note in result.plan.ignored
    assert (result.width, result.height) == (100, 75)


@pytest.fixture
def in_folder(objects: dict[str, Path], monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    monkeypatch.chdir(objects["logo"].parent)
    yield objects["logo"].parent


def test_outside_a_catalog_layer_sources_are_files_beside_the_source(in_folder: Path) -> None:
    import isrender

    result = isrender.render(in_folder / "photo.png", "wid=200&layer=1&src=logo&fmt=png")
    image = pixels(result)
    assert (image.width, image.height) == (200, 150)
    assert at(image, 100, 75) == (0, 0, 255)  # the logo's opaque block, centred
    e181 = isrender.render(None, E181)  # no object: layer 0 is a solid colour
    assert close(at(pixels(e181), 200, 200), HALF_BLUE_ON_WHITE)


def test_is_image_renders_a_logo_layer_from_the_company_catalog(served: str) -> None:
    import httpx

    reply = httpx.get(f"{served}/photo?wid=400&layer=1&src=logo&opac=50&fmt=png")
    assert reply.status_code == 200, reply.text
    image = pyvips.Image.new_from_buffer(reply.content, "")
    assert (image.width, image.height) == (400, 300)
    # the logo's blue block (200x100 at the photo's centre) is 40x20 at the view's centre,
    # at 50 % over the gradient's (128,128,64): (64,64,160); around it the photo is untouched
    assert close(at(image, 200, 150), (64, 64, 160), tolerance=3)
    assert at(image, 100, 150)[2] == 64 and at(image, 200, 100)[2] == 64
    missing = httpx.get(f"{served}/photo?layer=1&src=nothere")
    assert missing.status_code == 404
    assert "layer 1: source 'nothere' not found" in missing.text


def test_the_etag_follows_the_layer_sources(
    tmp_path: Path, objects: dict[str, Path], database_url: str
) -> None:
    # replacing the logo asset changes the ETag (and result-cache key) of a composite using it
    from isrender.catalog import Catalog
    from isrender.catalog.images import CatalogImages
    from isrender.config import Settings

    catalog = Catalog(Settings(data_dir=tmp_path / "data", database_url=database_url))
    acme = catalog.add_company("Etag").id
    catalog.upload(acme, [objects["photo"], objects["logo"]], "products")
    images = CatalogImages(catalog, poll_interval=0)
    composite, plain = "wid=100&layer=1&src=logo", "wid=100"
    before = images.prepare("Etag", "photo", composite).etag
    assert before != images.prepare("Etag", "photo", plain).etag
    unchanged = images.prepare("Etag", "photo", plain).etag
    other_logo = tmp_path / "logo.png"
    render_fixtures.gradient(40, 20).write_to_file(str(other_logo))
    catalog.upload(acme, [other_logo], "products")
    after = CatalogImages(catalog, poll_interval=0).prepare("Etag", "photo", composite).etag
    assert after != before
    assert CatalogImages(catalog, poll_interval=0).prepare("Etag", "photo", plain).etag == unchanged
