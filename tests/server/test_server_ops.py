"""Operations: /healthz, /readyz, /metrics, request ids and structured logs, on real servers
(uvicorn in a thread, ``isrender serve`` in a process, a real Redis for the broker check)."""

from __future__ import annotations

import asyncio
import io
import json
import logging
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from isrender import logs
from isrender.catalog import Catalog
from isrender.config import Settings
from isrender.server import create_app
from isrender.server.gate import Busy, RenderTimeout
from isrender.server.ops import MeasuredGate, Metrics
from tests.catalog_fixture import Fixture
from tests.http_server import free_port, running, wait_until_serving

EDITOR = httpx.BasicAuth("editor@acme.example", "secret")


def samples(base: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    """Every sample of ``/metrics`` by (name, sorted labels)."""
    reply = httpx.get(f"{base}/metrics")
    assert reply.status_code == 200 and reply.headers["content-type"].startswith("text/plain")
    return {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(reply.text)
        for s in family.samples
    }


def value(found: dict[Any, float], name: str, **labels: str) -> float:
    return found.get((name, tuple(sorted(labels.items()))), 0.0)


# ---- health and readiness ----------------------------------------------------------------


def test_healthz(ips_server: str):
    reply = httpx.get(f"{ips_server}/healthz")
    assert (reply.status_code, reply.text) == (200, "ok\n")


def test_readyz_ok(ips_server: str):
    reply = httpx.get(f"{ips_server}/readyz")
    assert reply.status_code == 200
    assert reply.json() == {"status": "ok", "checks": {"database": "ok", "data_dir": "ok"}}


@pytest.fixture
def small_catalog(tmp_path: Path) -> Iterator[Catalog]:
    catalog = Catalog(Settings(data_dir=tmp_path / "data"))
    yield catalog
    catalog.engine.dispose()


def _moved_data_dir(catalog: Catalog) -> Settings:
    return catalog.settings.model_copy(
        update=dict(data_dir=catalog.settings.data_dir.parent / "moved")
    )


def _remove_data_dir(settings: Settings) -> None:
    shutil.rmtree(settings.data_dir)  # after start: the app creates it (the secret key)


def _closed_broker(catalog: Catalog) -> Settings:
    return catalog.settings.model_copy(update=dict(broker_url=f"redis://127.0.0.1:{free_port()}/0"))


def _broken_database(settings: Settings) -> None:
    (settings.data_dir / "catalog.db").write_bytes(b"not a database" * 100)


def _same(catalog: Catalog) -> Settings:
    return catalog.settings


def _nothing(_settings: Settings) -> None:
    return None


@pytest.mark.parametrize(
    ("prepare", "after_start", "failing"),
    [
        (_moved_data_dir, _remove_data_dir, "data_dir"),
        (_closed_broker, _nothing, "broker"),
        (_same, _broken_database, "database"),
    ],
)
def test_readyz_names_the_failing_part(
    small_catalog: Catalog, prepare: Any, after_start: Any, failing: str
):
    settings = prepare(small_catalog)
    with running(create_app(settings, small_catalog)) as url:
        if failing != "broker":
            assert httpx.get(f"{url}/readyz").status_code == 200
        small_catalog.engine.dispose()  # pooled connections would still answer
        after_start(settings)
        reply = httpx.get(f"{url}/readyz")
    assert reply.status_code == 503
    body = reply.json()
    assert body["status"] == "fail" and body["failing"] == [failing]
    assert body["checks"][failing] != "ok" and "Traceback" not in body["checks"][failing]


def test_readyz_with_a_real_broker(small_catalog: Catalog, redis_url: str):
    settings = small_catalog.settings.model_copy(update=dict(broker_url=redis_url))
    with running(create_app(settings, small_catalog)) as url:
        reply = httpx.get(f"{url}/readyz")
    assert reply.status_code == 200 and reply.json()["checks"]["broker"] == "ok"


# ---- metrics -----------------------------------------------------------------------------


def _export(base: str, fx: Fixture) -> None:
    export = {"assetHandleArray": [fx.handle("#101")] * 2, "fmt": "convert",
              "is_modifier": "&fmt=png"}  # fmt: skip
    body = {"jobName": "metrics", "exportJob": export}
    reply = httpx.post(f"{base}/api/ips/v1/companies/c%7C1/jobs", json=body, auth=EDITOR)
    assert reply.status_code == 202, reply.text
    deadline = time.monotonic() + 60
    while httpx.get(base + reply.headers["location"], auth=EDITOR).json()["state"] != "Done":
        assert time.monotonic() < deadline, "the export did not finish"
        time.sleep(0.1)


def test_metrics_after_renders_and_an_export(ips_server: str, fx: Fixture):
    asset = quote("products/fileToExport", safe="/")
    for query in ("wid=120&fmt=jpeg", "wid=100&fmt=webp", "wid=90&fmt=webp", "req=props"):
        reply = httpx.get(f"{ips_server}/is/image/Acme/{asset}?{query}")
        assert reply.status_code == 200, reply.text
    _export(ips_server, fx)
    found = samples(ips_server)
    assert all(name.startswith("isrender_") for name, _ in found)
    assert value(found, "isrender_render_duration_seconds_count", format="webp") >= 2
    assert value(found, "isrender_render_duration_seconds_count", format="jpeg") >= 1
    image_route = "/is/image/{company}/{asset:path}"  # the template, never the raw path
    assert value(found, "isrender_http_requests_total", route=image_route, method="GET",
                 status="200") >= 4  # fmt: skip
    assert not any("Acme" in dict(labels).get("route", "") for _, labels in found)
    assert value(found, "isrender_jobs", state="Done") >= 1
    assert value(found, "isrender_export_entries_total", outcome="success") >= 1
    assert value(found, "isrender_export_entries_total", outcome="duplicate") >= 1
    assert value(found, "isrender_render_slots") == fx.catalog.settings.render_slots
    assert value(found, "isrender_render_slots_in_use") == 0
    assert value(found, "isrender_jobs_query_up") == 1
    assert value(found, "isrender_result_cache_requests_total", result="miss") >= 1


def test_unmatched_paths_share_one_series(ips_server: str):
    for probe in ("/wp-login.php", "/.env", "/x/y/z"):
        assert httpx.get(ips_server + probe).status_code == 404
    found = samples(ips_server)
    assert value(found, "isrender_http_requests_total", route="unmatched", method="GET",
                 status="404") >= 3  # fmt: skip


def test_gate_counts_busy_and_timeout(small_catalog: Catalog):
    metrics = Metrics(small_catalog)
    settings = Settings(render_slots=1, render_timeout=0.2, render_queue=0)
    gate = MeasuredGate(settings, metrics)

    def stalled(stop: Any) -> None:  # as libvips does when its pipeline is killed
        while not stop.stopped:
            time.sleep(0.01)
        raise RenderTimeout("stopped")

    async def scenario() -> None:
        blocked = gate.run(lambda admission: admission.render(0, stalled), gate.admit())
        running = asyncio.ensure_future(blocked)
        await asyncio.sleep(0.05)
        assert gate.busy == 1
        with pytest.raises(Busy):
            gate.admit()
        with pytest.raises(RenderTimeout):
            await running

    asyncio.run(scenario())
    gate.close()
    text = metrics.exposition().decode()
    assert 'isrender_render_refused_total{reason="busy"} 1.0' in text
    assert 'isrender_render_refused_total{reason="timeout"} 1.0' in text


# ---- request ids and logs ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("incoming", "echoed"),
    [("abc-123", True), ("req:42/retry=1", True), ("bad id", False), ("x" * 200, False),
     ("", False), ("é", False)],
)  # fmt: skip
def test_request_id_is_honoured_when_sane(ips_server: str, incoming: str, echoed: bool):
    headers = {"X-Request-ID": incoming.encode("utf-8")} if incoming else {}
    reply = httpx.get(f"{ips_server}/healthz", headers=headers)  # type: ignore[arg-type]
    rid = reply.headers["x-request-id"]
    assert (rid == incoming) is echoed
    if not echoed:
        assert len(rid) == 32 and int(rid, 16) >= 0


@pytest.fixture(scope="module")
def served_logs(fx: Fixture, tmp_path_factory: pytest.TempPathFactory) -> dict[str, list[str]]:
    """``isrender serve --log-format F`` in a process, for both formats: its stderr lines."""
    lines = {}
    for fmt in ("json", "text"):
        port = free_port()
        err = tmp_path_factory.mktemp("log") / "stderr"
        env = {**os.environ, "ISRENDER_DATA_DIR": str(fx.catalog.settings.data_dir),
               "ISRENDER_DATABASE_URL": fx.catalog.settings.database_url}  # fmt: skip
        command = [sys.executable, "-c", "from isrender.cli import main; main()", "serve",
                   "--port", str(port), "--log-format", fmt]  # fmt: skip
        with err.open("w") as sink:
            process = subprocess.Popen(command, env=env, stderr=sink)
            try:
                _wait_and_call(f"http://127.0.0.1:{port}", process)
            finally:
                process.terminate()
                process.wait(10)
        lines[fmt] = err.read_text().splitlines()
    return lines


def _wait_and_call(url: str, process: subprocess.Popen[bytes]) -> None:
    wait_until_serving(f"{url}/healthz", process, why=lambda: "serve did not start")
    asset = quote("products/fileToExport", safe="/")
    reply = httpx.get(f"{url}/is/image/Acme/{asset}?wid=50", headers={"X-Request-ID": "trace-7"})
    assert reply.status_code == 200 and reply.headers["x-request-id"] == "trace-7"


def test_json_access_line(served_logs: dict[str, list[str]]):
    records = [json.loads(line) for line in served_logs["json"]]  # every line is JSON
    access = [
        r for r in records if r["logger"] == "isrender.access" and r["request_id"] == "trace-7"
    ]
    assert len(access) == 1
    line = access[0]
    assert line["route"] == "/is/image/{company}/{asset:path}" and line["method"] == "GET"
    assert line["status"] == 200 and line["bytes"] > 100 and line["duration_ms"] > 0
    assert not any(r["logger"] == "uvicorn.access" for r in records)  # replaced, not doubled
    assert any(r["logger"].startswith("uvicorn") for r in records)  # startup lines, same format


def test_text_access_line(served_logs: dict[str, list[str]]):
    access = [line for line in served_logs["text"] if "[trace-7]" in line]
    assert len(access) == 1 and "isrender.access" in access[0]
    assert "status=200" in access[0] and "route=/is/image/{company}/{asset:path}" in access[0]


@pytest.mark.parametrize("fmt", ["json", "text"])
def test_job_event_is_one_structured_line(fmt: logs.LogFormat):
    root = logging.getLogger()
    saved = (list(root.handlers), root.level)
    stream = io.StringIO()
    try:
        logs.configure(fmt, "info")
        root.handlers[0].setStream(stream)  # type: ignore[attr-defined]
        token = logs.request_id.set("rid-1")
        logs.job_event("job.finished", job="j|1||x|5", outcome="Succeeded", name="clash")
        logs.request_id.reset(token)
    finally:
        root.handlers[:] = saved[0]
        root.setLevel(saved[1])
    line = stream.getvalue().strip()
    if fmt == "json":
        record = json.loads(line)
        assert record["event"] == record["msg"] == "job.finished"
        assert (record["job"], record["outcome"], record["name_"]) == ("j|1||x|5", "Succeeded",
                                                                       "clash")  # fmt: skip
        assert record["request_id"] == "rid-1" and record["logger"] == "isrender.jobs"
    else:
        assert "[rid-1] job.finished" in line and "job=j|1||x|5" in line
        assert "outcome=Succeeded" in line
