"""Fixtures of the web UI tests (test_ui.py over HTTP, test_ui_browser.py in Chromium)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from tests.catalog_fixture import Fixture


@pytest.fixture(scope="module")
def ui_fx(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Fixture]:
    """The §6.1 catalog on SQLite, one per test module: the UI has no database-specific code of
    its own."""
    from tests.catalog_fixture import build  # imports pyvips: only for the modules that use it

    built = build(tmp_path_factory.mktemp("ui") / "data")
    yield built
    built.catalog.close()


@pytest.fixture(scope="module")
def ui_server(ui_fx: Fixture) -> Iterator[str]:
    """A real uvicorn server on 127.0.0.1 serving ``ui_fx``'s catalog; yields its base URL."""
    from isrender.server import create_app
    from tests.http_server import running

    with running(create_app(ui_fx.catalog.settings, ui_fx.catalog)) as url:
        yield url
