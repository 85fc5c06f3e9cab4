"""Templates rendered (spec §2.3, §2.4, §3.5, §3.6, §8.11): with ``template=`` the path object
is not layer 0; the template body draws layer 0 and places the object with ``src=$object$``.
E-176/E-177 and the spec's other template examples as pixels, through ImageService with a
template lookup, then through the catalog and a real ``/is/image`` server."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import pyvips

from isrender.commands import lookup
from isrender.errors import SourceNotFoundError, UnsupportedFeatureError
from isrender.macros.templates import Template
from isrender.render.attributes import CatalogAttributes
from isrender.render.steps import Composite, SolidColour
from isrender.render.vips.renderer import RenderResult
from isrender.service import ImageService, SourceRecord
from tests import render_fixtures

FRAME = "layer=0&size=500,500&color=000000&layer=1&src=$object$&size=400,400"
TEMPLATES = {
    "frame": FRAME,
    # Example A (§2.3, D-18): the body defines a default and uses it; the request overrides
    "tinted": "$c=ff0000&layer=0&size=100,100&color=$c$&layer=1&src=$object$&size=50,50",
    # Example B (D-37): size= fits the layer up as well as down
    "wide": "layer=0&size=1000,500&color=ffffff&layer=1&src=$object$&size=800,0&pos=0,0",
    "no_canvas": "layer=1&src=$object$&size=40,40",
}
Box = tuple[int, int, int, int]  # left, top, right, bottom (inclusive)


def stored(ref: str) -> Template | None:
    """The lookup a catalog gives ImageService.prepare: ``cat/frame`` (rootId/objId) too."""
    name = ref.removeprefix("cat/")
    return Template(name, TEMPLATES[name]) if name in TEMPLATES else None


@pytest.fixture(scope="module")
def objects(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    return render_fixtures.write_fixtures(tmp_path_factory.mktemp("templates"))


@pytest.fixture(scope="module")
def service(objects: dict[str, Path]) -> ImageService:
    return ImageService(CatalogAttributes.spec_fixture(), resolve=objects.get)


def render(
    service: ImageService, objects: dict[str, Path], modifiers: str, *, strict: bool = True,
    post_modifier: str = "",
) -> RenderResult:  # fmt: skip
    record = SourceRecord("photo", objects["photo"], "", post_modifier=post_modifier)
    prepared = service.prepare(record, modifiers, strict=strict, templates=stored)
    return service.render(prepared)


def image_of(result: RenderResult) -> pyvips.Image:
    return pyvips.Image.new_from_buffer(result.data, "")


def at(image: pyvips.Image, x: int, y: int) -> tuple[int, ...]:
    return tuple(round(v) for v in image.getpoint(x, y))


def near(got: tuple[int, ...], expected: tuple[int, ...], tolerance: int) -> bool:
    return all(abs(g - e) <= tolerance for g, e in zip(got, expected, strict=True))


def assert_object_fills(image: pyvips.Image, box: Box, tolerance: int, margin: int = 0) -> None:
    """The fixture gradient (red grows with x, green with y, blue 64) spans exactly ``box``;
    outside it, the frame's black. ``margin``: pixels either side of the edges not looked at
    (JPEG blurs colour across an edge)."""
    left, top, right, bottom = box
    first, last = at(image, left + margin, top + margin), at(image, right - margin, bottom - margin)
    assert near(first, (0, 0, 64), tolerance + 8), first
    assert near(last, (255, 255, 64), tolerance + 8), last
    middle_y, middle_x = (top + bottom) // 2, (left + right) // 2
    for x, y in ((left - 1 - margin, middle_y), (right + 1 + margin, middle_y),
                 (middle_x, top - 1 - margin), (middle_x, bottom + 1 + margin)):  # fmt: skip
        assert near(at(image, x, y), (0, 0, 0), tolerance), (x, y, at(image, x, y))


E_ROWS = [
    # E-176: photo 2000x1500 fitted in 400x400 on the 500x500 canvas; the view is x0.8
    ("E-176", "template=cat/frame", (40, 80, 359, 319)),
    # E-177: $object=tall; tall occupies 160x320 at (120,40)
    ("E-177", "template=cat/frame&$object=tall", (120, 40, 279, 359)),
]


@pytest.mark.parametrize(("modifiers", "box"), [r[1:] for r in E_ROWS], ids=[r[0] for r in E_ROWS])
def test_the_frame_template_places_the_object(
    service: ImageService, objects: dict[str, Path], modifiers: str, box: Box
) -> None:
    result = render(service, objects, modifiers)
    image = image_of(result)
    assert (result.media_type, image.width, image.height) == ("image/jpeg", 400, 400)
    assert_object_fills(image, box, tolerance=12, margin=3)  # JPEG q80
    png = image_of(render(service, objects, modifiers + "&fmt=png"))
    assert_object_fills(png, box, tolerance=1)


def test_the_object_is_not_layer_0_but_the_template_s_layer_1(
    service: ImageService, objects: dict[str, Path]
) -> None:
    found = render(service, objects, "template=frame").plan
    assert found is not None
    assert isinstance(found.steps[0], SolidColour)  # layer 0: the body's color= and size=
    composite = next(s for s in found.steps if isinstance(s, Composite))
    assert "layer 1: image 2000x1500 -> 400x300 at (50,100)" in composite.describe()
    spec = lookup("template")
    assert spec is not None and spec.renders == Composite.name


EXAMPLES = [
    # Example A / D-18: the request's $c= replaces the body's default, which the body uses
    ("request variables override the body's", "template=tinted&$c=00ff00&scl=1", (5, 5),
     (0, 255, 0)),
    ("the body's default otherwise", "template=tinted&scl=1", (5, 5), (255, 0, 0)),
    # §3.5: request commands override the template's same-scope commands
    ("request commands override the body's", "template=frame&layer=0&color=0000ff", (5, 5),
     (0, 0, 255)),
    # D-37 (Example B): the 100x80 object fitted to size=800,0 is 800x640, centred on the
    # 1000x500 canvas: x 100..899, y -70..569 (clipped by layer 0)
    ("size= fits up: its left column", "template=wide&$object=small&scl=1", (100, 250),
     (0, 127, 64)),
    ("size= fits up: its right column", "template=wide&$object=small&scl=1", (899, 250),
     (255, 127, 64)),
    ("size= fits up: its top row, clipped", "template=wide&$object=small&scl=1", (500, 0),
     (127, 26, 64)),
    ("size= fits up: left of it", "template=wide&$object=small&scl=1", (99, 250),
     (255, 255, 255)),
    ("size= fits up: right of it", "template=wide&$object=small&scl=1", (900, 250),
     (255, 255, 255)),
]  # fmt: skip


@pytest.mark.parametrize(("modifiers", "point", "colour"), [r[1:] for r in EXAMPLES],
                         ids=[r[0] for r in EXAMPLES])  # fmt: skip
def test_the_spec_s_template_examples(
    service: ImageService, objects: dict[str, Path], modifiers: str,
    point: tuple[int, int], colour: tuple[int, ...],
) -> None:  # fmt: skip
    image = image_of(render(service, objects, modifiers + "&fmt=png"))
    assert near(at(image, *point), colour, tolerance=3), at(image, *point)


def test_the_path_object_s_post_modifier_still_applies(
    service: ImageService, objects: dict[str, Path]
) -> None:
    # D-22: the PostModifier of the path object ends the request, template or not
    result = render(service, objects, "template=frame&wid=300", post_modifier="wid=100&fmt=png")
    assert (result.width, result.height, result.media_type) == (100, 100, "image/png")


def test_a_template_without_a_canvas_names_what_layer_0_needs(
    service: ImageService, objects: dict[str, Path]
) -> None:
    with pytest.raises(SourceNotFoundError, match="layer 0 is not a solid colour"):
        render(service, objects, "template=no_canvas")


def test_an_unexpanded_template_is_refused_strictly_and_noted_leniently(
    service: ImageService, objects: dict[str, Path]
) -> None:
    """Without stored templates (no catalog, no lookup) template= cannot be expanded."""
    record = SourceRecord("photo", objects["photo"], "")
    strict = service.prepare(record, "template=frame&wid=100", strict=True)
    with pytest.raises(UnsupportedFeatureError, match="template= is rendered only where"):
        service.render(strict)
    lenient = service.render(service.prepare(record, "template=frame&wid=100"))
    assert (lenient.width, lenient.height) == (100, 75)  # the object as layer 0
    assert lenient.plan is not None
    assert any(note.startswith("template: not expanded") for note in lenient.plan.ignored)


# ---- through the catalog and /is/image ---------------------------------------------------


@pytest.fixture(scope="module")
def served(
    tmp_path_factory: pytest.TempPathFactory, objects: dict[str, Path], database_url: str
) -> Iterator[str]:
    """A real uvicorn server; company ``cat`` has the photo, tall and small as assets and
    the frame template (catalog/templates.py)."""
    from isrender.catalog import Catalog
    from isrender.catalog.templates import save_template
    from isrender.config import Settings
    from isrender.server import create_app
    from tests.http_server import running

    settings = Settings(
        data_dir=tmp_path_factory.mktemp("served") / "data", database_url=database_url
    )
    catalog = Catalog(settings)
    cat = catalog.add_company("cat").id
    catalog.upload(cat, [objects["photo"], objects["tall"], objects["small"]], "products")
    save_template(catalog, cat, "frame", FRAME, "templates")
    try:
        with running(create_app(settings, catalog, job_worker=False)) as url:
            yield url
    finally:
        catalog.close()


@pytest.mark.parametrize(("modifiers", "box"), [r[1:] for r in E_ROWS], ids=[r[0] for r in E_ROWS])
def test_is_image_renders_the_catalog_template(served: str, modifiers: str, box: Box) -> None:
    reply = httpx.get(f"{served}/is/image/cat/photo?{modifiers}")
    assert reply.status_code == 200, reply.text
    assert reply.headers["content-type"] == "image/jpeg"
    image = pyvips.Image.new_from_buffer(reply.content, "")
    assert (image.width, image.height) == (400, 400)
    assert_object_fills(image, box, tolerance=12, margin=3)


def test_is_image_template_errors_are_clear(served: str) -> None:
    missing = httpx.get(f"{served}/is/image/cat/photo?template=frame&$object=nothere")
    assert missing.status_code == 404
    assert "layer 1: source 'nothere' not found" in missing.text
    unknown = httpx.get(f"{served}/is/image/cat/photo?template=nosuch")
    assert unknown.status_code == 400 and "unknown template 'nosuch'" in unknown.text
