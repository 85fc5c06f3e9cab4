"""Issue 11, item by item: hostile input, uploads and accounts, against real servers.

HTTP goes to a real uvicorn (``ips_server``: the §6.1 catalog; ``guarded``: a catalog with tight
login limits) or, where uvicorn's own limits matter, to ``isrender serve`` in its own process.
The job-handle name check is tested with the jobs code (tests/jobs/test_export.py), not here.
"""

from __future__ import annotations

import contextlib
import json
import socket
import struct
import zlib
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx
import pytest
from click.testing import CliRunner

from isrender.catalog import Role
from isrender.catalog.names import MAX_NAME_BYTES
from isrender.cli import main
from isrender.errors import InvalidNameError
from tests.catalog_fixture import Fixture
from tests.http_server import serving_process

API = "/api/ips/v1/companies/c%7C1"


def png_header(width: int, height: int) -> bytes:
    """A PNG whose header announces ``width`` x ``height`` (one row of data: the header is all
    an upload may read)."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        crc = struct.pack(">I", zlib.crc32(kind + data))
        return struct.pack(">I", len(data)) + kind + data + crc

    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    row = zlib.compress(b"\x00" * (width + 1))
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", row) + chunk(b"IEND", b"")


def jpeg(path: Path) -> bytes:
    return path.read_bytes()


def upload(base: str, parts: list[tuple[str, bytes]], **params: Any) -> dict[str, Any]:
    files = [("files", (name, data, "application/octet-stream")) for name, data in parts]
    reply = httpx.post(f"{base}{API}/uploads", auth=("editor@acme.example", "secret"),
                       files=files, data={"uploadParams": json.dumps(params)})  # fmt: skip
    assert reply.status_code == 201, reply.text
    handle = quote(reply.json()["jobHandle"], safe="")
    logs = httpx.get(f"{base}{API}/job-logs/{handle}", auth=("editor@acme.example", "secret"))
    return {"job": reply.json(), "lines": [(d["logType"], d["message"])
                                           for d in logs.json()["details"]]}  # fmt: skip


# ---- crashes: each a clear 4xx naming the problem ------------------------------------------

NINES = "9" * 5000


@pytest.mark.parametrize(
    ("query", "status", "named"),
    [
        ("scl=1e-308", 400, "scl=1e-308"),  # OverflowError in geometry.round_px before
        ("scl=1e308", 400, "scl=1e+308"),  # 422 "embed bad dimensions" before
        ("scl=5000", 400, "below one pixel"),
        (f"wid={NINES}", 400, "wid"),  # int() digit limit in commands/args.py before
        (f"bgc={NINES}", 400, "bgc"),
        (f"rotate=1{'0' * 400}.5", 400, "rotate"),
        ("rotate=1e400", 400, "rotate"),  # inf
        ("scale=1e300", 400, "scale=1e+300"),
        ("res=1e300", 400, "res=1e+300"),
        ("rect=0,0,100,100,1e300", 400, "rect= scale"),
        ("crop=0,0,1,1&scl=1e-300", 400, "scl=1e-300"),
        # dpr=on,1e300 is no crash number on the server any more: MaxPix caps the dpr ratio
    ],
)
def test_crash_numbers_answer_400(ips_server: str, query: str, status: int, named: str) -> None:
    reply = httpx.get(f"{ips_server}/is/image/Acme/shoe?{query}")
    assert (reply.status_code, reply.headers["cache-control"]) == (status, "no-store")
    assert named in reply.text and "internal" not in reply.text


def test_crash_long_query_string_is_414_before_parsing(ips_server: str) -> None:
    reply = httpx.get(f"{ips_server}/is/image/Acme/shoe?wid=100&" + "x" * 9000)
    assert reply.status_code == 414 and "max_query_length" in reply.text


def raw_get(url: str, target: bytes) -> bytes:
    """Send a request line of any length over a socket; return what came back before close."""
    host, port = url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=20) as sock:
        request = b"GET " + target + b" HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
        # the server may answer and close while the rest is still being sent
        with contextlib.suppress(BrokenPipeError, ConnectionResetError):
            sock.sendall(request)
        answer = b""
        try:
            while chunk := sock.recv(65536):
                answer += chunk
        except ConnectionResetError:
            pass
    return answer


def test_crash_megabyte_query_string_gets_an_answer(fx: Fixture) -> None:
    """1 MB: past uvicorn's 16 KiB request-head limit, uvicorn itself answers 400; 9 KB: ours."""
    data, database = str(fx.catalog.settings.data_dir), fx.catalog.settings.database_url
    with serving_process(data, ISRENDER_DATABASE_URL=database) as url:  # its own catalog
        huge = raw_get(url, b"/is/image/Acme/shoe?" + b"a" * 1_000_000)
        assert huge.split(b"\r\n")[0] in (b"HTTP/1.1 400 Bad Request", b"HTTP/1.1 414 URI Too Long")
        ours = raw_get(url, b"/is/image/Acme/shoe?" + b"a" * 9000)
        assert ours.startswith(b"HTTP/1.1 414") and b"max_query_length" in ours


def test_crash_300_character_file_name_is_one_upload_error(ips_server: str, fx: Fixture) -> None:
    photo = jpeg(fx.catalog.settings.data_dir / "incoming" / "oldshot.jpg")
    result = upload(ips_server, [("n" * 300 + ".jpg", photo), ("kept.jpg", photo)])
    kinds = [kind for kind, _ in result["lines"]]
    assert kinds.count("UploadError") == 1 and kinds.count("UploadSuccess") == 1
    assert any(f"at most {MAX_NAME_BYTES} bytes" in message for _, message in result["lines"])


# ---- uploads: nothing lost, nothing confused -------------------------------------------------


def test_upload_same_named_parts_are_each_kept(ips_server: str, fx: Fixture) -> None:
    incoming = fx.catalog.settings.data_dir / "incoming"
    first, second = jpeg(incoming / "oldshot.jpg"), (incoming / "SHOE.png").read_bytes()
    result = upload(ips_server, [("dup.jpg", first), ("dup.jpg", second)], destFolder="dups")
    assert [kind for kind, _ in result["lines"]][1:3] == ["UploadSuccess", "UploadSuccess"]
    assert "another file of this upload is also named 'dup.jpg'" in result["lines"][2][1]
    kept = {a.name: a for a in fx.catalog.assets(fx.acme) if a.folder.path == "dups/"}
    assert set(kept) == {"dup", "dup-1"}
    assert (kept["dup"].width, kept["dup-1"].width) == (300, 600)  # the JPEG, then the PNG


@pytest.mark.parametrize(
    ("width", "height", "refused"),
    [(16384, 16384, True), (30000, 30000, True), (100_000, 1001, True), (1000, 1000, False)],
)
def test_upload_above_max_source_pixels_is_refused_from_the_header(
    ips_server: str, width: int, height: int, refused: bool
) -> None:
    result = upload(ips_server, [(f"big{width}x{height}.png", png_header(width, height))])
    kind, message = result["lines"][1]
    assert kind == ("UploadError" if refused else "UploadSuccess")
    assert ("max_source_pixels" in message) is refused


# ---- one naming rule, everywhere names enter --------------------------------------------------

BAD_NAMES = [
    ("a|1", "'|' is reserved"),
    (" ", "blank"),
    ("..", "only dots"),
    ("x" * 201, "at most 200 bytes"),
    ("a/b", "'/' is reserved"),
    ("a\x07b", "control character"),
    ("q?x", "'?' is reserved"),
]


@pytest.mark.parametrize(("name", "why"), BAD_NAMES)
def test_names_refused_by_the_catalog(fx: Fixture, name: str, why: str) -> None:
    catalog = fx.catalog
    attempts = [
        lambda: catalog.add_company(name),
        lambda: catalog.add_user(name, "pw", Role.IPS_USER),
        lambda: catalog.add_asset(fx.acme, name, "ImageSet"),
    ]
    if name not in ("a/b", ".."):  # in a folder path these are a separator and the parent
        attempts.append(lambda: catalog.add_asset(fx.acme, "fine", "ImageSet", f"ok/{name}"))
    for attempt in attempts:
        with pytest.raises(InvalidNameError) as refused:
            attempt()
        assert refused.value.code == 30001 and why in refused.value.reason


@pytest.mark.parametrize(
    ("file_name", "why"), [("a|1.jpg", "'|' is reserved"), (" .jpg", "white space"),
                           ("..jpg", "only dots"), ("#1.jpg", "'#' is reserved")],
)  # fmt: skip
def test_names_refused_at_json_api_upload(ips_server: str, fx: Fixture, file_name: str,
                                          why: str) -> None:  # fmt: skip
    photo = jpeg(fx.catalog.settings.data_dir / "incoming" / "oldshot.jpg")
    kind, message = upload(ips_server, [(file_name, photo)])["lines"][1]
    assert kind == "UploadError" and why in message


def test_names_refused_in_json_api_dest_folder(ips_server: str, fx: Fixture) -> None:
    files = [("files", ("x.jpg", b"\xff\xd8", "image/jpeg"))]
    reply = httpx.post(f"{ips_server}{API}/uploads", auth=("editor@acme.example", "secret"),
                       files=files, data={"uploadParams": '{"destFolder": "a|b"}'})  # fmt: skip
    assert reply.status_code == 400 and reply.json()["fault"]["code"] == 30001


def run_cli(*args: str, env: dict[str, str] | None = None, stdin: str = "") -> tuple[int, str]:
    result = CliRunner(env={"COLUMNS": "200", **(env or {})}).invoke(main, list(args), stdin)
    return result.exit_code, result.stdout + result.stderr


@pytest.fixture
def cli_catalog(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, fx: Fixture) -> Path:
    monkeypatch.setenv("ISRENDER_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.delenv("ISRENDER_PASSWORD", raising=False)
    monkeypatch.chdir(tmp_path)
    assert run_cli("catalog", "init")[0] == 0  # only `catalog init` creates a catalog
    assert run_cli("company", "add", "Acme")[0] == 0
    assert run_cli("user", "add", "e@acme.example", "--password", "pw", "--company", "Acme")[0] == 0
    photo = fx.catalog.settings.data_dir / "incoming" / "oldshot.jpg"
    (tmp_path / "a|1.jpg").write_bytes(photo.read_bytes())
    return tmp_path


UPLOAD = ("upload", "--company", "Acme", "--user", "e@acme.example", "--password", "pw")


@pytest.mark.parametrize(
    ("args", "why"),
    [
        (("company", "add", "Ac|me"), "company name 'Ac|me'"),
        (("company", "add", "Acme2", "--root-path", "x/../y"), ""),
        (("user", "add", "e|x@acme.example", "--password", "pw"), "user name"),
        ((*UPLOAD, "--folder", "a|b", "a|1.jpg"), "folder name 'a|b'"),
    ],
)
def test_names_refused_at_the_cli(cli_catalog: Path, args: tuple[str, ...], why: str) -> None:
    code, output = run_cli(*args)
    assert code == 2 and why in output


def test_names_refused_at_cli_upload_per_file(cli_catalog: Path) -> None:
    code, output = run_cli("upload", "--company", "Acme", "--user", "e@acme.example",
                           "--password", "pw", "a|1.jpg")  # fmt: skip
    assert code == 2 and "UploadError" in output and "'|' is reserved" in output
