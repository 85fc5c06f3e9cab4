"""Issue 13's must-show images: ``isrender convert`` and ``/is/image`` render (a) a template
filled with text (``template=label&$text01=...``: a text layer using the variable) and (b) the
photo with a logo layer and a drop shadow (``effect=-1&$shadow$``).

The expected images are committed under tests/expected/ and compared by a perceptual
difference, not bytes: both images are blurred (gaussian, sigma BLUR) so a glyph edge a pixel
off, a hinting change or another libvips' rounding weighs little, then
- the mean absolute difference per channel must stay under MEAN_LEVELS (of 255), and
- the share of pixels where some channel differs by more than FAR_LEVELS must stay under
  FAR_SHARE: a missing word, a missing shadow or a misplaced logo fails this even when the
  mean stays low.
``test_the_comparison_tells_a_wrong_image`` shows the thresholds reject wrong renders.

Regenerate the expected images (after a deliberate change, looking at them first) with
``.venv/bin/python -m tests.render.test_must_show``.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import pyvips
from click.testing import CliRunner

from isrender.text.fonts import default_font_map
from tests import render_fixtures
from tests.services import service_absent

EXPECTED = Path(__file__).resolve().parents[1] / "expected"
BLUR = 1.5  # sigma, pixels
MEAN_LEVELS = 1.5
FAR_LEVELS = 40
FAR_SHARE = 0.002  # 0.2 % of the pixels: the text's ink alone is ~4 %, the shadow's ~3 %

LABEL = (
    "$text01=Sample&layer=0&size=400,200&color=ffffff"
    "&layer=1&src=$object$&size=180,180&pos=-100,0"
    r"&layer=2&text={\rtf1\ansi{\fonttbl{\f0\fswiss Arial;}}{\colortbl;\red200\green0\blue0;}"
    r"\f0\fs56\cf1\b $text01$}&size=190,0&pos=95,0"
)
# name: (modifiers on the photo, whether it draws text)
IMAGES = {
    "template_text": ("template=label&$text01=Hello+there&fmt=png", True),
    "logo_shadow": (
        "wid=400&layer=1&src=logo&size=1200,600&effect=-1&$shadow$&pos=50,50&op_blur=25&fmt=png",
        False,
    ),
}


def difference(got: pyvips.Image, expected: pyvips.Image) -> tuple[float, float]:
    """(mean absolute difference per channel, share of pixels off by more than FAR_LEVELS),
    both after blurring; images of different sizes are as different as can be."""
    if (got.width, got.height) != (expected.width, expected.height):
        return 255.0, 1.0
    a, b = (_rgb(image).gaussblur(BLUR) for image in (got, expected))
    off = (a - b).abs()
    far = (off > FAR_LEVELS).bandbool("or")
    return float(off.avg()), float(far.avg()) / 255


def _rgb(image: pyvips.Image) -> pyvips.Image:
    if image.hasalpha():
        image = image.flatten(background=255)
    return image.cast("float")


def assert_looks_like(data: bytes, name: str) -> None:
    got = pyvips.Image.new_from_buffer(data, "")
    expected = pyvips.Image.new_from_file(str(EXPECTED / f"{name}.png"))
    mean, far = difference(got, expected)
    assert mean <= MEAN_LEVELS and far <= FAR_SHARE, (
        f"{name}: mean difference {mean:.2f} levels (limit {MEAN_LEVELS}), "
        f"{far:.2%} of the pixels far off (limit {FAR_SHARE:.2%})"
    )


def needs_the_expected_font(draws_text: bool) -> None:
    """The text image was drawn with Liberation Sans (fonts-liberation, installed by .ci/run):
    another font makes other glyphs, which is not what this test checks."""
    if draws_text and default_font_map().face("Arial").family != "Liberation Sans":
        service_absent("Liberation Sans is not installed (apt-get install fonts-liberation)")


@pytest.fixture(scope="module")
def objects(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    return render_fixtures.write_fixtures(tmp_path_factory.mktemp("must_show"))


def convert(objects: dict[str, Path], modifiers: str, target: Path) -> bytes:
    """``isrender convert photo.png MODIFIERS -o TARGET --template label=...``."""
    from isrender.cli import main

    arguments = ["convert", str(objects["photo"]), modifiers, "-o", str(target),
                 "--template", f"label={LABEL}"]  # fmt: skip
    result = CliRunner().invoke(main, arguments)
    assert result.exit_code == 0, result.output + str(result.exception)
    return target.read_bytes()


@pytest.mark.parametrize("name", sorted(IMAGES))
def test_isrender_convert_renders_it(objects: dict[str, Path], tmp_path: Path, name: str) -> None:
    modifiers, draws_text = IMAGES[name]
    needs_the_expected_font(draws_text)
    assert_looks_like(convert(objects, modifiers, tmp_path / f"{name}.png"), name)


@pytest.fixture(scope="module")
def served(
    tmp_path_factory: pytest.TempPathFactory, objects: dict[str, Path], database_url: str
) -> Iterator[str]:
    """A real uvicorn server; company ``show`` has the photo and the logo as assets and the
    ``label`` template."""
    from isrender.catalog import Catalog
    from isrender.catalog.templates import save_template
    from isrender.config import Settings
    from isrender.server import create_app
    from tests.http_server import running

    data = tmp_path_factory.mktemp("must_show_served") / "data"
    catalog = Catalog(Settings(data_dir=data, database_url=database_url))
    company = catalog.add_company("show").id
    catalog.upload(company, [objects["photo"], objects["logo"]], "products")
    save_template(catalog, company, "label", LABEL)
    try:
        with running(create_app(catalog.settings, catalog, job_worker=False)) as url:
            yield url
    finally:
        catalog.close()


@pytest.mark.parametrize("name", sorted(IMAGES))
def test_is_image_renders_it(served: str, name: str) -> None:
    modifiers, draws_text = IMAGES[name]
    needs_the_expected_font(draws_text)
    reply = httpx.get(f"{served}/is/image/show/photo?{modifiers}")
    assert reply.status_code == 200, reply.text
    assert reply.headers["content-type"] == "image/png"
    assert_looks_like(reply.content, name)


WRONG = [
    # (expected image, a wrong request: what the comparison must reject)
    ("template_text", "template=label&$text01=Hello+where&fmt=png"),  # one letter
    ("template_text", "template=label&fmt=png"),  # the body's default text
    ("logo_shadow", "wid=400&layer=1&src=logo&size=1200,600&fmt=png"),  # no shadow
    ("logo_shadow", "wid=400&layer=1&src=logo&size=1200,600&effect=-1&$shadow$&fmt=png"),
]


@pytest.mark.parametrize(("name", "modifiers"), WRONG, ids=[m for _, m in WRONG])
def test_the_comparison_tells_a_wrong_image(
    objects: dict[str, Path], tmp_path: Path, name: str, modifiers: str
) -> None:
    needs_the_expected_font(IMAGES[name][1])
    with pytest.raises(AssertionError, match="far off"):
        assert_looks_like(convert(objects, modifiers, tmp_path / "wrong.png"), name)


def write_expected() -> None:
    """Render the expected images with the CLI (run this file as a module)."""
    import tempfile

    with tempfile.TemporaryDirectory() as folder:
        objects = render_fixtures.write_fixtures(Path(folder))
        EXPECTED.mkdir(exist_ok=True)
        for name, (modifiers, _) in IMAGES.items():
            data = convert(objects, modifiers, Path(folder) / f"{name}.png")
            pyvips.Image.new_from_buffer(data, "").pngsave(str(EXPECTED / f"{name}.png"),
                                                           compression=9)  # fmt: skip
            print(f"wrote {EXPECTED / f'{name}.png'}", file=sys.stderr)


if __name__ == "__main__" and not os.environ.get("PYTEST_CURRENT_TEST"):
    write_expected()
