"""Layer placement on the layer-0 canvas (spec §6.0 A12/B, §6.6): rows from the spec's examples
(E-176, E-177, E-181, the frame template of §0.5) and from each rule of pos/anchor/origin/size/
scale/crop/rotate/extend/flip, worked out by hand."""

from __future__ import annotations

import math

import pytest

from isrender.commands.values import Opacity, Point, Rect, Size
from isrender.errors import ViewGeometryError
from isrender.language import parse
from isrender.macros import expand
from isrender.render.geometry import layer_geometry, view_geometry
from isrender.render.layers import (
    Canvas,
    ContentKind,
    LayerPlacement,
    PixelBox,
    canvas_of,
    content_kind,
    content_opacity,
    describe_layers,
    effect_opacity,
    place_layers,
)
from isrender.request import ImageRequest, bind
from isrender.request.model import Attributes

LOGO = Size(400, 200)  # §0.5 fixture: 400x200 RGBA
PHOTO = Size(2000, 1500)
TALL = Size(1000, 2000)
CANVAS_400 = "layer=0&size=400,400&color=ffffff"  # E-181's canvas: solid white 400x400


def bound(text: str) -> ImageRequest:
    return bind(expand(parse(text)))


def canvas_for(request: ImageRequest, source: Size | None = None) -> Canvas:
    """Layer 0 as the planner sizes it: a solid colour layer (size=) or a source image."""
    layer = request.layer(0)
    attrs = layer.attributes if layer else Attributes()
    size = attrs.value("size")
    start = source or Size(size.width, size.height)
    geometry = layer_geometry(
        int(start.width),
        int(start.height),
        size=size if source is not None else None,
        rotate=attrs.value("rotate", 0.0),
        extend=attrs.value("extend"),
    )
    return canvas_of(attrs, geometry, start)


def placed(text: str, content: Size = LOGO, layer0: Size | None = None) -> LayerPlacement:
    request = bound(text)
    return place_layers(request.layers, canvas_for(request, layer0), {1: content})[0]


def rect_of(placement: LayerPlacement) -> tuple[float, float, float, float]:
    return (
        round(placement.x, 6),
        round(placement.y, 6),
        round(placement.width, 6),
        round(placement.height, 6),
    )


# Canvas 400x400 (origin at its centre, 200,200); layer 1 is the 400x200 logo unless stated.
# Expected: the layer rectangle's top-left and size in canvas pixels.
PLACEMENT_ROWS = [
    # E-181: the logo's centre goes to layer 0's centre + (10,10): top-left (10,110)
    ("E-181 pos", "layer=1&src=logo&pos=10,10&opac=50", (10, 110, 400, 200)),
    ("no pos: centred", "layer=1&src=logo", (0, 100, 400, 200)),
    ("posN is normalised to layer 0", "layer=1&src=logo&posN=.1,-.25", (40, 0, 400, 200)),
    ("anchor=0,0: top-left at the origin", "layer=1&src=logo&anchor=0,0", (200, 200, 400, 200)),
    ("anchorN from the centre", "layer=1&src=logo&anchorN=-.5,-.5", (200, 200, 400, 200)),
    ("anchorN bottom-right", "layer=1&src=logo&anchorN=.5,.5&pos=5,0", (-195, 0, 400, 200)),
    ("origin= from the top-left", "layer=1&src=logo&origin=100,0", (100, 200, 400, 200)),
    ("originN from the centre", "layer=1&src=logo&originN=.5,.5", (-200, 0, 400, 200)),
    ("origin overrides anchor", "layer=1&src=logo&anchor=0,0&origin=400,200", (-200, 0, 400, 200)),
    ("size= fits, keeping aspect", "layer=1&src=logo&size=100,100", (150, 175, 100, 50)),
    ("size= scales up (D-37)", "layer=1&src=logo&size=800,0", (-200, 0, 800, 400)),
    ("sizeN relative to layer 0", "layer=1&src=logo&sizeN=.5,.5", (100, 150, 200, 100)),
    ("scale= direct factor", "layer=1&src=logo&scale=0.5", (100, 150, 200, 100)),
    ("size wins over scale", "layer=1&src=logo&scale=2&size=200,0", (100, 150, 200, 100)),
    ("res= / resolution 100", "layer=1&src=logo&res=25", (150, 175, 100, 50)),
    # without an anchor the crop box's centre is the anchor: a cropped layer stays centred
    ("crop in source pixels", "layer=1&src=logo&crop=0,0,200,200", (100, 100, 200, 200)),
    ("crop reaching outside", "layer=1&src=logo&crop=-100,0,600,200", (-100, 100, 600, 200)),
    ("crop with anchor 0,0 of the source", "layer=1&src=logo&crop=100,0,200,200&anchor=0,0",
     (300, 200, 200, 200)),
    ("cropN", "layer=1&src=logo&cropN=0,0,.5,.5", (100, 150, 200, 100)),
    # anchor 100,50 is the crop's top-left: the cropped layer's top-left lands on the origin
    ("anchor follows the crop", "layer=1&src=logo&crop=100,50,200,100&anchor=100,50",
     (200, 200, 200, 100)),
    ("anchor scales with the layer", "layer=1&src=logo&scale=.5&anchor=400,200",
     (0, 100, 200, 100)),
    ("rotate=90: box 200x400", "layer=1&src=logo&rotate=90", (100, 0, 200, 400)),
    # clockwise: the source's top-left corner goes to the box's top-right (200,0)
    ("rotate=90 around anchor 0,0", "layer=1&src=logo&rotate=90&anchor=0,0", (0, 200, 200, 400)),
    ("rotate=-90 around anchor 0,0", "layer=1&src=logo&rotate=-90&anchor=0,0",
     (200, -200, 200, 400)),
    ("rotate=180 around anchor 0,0", "layer=1&src=logo&rotate=180&anchor=0,0",
     (-200, 0, 400, 200)),
    ("extend grows the rectangle", "layer=1&src=logo&extend=10,20,30,40", (-10, 80, 440, 260)),
    ("extend then origin=0,0", "layer=1&src=logo&extend=10,20,30,40&origin=0,0",
     (200, 200, 440, 260)),
    ("extendN after the transforms", "layer=1&src=logo&extendN=.1,0,.1,0", (-40, 100, 480, 200)),
    ("flip=lr mirrors the anchor", "layer=1&src=logo&flip=lr&anchor=0,0", (-200, 200, 400, 200)),
    ("flip=ud mirrors the anchor", "layer=1&src=logo&flip=ud&anchor=0,0", (200, 0, 400, 200)),
    ("solid colour: exact size", "layer=1&color=ff0000&size=50,20", (175, 190, 50, 20)),
    ("solid colour, sizeN", "layer=1&color=ff0000&sizeN=.5,.25&pos=-10,0", (90, 150, 200, 100)),
    ("solid colour ignores scale/crop", "layer=1&color=ff0000&size=50,20&scale=3&crop=0,0,5,5",
     (175, 190, 50, 20)),
]  # fmt: skip


@pytest.mark.parametrize(
    ("text", "expected"),
    [row[1:] for row in PLACEMENT_ROWS],
    ids=[row[0] for row in PLACEMENT_ROWS],
)
def test_layer_rectangle_on_the_canvas(text: str, expected: tuple[float, ...]) -> None:
    assert rect_of(placed(f"{CANVAS_400}&{text}")) == expected


def test_rotation_by_45_degrees_grows_to_the_bounding_box() -> None:
    layer = placed(f"{CANVAS_400}&layer=1&src=logo&rotate=45")
    side = 600 / math.sqrt(2)  # 400 cos45 + 200 sin45
    assert layer.width == pytest.approx(side) and layer.height == pytest.approx(side)
    assert (layer.x, layer.y) == (pytest.approx(200 - side / 2), pytest.approx(200 - side / 2))


def test_e181_right_ten_columns_are_clipped_by_layer_0() -> None:
    layer = placed(f"{CANVAS_400}&layer=1&src=logo&pos=10,10&opac=50&fmt=png")
    assert layer.visible == Rect(10, 110, 390, 200)
    assert layer.clipped and layer.drawn
    assert layer.opacity == 0.5
    assert layer.box() == PixelBox(10, 110, 400, 200)
    assert "clipped by layer 0 to 390x200 at (10,110)" in layer.describe()


@pytest.mark.parametrize(
    ("layer0", "source", "text", "composite_rect", "view_rect"),
    [
        # E-176: photo 2000x1500 fitted into 400,400 -> 400x300 centred on the 500x500 canvas;
        # the 400x400 view (DefaultPix) scales by 0.8: 320x240 at (40,80)
        ("layer=0&size=500,500&color=000000", PHOTO, "layer=1&src=photo&size=400,400",
         (50, 100, 400, 300), PixelBox(40, 80, 320, 240)),
        # E-177: tall 1000x2000 -> 200x400 at (150,50); in the view 160x320 at (120,40)
        ("layer=0&size=500,500&color=000000", TALL, "layer=1&src=tall&size=400,400",
         (150, 50, 200, 400), PixelBox(120, 40, 160, 320)),
    ],
    ids=["E-176", "E-177"],
)  # fmt: skip
def test_frame_template_rows(
    layer0: str,
    source: Size,
    text: str,
    composite_rect: tuple[float, ...],
    view_rect: PixelBox,
) -> None:
    request = bound(f"{layer0}&{text}")
    canvas = canvas_for(request)
    layer = place_layers(request.layers, canvas, {1: source})[0]
    assert rect_of(layer) == composite_rect
    view = view_geometry(canvas.width, canvas.height, default_pix=(400, 400))
    assert (view.width, view.height) == (400, 400)
    assert layer.box(view.sx) == view_rect


def test_layer_tree_for_explain() -> None:
    request = bound(
        f"{CANVAS_400}&layer=2,badge&color=ff0000&size=20,20&hide=1&"
        "layer=1&src=logo&pos=10,10&opac=50&blendMode=screen&layer=3"
    )
    canvas = canvas_for(request)
    tree = describe_layers(canvas, place_layers(request.layers, canvas, {1: LOGO}))
    assert tree.splitlines() == [
        "layer 0: canvas 400x400, origin (200,200)",
        "  layer 1: image 400x200 -> 400x200 at (10,110), clipped by layer 0 to 390x200 at "
        "(10,110), opacity 50%, blend screen",
        "  layer 2 (badge): solid 20x20 -> 20x20 at (190,190), hidden",
        "  layer 3: empty (no src=, text= or color=): nothing drawn",
    ]


def test_layer_0_origin_is_its_transformed_anchor() -> None:
    # layer 0's anchor=0,0 moves the reference point of pos= to the canvas' top-left corner
    request = bound("layer=0&size=400,400&color=ffffff&anchor=0,0&layer=1&src=logo&pos=10,10")
    canvas = canvas_for(request)
    assert canvas.origin == Point(0, 0)
    layer = place_layers(request.layers, canvas, {1: LOGO})[0]
    assert rect_of(layer) == (-190, -90, 400, 200)
    assert layer.visible == Rect(0, 0, 210, 110)


def test_layer_0_from_a_source_image_is_the_canvas() -> None:
    # the URL object (photo) scaled by size=1000,0 makes a 1000x750 canvas centred at 500,375
    request = bound("size=1000,0&layer=1&src=logo&pos=0,-375")
    canvas = canvas_for(request, PHOTO)
    assert (canvas.width, canvas.height, canvas.origin) == (1000, 750, Point(500, 375))
    layer = place_layers(request.layers, canvas, {1: LOGO})[0]
    assert rect_of(layer) == (300, -100, 400, 200)
    assert layer.visible == Rect(300, 0, 400, 100)


@pytest.mark.parametrize(
    ("text", "drawn", "visible"),
    [
        ("layer=1&src=logo&pos=1000,0", False, None),  # entirely right of the canvas
        ("layer=1&src=logo&pos=0,-300", False, None),  # bottom edge exactly on the top edge
        ("layer=1&src=logo&pos=0,-299", True, Rect(0, 0, 400, 1)),
        ("layer=1&src=logo&hide=1", False, Rect(0, 100, 400, 200)),
        ("layer=1&src=logo&opac=0", False, Rect(0, 100, 400, 200)),
        ("layer=1&src=logo&opac=100,0", False, Rect(0, 100, 400, 200)),
        ("layer=1&pos=5,5", False, Rect(204.5, 204.5, 1, 1)),  # empty: nothing to draw
    ],
)
def test_what_is_drawn(text: str, drawn: bool, visible: Rect | None) -> None:
    layer = placed(f"{CANVAS_400}&{text}")
    assert layer.drawn is drawn
    assert layer.visible == visible


def test_z_order_is_ascending_layer_number() -> None:
    request = bound(
        f"{CANVAS_400}&layer=5,top&src=logo&layer=2&color=ff0000&size=4,4&layer=3&src=logo"
    )
    layers = place_layers(request.layers, canvas_for(request), {5: LOGO, 3: LOGO})
    assert [layer.number for layer in layers] == [2, 3, 5]
    assert [layer.kind for layer in layers] == [
        ContentKind.SOLID,
        ContentKind.IMAGE,
        ContentKind.IMAGE,
    ]
    assert layers[2].names == ("top",)


def test_named_layers_merge_into_one_layer() -> None:
    # E-185: layer 1 gets src=logo and opac=50 through its second name
    request = bound(f"{CANVAS_400}&layer=1,img&layer=1,pic&src=logo&layer=pic&opac=50&pos=1,2")
    (layer,) = place_layers(request.layers, canvas_for(request), {1: LOGO})
    assert (layer.number, layer.kind, layer.opacity) == (1, ContentKind.IMAGE, 0.5)
    assert rect_of(layer) == (1, 102, 400, 200)


@pytest.mark.parametrize(
    ("text", "kind"),
    [
        ("layer=1&src=logo", ContentKind.IMAGE),
        ("layer=1&text=A&src=logo", ContentKind.IMAGE),  # E-196: the last of text/src wins
        ("layer=1&src=logo&text=A", ContentKind.TEXT),
        ("layer=1&textPs=A", ContentKind.TEXT),
        ("layer=1&color=ff0000&size=4,4", ContentKind.SOLID),
        ("layer=1&src=logo&color=ff0000", ContentKind.IMAGE),  # color= fills an image layer
        ("layer=1&pos=1,1", ContentKind.EMPTY),
    ],
)
def test_content_kind(text: str, kind: ContentKind) -> None:
    layer = bound(text).layer(1)
    assert layer is not None
    assert content_kind(layer.attributes) is kind


def test_text_layer_box_is_transformed_not_resized() -> None:
    layer = placed(f"{CANVAS_400}&layer=1&text=Hello&size=120,0&rotate=90", content=Size(120, 30))
    assert rect_of(layer) == (185, 140, 30, 120)


@pytest.mark.parametrize(
    "text",
    [
        "layer=1&color=ff0000",  # no size at all
        "layer=1&color=ff0000&size=50,0",  # one side free
        "layer=1&color=ff0000&sizeN=0,.5",
    ],
)
def test_solid_colour_layer_needs_both_sides(text: str) -> None:
    with pytest.raises(ViewGeometryError, match=r"solid-colour layer .*size="):
        placed(f"{CANVAS_400}&{text}")


def test_image_layer_without_a_known_source_size_is_an_error() -> None:
    request = bound(f"{CANVAS_400}&layer=1&src=logo")
    with pytest.raises(ViewGeometryError, match="layer 1: the size of its source image"):
        place_layers(request.layers, canvas_for(request), {})


def test_catalog_anchor_and_resolution_of_the_layer_record() -> None:
    request = bound(f"{CANVAS_400}&layer=1&src=logo&res=50")
    layers = place_layers(
        request.layers,
        canvas_for(request),
        {1: LOGO},
        resolutions={1: 200.0},  # catalog::Resolution 200: res=50 is a quarter
        anchors={1: Point(0, 0)},  # catalog::Anchor
    )
    assert rect_of(layers[0]) == (200, 200, 100, 50)


@pytest.mark.parametrize(
    ("opac", "content", "effect", "expected_effect"),
    [
        (None, 1.0, None, 1.0),
        (Opacity(50), 0.5, None, 0.5),
        (Opacity(90, 70), 0.63, Opacity(50), 0.45),  # §6.6's worked example
        (Opacity(100, 0), 0.0, Opacity(80), 0.8),  # fill 0 hides the content, not the effects
        (Opacity(0, 100), 0.0, Opacity(100), 0.0),
    ],
)
def test_opacity_arithmetic(
    opac: Opacity | None, content: float, effect: Opacity | None, expected_effect: float
) -> None:
    assert content_opacity(opac) == pytest.approx(content)
    assert effect_opacity(opac, effect) == pytest.approx(expected_effect)


def test_blend_mode_and_colours_are_carried() -> None:
    layer = placed(f"{CANVAS_400}&layer=1&src=logo&blendMode=mult&color=ff0000&bgColor=00ff00")
    assert layer.blend == "mult"
    assert layer.color is not None and layer.color.to_rgb8() == (255, 0, 0)
    assert layer.bg_color is not None and layer.bg_color.to_rgb8() == (0, 255, 0)
    assert "blend mult" in layer.describe()
    assert placed(f"{CANVAS_400}&layer=1&src=logo").blend == "norm"


@pytest.mark.parametrize(
    ("scale", "box"),
    [
        (1.0, PixelBox(10, 110, 400, 200)),
        (0.5, PixelBox(5, 55, 200, 100)),
        (0.25, PixelBox(3, 28, 100, 50)),  # 2.5 and 27.5 round half up (D-01)
        (0.001, PixelBox(0, 0, 1, 1)),  # never below one pixel
    ],
)
def test_box_at_a_working_scale(scale: float, box: PixelBox) -> None:
    assert placed(f"{CANVAS_400}&layer=1&src=logo&pos=10,10").box(scale) == box


def test_hostile_positions_stay_finite() -> None:
    layer = placed(f"{CANVAS_400}&layer=1&src=logo&pos=2147483647,-2147483648")
    assert layer.visible is None and not layer.drawn
    assert layer.box(1.0).x == 2147483647  # 200 + pos - 200 (the logo's centre)
