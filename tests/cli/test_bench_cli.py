"""``isrender bench`` (issue 16): real worker processes on corpus images, the floor in the
same run, failures listed and never timed, the chart, and --against a real ``isrender serve``."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from isrender.cli import main
from tests.conftest import shared_path

ROOT = Path(__file__).resolve().parents[2]
GOOD = ("jpeg/giunchedi-srgb.jpg", "exif/Landscape_1.jpg", "webp/lossy.webp")


def bench(*args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    """``isrender bench`` in its own process, as a user runs it."""
    command = [sys.executable, "-c", "from isrender.cli import main; main()", "bench", *args]
    env = {**os.environ, "COLUMNS": "200"}
    return subprocess.run(command, capture_output=True, text=True, timeout=timeout, env=env,
                          cwd=ROOT)  # fmt: skip


def corpus(*names: str) -> list[str]:
    return [str(shared_path("corpus", name)) for name in names]


def field(data: dict[str, Any], dotted: str) -> Any:
    for key in dotted.split("."):
        data = data[key]
    return data


# ---- a 2-second run over three corpus images ------------------------------------------------

ROW_FIELDS = [
    "modifiers", "workers", "images", "failures", "sources_timed", "wall_s", "images_per_s",
    "input_mpx_per_s", "output_bytes_mean", "output_bytes_total", "latency_ms.p50",
    "latency_ms.p95", "latency_ms.max", "cpu_s_per_image", "peak_rss_mb", "worker_peak_rss_mb",
    "floor.images", "floor.images_per_s", "floor.latency_ms.p50", "floor.latency_ms.p95",
    "floor.latency_ms.max", "floor.cpu_s_per_image", "floor.output_bytes_mean", "floor_ratio",
    "error",
]  # fmt: skip


@pytest.fixture(scope="module")
def two_seconds() -> dict[str, Any]:
    done = bench(*corpus(*GOOD), "--mods", "wid=300&fmt=webp&qlt=80", "--duration", "2", "--json")
    assert done.returncode == 0, done.stderr
    data: dict[str, Any] = json.loads(done.stdout)
    return data


@pytest.mark.parametrize("name", ROW_FIELDS)
def test_two_second_run_reports_every_field(two_seconds: dict[str, Any], name: str) -> None:
    (row,) = two_seconds["rows"]
    value = field(row, name)
    if name not in ("modifiers", "error", "failures", "worker_peak_rss_mb"):
        assert isinstance(value, int | float) and value > 0, (name, value)


def test_two_second_run_is_sane(two_seconds: dict[str, Any]) -> None:
    (row,) = two_seconds["rows"]
    assert row["failures"] == 0 and row["error"] == "" and two_seconds["failures"] == []
    assert row["wall_s"] >= 1.9 and row["wall_s"] < 5  # ran its two seconds, and stopped
    latency = row["latency_ms"]
    assert latency["p50"] <= latency["p95"] <= latency["max"]
    # raw libvips doing the same reply: isrender's extra work (parse, plan, checks) is small
    assert 0.5 <= row["floor_ratio"] <= 1.5, row["floor_ratio"]
    assert row["images"] == row["floor"]["images"] >= 6
    assert 40 < row["peak_rss_mb"] < 1000 and len(row["worker_peak_rss_mb"]) == 1
    assert two_seconds["settings"]["sources"] == row["sources_timed"] == 3


# ---- failures, and --workers 1,2 -------------------------------------------------------------

FAILING = [
    ("bad/truncated.jpg", "CorruptSourceError: the source image is truncated or damaged"),
    ("bad/one-byte.jpg", "SourceFormatError: the source is not an image format"),
    ("bomb/16384x16384.png", "SourceTooLargeError"),
    ("heif/hevc-256.heic", "SourceFormatError: HEIC (HEVC) images cannot be decoded"),
]


@pytest.fixture(scope="module")
def with_failures() -> dict[str, Any]:
    sources = corpus(GOOD[0], *(name for name, _ in FAILING))
    done = bench(*sources, "--mods", "wid=200", "--workers", "1,2", "--repeat", "3", "--json")
    assert done.returncode == 0, done.stderr
    data: dict[str, Any] = json.loads(done.stdout)
    return data


@pytest.mark.parametrize(("name", "error"), FAILING)
def test_failing_source_is_listed_with_its_error(
    with_failures: dict[str, Any], name: str, error: str
) -> None:
    listed = {Path(f["source"]).as_posix(): f["error"] for f in with_failures["failures"]}
    found = [message for source, message in listed.items() if source.endswith(name)]
    assert found and found[0].startswith(error), listed


def test_failures_are_counted_and_never_timed(with_failures: dict[str, Any]) -> None:
    for row in with_failures["rows"]:
        assert row["failures"] == len(FAILING)
        assert row["images"] == row["floor"]["images"] == 3  # 3 passes over the one good image


def test_workers_1_2_report_two_rows(with_failures: dict[str, Any]) -> None:
    rows = with_failures["rows"]
    assert [row["workers"] for row in rows] == [1, 2]
    assert [len(row["worker_peak_rss_mb"]) for row in rows] == [1, 2]  # one peak per process


def test_table_lists_failures_after_the_rows() -> None:
    done = bench(*corpus(GOOD[0], "bad/truncated.png"), "--mods", "wid=100", "--repeat", "1")
    assert done.returncode == 0, done.stderr
    assert "floor img/s" in done.stdout and "ratio" in done.stdout
    assert "1 source(s) failed (counted, not timed):" in done.stdout
    assert "truncated.png: CorruptSourceError" in done.stdout


# ---- --chart ---------------------------------------------------------------------------------


def _opens(path: Path) -> bool:
    if path.suffix == ".svg":
        return ET.parse(path).getroot().tag.endswith("svg")
    from isrender.render.vips.renderer import read_source_info

    info = read_source_info(path)
    return path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and info.width > 100


@pytest.mark.parametrize("suffix", [".png", ".svg"])
def test_chart_writes_a_file_that_opens(tmp_path: Path, suffix: str) -> None:
    chart = tmp_path / f"chart{suffix}"
    done = bench(*corpus(GOOD[0]), "--mods", "wid=100", "--mods", "$small$", "--macros",
                 str(_macros(tmp_path)), "--repeat", "1", "--chart", str(chart))  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert _opens(chart)


def _macros(folder: Path) -> Path:
    path = folder / "presets.toml"
    path.write_text('[macros]\nsmall = "wid=80&fmt=png"\n', encoding="utf-8")
    return path


def test_chart_without_matplotlib_names_the_extra(tmp_path: Path) -> None:
    block = "import sys; sys.modules['matplotlib'] = None; from isrender.cli import main; main()"
    command = [sys.executable, "-c", block, "bench", *corpus(GOOD[0]), "--mods", "wid=10",
               "--chart", str(tmp_path / "c.png")]  # fmt: skip
    done = subprocess.run(command, capture_output=True, text=True, timeout=60, cwd=ROOT)
    assert done.returncode == 2
    assert "pip install 'isrender[bench]'" in done.stderr
    assert not (tmp_path / "c.png").exists()


# ---- bad invocations: exit 2 before anything is measured -------------------------------------


def _run(*args: str) -> tuple[int, str]:
    result = CliRunner(env={"COLUMNS": "200"}).invoke(main, ["bench", *args])
    return result.exit_code, result.output + result.stderr


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("{photo}",), "give at least one --mods"),
        (("{photo}", "--mods", "wdi=3"), "did you mean 'wid'?"),
        (("{photo}", "--mods", "$nope$"), "unknown macro '$nope$'"),
        (("{photo}", "--mods", "wid=9", "--duration", "0"), "--duration must be more than 0"),
        (("{photo}", "--mods", "wid=9", "--duration", "301"), "at most 300 s"),
        (("{photo}", "--mods", "wid=9", "--duration", "1", "--repeat", "2"), "not both"),
        (("{photo}", "--mods", "wid=9", "--workers", "0"), "outside 1..256"),
        (("{photo}", "--mods", "wid=9", "--workers", "one"), "counts like 1,2,4"),
        (("nowhere/*.jpg", "--mods", "wid=9"), "no file, folder or glob match"),
        (("--mods", "wid=9"), "give the source images"),
        (("{photo}", "--mods", "wid=9", "--chart", "c.jpg"), ".png or .svg"),
        (("--against", "ftp://h/is/image/A/b", "--mods", "wid=9"), "explicit http:// or https://"),
        (("--against", "localhost:8080/is/image/A/b"), "explicit http:// or https://"),
        (("--against", "file:///etc/passwd"), "explicit http:// or https://"),
        (("--against", "http:///is/image/A/b"), "names no host"),
        (("--against", "http://h/is/image/A/b?wid=9"), "with --mods, not in the URL"),
        (("--against", "http://u:p@h/is/image/A/b"), "credentials"),
        (("--against", "http://h/admin"), "/is/image/<company>/<asset>"),
        (("--against", "http://h:99999/is/image/A/b"), "invalid port"),
        (("--against", "http://h/is/image/A/b", "--duration", "301"), "at most 300 s"),
        (("--against", "http://h/is/image/A/b", "--clients", "1,999"), "outside 1..256"),
        (("--against", "http://h/is/image/A/b", "{photo}"), "give no SOURCES"),
        (("--against", "http://h/is/image/A/b", "--workers", "2"), "--against takes --clients"),
        (("{photo}", "--mods", "wid=9", "--clients", "4"), "go with --against URL"),
    ],
)
def test_bad_invocations_exit_2(args: tuple[str, ...], message: str) -> None:
    photo = corpus(GOOD[0])[0]
    code, output = _run(*(a.replace("{photo}", photo) for a in args))
    assert code == 2, output
    assert message in output


# ---- --against a real isrender serve ---------------------------------------------------------


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    from isrender.catalog import Catalog
    from isrender.config import Settings
    from tests.http_server import serving_process

    data_dir = tmp_path_factory.mktemp("bench-served") / "data"
    catalog = Catalog(Settings(data_dir=data_dir))
    acme = catalog.add_company("Acme").id
    catalog.upload(acme, [Path(corpus(GOOD[0])[0])], "products")
    with serving_process(str(data_dir)) as url:
        yield url


def test_against_a_real_server(served: str) -> None:
    url = f"{served}/is/image/Acme/giunchedi-srgb"
    done = bench("--against", url, "--mods", "wid=120&fmt=jpeg", "--clients", "1,2",
                 "--duration", "1", "--json")  # fmt: skip
    assert done.returncode == 0, done.stderr
    data = json.loads(done.stdout)
    assert data["mode"] == "against" and [r["clients"] for r in data["rows"]] == [1, 2]
    for row in data["rows"]:
        assert row["requests"] > 0 and row["req_per_s"] > 0
        assert row["status_counts"] == {"200": row["requests"] - row["status_503"]}
        assert row["transport_errors"] == 0
        assert 0 < row["latency_ms"]["p50"] <= row["latency_ms"]["p99"]


def test_against_counts_statuses_and_stops_at_the_request_cap(served: str) -> None:
    url = f"{served}/is/image/Acme/no-such-asset"
    done = bench("--against", url, "--mods", "wid=50", "--duration", "5", "--max-requests", "7",
                 "--json")  # fmt: skip
    assert done.returncode == 0, done.stderr
    (row,) = json.loads(done.stdout)["rows"]
    assert row["requests"] == 7 and row["capped_by_requests"] is True
    assert row["status_counts"] == {"404": 7} and row["status_503"] == 0
    assert row["duration_s"] < 5


def test_against_an_unreachable_server_is_an_error() -> None:
    from tests.http_server import free_port

    code, output = _run("--against", f"http://127.0.0.1:{free_port()}/is/image/A/b")
    assert code == 2 and "cannot reach 127.0.0.1" in output


class _Redirecting(BaseHTTPRequestHandler):
    """Answers every request with a redirect to another host, which must never be followed."""

    protocol_version = "HTTP/1.1"  # keep-alive, as a real server

    def do_GET(self) -> None:
        self.send_response(302)
        self.send_header("Location", "http://127.0.0.2:9/is/image/Other/x")
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args: Any) -> None:
        pass


def test_against_counts_redirects_and_never_follows_them() -> None:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Redirecting)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        url = f"http://127.0.0.1:{server.server_port}/is/image/A/b"
        code, output = _run("--against", url, "--duration", "1", "--max-requests", "20", "--json")
    finally:
        server.shutdown()
        server.server_close()
    assert code == 0, output
    (row,) = json.loads(output[output.index("{") :])["rows"]
    assert row["status_counts"] == {"302": 20} and row["transport_errors"] == 0
