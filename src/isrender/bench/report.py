"""The results as a table (rich), JSON and CSV: one row per modifier string x worker count
(local) or x client count (--against); the failures listed with their errors."""

from __future__ import annotations

import csv
from dataclasses import asdict
from pathlib import Path
from typing import Any

from rich.table import Table

from isrender.bench.against import LoadRow, Target
from isrender.bench.local import LocalReport
from isrender.bench.stats import Row

__all__ = [
    "load_data",
    "load_table",
    "local_data",
    "local_table",
    "row_data",
    "write_csv",
]


def _rounded(value: Any, digits: int = 3) -> Any:
    if isinstance(value, float):
        return round(value, digits)
    if isinstance(value, dict):
        return {k: _rounded(v, digits) for k, v in value.items()}
    if isinstance(value, list):
        return [_rounded(v, digits) for v in value]
    return value


def row_data(row: Row) -> dict[str, Any]:
    """isrender's numbers at the top level, the floor's under ``floor``."""
    ours = asdict(row.isrender)
    data = {
        "modifiers": row.modifiers,
        "workers": row.workers,
        "images": ours["images"],
        "failures": row.failures,
        "sources_timed": row.sources_timed,
        "wall_s": row.wall_s,
        "images_per_s": ours["images_per_s"],
        "input_mpx_per_s": row.input_mpx_per_s,
        "output_bytes_mean": ours["output_bytes_mean"],
        "output_bytes_total": row.output_bytes_total,
        "latency_ms": ours["latency_ms"],
        "cpu_s_per_image": ours["cpu_s_per_image"],
        "peak_rss_mb": row.peak_rss_mb,
        "worker_peak_rss_mb": row.worker_peak_rss_mb,
        "floor": asdict(row.floor),
        "floor_ratio": row.floor_ratio,
        "error": row.error,
    }
    rounded: dict[str, Any] = _rounded(data, 4)
    return rounded


def local_data(report: LocalReport) -> dict[str, Any]:
    return {
        "mode": "local",
        "settings": report.settings(),
        "rows": [row_data(row) for row in report.rows],
        "failures": [asdict(f) for f in report.failures.values()],
    }


def load_data(target: Target, rows: list[LoadRow]) -> dict[str, Any]:
    return {"mode": "against", "target": str(target), "rows": [row.as_data() for row in rows]}


def _fixed(value: float | None, digits: int = 1) -> str:
    return "-" if value is None else f"{value:,.{digits}f}"


def local_table(report: LocalReport) -> Table:
    table = Table(title="isrender bench (floor: raw pyvips thumbnail, same size and format)")
    for heading in ("modifiers", "workers", "images", "failed", "img/s", "in Mpx/s", "out KB",
                    "p50 ms", "p95 ms", "max ms", "CPU s/img", "peak RSS MB", "floor img/s",
                    "ratio"):  # fmt: skip
        table.add_column(heading, justify="left" if heading == "modifiers" else "right")
    for row in report.rows:
        ours, latency = row.isrender, row.isrender.latency_ms
        table.add_row(
            row.modifiers.replace("[", r"\["),
            str(row.workers),
            str(ours.images),
            str(row.failures),
            _fixed(ours.images_per_s, 2),
            _fixed(row.input_mpx_per_s, 2),
            _fixed(ours.output_bytes_mean / 1024),
            _fixed(latency["p50"]),
            _fixed(latency["p95"]),
            _fixed(latency["max"]),
            _fixed(ours.cpu_s_per_image, 3),
            _fixed(row.peak_rss_mb, 0),
            _fixed(row.floor.images_per_s, 2),
            _fixed(row.floor_ratio, 2),
        )
    return table


def load_table(target: Target, rows: list[LoadRow]) -> Table:
    table = Table(title=f"isrender bench --against {target}")
    for heading in ("modifiers", "clients", "requests", "req/s", "p50 ms", "p99 ms", "statuses",
                    "503", "errors"):  # fmt: skip
        table.add_column(
            heading, justify="left" if heading in ("modifiers", "statuses") else "right"
        )
    for row in rows:
        data = row.as_data()
        statuses = ", ".join(f"{k}: {v}" for k, v in data["status_counts"].items()) or "-"
        table.add_row(
            row.modifiers.replace("[", r"\["),
            str(row.clients),
            str(row.requests) + (" (cap)" if row.capped else ""),
            _fixed(row.req_per_s, 1),
            _fixed(data["latency_ms"]["p50"]),
            _fixed(data["latency_ms"]["p99"]),
            statuses,
            str(data["status_503"]),
            str(row.transport_errors),
        )
    return table


def _flat(data: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    flat: dict[str, Any] = {}
    for key, value in data.items():
        if isinstance(value, dict):
            flat.update(_flat(value, f"{prefix}{key}_"))
        elif isinstance(value, list):
            flat[prefix + key] = " ".join(str(v) for v in value)
        else:
            flat[prefix + key] = "" if value is None else value
    return flat


def write_csv(path: Path, rows: list[dict[str, Any]]) -> None:
    """One line per row, nested fields flattened (``latency_ms_p50``, ``floor_images_per_s``)."""
    flat = [_flat(row) for row in rows]
    columns: dict[str, None] = {}
    for row in flat:
        columns.update(dict.fromkeys(row))
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(columns))
        writer.writeheader()
        writer.writerows(flat)
