"""Effects, masks, clip paths, growing and text layers rendered end to end (spec §6.5-§6.7),
on the E-181 canvas: a white 400x400 layer 0 and the §0.5 ``logo`` (400x200, an opaque blue
200x100 block in the middle) as layer 1, so the block covers canvas x 100..299, y 150..249.
Expected values follow the stated arithmetic: an unblurred black ``mult`` shadow at alpha a
over white is 255 x (1 - a)."""

from __future__ import annotations

import pytest
import pyvips

from isrender.render.attributes import CatalogAttributes
from isrender.render.steps import Composite, DrawText
from isrender.service import ImageService, SourceRecord
from tests import render_fixtures

CANVAS = "layer=0&size=400,400&color=ffffff&fmt=png"
WHITE, BLUE = (255, 255, 255), (0, 0, 255)
TOLERANCE = 2  # levels: 8-bit rounding in the effect's alpha and in each blend


@pytest.fixture(scope="module")
def service(tmp_path_factory: pytest.TempPathFactory) -> ImageService:
    objects = render_fixtures.write_fixtures(tmp_path_factory.mktemp("effects"))
    return ImageService(CatalogAttributes.spec_fixture(), resolve=objects.get)


def draw(service: ImageService, layers: str, *, strict: bool = True) -> pyvips.Image:
    record = SourceRecord("", None, "")
    result = service.render(service.prepare(record, f"{CANVAS}&{layers}", strict=strict))
    return pyvips.Image.new_from_buffer(result.data, "")


def rgb(image: pyvips.Image, x: int, y: int) -> tuple[int, ...]:
    return tuple(int(v) for v in image.getpoint(x, y)[:3])


def near(got: tuple[int, ...], want: tuple[int, ...]) -> bool:
    return all(abs(g - w) <= TOLERANCE for g, w in zip(got, want, strict=True))


def grey(level: float) -> tuple[int, int, int]:
    v = round(level)
    return v, v, v


LOGO = "layer=1&src=logo"


@pytest.mark.parametrize(
    ("layers", "points"),
    [
        # drop shadow: 5,5 down-right at 75 %, crisp (op_blur=0): 255 x 0.25 beyond the block
        (f"{LOGO}&effect=-1&$shadow$&op_blur=0",
         {(302, 200): grey(255 * 0.25), (150, 252): grey(255 * 0.25), (97, 200): WHITE,
          (200, 147): WHITE, (200, 200): BLUE}),
        # the effect's own opacity, written after the macro, wins (§3.3)
        (f"{LOGO}&effect=-1&$shadow$&op_blur=0&opac=50",
         {(302, 200): grey(255 * 0.5), (200, 200): BLUE}),
        # parent opac=50: the shadow at 50 x 75 % = 37.5 %, and it lies behind the half-clear
        # block: white x 0.625, then blue at 50 % over it
        (f"{LOGO}&opac=50&effect=-1&$shadow$&op_blur=0",
         {(302, 200): grey(255 * 0.625), (200, 200): (80, 80, 207)}),
        # fill opacity 0: the content goes, its effects stay (they inherit the mask, not opac)
        (f"{LOGO}&opac=100,0&effect=-1&$shadow$&op_blur=0",
         {(200, 200): grey(255 * 0.25), (302, 200): grey(255 * 0.25), (102, 152): WHITE}),
        # inner shadow: inside the block, along the top and left edges the offset uncovers
        (f"{LOGO}&effect=1&$shadow$&op_blur=0",
         {(102, 200): (0, 0, 64), (200, 152): (0, 0, 64), (250, 200): BLUE, (302, 200): WHITE}),
        # outer glow, norm, grown by 4 px: a red band round the block
        (f"{LOGO}&effect=-1&$glow$&color=255,0,0&blendMode=norm&op_blur=0&op_grow=4",
         {(302, 200): (255, 64, 64), (97, 200): (255, 64, 64), (306, 200): WHITE}),
        # maskUse=invert: the logo's transparent margins show, the block does not
        (f"{LOGO}&maskUse=invert", {(50, 120): BLUE, (200, 200): WHITE}),
        # clipPath in the layer's pixels: only the left half of the block stays
        (f"{LOGO}&clipPath=M100,50L200,50L200,150L100,150Z",
         {(150, 200): BLUE, (250, 200): WHITE}),
        # op_grow dilates every channel by 10, op_growMask erodes only the mask
        (f"{LOGO}&op_grow=10", {(92, 200): BLUE, (85, 200): WHITE}),
        (f"{LOGO}&op_growMask=-10", {(105, 200): WHITE, (115, 200): BLUE}),
    ],
)  # fmt: skip
def test_effect_and_mask_pixels(
    service: ImageService, layers: str, points: dict[tuple[int, int], tuple[int, ...]]
) -> None:
    image = draw(service, layers)
    assert (image.width, image.height) == (400, 400)
    for (x, y), want in points.items():
        assert near(rgb(image, x, y), want), f"{(x, y)}: {rgb(image, x, y)} != {want}"


def test_blurred_drop_shadow_keeps_its_offset(service: ImageService) -> None:
    """The darkness a blurred shadow adds, outside the block, is weighted to the bottom-right:
    as much beyond the right edge as beyond the bottom, none beyond the top-left corner."""
    plain = draw(service, LOGO)
    shadowed = draw(service, f"{LOGO}&effect=-1&$shadow$")
    dark = (plain[0].cast("int") - shadowed[0]).cast("uchar")
    right, below = dark.crop(300, 160, 12, 80).avg(), dark.crop(110, 250, 180, 12).avg()
    left, above = dark.crop(88, 160, 12, 80).avg(), dark.crop(110, 138, 180, 12).avg()
    assert right > 40 and below > 40 and abs(right - below) < 10
    assert left < 3 and above < 3


def test_text_layer_is_drawn_centred_at_its_measured_size(service: ImageService) -> None:
    image = draw(service, r"layer=1&text={\rtf1\fs72\b Sale}")
    ink = (image[0] < 128).cast("uchar")  # black text on white
    left, top, width, height = ink.find_trim(threshold=0.5, background=[0])
    assert 50 < width < 200 and 20 < height < 80  # "Sale" at 36 px, bold
    assert abs(left + width / 2 - 200) <= 4 and abs(top + height / 2 - 200) <= 8


def test_text_layer_with_a_width_wraps(service: ImageService) -> None:
    one_line = draw(service, r"layer=1&text={\rtf1\fs48 one two three four}")
    wrapped = draw(service, r"layer=1&text={\rtf1\fs48 one two three four}&size=120,0")
    heights = [(im[0] < 128).cast("uchar").find_trim(threshold=0.5, background=[0])[3]
               for im in (one_line, wrapped)]  # fmt: skip
    assert heights[1] > 2 * heights[0]


def test_text_with_a_drop_shadow(service: ImageService) -> None:
    plain = draw(service, r"layer=1&text={\rtf1\fs96\b I}")
    shadowed = draw(service, r"layer=1&text={\rtf1\fs96\b I}&effect=-1&$shadow$&op_blur=0")
    dark = (plain[0].cast("int") - shadowed[0]).cast("uchar")
    left, top, width, height = dark.find_trim(threshold=10, background=[0])
    ink = (plain[0] < 128).cast("uchar").find_trim(threshold=0.5, background=[0])
    assert left + width == pytest.approx(ink[0] + ink[2] + 5, abs=1)  # 5 px to the right
    assert top + height == pytest.approx(ink[1] + ink[3] + 5, abs=1)  # and 5 px down


def test_plan_shows_the_effects_and_the_text_step(service: ImageService) -> None:
    record = SourceRecord("", None, "")
    prepared = service.prepare(record, f"{CANVAS}&layer=1&text=Hi&effect=-1&$shadow$",
                               strict=True)  # fmt: skip
    steps = service.plan_render(prepared).plan.steps
    composite = next(s for s in steps if isinstance(s, Composite))
    assert isinstance(composite.layers[0].steps[0], DrawText)
    text = composite.describe()
    assert "text(text='Hi'" in text and "effect=-1: outer rgb(0, 0, 0)" in text


def test_effects_of_layer_0_are_drawn_inside_the_canvas(service: ImageService) -> None:
    # a hard inner shadow of the white canvas, offset 10,10: black along the top and left
    image = draw(service, "layer=0&effect=1&color=000000&pos=10,10")
    assert (image.width, image.height) == (400, 400)
    assert near(rgb(image, 5, 200), (0, 0, 0)) and near(rgb(image, 200, 5), (0, 0, 0))
    assert near(rgb(image, 200, 200), (255, 255, 255))


def test_clip_path_on_layer_0_is_rendered(service: ImageService) -> None:
    # outside the path layer 0 is transparent: the reply's bgc shows there
    image = draw(service, "layer=0&clipPath=M0,0L200,0L200,400L0,400Z&bgc=000000")
    assert near(rgb(image, 100, 200), (255, 255, 255))
    assert near(rgb(image, 300, 200), (0, 0, 0))
