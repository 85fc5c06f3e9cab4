"""Issue 11, accounts: login throttling, equal hash work for unknown users, defusedxml on SOAP,
passwords in the CLI without a terminal, invalid presets and mistyped settings."""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from click.testing import CliRunner

from isrender.catalog import Catalog, Role
from isrender.cli import main
from isrender.config import Settings
from isrender.errors import IpsFault
from isrender.server import create_app
from tests.http_server import running

FORMATS = "/api/ips/v1/companies/c%7C1/image-formats"
SOAP = "/scene7/services/IpsApiService"
ISRENDER = (sys.executable, "-c", "from isrender.cli import main; main()")  # a real process
LIMITS = {"login_failures_per_account": 3, "login_failures_per_address": 8,
          "login_failure_window": 60.0, "login_lockout_seconds": 1.5}  # fmt: skip


def make_catalog(data_dir: Path, **settings: object) -> Catalog:
    catalog = Catalog(Settings(data_dir=data_dir, **settings))  # type: ignore[arg-type]
    acme = catalog.add_company("Acme").id
    for email in ("a@acme.example", "b@acme.example"):
        catalog.add_user(email, "secret", Role.IPS_USER, ((acme, None),))
    return catalog


@pytest.fixture
def guarded(tmp_path: Path) -> Iterator[str]:
    """A real uvicorn server whose catalog locks after 3 failures per account, 8 per address."""
    catalog = make_catalog(tmp_path / "data", **LIMITS)
    with running(create_app(catalog.settings, catalog)) as url:
        yield url


def fault(reply: httpx.Response) -> tuple[int, int]:
    return reply.status_code, reply.json()["fault"]["code"]


def test_throttle_per_account_answers_429_then_the_right_password_works(guarded: str) -> None:
    for _ in range(3):
        assert fault(httpx.get(guarded + FORMATS, auth=("a@acme.example", "wrong"))) == (
            401,
            10001,
        )
    locked = httpx.get(guarded + FORMATS, auth=("a@acme.example", "secret"))
    assert fault(locked) == (429, 10001) and "too many failed logins" in locked.text
    wait = int(locked.headers["retry-after"])
    assert wait in (1, 2)  # the lock has about a second to run
    other = httpx.get(guarded + FORMATS, auth=("b@acme.example", "secret"))
    assert other.status_code == 200  # another account from the same address still works
    time.sleep(wait)
    assert httpx.get(guarded + FORMATS, auth=("a@acme.example", "secret")).status_code == 200


def test_throttle_per_client_address(guarded: str) -> None:
    for n in range(8):  # eight accounts, one failure each: only the address count reaches 8
        reply = httpx.get(guarded + FORMATS, auth=(f"nobody{n}@acme.example", "x"))
        assert fault(reply) == (401, 10001)
    locked = httpx.get(guarded + FORMATS, auth=("a@acme.example", "secret"))
    assert fault(locked) == (429, 10001) and "retry-after" in locked.headers
    time.sleep(int(locked.headers["retry-after"]))


def soap(user: str, password: str, status_header: str = "") -> str:
    return (
        '<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/" '
        'xmlns:ns="http://www.scene7.com/IpsApi/xsd/2014-04-03"><soapenv:Header><ns:authHeader>'
        f"<ns:user>{user}</ns:user><ns:password>{password}</ns:password>{status_header}"
        "</ns:authHeader></soapenv:Header><soapenv:Body><ns:getImageFormatsParam>"
        "<ns:companyHandle>c|1</ns:companyHandle></ns:getImageFormatsParam></soapenv:Body>"
        "</soapenv:Envelope>"
    )


def test_throttle_applies_to_soap_with_retry_after(guarded: str) -> None:
    for _ in range(3):
        assert (
            "<code>10001</code>"
            in httpx.post(guarded + SOAP, content=soap("a@acme.example", "x")).text
        )
    locked = httpx.post(guarded + SOAP, content=soap("a@acme.example", "secret"))
    assert "<code>10001</code>" in locked.text and "too many failed logins" in locked.text
    assert int(locked.headers["retry-after"]) >= 1


def median_seconds(catalog: Catalog, email: str, password: str) -> float:
    times = []
    for _ in range(5):
        start = time.perf_counter()
        with pytest.raises(IpsFault):
            catalog.authenticate(email, password)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


@pytest.mark.parametrize(("reveal", "unknown_code"), [(False, 10001), (True, 10002)])
def test_unknown_users_get_equal_hash_work_and_reveal_setting(
    tmp_path: Path, reveal: bool, unknown_code: int
) -> None:
    catalog = make_catalog(
        tmp_path / "data",
        reveal_unknown_users=reveal,
        login_failures_per_account=100,
        login_failures_per_address=100,
    )
    with pytest.raises(IpsFault) as unknown:
        catalog.authenticate("nobody@acme.example", "secret")
    assert unknown.value.code == unknown_code
    wrong = median_seconds(catalog, "a@acme.example", "wrong")
    absent = median_seconds(catalog, "nobody@acme.example", "wrong")
    assert absent > 0.5 * wrong  # the same scrypt work (it was 4.7 ms against 67 ms)


BOMB = ('<?xml version="1.0"?><!DOCTYPE l [<!ENTITY a "aaaaaaaaaa">'
        '<!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;"><!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;">]>'
        '<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/">'
        "<soapenv:Body>&c;</soapenv:Body></soapenv:Envelope>")  # fmt: skip
EXTERNAL = ('<?xml version="1.0"?><!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]>'
            "<x>&e;</x>")  # fmt: skip


@pytest.mark.parametrize(
    ("xml", "says"),
    [
        (BOMB, "DTDs and entities"),  # billion laughs
        (EXTERNAL, "DTDs and entities"),  # external entity
        ('<!DOCTYPE x SYSTEM "http://127.0.0.1:9/x.dtd"><x/>', "DTDs and entities"),
        ("<soapenv:Envelope><unclosed>", "not well-formed"),
    ],
)
def test_soap_xml_is_parsed_by_defusedxml(guarded: str, xml: str, says: str) -> None:
    reply = httpx.post(guarded + SOAP, content=xml.encode())
    assert reply.status_code == 500 and "<code>30003</code>" in reply.text and says in reply.text


def test_soap_long_digit_strings_are_not_converted(guarded: str) -> None:
    header = f"<ns:faultHttpStatusCode>{'4' * 5000}</ns:faultHttpStatusCode>"
    reply = httpx.post(guarded + SOAP, content=soap("a@acme.example", "wrong", header))
    assert reply.status_code == 500 and "<code>10001</code>" in reply.text  # not a crash


# ---- the command line -------------------------------------------------------------------------


def cli(*args: str, data: Path, stdin: str = "", **env: str) -> tuple[int, str]:
    environment = {"COLUMNS": "200", "ISRENDER_DATA_DIR": str(data), **env}
    result = CliRunner(env=environment).invoke(main, list(args), stdin)
    return result.exit_code, result.stdout + result.stderr


@pytest.fixture
def data(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.delenv("ISRENDER_PASSWORD", raising=False)
    monkeypatch.chdir(tmp_path)
    make_catalog(tmp_path / "data")
    return tmp_path / "data"


@pytest.mark.parametrize(
    "args",
    [
        ("upload", "--company", "Acme", "--user", "a@acme.example", "in.jpg"),
        ("export", "a|1", "--company", "Acme", "--user", "a@acme.example", "--orig"),
    ],
)
def test_cli_without_password_or_terminal_exits_2(data: Path, args: tuple[str, ...]) -> None:
    (data.parent / "in.jpg").write_bytes(b"\xff\xd8\xff")
    env = {k: v for k, v in os.environ.items() if k != "ISRENDER_PASSWORD"}
    done = subprocess.run([*ISRENDER, *args], stdin=subprocess.DEVNULL,
                          capture_output=True, text=True, cwd=data.parent,
                          env={**env, "ISRENDER_DATA_DIR": str(data)}, timeout=60)  # fmt: skip
    assert done.returncode == 2, done.stderr
    assert "--password" in done.stderr and "ISRENDER_PASSWORD" in done.stderr
    assert "internal error" not in done.stderr


@pytest.mark.parametrize(
    ("extra", "env", "stdin"),
    [
        (("--password", "pw1"), {}, ""),
        ((), {"ISRENDER_PASSWORD": "pw1"}, ""),
        (("--password-stdin",), {}, "pw1\n"),
    ],
)
def test_cli_user_add_password_sources(data: Path, extra: tuple[str, ...], env: dict[str, str],
                                       stdin: str) -> None:  # fmt: skip
    code, output = cli("user", "add", "new@acme.example", *extra, data=data, stdin=stdin, **env)
    assert code == 0, output
    assert Catalog(Settings(data_dir=data)).authenticate("new@acme.example", "pw1")


def test_cli_user_add_without_any_password_exits_2(data: Path) -> None:
    code, output = cli("user", "add", "new@acme.example", data=data)
    assert code == 2 and "--password" in output and "ISRENDER_PASSWORD" in output


def test_cli_presets_add_refuses_invalid_values_unless_allowed(data: Path) -> None:
    assert cli("presets", "add", "thumb", "wid=200", "--company", "Acme", data=data)[0] == 0
    code, output = cli("presets", "add", "thumb", "wid=abc", "--company", "Acme", data=data)
    assert code == 2 and "wid" in output and "'abc'" in output
    assert "$thumb$  wid=200" in cli("presets", "list", "--company", "Acme", data=data)[1]
    allowed = cli("presets", "add", "thumb", "wid=abc", "--company", "Acme", "--allow-invalid",
                  data=data)  # fmt: skip
    assert allowed[0] == 0
    assert "$thumb$  wid=abc" in cli("presets", "list", "--company", "Acme", data=data)[1]


@pytest.mark.parametrize(
    ("toml", "code", "says"),
    [
        ('export_workers = "three"', 2, "setting 'export_workers' must be an integer, not 'three'"),
        ("render_timeout = true", 2, "setting 'render_timeout' must be a number"),
        ("request_lock = 3", 2, "setting 'request_lock' must be true or false"),
        ("macro_files = [1]", 2, "setting 'macro_files' must be a list of paths"),
        ("exprot_workers = 3", 0, "unknown setting 'exprot_workers' ignored"),
    ],
)
def test_config_values_of_the_wrong_type_and_unknown_keys(tmp_path: Path, toml: str, code: int,
                                                          says: str) -> None:  # fmt: skip
    (tmp_path / "isrender.toml").write_text(f'[isrender]\ndata_dir = "data"\n{toml}\n')
    env = {k: v for k, v in os.environ.items() if not k.startswith("ISRENDER_")}
    done = subprocess.run([*ISRENDER, "catalog", "init"],
                          capture_output=True, text=True, cwd=tmp_path, env=env,
                          timeout=60)  # fmt: skip
    assert done.returncode == code and says in done.stderr, done.stderr
