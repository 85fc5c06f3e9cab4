"""``isrender bench``: conversion throughput on the user's images and presets, beside the
libvips floor; or, with ``--against``, a load test of a running isrender server."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click
from rich.console import Console
from rich.progress import (
    BarColumn,
    Progress,
    TaskID,
    TaskProgressColumn,
    TextColumn,
    TimeElapsedColumn,
)

from isrender.cli.support import err, out, reports_errors

__all__ = ["register"]


class _Bar:
    """The rich progress bar (on stderr, so --json output stays clean)."""

    def __init__(self, progress: Progress) -> None:
        self.progress = progress
        self.task: TaskID | None = None

    def start(self, label: str, total: float) -> None:
        if self.task is not None:
            self.progress.update(self.task, visible=False)
        escaped = label.replace("[", r"\[")
        self.task = self.progress.add_task(escaped, total=total or None)

    def update(self, completed: float) -> None:
        if self.task is not None:
            self.progress.update(self.task, completed=completed)


def _progress() -> Progress:
    return Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        TaskProgressColumn(),
        TimeElapsedColumn(),
        console=err,
        transient=True,
    )


@click.command("bench")
@click.argument("sources", nargs=-1)
@click.option("--mods", "mods", multiple=True, help="A modifier string; repeat for more.")
@click.option("--mods-file", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="One modifier string or $preset$ per line (# comments).")  # fmt: skip
@click.option("--macros", "macro_files", multiple=True,
              type=click.Path(exists=True, dir_okay=False),
              help="Macro file (.tsv or .toml) for $preset$; repeat for more.")  # fmt: skip
@click.option("--workers", default="1", show_default=True,
              help="Worker process counts, e.g. 1,2,4, or auto.")  # fmt: skip
@click.option("--duration", type=float, default=None,
              help="Seconds per row (default 10, at most 300).")  # fmt: skip
@click.option("--repeat", type=int, default=None, help="Passes over the sources per row.")
@click.option("--json", "as_json", is_flag=True, help="Print the results as JSON.")
@click.option("--csv", "csv_path", type=click.Path(dir_okay=False, path_type=Path),
              help="Also write the rows to this CSV file.")  # fmt: skip
@click.option("--chart", "chart_path", type=click.Path(dir_okay=False, path_type=Path),
              help="Draw throughput per worker count to .png/.svg (extra [bench]).")  # fmt: skip
@click.option("--against", default=None, metavar="URL",
              help="Load-test http(s)://host:port/is/image/<company>/<asset> instead.")  # fmt: skip
@click.option("--clients", default="1", show_default=True,
              help="With --against: concurrent keep-alive clients, e.g. 1,4,16.")  # fmt: skip
@click.option("--max-requests", type=int, default=100_000, show_default=True,
              help="With --against: requests per row at most (cap 1,000,000).")  # fmt: skip
@reports_errors
def bench_cmd(sources: tuple[str, ...], **options: Any) -> None:
    """Measure conversion throughput of SOURCES (files, folders, globs) for each modifier
    string at each worker count, beside raw pyvips thumbnail (the floor) in the same run.

    \b
    isrender bench photos/ --mods 'wid=300&fmt=webp' --mods 'wid=1200' --workers 1,2
    isrender bench --against http://localhost:8080/is/image/Acme/shoe --mods 'wid=300'
    """
    from isrender.bench.chart import check_chart_path

    if options["chart_path"] is not None:
        check_chart_path(options["chart_path"])
    if options["against"]:
        if sources:
            raise click.UsageError("--against load-tests a server: give no SOURCES with it")
        if options["workers"] != "1":
            raise click.UsageError("--workers is for local runs; --against takes --clients")
        _against(**options)
    else:
        if options["clients"] != "1" or options["max_requests"] != 100_000:
            raise click.UsageError("--clients and --max-requests go with --against URL")
        _local(sources, **options)


def _modifiers(mods: tuple[str, ...], mods_file: Path | None) -> list[str]:
    from isrender.bench.inputs import read_mods_file

    return list(mods) + (read_mods_file(mods_file) if mods_file else [])


def _local(sources: tuple[str, ...], **options: Any) -> None:
    from isrender.bench.inputs import Budget, check_modifiers, find_sources, parse_counts
    from isrender.bench.local import LocalPlan, run_local
    from isrender.bench.report import local_data, local_table
    from isrender.macros import MacroRegistry

    macro_files = tuple(options["macro_files"])
    modifiers = _modifiers(options["mods"], options["mods_file"])
    check_modifiers(modifiers, MacroRegistry.from_files(*macro_files) if macro_files else None)
    plan = LocalPlan(
        sources=find_sources(sources),
        modifiers=modifiers,
        workers=parse_counts(options["workers"], "--workers"),
        budget=Budget.from_options(options["duration"], options["repeat"]),
        macro_files=macro_files,
    )
    with _progress() as progress:
        report = run_local(plan, _Bar(progress))
    data = local_data(report)
    _emit(data, local_table(report), **options)
    if not options["as_json"]:
        _print_failures(data["failures"])
    if options["chart_path"] is not None:
        _local_chart(options["chart_path"], report)


def _against(**options: Any) -> None:
    from isrender.bench.against import check_reachable, parse_target, run_load
    from isrender.bench.inputs import Budget, parse_counts
    from isrender.bench.report import load_data, load_table

    target = parse_target(options["against"])
    modifiers = _modifiers(options["mods"], options["mods_file"]) or [""]
    clients = parse_counts(options["clients"], "--clients")
    if options["repeat"] is not None:
        raise click.UsageError("--against runs for --duration seconds; --repeat is for local runs")
    duration = Budget.from_options(options["duration"], None).duration_s or 10.0
    check_reachable(target)
    rows = []
    with _progress() as progress:
        bar = _Bar(progress)
        for text in modifiers:
            for count in clients:
                rows.append(run_load(target, text, count, duration, options["max_requests"], bar))
    _emit(load_data(target, rows), load_table(target, rows), **options)
    if options["chart_path"] is not None:
        _load_chart(options["chart_path"], rows)


def _emit(data: dict[str, Any], table: Any, **options: Any) -> None:
    from isrender.bench.report import write_csv

    if options["csv_path"] is not None:
        write_csv(options["csv_path"], data["rows"])
    if options["as_json"]:
        click.echo(json.dumps(data, indent=2, ensure_ascii=False))
    else:
        # Into a file or pipe, a table as wide as it needs: no column cut to an ellipsis.
        wide = out if out.is_terminal else Console(file=out.file, width=max(out.width, 200))
        wide.print(table)


def _print_failures(failures: list[dict[str, str]]) -> None:
    """One line per source and error, naming the modifier strings it failed with."""
    if not failures:
        return
    every = {f["modifiers"] for f in failures}
    grouped: dict[tuple[str, str], list[str]] = {}
    for failure in failures:
        grouped.setdefault((failure["source"], failure["error"]), []).append(failure["modifiers"])
    sources = len({source for source, _ in grouped})
    out.print(f"[bold yellow]{sources} source(s) failed (counted, not timed):[/]")
    for (source, error), modifiers in grouped.items():
        which = "" if len(every) == 1 or set(modifiers) == every else f" [{', '.join(modifiers)}]"
        out.print(f"  {Path(source).name}{which}: {error}", markup=False)


def _local_chart(path: Path, report: Any) -> None:
    from isrender.bench.chart import Series, draw

    series: dict[str, Series] = {}
    for row in report.rows:
        one = series.setdefault(row.modifiers, Series(row.modifiers))
        one.counts.append(row.workers)
        one.rates.append(row.isrender.images_per_s)
        one.floor_rates.append(row.floor.images_per_s)
    title = "isrender throughput (floor dashed: raw pyvips thumbnail, same run)"
    draw(path, list(series.values()), "worker processes", "images/s", title)
    err.print(f"chart written to {path}", markup=False)


def _load_chart(path: Path, rows: list[Any]) -> None:
    from isrender.bench.chart import Series, draw

    series: dict[str, Series] = {}
    for row in rows:
        one = series.setdefault(row.modifiers, Series(row.modifiers or "(no modifiers)"))
        one.counts.append(row.clients)
        one.rates.append(row.req_per_s)
    draw(path, list(series.values()), "clients", "requests/s", "isrender serve under load")
    err.print(f"chart written to {path}", markup=False)


def register(main: click.Group) -> None:
    main.add_command(bench_cmd)
