"""The ``isrender`` command line.

Exit codes (DESIGN.md): 0 success, 2 invalid input (the message names the position and suggests
a fix), 1 internal failure. ``--json`` output is for scripts.

Every command group lives in its own module of this package (``cli/language.py``,
``cli/jobs.py``, ...), registered in ``_LAZY_COMMANDS`` below and imported only when one of
its commands runs, so ``--help``, ``check`` and ``explain`` start fast (the catalog, jobs and
server modules load SQLAlchemy, pydantic and libvips). ``make bench`` measures the start-up times.
"""

from __future__ import annotations

import click

from isrender.cli.support import LazyGroup

__all__ = ["main"]

# The commands that need the catalog, jobs, server or libvips: imported when one runs, so that
# --help, check and explain start fast (tests/cli/test_cli_startup.py keeps this table honest).
_LAZY_COMMANDS = {
    "check": ("isrender.cli.language", "Check MODIFIERS: exit 0 when valid, 2 with the error, its "
              "position and a hint."),
    "commands": ("isrender.cli.language", "List every IS command, or describe NAME (from the same "
                 "table binding uses)."),
    "convert": ("isrender.cli.language", "Render SOURCE with MODIFIERS and write the result to "
                "OUTPUT."),
    "explain": ("isrender.cli.language", "Show every stage for MODIFIERS: syntax tree, expansion, "
                "bound request by scope, and, given a source image SRC, the render plan."),
    "parse": ("isrender.cli.language", "Parse MODIFIERS and print the syntax tree (no command "
              "checks)."),
    "assets": ("isrender.cli.assets", "Assets of a company."),
    "bench": ("isrender.cli.bench", "Measure conversion throughput of SOURCES (files, folders, "
              "globs) for each modifier string at each worker count, beside raw pyvips thumbnail "
              "(the floor) in the same run."),
    "catalog": ("isrender.cli.catalog", "The catalog in the data directory."),
    "company": ("isrender.cli.company", "Companies (tenants)."),
    "config": ("isrender.cli.config", "Settings: the effective values and their reference."),
    "demo": ("isrender.cli.demo", "Run the ExportJob seed example end to end and show what "
             "happened."),
    "export": ("isrender.cli.jobs", "Submit an ExportJob for asset HANDLES (a|101 ...) of "
               "COMPANY."),
    "jobs": ("isrender.cli.jobs", "ExportJobs: list, show, log, run, stop, pause, resume, "
             "delete, download."),
    "macros": ("isrender.cli.macros", "Macro definition files: list, show and check them."),
    "presets": ("isrender.cli.presets", "Company image presets (ImageFormat), invoked as $name$ "
                "macros."),
    "serve": ("isrender.cli.serve", "Serve /is/image/{company}/{asset}?{modifiers} from the "
              "catalog in the data directory."),
    "templates": ("isrender.cli.templates", "Compositing templates (assets of type Template), "
                  "used as template=NAME."),
    "upload": ("isrender.cli.upload", "Upload files and directories (sub-folders kept) as "
               "assets, in one upload job."),
    "user": ("isrender.cli.users", "Users and their company memberships."),
}  # fmt: skip


@click.group(
    cls=LazyGroup,
    lazy=_LAZY_COMMANDS,
    context_settings={"help_option_names": ["-h", "--help"]},
)
@click.version_option(package_name="isrender")
def main() -> None:
    """isrender: Image Serving modifiers and ExportJob, on libvips."""
