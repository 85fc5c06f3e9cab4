"""Benchmarks compare isrender against a plain baseline doing the same work in the same run.

Each benchmark module may keep a ``MEDIANS`` dict and a ``report()`` function; the terminal
summary prints every report, so the ratios appear even under ``--benchmark-only``.
"""

from __future__ import annotations

from typing import Any


def pytest_terminal_summary(terminalreporter: Any) -> None:
    from benchmarks import (
        test_cli_startup,
        test_export,
        test_job_backends,
        test_macros,
        test_parse_bind,
        test_render,
        test_server,
        test_server_peers,
        test_server_workers,
        test_small_source,
    )

    reports = (test_cli_startup, test_parse_bind, test_macros, test_render, test_export,
               test_job_backends, test_server, test_server_peers, test_server_workers,
               test_small_source)  # fmt: skip
    for line in (module.report() for module in reports):
        if line:
            terminalreporter.write_line(line)
