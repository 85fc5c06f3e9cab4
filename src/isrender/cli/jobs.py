"""``isrender export`` and ``isrender jobs ...``: ExportJobs from the command line.

The CLI acts as the user named by ``--user`` after checking the password (``--password``,
``ISRENDER_PASSWORD`` or a prompt), so the same authorization rules apply as over the API.
``export`` works its job in this process with a progress bar (other workers may share it);
``--no-wait`` only queues the job for ``isrender jobs worker`` (or Celery workers).
"""

from __future__ import annotations

import os
import shutil
import sys
import time
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any, TypeVar

import click
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn
from rich.table import Table

from isrender.catalog import Catalog
from isrender.catalog.models import User
from isrender.cli.support import catalog_settings, err, out, reports_errors
from isrender.config import Settings
from isrender.errors import IpsFault
from isrender.jobs import Job, JobService, JobState, job_handle, outcome
from isrender.jobs.export import EMAIL_SETTINGS

__all__ = ["print_job_log", "register"]

F = TypeVar("F", bound=Callable[..., Any])


def _service(settings: Settings | None = None) -> JobService:
    service = JobService(Catalog(settings or catalog_settings()))
    service.purge()  # outputs past their retention go
    return service


def _login(service: JobService, email: str, password: str | None) -> User:
    from isrender.cli.common import password_for  # no terminal: a clear error, exit 2

    return service.catalog.authenticate(email, password_for(email, password))


_USER = click.option("--user", "email", required=True, help="Act as this user (e-mail).")
_PASSWORD = click.option(
    "--password",
    envvar="ISRENDER_PASSWORD",
    default=None,
    help="The user's password (or ISRENDER_PASSWORD; else a prompt).",
)
_COMPANY = click.option("--company", required=True, help="Company name or handle.")


_AT_FORMATS = ["%Y-%m-%d %H:%M", "%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M:%S", "%Y-%m-%dT%H:%M:%S",
               "%Y-%m-%d"]  # fmt: skip

# The API's parameter names in submit faults, as the flags of `isrender export` (CLI layer only:
# the API and SOAP keep the reference's names).
_FLAG_NAMES = (
    ("exportJob/fmt is required", "--orig or --convert is required"),
    ("is_modifier or macro required when fmt=convert", "--convert needs --modifier or --macro"),
    ("exportJob/assetHandleArray", "HANDLES"),
    ("exportJob/emailSetting", "--email-setting"),
    ("exportJob/clientId", "--client-id"),
    ("exportJob/macro", "--macro"),
    ("Invalid is_modifier", "invalid --modifier"),
    ("execTime", "--at"),
    ("execSchedule", "--schedule"),
)  # fmt: skip


def _with_flag_names(fault: IpsFault) -> IpsFault:
    reason = fault.reason
    for api_name, flag in _FLAG_NAMES:
        reason = reason.replace(api_name, flag)
    return fault if reason == fault.reason else IpsFault(fault.code, reason)


@click.command("export")
@click.argument("handles", nargs=-1, required=True)
@_COMPANY
@_USER
@_PASSWORD
@click.option("--orig", "fmt", flag_value="orig", help="Export the originals, byte for byte.")
@click.option("--convert", "fmt", flag_value="convert", help="Convert with --modifier/--macro.")
@click.option("--modifier", "is_modifier", default="", help="is_modifier, e.g. '&fmt=png'.")
@click.option("--macro", default="", help="A preset or macro: $name$ or name.")
@click.option("--email-setting", default="None", type=click.Choice(list(EMAIL_SETTINGS)))
@click.option("--client-id", default="", help="Stored and echoed, never acted on.")
@click.option("--name", "job_name", default="export", show_default=True, help="Job name.")
@click.option("--on-behalf-of", default=None, help="userHandle: who gets the e-mail (admins).")
@click.option("--at", "exec_time", type=click.DateTime(_AT_FORMATS), default=None,
              help="execTime: once, local time ('2026-12-01 06:00').")  # fmt: skip
@click.option("--schedule", "exec_schedule", default=None, help="execSchedule: Quartz cron.")
@click.option("--wait/--no-wait", default=True, help="Run now with a progress bar (default).")
@reports_errors
def export_cmd(
    handles: tuple[str, ...],
    company: str,
    email: str,
    password: str | None,
    fmt: str | None,
    is_modifier: str,
    macro: str,
    email_setting: str,
    client_id: str,
    job_name: str,
    on_behalf_of: str | None,
    exec_time: datetime | None,
    exec_schedule: str | None,
    wait: bool,
) -> None:
    """Submit an ExportJob for asset HANDLES (a|101 ...) of COMPANY."""
    service = _service()
    caller = _login(service, email, password)
    payload = {
        "assetHandleArray": list(handles),
        "fmt": fmt,
        "is_modifier": is_modifier,
        "macro": macro,
        "emailSetting": email_setting,
        "clientId": client_id,
    }
    try:
        job = service.submit(caller, company, job_name, payload, user_ref=on_behalf_of,
                             exec_time=exec_time, exec_schedule=exec_schedule)  # fmt: skip
    except IpsFault as fault:
        raise _with_flag_names(fault) from None
    out.print(f"submitted {job_handle(job)}", markup=False)
    if job.state == JobState.SCHEDULED:
        out.print(f"scheduled: next run {job.next_fire} (run 'isrender jobs worker')", markup=False)
    elif wait:
        job = _run_with_progress(service, job)
        print_job_log(service, job)
        _print_outputs(service, job)
        if job.fatal_error:  # the job failed as a whole (disk full, ...): say why, exit 1
            fatal = service.details(job.id, ("FatalError",))
            err.out(f"error: job failed: {fatal[0].message if fatal else outcome(job)}")
            sys.exit(1)


def _run_with_progress(service: JobService, job: Job) -> Job:
    """Work the job here with a progress bar; never waits on a runner that has died."""
    runner = service.start(job.id)
    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn())
    with Progress(*columns, console=out, transient=True) as progress:
        task = progress.add_task(f"exporting {job.name}", total=job.total)
        while True:
            current = service.job(job.id)
            progress.update(task, completed=current.processed + current.cancelled)
            if current.state == JobState.DONE:
                break
            if not runner.is_alive() and service.failures.get(job.id):
                raise service.failures[job.id]
            time.sleep(0.1)
    return service.wait(job.id)


def print_job_log(service: JobService, job: Job) -> None:
    table = Table("log type", "asset", "message", "code", box=None)
    for entry in service.details(job.id):
        message = entry.message + "".join(f"\n  {aux}" for aux in entry.aux)
        table.add_row(entry.log_type, entry.asset_handle or "", message,
                      str(entry.fault_code or ""))  # fmt: skip
    out.print(table)
    out.print(
        f"{job_handle(job)}: {outcome(job)}: {job.success} exported, {job.errors} errors, "
        f"{job.warnings} warnings, {job.duplicates} duplicates, {job.cancelled} cancelled, "
        f"{job.total} total",
        markup=False,
    )


def _print_outputs(service: JobService, job: Job) -> None:
    folder = service.output_dir(job)
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        out.print(f"  {path.relative_to(folder)}  ({path.stat().st_size:,} bytes)", markup=False)
    if folder.with_suffix(".zip").is_file():
        out.print(f"  package: {folder.with_suffix('.zip')}", markup=False)


@click.group("jobs")
def jobs_group() -> None:
    """ExportJobs: list, show, log, run, stop, pause, resume, delete, download."""


def _company_job(service: JobService, company: str, handle: str) -> Job:
    return service.require(service.catalog.require_company(company).id, handle)


@jobs_group.command("list")
@_COMPANY
@reports_errors
def jobs_list(company: str) -> None:
    """Jobs of COMPANY, newest first, with their counters (S E W D C T)."""
    service = _service()
    table = Table("job", "state", "outcome", "S", "E", "W", "D", "C", "T", box=None)
    for job in service.jobs(service.catalog.require_company(company).id):
        counts = (job.success, job.errors, job.warnings, job.duplicates, job.cancelled, job.total)
        result = outcome(job) if job.state == "Done" else ""
        table.add_row(job_handle(job), job.state, result, *map(str, counts))
    out.print(table)


@jobs_group.command("show")
@click.argument("handle")
@_COMPANY
@reports_errors
def jobs_show(handle: str, company: str) -> None:
    """One job: names, state, outcome, dates, parameters, where its outputs are."""
    service = _service()
    job = _company_job(service, company, handle)
    fields = {
        "job": job_handle(job),
        "originalName": job.original_name,
        "state": job.state,
        "outcome": outcome(job) if job.state == "Done" else "",
        "submitted": job.submitted,
        "start": job.start_date,
        "end": job.end_date,
        "parameters": job.params,
        "outputs": service.output_dir(job),
    }
    for key, value in fields.items():
        out.print(f"{key:>12}: {value}", markup=False)


@jobs_group.command("log")
@click.argument("handle")
@_COMPANY
@reports_errors
def jobs_log(handle: str, company: str) -> None:
    """The job log: every entry with its asset, message and fault code."""
    service = _service()
    print_job_log(service, _company_job(service, company, handle))


@jobs_group.command("run")
@click.argument("handle")
@_COMPANY
@reports_errors
def jobs_run(handle: str, company: str) -> None:
    """Run a queued job now (in this process)."""
    service = _service()
    job = _company_job(service, company, handle)
    if job.state != JobState.NEW:
        raise IpsFault(30001, f"the job is {job.state}, not queued")
    print_job_log(service, _run_with_progress(service, job))


def _control(action: str) -> click.Command:
    @click.argument("handle")
    @_COMPANY
    @reports_errors
    def command(handle: str, company: str) -> None:
        service = _service()
        job = _company_job(service, company, handle)
        job = service.control(job.company_id, job_handle(job), action)
        out.print(f"{job_handle(job)}: {action} requested ({job.state})", markup=False)

    command.__doc__ = f"{action.capitalize()} a job (between files, as IPS does)."
    return click.command(action)(command)


@jobs_group.command("download")
@click.argument("handle")
@_COMPANY
@click.option("-o", "--output", type=click.Path(path_type=Path), default=Path("."))
@reports_errors
def jobs_download(handle: str, company: str, output: Path) -> None:
    """Copy the job's ZIP package to OUTPUT (a file or a directory)."""
    service = _service()
    job = _company_job(service, company, handle)
    package = service.output_dir(job).with_suffix(".zip")
    if not package.is_file():
        expired = job.state == "Done"
        raise IpsFault(
            30001, "the job's outputs expired" if expired else "the job has not finished"
        )
    target = output / f"{job.name}.zip" if output.is_dir() else output
    shutil.copyfile(package, target)
    out.print(f"wrote {target}", markup=False)


@jobs_group.command("scheduled")
@_COMPANY
@reports_errors
def jobs_scheduled(company: str) -> None:
    """Scheduled jobs of COMPANY with their trigger state and next fire time."""
    service = _service()
    table = Table("job", "trigger", "next fire", "schedule", box=None)
    for job in service.scheduled(service.catalog.require_company(company).id):
        when = job.exec_schedule or f"once at {job.exec_time}"
        table.add_row(job_handle(job), job.trigger_state, str(job.next_fire or ""), when)
    out.print(table)


@jobs_group.command("execute")
@click.argument("handle")
@_COMPANY
@reports_errors
def jobs_execute(handle: str, company: str) -> None:
    """executeJob: one run of a scheduled job now; the schedule stays as it is."""
    service = _service()
    company_id = service.catalog.require_company(company).id
    print_job_log(service, service.execute(company_id, handle, service.find))


@jobs_group.command("worker")
@click.option("--processes", type=click.IntRange(1, 64), default=None,
              help="Local backend: worker processes (default: one per core).")  # fmt: skip
@click.option("--concurrency", type=click.IntRange(1, 64), default=None,
              help="Celery backend (broker_url set): processes of the Celery worker.")  # fmt: skip
@click.option("--once", is_flag=True, help="Local backend: work until idle, then exit.")
@reports_errors
def jobs_worker(processes: int | None, concurrency: int | None, once: bool) -> None:
    """Run jobs: fire due schedules, start queued jobs, export their entries, finish them.

    Start as many as you like, on as many machines as share the database and the data
    directory: work is claimed in the database with leases, so nothing runs twice, and the
    chunks of a worker that dies are taken back when their lease expires."""
    settings = catalog_settings()
    # one thread here: a JobService with a pool loads libvips, and neither the Celery parent
    # (it forks its children) nor the supervisor of worker processes should
    service = JobService(Catalog(settings), threads=1)
    service.purge()
    if settings.broker_url:
        from isrender.jobs.celery_app import run_worker

        run_worker(settings, concurrency or os.cpu_count() or 1)
        return
    if once:
        from isrender.jobs.worker import Worker

        worker = Worker(service, on_event=_print_event(service))
        while worker.step():
            pass
        return
    import threading

    from isrender.jobs.backends import run_processes

    count = processes or os.cpu_count() or 1
    out.print(f"local job worker: {count} processes (Ctrl-C stops)", markup=False)
    stop = threading.Event()
    try:
        run_processes(settings, count, stop)
    except KeyboardInterrupt:
        stop.set()


def _print_event(service: JobService) -> Callable[[str, int], None]:
    def printed(event: str, job_id: int) -> None:
        if event == "finished":
            job = service.job(job_id)
            out.print(f"{job_handle(job)}: {outcome(job)}", markup=False)

    return printed


@jobs_group.command("purge")
@reports_errors
def jobs_purge() -> None:
    """Delete outputs older than retention_days (also done at every start); logs stay."""
    purged = _service().purge()
    out.print(f"outputs of {len(purged)} jobs deleted", markup=False)


for _action in ("stop", "pause", "resume", "delete"):
    jobs_group.add_command(_control(_action))


def register(main: click.Group) -> None:
    main.add_command(export_cmd)
    main.add_command(jobs_group)
