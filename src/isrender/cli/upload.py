"""``isrender upload``: files and directories become assets of a company, in one upload job."""

from __future__ import annotations

from pathlib import Path

import click
from rich.table import Table

from isrender.catalog.names import check_folder_path
from isrender.cli.common import existing_catalog, password_for
from isrender.cli.support import out, reports_errors

__all__ = ["register"]


@click.command("upload")
@click.argument("paths", nargs=-1, required=True, type=click.Path(exists=True, path_type=Path))
@click.option("--company", required=True, help="Company name or handle.")
@click.option("--user", "email", required=True, help="Upload as this user (e-mail).")
@click.option("--password", envvar="ISRENDER_PASSWORD", default=None,
              help="The user's password (or ISRENDER_PASSWORD; else a prompt).")  # fmt: skip
@click.option("--folder", default="", help="Destination folder, relative to the company root.")
@click.option("--no-overwrite", is_flag=True, help="Skip files whose asset name exists.")
@reports_errors
def upload_cmd(paths: tuple[Path, ...], company: str, email: str, password: str | None,
               folder: str, no_overwrite: bool) -> None:  # fmt: skip
    """Upload files and directories (sub-folders kept) as assets, in one upload job.

    Files land in --folder (photos/shoe.jpg -> FOLDER/shoe); a directory keeps its own name
    beneath it, as cp -r does (photos/ -> FOLDER/photos/shoe): pass photos/*.jpg for the
    files alone."""
    from isrender.jobs import JobService, job_handle

    check_folder_path(folder)
    service = JobService(existing_catalog())
    caller = service.catalog.authenticate(email, password_for(email, password))
    job = service.upload(caller, company, list(paths), folder, overwrite=not no_overwrite)
    table = Table("result", "asset", "message", box=None)
    for entry in service.details(job.id):
        table.add_row(entry.log_type, entry.asset_handle or "", entry.message)
    out.print(table)
    out.print(f"{job_handle(job)}: {job.total} files, {job.errors} errors", markup=False)
    if job.errors:
        raise SystemExit(2)


def register(main: click.Group) -> None:
    main.add_command(upload_cmd)
