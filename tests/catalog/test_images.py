"""catalog/images.py: what the image server keeps per process, and when it lets it go."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from isrender.catalog import Catalog
from isrender.catalog.images import CatalogImages
from isrender.config import Settings
from tests.render_fixtures import gradient


@pytest.fixture
def catalog(tmp_path: Path) -> Catalog:
    catalog = Catalog(Settings(data_dir=tmp_path / "data"))
    gradient(200, 100).write_to_file(str(tmp_path / "grad.jpg"))
    catalog.upload(catalog.add_company("Acme").id, [tmp_path / "grad.jpg"])
    catalog.save_preset(catalog.company("Acme").id, "thumb", "wid=50")
    return catalog


def planned(images: CatalogImages, modifiers: str) -> object:
    prepared = images.prepare("Acme", "grad", modifiers)
    return images.plan_render(prepared, images.service_for(prepared))


def test_a_repeated_request_is_planned_once(catalog: Catalog) -> None:
    images = CatalogImages(catalog, poll_interval=60)
    first = planned(images, "wid=40")
    assert planned(images, "wid=40") is first
    assert planned(images, "wid=40&&") is first  # the same effective request, the same ETag
    assert planned(images, "wid=41") is not first


@pytest.mark.parametrize("change", ["reupload", "preset"])
def test_a_catalog_change_plans_again(catalog: Catalog, tmp_path: Path, change: str) -> None:
    images = CatalogImages(catalog, poll_interval=60)  # this process's writes are seen at once
    first = planned(images, "$thumb$")
    if change == "reupload":
        gradient(300, 100).write_to_file(str(tmp_path / "grad.jpg"))
        catalog.upload(catalog.company("Acme").id, [tmp_path / "grad.jpg"], overwrite=True)
    else:
        catalog.save_preset(catalog.company("Acme").id, "thumb", "wid=60")
    again = planned(images, "$thumb$")
    assert again is not first
    expected = (50, 17) if change == "reupload" else (60, 30)  # 300x100 or wid=60 now
    assert again.plan.reply_size == expected  # type: ignore[attr-defined]


def test_an_edited_font_map_changes_the_etag_and_plans_again(tmp_path: Path) -> None:
    from tests.render.test_font_map_setting import MAP_TOML

    fonts = tmp_path / "fonts.toml"
    fonts.write_text(MAP_TOML)
    catalog = Catalog(Settings(data_dir=tmp_path / "data", font_map=fonts))
    gradient(200, 100).write_to_file(str(tmp_path / "grad.jpg"))
    catalog.upload(catalog.add_company("Acme").id, [tmp_path / "grad.jpg"])
    images = CatalogImages(catalog, poll_interval=0)  # every lookup checks
    before = images.prepare("Acme", "grad", "wid=40")
    job = planned(images, "wid=40")
    stat = fonts.stat()
    os.utime(fonts, ns=(stat.st_atime_ns, stat.st_mtime_ns + 10**9))  # edited a second later
    after = images.prepare("Acme", "grad", "wid=40")
    assert after.etag != before.etag  # so the result cache's key moves too
    assert planned(images, "wid=40") is not job
