"""Catalog attributes per company (DefaultPix, MaxPix, ...; issue 10 item 1) and the catalog
version that lets server processes cache lookups (item 5): reading values, the CLI, the JSON
API, and a real ``isrender serve`` process, on SQLite and PostgreSQL."""

from __future__ import annotations

import os
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import pyvips
from click.testing import CliRunner

from isrender.catalog import Catalog, Role
from isrender.catalog.attribute_store import company_attributes, set_company_attributes
from isrender.catalog.versioning import read_version
from isrender.cli import main
from isrender.commands.values import Quality
from isrender.config import Settings
from isrender.errors import InvalidAttributeError, IpsFault
from isrender.render.attributes import CatalogAttributes, attribute_spec, resolve
from isrender.server import create_app
from tests.http_server import running, serving_process
from tests.render_fixtures import gradient

POLL = 0.5  # catalog_poll_interval, the documented bound (README)
ISRENDER = [sys.executable, "-c", "from isrender.cli import main; main()"]  # a CLI process


@pytest.mark.parametrize(
    ("name", "text", "value"),
    [
        ("DefaultPix", "400,400", (400, 400)),
        ("defaultpix", " 0 , 0 ", (0, 0)),
        ("MaxPix", "2000,1500", (2000, 1500)),
        ("JpegQuality", "90,1", Quality(90, True)),
        ("JpegQuality", "75", Quality(75, False)),
        ("ResMode", "bicub", "bicub"),
        ("ResMode", "2", "bilin"),
        ("Resolution", "72", 72.0),
        ("Expiration", "-1", -1.0),
        ("Expiration", "0.5", 0.5),
        ("RequestLock", "1", True),
        ("RequestObfuscation", "false", False),
        ("DefaultImage", "missing ", "missing"),
    ],
)
def test_attribute_values_read_as_in_an_is_catalog(name: str, text: str, value: object):
    assert attribute_spec(name).parse(text) == value


def test_bkg_color_takes_both_hex_forms():
    spec = attribute_spec("BkgColor")
    assert spec.parse("0xff0000") == spec.parse("ff0000") != spec.parse("00ff00")


@pytest.mark.parametrize(
    ("name", "text"),
    [
        ("DefaultPix", "400"),
        ("DefaultPix", "-1,4"),
        ("MaxPix", "400,400,1"),
        ("JpegQuality", "101"),
        ("JpegQuality", "80&wid=9"),
        ("BkgColor", "nocolour"),
        ("ResMode", "nearest"),
        ("Resolution", "0"),
        ("Resolution", "nan"),
        ("Expiration", "-2"),
        ("RequestLock", "maybe"),
        ("DefaultImage", "a\nb"),
    ],
)
def test_bad_attribute_values_are_refused_naming_the_form(name: str, text: str):
    with pytest.raises(InvalidAttributeError) as caught:
        attribute_spec(name).parse(text)
    assert caught.value.code == 30001 and name in caught.value.reason


def test_an_unknown_attribute_suggests_the_closest():
    with pytest.raises(IpsFault, match="did you mean MaxPix"):
        attribute_spec("MaxPixx")


def test_server_settings_are_the_defaults_and_company_values_win(tmp_path: Path):
    settings = Settings(data_dir=tmp_path, default_pix="300,200", expiration=7200)
    inherited = resolve({}, settings)
    assert inherited.render.default_pix == (300, 200) and inherited.render.max_pix == (2000, 2000)
    assert inherited.expiration == 2.0 and inherited.max_age == 7200
    own = resolve({"MaxPix": "500,500", "Expiration": "-1"}, settings)
    assert own.render.max_pix == (500, 500) and own.max_age == 365 * 24 * 3600
    assert own.render.fingerprint != inherited.render.fingerprint
    assert CatalogAttributes().max_pix == (0, 0)  # renders outside the server: unlimited (D-50)


@pytest.fixture
def catalog(tmp_path: Path, database_url: str) -> Iterator[Catalog]:
    catalog = Catalog(Settings(data_dir=tmp_path / "data", database_url=database_url))
    yield catalog
    catalog.close()


def _version(catalog: Catalog) -> int:
    with catalog.engine.connect() as connection:
        return read_version(connection)


def test_every_write_the_server_reads_bumps_the_catalog_version(catalog: Catalog, tmp_path: Path):
    start = _version(catalog)
    acme = catalog.add_company("Acme").id
    after_company = _version(catalog)
    catalog.save_preset(acme, "thumb", "wid=100")
    after_preset = _version(catalog)
    set_company_attributes(catalog, acme, {"MaxPix": "900,900"})
    after_attribute = _version(catalog)
    gradient(50, 40).write_to_file(str(tmp_path / "g.png"))
    catalog.upload(acme, [tmp_path / "g.png"])
    after_upload = _version(catalog)
    assert start < after_company < after_preset < after_attribute < after_upload
    catalog.presets(acme), catalog.assets(acme), company_attributes(catalog, acme)  # reads
    catalog.add_user("u@acme.example", "pw", Role.IPS_USER, ((acme, None),))  # not served
    assert _version(catalog) == after_upload


def test_attributes_set_and_reset_all_or_nothing(catalog: Catalog):
    acme = catalog.add_company("Initech").id
    assert set_company_attributes(catalog, acme, {"maxpix": "900,900", "JpegQuality": "70"}) == {
        "MaxPix": "900,900",
        "JpegQuality": "70",
    }
    with pytest.raises(InvalidAttributeError):
        set_company_attributes(catalog, acme, {"MaxPix": None, "DefaultPix": "x"})
    assert company_attributes(catalog, acme)["MaxPix"] == "900,900"  # nothing was written
    assert set_company_attributes(catalog, acme, {"MaxPix": None}) == {"JpegQuality": "70"}


def _cli(data_dir: Path, *args: str) -> tuple[int, str]:
    env = {"ISRENDER_DATA_DIR": str(data_dir), "ISRENDER_CONFIG": str(data_dir / "none.toml")}
    result = CliRunner().invoke(main, list(args), env=env)
    return result.exit_code, result.output


def test_company_set_and_show_on_the_command_line(tmp_path: Path):
    data = tmp_path / "data"
    assert _cli(data, "catalog", "init")[0] == 0
    assert _cli(data, "company", "add", "Acme")[0] == 0
    code, out = _cli(data, "company", "set", "Acme", "--max-pix", "800,600", "--res-mode", "3")
    assert code == 0 and "MaxPix=800,600\n" in out and "DefaultPix=400,400  (server" in out
    code, out = _cli(data, "company", "show", "Acme")
    assert code == 0 and "ResMode=3\n" in out and "overwriteMode OverwriteFullName" in out
    code, out = _cli(data, "company", "set", "Acme", "--reset", "MaxPix")
    assert code == 0 and "MaxPix=2000,2000  (server setting)" in out
    for bad in (["--default-pix", "big"], ["--reset", "Nope"], []):
        code, out = _cli(data, "company", "set", "Acme", *bad)
        assert code == 2, out


def test_the_json_api_reads_and_sets_attributes_for_admins_only(tmp_path: Path):
    settings = Settings(data_dir=tmp_path / "data")
    catalog = Catalog(settings)
    acme = catalog.add_company("Acme").id
    catalog.add_user("admin@acme.example", "pw", Role.IPS_COMPANY_ADMIN, ((acme, None),))
    catalog.add_user("user@acme.example", "pw", Role.IPS_USER, ((acme, None),))
    path = "/api/ips/v1/companies/Acme/attributes"
    with running(create_app(settings, catalog, job_worker=False)) as url:
        admin = httpx.Client(base_url=url, auth=("admin@acme.example", "pw"))
        user = httpx.Client(base_url=url, auth=("user@acme.example", "pw"))
        reply = admin.get(path).json()
        assert reply["attributes"]["MaxPix"] == {"value": "2000,2000", "source": "server"}
        put = admin.put(path, json={"attributes": {"MaxPix": "640,480", "BkgColor": None}})
        assert put.status_code == 200
        assert put.json()["attributes"]["MaxPix"] == {"value": "640,480", "source": "company"}
        refused = [
            (user.get(path), 403),
            (user.put(path, json={"attributes": {"MaxPix": "1,1"}}), 403),
            (admin.put(path, json={"attributes": {"MaxPix": "huge"}}), 400),
            (admin.put(path, json={"attributes": {"MaxPix": 5}}), 400),
            (admin.put(path, json={"attributes": ["MaxPix"]}), 400),
            (httpx.get(f"{url}{path}"), 401),
        ]
        for reply_, status in refused:
            assert reply_.status_code == status and "fault" in reply_.json()
    assert company_attributes(catalog, acme) == {"MaxPix": "640,480"}


# ---- a real server process ----------------------------------------------------------------


@pytest.fixture
def served(tmp_path: Path, database_url: str) -> Iterator[tuple[str, str, dict[str, str]]]:
    """``isrender serve`` on a catalog with a new company and a 3000x2000 photo; yields the
    image URL, the company and the environment a CLI subprocess needs to reach the catalog."""
    data = tmp_path / "data"
    settings = Settings(data_dir=data, database_url=database_url)
    catalog = Catalog(settings)
    company = f"Co{uuid.uuid4().hex[:8]}"  # the PostgreSQL database is shared by the module
    acme = catalog.add_company(company).id
    gradient(3000, 2000).write_to_file(str(tmp_path / "big.jpg"))
    catalog.upload(acme, [tmp_path / "big.jpg"])
    catalog.save_preset(acme, "card", "wid=120")
    catalog.close()
    env = {"ISRENDER_DATABASE_URL": database_url, "ISRENDER_CONFIG": str(data / "none.toml"),
           "ISRENDER_RESULT_CACHE_MB": "0"}  # fmt: skip
    with serving_process(str(data), **env) as url:
        yield f"{url}/is/image/{company}/big", company, {**os.environ,
              "ISRENDER_DATA_DIR": str(data), **env}  # fmt: skip


def _size(reply: httpx.Response) -> tuple[int, int]:
    assert reply.status_code == 200, reply.text
    image = pyvips.Image.new_from_buffer(reply.content, "")
    return image.width, image.height


def test_no_size_and_oversize_requests_follow_defaultpix_and_maxpix(served):
    image, company, env = served
    cases = [("", (400, 267)), ("wid=2000", (2000, 1333)), ("hei=900&fmt=png", (1350, 900))]
    for query, size in cases:
        assert _size(httpx.get(f"{image}?{query}")) == size
    for query in ("wid=2001", "scl=1", "wid=1500&hei=2500"):
        refused = httpx.get(f"{image}?{query}")
        assert refused.status_code == 403 and "MaxPix" in refused.text, query
    cli = [*ISRENDER, "company", "set", company, "--default-pix", "0,0",
           "--max-pix", "0,0"]  # fmt: skip
    subprocess.run(cli, env=env, check=True, capture_output=True)
    time.sleep(POLL + 0.2)
    assert _size(httpx.get(f"{image}?")) == (3000, 2000)  # unconstrained, as configured


def test_a_preset_changed_from_the_cli_is_served_within_the_bound(served):
    url, company, env = served
    image = f"{url}?$card$"
    assert _size(httpx.get(image)) == (120, 80)  # cached in the server from now on
    cli = [*ISRENDER, "presets", "add", "card", "wid=300", "--company",
           company]  # fmt: skip
    subprocess.run(cli, env=env, check=True, capture_output=True)
    changed = time.monotonic()
    while _size(httpx.get(image)) != (300, 200):
        assert time.monotonic() - changed < POLL + 0.3, "the old preset outlived the bound"
        time.sleep(0.02)


def test_expiration_and_request_lock_are_per_company(served):
    url, company, env = served
    cli = [*ISRENDER, "company", "set", company, "--expiration", "2",
           "--request-lock", "1"]  # fmt: skip
    subprocess.run(cli, env=env, check=True, capture_output=True)
    time.sleep(POLL + 0.2)
    from isrender.server.urls import lock_hash

    assert httpx.get(f"{url}?wid=50").status_code == 403  # no lock
    locked = httpx.get(f"{url}?wid=50&{lock_hash('wid=50')}")
    assert locked.headers["cache-control"] == "public, max-age=7200"
    assert _size(locked) == (50, 33)
