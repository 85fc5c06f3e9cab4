"""The ``font_map`` setting reaches the text renderer: Settings -> CatalogAttributes.font_map
(render/attributes.py resolve) -> plan_render measures and VipsOps draws with that map
(render/vips/text.py font_map_at), for ImageService, the image server's companies and
``isrender convert``."""

from __future__ import annotations

from pathlib import Path

import pytest
import pyvips
from click.testing import CliRunner

from isrender.config import Settings
from isrender.errors import FontNotFoundError
from isrender.render.attributes import CatalogAttributes, resolve
from isrender.service import ImageService, SourceRecord
from isrender.text.fonts import default_font_map

# "Brand" is no font of the shipped map; the setting's map makes it DejaVu Sans Mono
BRAND = r"{\rtf1{\fonttbl{\f0 Brand;}}\f0\fs40 iiiiiiii}"
MAPPED = f"layer=0&size=400,60&color=ffffff&layer=1&text={BRAND}&pos=0,0&fmt=png"
MAP_TOML = '[fonts]\n"Brand" = "DejaVu Sans Mono"\n'


@pytest.fixture
def font_map(tmp_path: Path) -> Path:
    if default_font_map().face("DejaVu Sans Mono").family != "DejaVu Sans Mono":
        pytest.skip("DejaVu Sans Mono is not installed (apt-get install fonts-dejavu-core)")
    path = tmp_path / "fonts.toml"
    path.write_text(MAP_TOML)
    return path


def ink_width(data: bytes) -> int:
    """Columns with any dark pixel: 8 'i's are narrow in a proportional font, not in a mono."""
    image = pyvips.Image.new_from_buffer(data, "")[0]
    columns, _ = (image < 128).project()
    return sum(1 for x in range(columns.width) if columns.getpoint(x, 0)[0] > 0)


def render(attributes: CatalogAttributes, modifiers: str) -> bytes:
    service = ImageService(attributes)
    prepared = service.prepare(SourceRecord("", None, ""), modifiers, strict=True)
    return service.render(prepared).data


def test_the_settings_map_is_the_one_text_layers_use(font_map: Path) -> None:
    with pytest.raises(FontNotFoundError, match="'Brand' is not in the font map"):
        render(CatalogAttributes(), MAPPED)  # the shipped map alone does not know it
    mono = ink_width(render(CatalogAttributes(font_map=font_map), MAPPED))
    sans = ink_width(render(CatalogAttributes(), MAPPED.replace(" Brand;", " Arial;")))
    assert mono > 1.5 * sans  # DejaVu Sans Mono's 'i' is a full cell wide


def test_the_server_s_companies_get_the_setting(font_map: Path, tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path / "data", font_map=font_map)
    served = resolve({}, settings).render
    assert served.font_map == font_map
    # a map changes what text looks like: the ETag basis of every company changes with it
    unset = resolve({}, Settings(data_dir=tmp_path / "data")).render
    assert served.fingerprint != unset.fingerprint
    assert ink_width(render(served, MAPPED)) > 0


def test_isrender_convert_uses_the_setting(
    font_map: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from isrender.cli import main

    monkeypatch.setenv("ISRENDER_CONFIG", str(tmp_path / "absent.toml"))
    white, target = tmp_path / "white.png", tmp_path / "brand.png"
    pyvips.Image.black(400, 60).invert().pngsave(str(white))
    arguments = ["convert", str(white), f"layer=1&text={BRAND}&fmt=png", "-o", str(target)]
    refused = CliRunner().invoke(main, arguments)
    assert refused.exit_code != 0 and "'Brand' is not in the font map" in refused.output
    monkeypatch.setenv("ISRENDER_FONT_MAP", str(font_map))
    result = CliRunner().invoke(main, arguments)
    assert result.exit_code == 0, result.output
    assert ink_width(target.read_bytes()) > 0
