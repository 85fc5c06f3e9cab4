"""Masks, clip paths, growing and effects rendered end to end (spec §6.0 A2/A5/A11/C, §6.4
``mask=``/``maskUse=``, §6.5 ``op_grow*``, §6.6 ``clipPath=``/``effect=``): on layers above 0,
on layer 0 and on the composite. Every check is a measured pixel with a stated tolerance."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest
import pyvips

from isrender.errors import SourceNotFoundError, SourceTooLargeError, UnsupportedFeatureError
from isrender.render.attributes import CatalogAttributes
from isrender.render.steps import DrawEffects, Load, MaskFrom
from isrender.render.vips.renderer import RenderJob, RenderResult
from isrender.service import ImageService, SourceRecord
from tests import render_fixtures

Pixel = tuple[int, ...]
EDGE = 3  # pixels either side of a mask edge left unchecked: resampling softens it
LEVELS = 2  # levels of 255 a measured value may differ from the expected one (8-bit rounding)
BLUE, WHITE, RED = (0, 0, 255), (255, 255, 255), (255, 0, 0)


def half_mask() -> pyvips.Image:
    """400x200 grey, no alpha: white (keep) on the left half, black on the right."""
    return pyvips.Image.black(400, 200).draw_rect(255, 0, 0, 200, 200, fill=True).cast("uchar")


@pytest.fixture(scope="module")
def objects(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("masks")
    found = render_fixtures.write_fixtures(folder)
    found["halfmask"] = folder / "halfmask.png"
    half_mask().write_to_file(str(found["halfmask"]))
    return found


def service_for(objects: dict[str, Path], max_source_pixels: int | None = None) -> ImageService:
    attrs = CatalogAttributes.spec_fixture()
    if max_source_pixels is not None:
        attrs = replace(attrs, max_source_pixels=max_source_pixels)
    return ImageService(attrs, resolve=objects.get)


@pytest.fixture(scope="module")
def service(objects: dict[str, Path]) -> ImageService:
    return service_for(objects)


def render(service: ImageService, modifiers: str, obj: Path | None = None) -> RenderResult:
    record = SourceRecord(obj.stem if obj else "", obj, "")
    return service.render(service.prepare(record, modifiers, strict=True))


def planned(service: ImageService, modifiers: str, obj: Path | None = None) -> RenderJob:
    record = SourceRecord(obj.stem if obj else "", obj, "")
    return service.plan_render(service.prepare(record, modifiers, strict=True))


def image_of(result: RenderResult) -> pyvips.Image:
    return pyvips.Image.new_from_buffer(result.data, "")


def at(image: pyvips.Image, x: int, y: int) -> Pixel:
    return tuple(round(v) for v in image.getpoint(x, y))


def near(got: Pixel, expected: Pixel, levels: int = LEVELS) -> bool:
    return len(got) == len(expected) and all(
        abs(g - e) <= levels for g, e in zip(got, expected, strict=True)
    )


CANVAS = "layer=0&size=400,400&color=ffffff"
SOLID_ROW = "layer=1&color=0000ff&size=400,200&pos=0,0"  # its rectangle: x 0..399, y 100..299
GREY_MASKED = f"{CANVAS}&{SOLID_ROW}&mask=halfmask&fmt=png"
IMAGE_MASKED = f"{CANVAS}&layer=1&src=photo&size=400,200&pos=0,0&mask=halfmask&fmt=png"


# (modifiers, pixels expected (x, y, rgb)): a 400x200 blue layer at (0,100) on white, masked
MASKED_LAYERS = [
    pytest.param(  # grey values: the left half kept
        GREY_MASKED,
        [(50, 200, BLUE), (200 - EDGE, 150, BLUE), (200 + EDGE, 150, WHITE), (350, 250, WHITE)],
        id="grey-mask",
    ),
    pytest.param(  # invert: the background only
        f"{CANVAS}&{SOLID_ROW}&mask=halfmask&maskUse=invert&fmt=png",
        [(50, 200, WHITE), (200 - EDGE, 150, WHITE), (200 + EDGE, 150, BLUE), (350, 250, BLUE)],
        id="grey-mask-inverted",
    ),
    pytest.param(  # off: the opaque rectangle, the mask is not used
        f"{CANVAS}&{SOLID_ROW}&mask=halfmask&maskUse=off&fmt=png",
        [(50, 200, BLUE), (350, 250, BLUE), (200, 50, WHITE)],
        id="mask-off",
    ),
    pytest.param(  # the logo's alpha: its 200x100 block at (100,50) of the layer
        f"{CANVAS}&{SOLID_ROW}&mask=logo&fmt=png",
        [
            (200, 200, BLUE),
            (100 + EDGE, 150 + EDGE, BLUE),
            (100 - EDGE, 200, WHITE),
            (50, 120, WHITE),
            (350, 280, WHITE),
        ],
        id="alpha-mask",
    ),
    pytest.param(  # an image layer: the mask read at the layer's (shrunk) scale, then cropped
        IMAGE_MASKED,
        [(350, 200, WHITE), (200 + EDGE, 120, WHITE), (300, 50, WHITE)],
        id="image-layer",
    ),
]


@pytest.mark.parametrize(("modifiers", "expected"), MASKED_LAYERS)
def test_mask_on_a_layer_above_0(
    service: ImageService, modifiers: str, expected: list[tuple[int, int, Pixel]]
) -> None:
    image = image_of(render(service, modifiers))
    assert (image.width, image.height) == (400, 400)
    for x, y, rgb in expected:
        assert near(at(image, x, y), rgb), (x, y, at(image, x, y))


def test_an_image_layer_keeps_its_own_pixels_where_masked_in(service: ImageService) -> None:
    # the photo gradient's red grows to the right: left of the mask's edge it is not white
    image = image_of(render(service, IMAGE_MASKED))
    red, green, blue = at(image, 100, 200)
    assert (red, green, blue) != WHITE and blue < 250


def test_the_mask_is_read_at_the_layers_load_size(service: ImageService) -> None:
    job = planned(service, IMAGE_MASKED)
    layer = job.plan.layers[0]
    load, mask = layer.steps[0], layer.steps[1]
    assert isinstance(load, Load) and isinstance(mask, MaskFrom)
    assert (mask.width, mask.height, mask.scale) == (load.width, load.height, load.scale)
    assert load.scale < 1  # shrink-on-load: the 2000x1500 photo drawn 400x200


# ---- layer 0 ------------------------------------------------------------------------------------


def alpha_at(image: pyvips.Image, x: int, y: int) -> int:
    alpha: float = image.getpoint(x, y)[image.bands - 1]
    return round(alpha)


# (source object, modifiers, (x, y, alpha expected)), at scl=1 unless said
LAYER0 = [
    pytest.param("photo", "wid=200&mask=halfmask&fmt=png-alpha",  # 200x150 view
                 [(50, 75, 255), (100 - EDGE, 10, 255), (100 + EDGE, 10, 0), (190, 140, 0)],
                 id="mask"),
    pytest.param("logo", "scl=1&maskUse=invert&fmt=png-alpha",
                 [(200, 100, 0), (10, 10, 255), (390, 190, 255)], id="maskUse-invert"),
    pytest.param("logo", "scl=1&maskUse=off&fmt=png-alpha",
                 [(200, 100, 255), (10, 10, 255)], id="maskUse-off"),
    pytest.param("logo", "scl=1&op_growMaskR=10&fmt=png-alpha",  # block x 100..299, y 50..149
                 [(91, 100, 255), (88, 100, 0), (200, 41, 255), (200, 38, 0), (308, 100, 255)],
                 id="growMaskR"),
    pytest.param("logo", "scl=1&op_growMask=-10&fmt=png-alpha",  # full resolution: as written
                 [(111, 100, 255), (108, 100, 0), (200, 61, 255), (200, 58, 0)],
                 id="growMask-erode"),
    pytest.param("logo", "scl=1&layer=0&clipPath=M0,0L200,0L200,200L0,200Z&fmt=png-alpha",
                 [(150, 100, 255), (200 - EDGE, 100, 255), (200 + EDGE, 100, 0)],
                 id="layer0-clipPath"),
    pytest.param("photo", "wid=200&clipPath=M0,0L1000,0L1000,1500L0,1500Z&fmt=png-alpha",
                 [(50, 75, 255), (100 - EDGE, 75, 255), (100 + EDGE, 75, 0)],
                 id="comp-clipPath-canvas-pixels"),  # canvas pixels, drawn at 0.1
    pytest.param("photo", "wid=200&hei=50&fit=stretch&"
                 "clipPath=M0,0L2000,0L2000,750L0,750Z&fmt=png-alpha",
                 [(100, 25 - EDGE, 255), (100, 25 + EDGE, 0)], id="comp-clipPath-stretched"),
    pytest.param("logo", "scl=1&clipPath=M0,0L400,0L400,200L0,200Z&clipXPath="
                 "M150,0L250,0L250,200L150,200Z&fmt=png-alpha",
                 [(120, 100, 255), (200, 100, 0), (280, 100, 255)], id="comp-clipXPath"),
    pytest.param("logo", "scl=1&op_grow=5&fmt=png-alpha",  # comp: every band dilated
                 [(96, 100, 255), (93, 100, 0), (303, 100, 255)], id="comp-op_grow"),
]  # fmt: skip


@pytest.mark.parametrize(("source", "modifiers", "expected"), LAYER0)
def test_masks_clips_and_growing_on_layer_0_and_comp(
    service: ImageService,
    objects: dict[str, Path],
    source: str,
    modifiers: str,
    expected: list[tuple[int, int, int]],
) -> None:
    image = image_of(render(service, modifiers, objects[source]))
    assert image.bands == 4
    for x, y, alpha in expected:
        assert abs(alpha_at(image, x, y) - alpha) <= LEVELS, (x, y, alpha_at(image, x, y))


def test_grown_layer_0_keeps_its_colour(service: ImageService, objects: dict[str, Path]) -> None:
    image = image_of(render(service, "scl=1&op_grow=5&fmt=png-alpha", objects["logo"]))
    assert near(at(image, 96, 100), (*BLUE, 255))


def test_layer_0_clip_does_not_clip_the_layers_above(service: ImageService) -> None:
    # §6.6: layer 0 clips the others to its rectangle, not to its clip path
    modifiers = (
        "layer=0&size=400,400&color=ff0000&clipPath=M0,0L200,0L200,400L0,400Z"
        "&layer=1&color=0000ff&size=100,100&fmt=png-alpha"
    )
    image = image_of(render(service, modifiers))
    assert near(at(image, 50, 50), (*RED, 255))
    assert alpha_at(image, 300, 50) == 0
    assert near(at(image, 240, 200), (*BLUE, 255))  # layer 1 spans x 150..249


# ---- effects of layer 0 and comp ---------------------------------------------------------------


# logo at scl=1: the blue block x 100..299, y 50..149 on a transparent 400x200 canvas
EFFECTS = [
    pytest.param("effect=-1&color=ff0000&pos=20,20",  # comp: a hard red shadow, lower right
                 [(310, 160, (*RED, 255)), (200, 100, (*BLUE, 255)), (90, 40, (0, 0, 0, 0))],
                 id="comp-outer"),
    pytest.param("layer=0&effect=-1&color=ff0000&pos=20,20",
                 [(310, 160, (*RED, 255)), (200, 100, (*BLUE, 255))], id="layer0-outer"),
    pytest.param("effect=-1&color=ff0000&pos=200,0",  # cast beyond the canvas: cut off
                 [(390, 100, (*RED, 255)), (200, 100, (*BLUE, 255))], id="cut-at-canvas"),
    pytest.param("layer=0&effect=1&color=ff0000&pos=20,20",  # inner: from the uncovered edges
                 [(105, 55, (*RED, 255)), (250, 120, (*BLUE, 255)), (50, 20, (0, 0, 0, 0))],
                 id="layer0-inner"),
    pytest.param("layer=0&opac=50&effect=-1&color=ff0000&pos=20,20",  # opac fades both
                 [(310, 160, (*RED, 128)), (200, 100, (*BLUE, 128))], id="layer0-opacity"),
]  # fmt: skip


@pytest.mark.parametrize(("modifiers", "expected"), EFFECTS)
def test_effects_of_layer_0_and_comp_are_drawn_inside_the_canvas(
    service: ImageService,
    objects: dict[str, Path],
    modifiers: str,
    expected: list[tuple[int, int, Pixel]],
) -> None:
    image = image_of(render(service, f"scl=1&fmt=png-alpha&{modifiers}", objects["logo"]))
    assert (image.width, image.height) == (400, 200)
    for x, y, rgba in expected:
        got = at(image, x, y)
        assert near(got, rgba) or (rgba[3] == 0 and got[3] == 0), (x, y, got)


def test_comp_effects_are_drawn_on_the_composite(service: ImageService) -> None:
    # a comp drop shadow of the whole composite: layer 0 is opaque, so it is hidden by it,
    # but the plan draws it after the layers, and explain shows it
    modifiers = f"effect=-1&color=ff0000&pos=5,5&{CANVAS}&{SOLID_ROW}&fmt=png"
    job = planned(service, modifiers)
    names = [step.name for step in job.plan.steps]
    assert names.index("effects") > names.index("composite")
    assert any(isinstance(s, DrawEffects) for s in job.plan.steps)
    assert "effect=-1: outer" in job.plan.describe()


# ---- errors and limits -------------------------------------------------------------------------


ERRORS = [
    pytest.param(f"{CANVAS}&{SOLID_ROW}&mask=nosuchmask", SourceNotFoundError,
                 "source 'nosuchmask' not found", id="missing"),
    pytest.param(f"{CANVAS}&{SOLID_ROW}&mask=is{{logo?wid=10}}", UnsupportedFeatureError,
                 "layer 1: a nested mask= group is not rendered yet", id="nested"),
    pytest.param(f"{CANVAS}&{SOLID_ROW}&mask=../logo", SourceNotFoundError,
                 "'..' is not allowed", id="parent-path"),
]  # fmt: skip


@pytest.mark.parametrize(("modifiers", "error", "message"), ERRORS)
def test_mask_errors_are_clear(
    service: ImageService, modifiers: str, error: type[Exception], message: str
) -> None:
    with pytest.raises(error, match=message.replace("?", r"\?").replace("(", r"\(")):
        planned(service, modifiers)


def test_a_mask_counts_in_the_pixel_limits(objects: dict[str, Path]) -> None:
    # the photo (3 Mpx) is under a 3.5 Mpx limit; a mask read at the photo's size doubles it
    limited = service_for(objects, max_source_pixels=3_500_000)
    planned(limited, "scl=1", objects["photo"])
    with pytest.raises(SourceTooLargeError, match="together"):
        planned(limited, "scl=1&mask=halfmask", objects["photo"])


def test_explain_shows_the_mask_step(service: ImageService) -> None:
    job = planned(service, GREY_MASKED)
    assert "layer_mask(" in job.plan.describe()
    assert "source='halfmask'" in job.plan.describe()
