"""Nested and embedded requests (spec §1.10, §2.5, D-43): E-189..E-195 in pixels and sizes,
nested sources of layers above 0, limits across the whole tree (checked before decoding),
refused ir{}/fxg{}/{url} sources, the plan tree, and the same rows through ``/is/image`` on a
real server, including requests that name no object (``/is/image/{company}?...``, E-181)."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest
import pyvips

from isrender.errors import (
    IsRenderError,
    ModifierSyntaxError,
    NestingLimitError,
    SourceNotFoundError,
    SourceTooLargeError,
    UnsupportedFeatureError,
)
from isrender.render.attributes import CatalogAttributes
from isrender.render.nested import NestedLoad, source_loads
from isrender.render.vips.renderer import RenderResult
from isrender.service import ImageService, SourceRecord
from tests import render_fixtures

Pixel = tuple[int, ...]
WHITE = (255, 255, 255)


@pytest.fixture(scope="module")
def objects(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """The §0.5 fixture images (photo 2000x1500, tall, small, logo 400x200 RGBA, grayimg)."""
    return render_fixtures.write_fixtures(tmp_path_factory.mktemp("nested"))


def service_for(objects: dict[str, Path], **limits: int) -> ImageService:
    """The §0.5 fixture attributes; objects resolve to the fixture files by name."""
    return ImageService(replace(CatalogAttributes.spec_fixture(), **limits), resolve=objects.get)


@pytest.fixture(scope="module")
def service(objects: dict[str, Path]) -> ImageService:
    return service_for(objects)


def render(
    service: ImageService, modifiers: str, object_path: Path | None = None, strict: bool = True
) -> RenderResult:
    record = SourceRecord(object_path.stem if object_path else "", object_path, "")
    return service.render(service.prepare(record, modifiers, strict=strict))


def pixels(data: bytes) -> pyvips.Image:
    return pyvips.Image.new_from_buffer(data, "")


def at(image: pyvips.Image, x: int, y: int) -> Pixel:
    return tuple(int(v) for v in image.getpoint(x, y))


def gradient_at(width: int, height: int, x: int, y: int) -> Pixel:
    """The photo fixture's colour at (x, y) of a width x height view of the whole photo."""
    return (round(x * 255 / (width - 1)), round(y * 255 / (height - 1)), 64)


def close(got: Pixel, expected: Pixel, tolerance: int) -> bool:
    return len(got) == len(expected) and all(
        abs(g - e) <= tolerance for g, e in zip(got, expected, strict=True)
    )


# ---- E-189..E-195 -------------------------------------------------------------------------

SIZE_ROWS = [
    # E-189: nested result 100x75 (nested fmt ignored), reply JPEG 80x60
    ("src=is{?src=photo&wid=100&fmt=png}&wid=80", "image/jpeg", (80, 60), (100, 75)),
    # E-190: parentheses are the mail-safe form
    ("src=is(photo?wid=100)&scl=1", "image/jpeg", (100, 75), (100, 75)),
    # E-191: nested 200x200 with transparent bands (nested bgc ignored), PNG 200x200
    ("layer=0&src=is{photo?wid=200&hei=200&bgc=ff0000}&fmt=png", "image/png", (200, 200),
     (200, 200)),
]  # fmt: skip


@pytest.mark.parametrize(("modifiers", "media", "reply", "nested"), SIZE_ROWS,
                         ids=["E-189", "E-190", "E-191"])  # fmt: skip
def test_nested_reply_sizes(
    service: ImageService,
    modifiers: str,
    media: str,
    reply: tuple[int, int],
    nested: tuple[int, int],
) -> None:
    result = render(service, modifiers)
    assert (result.media_type, (result.width, result.height)) == (media, reply)
    assert result.plan is not None
    first = result.plan.steps[0]
    assert isinstance(first, NestedLoad) and (first.width, first.height) == nested
    image = pixels(result.data)
    assert (image.width, image.height) == reply
    # what the reply shows is the photo, scaled: its gradient at the centre
    centre = at(image, reply[0] // 2, reply[1] // 2)
    assert centre[2] == pytest.approx(64, abs=3)


def test_e189_the_nested_result_is_the_photo_scaled(service: ImageService) -> None:
    image = pixels(render(service, "src=is{?src=photo&wid=100&fmt=png}&wid=80&fmt=png").data)
    for x, y in [(5, 5), (40, 30), (74, 54)]:
        assert close(at(image, x, y), gradient_at(80, 60, x, y), tolerance=6), (x, y)


def test_e191_bands_stay_transparent_then_white(service: ImageService) -> None:
    # D-43: the nested bgc=ff0000 is ignored; its 25-row bands stay transparent, and the
    # outer PNG (no alpha) flattens them onto the default bgc, white
    image = pixels(render(service, "layer=0&src=is{photo?wid=200&hei=200&bgc=ff0000}&fmt=png").data)
    assert image.bands == 3
    for x, y in [(100, 0), (100, 24), (0, 199), (199, 176)]:
        assert at(image, x, y) == WHITE, (x, y)
    for x, y in [(100, 26), (100, 100), (100, 173)]:
        got = at(image, x, y)
        assert got[2] == pytest.approx(64, abs=3) and got != WHITE, (x, y)
    kept = pixels(render(service, "layer=0&src=is{photo?wid=200&hei=200}&fmt=png-alpha").data)
    assert kept.bands == 4 and at(kept, 100, 5)[3] == 0 and at(kept, 100, 100)[3] == 255


@pytest.mark.parametrize(
    ("modifiers", "error", "message"),
    [
        ("src=is%7Bphoto%7D", SourceNotFoundError, "layer 0: source 'is{photo}' not found"),
        ("src=is{photo?wid=100", ModifierSyntaxError, "unterminated nested group"),
        ("src=is{photo}x&wid=10", ModifierSyntaxError, "after a nested group"),
        ("src=IS{photo}", SourceNotFoundError, "layer 0: source 'IS{photo}' not found"),
    ],
    ids=["E-192", "E-193", "E-194", "E-195"],
)
def test_nested_errors(
    service: ImageService, modifiers: str, error: type[Exception], message: str
) -> None:
    with pytest.raises(error, match=message.replace("{", r"\{").replace("?", r"\?")):
        render(service, modifiers)


# ---- nested sources of layers above 0, and of nested requests -----------------------------


def test_a_layer_above_0_takes_a_nested_result_with_its_alpha(
    service: ImageService, objects: dict[str, Path]
) -> None:
    # the logo rendered at wid=200 (200x100, its blue block 100x50 in the middle), as layer 1
    # of a 400x400 white canvas: centred, the block covers (150,175)-(249,224) (its edges
    # softened by the nested request's bicubic reduction: one pixel in from them is solid)
    modifiers = "layer=0&size=400,400&color=ffffff&layer=1&src=is{logo?wid=200}&fmt=png"
    result = render(service, modifiers)
    image = pixels(result.data)
    for x, y in [(151, 176), (248, 223), (200, 200)]:
        assert close(at(image, x, y), (0, 0, 255), tolerance=2), (x, y)
    for x, y in [(148, 200), (251, 200), (200, 173), (200, 226), (110, 160)]:
        assert at(image, x, y) == WHITE, (x, y)
    assert result.plan is not None
    (layer,) = result.plan.layers
    assert layer.source is None and isinstance(layer.steps[0], NestedLoad)


def test_nested_requests_inside_nested_requests(service: ImageService) -> None:
    # a nested request whose own layer 0 is a nested request whose layer 1 is the logo
    inner = "is{?layer=0&size=400,200&color=ff0000&layer=1&src=logo}"
    modifiers = f"src=is{{?src={inner}&wid=200}}&fmt=png"
    result = render(service, modifiers)
    image = pixels(result.data)
    assert (image.width, image.height) == (200, 100)
    assert close(at(image, 100, 50), (0, 0, 255), tolerance=2)
    assert close(at(image, 10, 10), (255, 0, 0), tolerance=2)
    assert result.plan is not None
    text = result.plan.describe()
    assert text.count("nested(") == 2 and "solid(" in text and "composite(" in text


def test_variables_reach_nested_requests(service: ImageService) -> None:
    # §2.5: definitions are forwarded to every nested request
    result = render(service, "$w=120&src=is{photo?wid=$w$}&scl=1")
    assert (result.width, result.height) == (120, 90)


def test_the_plan_shows_the_tree_indented(service: ImageService, objects: dict[str, Path]) -> None:
    result = render(service, "wid=400&layer=1&src=is{logo?wid=100}&fmt=png", objects["photo"])
    assert result.plan is not None
    lines = result.plan.describe().splitlines()
    nested = next(i for i, line in enumerate(lines) if "nested(100x50, object='logo')" in line)
    assert lines[nested + 1].strip().startswith("1. load(width=200, height=100, scale=0.5)")
    assert len(lines[nested + 1]) - len(lines[nested + 1].lstrip()) > len(lines[nested]) - len(
        lines[nested].lstrip()
    )


def test_ignored_commands_of_nested_requests_are_reported(service: ImageService) -> None:
    result = render(service, "src=is{photo?wid=100&fmt=png&qlt=50&bgc=ff0000}&scl=1")
    assert result.plan is not None
    ignored = " | ".join(result.plan.ignored)
    for name in ("fmt", "qlt", "bgc"):
        assert f"{name}: ignored in a nested request" in ignored


def test_nested_default_pix_and_max_pix_do_not_apply(service: ImageService) -> None:
    # the fixture's DefaultPix 400,400 would make the photo 400x300: a nested request without
    # size commands is its full size (2000x1500), MaxPix 2000,2000 does not refuse it either
    result = render(service, "src=is{photo}&wid=100")
    assert result.plan is not None
    first = result.plan.steps[0]
    assert isinstance(first, NestedLoad) and (first.width, first.height) == (2000, 1500)
    assert (result.width, result.height) == (100, 75)


# ---- limits, refusals ---------------------------------------------------------------------


def nest(depth: int) -> str:
    request = "photo?wid=50"
    for _ in range(depth - 1):
        request = f"?src=is{{{request}}}"
    return f"src=is{{{request}}}"


def test_the_depth_limit(objects: dict[str, Path]) -> None:
    shallow = service_for(objects, max_nesting_depth=3)
    assert render(shallow, nest(3) + "&scl=1").width == 50
    with pytest.raises(NestingLimitError, match="deeper than 3 levels"):
        render(shallow, nest(4) + "&scl=1")


def test_the_total_pixel_limit_holds_across_the_tree_before_decoding(
    objects: dict[str, Path],
) -> None:
    # each nested photo decodes 2000x1500 (its 1000x750 reply, bicub: read at twice that),
    # 3 Mpx, and makes a 0.75 Mpx result; two of them exceed a 4 Mpx limit together, one
    # does not
    limited = service_for(objects, max_source_pixels=4_000_000)
    one = "layer=0&size=100,100&color=ffffff&layer=1&src=is{photo?wid=1000}"
    job = limited.plan_render(limited.prepare(SourceRecord("", None, ""), one))
    assert sum(load.width * load.height for load in source_loads(job.plan.steps)) == 3_000_000
    with pytest.raises(SourceTooLargeError, match=r"7\.5 Mpx together"):
        limited.plan_render(
            limited.prepare(SourceRecord("", None, ""), one + "&layer=2&src=is{photo?wid=1000}")
        )


@pytest.mark.parametrize(
    ("modifiers", "message"),
    [
        ("src=ir{catalog/object?obj=x}", r"layer 0: ir\{\.\.\.\} \(an embedded Image Rendering"),
        ("layer=0&size=9,9&color=0&layer=1&src=fxg{card}", r"layer 1: fxg\{\.\.\.\}"),
        ("layer=0&size=9,9&color=0&layer=2&src={http://example.com/a.jpg}",
         r"layer 2: \{url\} \(a foreign image"),
        ("src=is{?src=ir{x}}", r"layer 0 > layer 0: ir\{\.\.\.\}"),
    ],
    ids=["ir", "fxg", "url", "ir inside is"],
)  # fmt: skip
def test_other_groups_are_refused_by_name(
    service: ImageService, modifiers: str, message: str
) -> None:
    for strict in (True, False):
        with pytest.raises(UnsupportedFeatureError, match=message):
            render(service, modifiers, strict=strict)


def test_a_missing_nested_object_is_named(service: ImageService) -> None:
    with pytest.raises(SourceNotFoundError, match=r"layer 1 is\{\}: source 'nothere' not found"):
        render(service, "layer=0&size=9,9&color=0&layer=1&src=is{nothere?wid=5}")


# ---- through /is/image on a real server ---------------------------------------------------


SERVED_ROWS = [
    # (path after /is/image/Acme, query, status, media type, size)
    ("", "src=is{?src=photo&wid=100&fmt=png}&wid=80", 200, "image/jpeg", (80, 60)),  # E-189
    ("", "src=is(photo?wid=100)&scl=1", 200, "image/jpeg", (100, 75)),  # E-190
    ("/", "layer=0&src=is{photo?wid=200&hei=200}&fmt=png", 200, "image/png", (200, 200)),
    ("", "src=is%7Bphoto%7D", 404, "", None),  # E-192
    ("", "src=is{photo?wid=100", 400, "", None),  # E-193
    ("", "src=IS{photo}", 404, "", None),  # E-195
    ("", "src=ir{photo}", 403, "", None),
    # E-181 as written, under the company: no object, layer 0 a white 400x400 canvas
    ("", "layer=0&size=400,400&color=ffffff&layer=1&src=logo&pos=10,10&opac=50&fmt=png", 200,
     "image/png", (400, 400)),
    ("/photo", "wid=200&layer=1&src=is{logo?wid=200}&fmt=png", 200, "image/png", (200, 150)),
    ("", "wid=100", 404, "", None),  # no object and no solid layer 0
]  # fmt: skip


@pytest.mark.parametrize(("path", "query", "status", "media", "size"), SERVED_ROWS)
def test_is_image_serves_nested_requests(
    served: str, path: str, query: str, status: int, media: str, size: tuple[int, int] | None
) -> None:
    import httpx

    reply = httpx.get(f"{served}{path}?{query}")
    assert reply.status_code == status, reply.text
    if size is None:
        assert "Traceback" not in reply.text and reply.text
        return
    assert reply.headers["content-type"] == media
    image = pixels(reply.content)
    assert (image.width, image.height) == size


def test_is_image_reads_text_after_a_group_leniently(served: str) -> None:
    # E-194 is a SyntaxError in strict mode (test_nested_errors); the server binds leniently
    # (issue 13): the text after the group is a segment of its own, ignored and reported
    import httpx

    reply = httpx.get(f"{served}?src=is{{photo}}x&wid=10")
    assert reply.status_code == 200, reply.text
    assert "x@" in reply.headers["x-isrender-ignored"]
    assert pixels(reply.content).width == 10


def test_is_image_e181_pixels_and_a_logo_from_a_nested_request(served: str) -> None:
    import httpx

    e181 = "layer=0&size=400,400&color=ffffff&layer=1&src=logo&pos=10,10&opac=50&fmt=png"
    image = pixels(httpx.get(f"{served}?{e181}").content)
    assert close(at(image, 110, 160), (127, 127, 255), tolerance=1)  # half blue over white
    assert at(image, 109, 200) == WHITE
    # the photo at 200x150 with the logo (rendered 200x100 by its nested request) on top:
    # 200 canvas pixels become 20 view pixels, its blue block 10x5 at the centre
    query = "wid=200&layer=1&src=is{logo?wid=200}&fmt=png"
    layered = pixels(httpx.get(f"{served}/photo?{query}").content)
    assert close(at(layered, 100, 75), (0, 0, 255), tolerance=6)  # sharp2: slight ringing
    assert at(layered, 100, 60)[2] == pytest.approx(64, abs=3)


def test_the_etag_of_a_nested_request_follows_its_objects(served: str) -> None:
    import httpx

    plain = httpx.get(f"{served}?src=is{{photo?wid=50}}")
    conditional = {"If-None-Match": plain.headers["etag"]}
    again = httpx.get(f"{served}?src=is{{photo?wid=50}}", headers=conditional)
    assert plain.status_code == 200 and again.status_code == 304
    other = httpx.get(f"{served}?src=is{{logo?wid=50}}")
    assert other.headers["etag"] != plain.headers["etag"]


def test_errors_are_isrender_errors_not_crashes(service: ImageService) -> None:
    # a nested request that fails inside (a missing size for a solid layer 0) is a clear error
    with pytest.raises(IsRenderError, match="solid colour"):
        render(service, "src=is{?layer=0&color=ff0000}&wid=10")


def test_text_layers_of_nested_requests_are_measured(service: ImageService) -> None:
    # a nested white card with a black text layer: the text is drawn inside the nested result
    card = "is{?layer=0&size=200,100&color=ffffff&layer=1&text=HELLO%20WORLD}"
    result = render(service, f"layer=0&size=200,100&color=ff0000&layer=1&src={card}&fmt=png")
    assert result.plan is not None and "text(" in result.plan.describe()
    image = pixels(result.data)
    assert at(image, 2, 2) == WHITE  # the card covers the red canvas
    darkest = min(image[0].getpoint(x, 50)[0] for x in range(200))
    assert darkest < 128  # some of the text's ink crosses the middle row


def test_is_image_without_a_company_is_not_found(served: str) -> None:
    # §1.1's object is [rootId/]objId: on this server the company is the root, so a request
    # without one names no catalog to find layer sources in
    import httpx

    root = served.removesuffix("/Acme")
    reply = httpx.get(f"{root}?layer=0&size=40,40&color=ffffff&fmt=png")
    assert reply.status_code == 404
    assert httpx.get(f"{served}?layer=0&size=40,40&color=ffffff&fmt=png").status_code == 200
