"""Scheduled ExportJobs (production-system.md §2.4-§2.6; X34, X48, X69-X71, X73, X74)."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

pytest.importorskip("pyvips")

from isrender.catalog.models import Asset
from isrender.errors import IpsFault
from isrender.jobs import JobService, job_handle, outcome
from isrender.jobs.cron import CronError, parse_cron
from isrender.jobs.mail import LogTransport
from isrender.jobs.models import Job
from tests.catalog_fixture import Fixture

T0 = datetime(2026, 11, 22, 1, 0, 0)  # a Sunday


@pytest.mark.parametrize(
    ("expression", "after", "expected"),
    [
        ("0 0 2 * * ?", T0, datetime(2026, 11, 22, 2, 0, 0)),
        ("00 00 00 * *", T0, datetime(2026, 11, 23, 0, 0, 0)),  # the reference's 5-field example
        ("0 */15 * * * ?", T0, datetime(2026, 11, 22, 1, 15, 0)),
        ("30 0 9 ? * MON-FRI", T0, datetime(2026, 11, 23, 9, 0, 30)),
        ("0 0 12 1 JAN ?", T0, datetime(2027, 1, 1, 12, 0, 0)),
        ("0 0 0 29 2 ? 2028", T0, datetime(2028, 2, 29, 0, 0, 0)),
        ("0 0 8 ? * 1", T0, datetime(2026, 11, 22, 8, 0, 0)),  # 1 = SUN in Quartz
        ("0 0 2 * * ?", datetime(2026, 11, 22, 2, 0, 0), datetime(2026, 11, 23, 2, 0, 0)),
    ],
)
def test_quartz_cron(expression: str, after: datetime, expected: datetime) -> None:
    assert parse_cron(expression).next_after(after) == expected


@pytest.mark.parametrize(
    "expression",
    [
        "0 0 25 * * ?",
        "0 0 1 L * ?",
        "0 0 0 15W * ?",
        "0 0 0 ? * 6#3",
        "x * * * * ?",
        "0 0 0 1 * MON",
        "? 0 0 * * ?",
        "0 0",
        "0 0 0 * * ? 2030 1",
    ],
)
def test_bad_cron(expression: str) -> None:
    with pytest.raises(CronError):
        parse_cron(expression)


@pytest.fixture
def service(fx: Fixture) -> JobService:
    return JobService(fx.catalog, LogTransport())


def schedule(service: JobService, fx: Fixture, alias: str = "#102", **when: object) -> Job:
    editor = fx.catalog.user("editor@acme.example")
    assert editor is not None
    export = {"assetHandleArray": [fx.handle(alias)], "fmt": "orig"}
    return service.submit(editor, "c|1", "nightly-export", export, **when)  # type: ignore[arg-type]


def test_x69_exec_time_fires_once(fx: Fixture, service: JobService) -> None:
    at = datetime.now() + timedelta(hours=1)
    job = schedule(service, fx, exec_time=at)
    listed = {j.id: j for j in service.scheduled(fx.acme)}
    assert listed[job.id].trigger_state == "Normal" and listed[job.id].next_fire == at
    assert service.fire_due(now=at - timedelta(seconds=1)) == []  # not yet
    (run_id,) = service.fire_due(now=at + timedelta(seconds=1))
    run = service.job(run_id)
    assert run.state == "Done" and outcome(run) == "Succeeded" and run.parent_id == job.id
    assert job.id not in {j.id for j in service.scheduled(fx.acme)}  # a one-shot leaves the list
    kinds = [e.log_type for e in service.details(run_id)]
    assert kinds[0] == "BeginExport" and "InitiatingJobName" in kinds


def test_x70_recurring_runs_get_their_own_names_and_outputs(
    fx: Fixture, service: JobService
) -> None:
    job = schedule(service, fx, exec_schedule="0 0 2 * * ?")
    first = job.next_fire
    assert first is not None and first.hour == 2
    (one,) = service.fire_due(now=first)
    (two,) = service.fire_due(now=first + timedelta(days=1))
    runs = [service.job(one), service.job(two)]
    assert [r.name for r in runs] == [
        f"{job.name}_{first:%Y-%m-%d-%H:%M:%S}",
        f"{job.name}_{first + timedelta(days=1):%Y-%m-%d-%H:%M:%S}",
    ]
    assert {r.original_name for r in runs} == {"nightly-export"}
    assert service.output_dir(runs[0]) != service.output_dir(runs[1])
    assert job.id in {j.id for j in service.scheduled(fx.acme)}  # recurring: still scheduled


def test_x71_paused_triggers_do_not_fire(fx: Fixture, service: JobService) -> None:
    job = schedule(service, fx, exec_schedule="0 0 3 * * ?")
    handle = job_handle(job)
    assert service.control(fx.acme, handle, "pause").trigger_state == "Paused"
    assert service.fire_due(now=datetime.now() + timedelta(days=2)) == [] or all(
        service.job(r).parent_id != job.id for r in service.fire_due(now=datetime.now())
    )
    resumed = service.control(fx.acme, handle, "resume")
    assert resumed.trigger_state == "Normal" and resumed.next_fire is not None
    assert resumed.next_fire > datetime.now()  # missed times are not fired


def test_x73_deleted_schedules_never_run(fx: Fixture, service: JobService) -> None:
    job = schedule(service, fx, exec_schedule="0 0 4 * * ?")
    service.control(fx.acme, job_handle(job), "delete")
    assert job.id not in {j.id for j in service.scheduled(fx.acme)}
    fired = service.fire_due(now=datetime.now() + timedelta(days=3))
    assert all(service.job(r).parent_id != job.id for r in fired)
    with pytest.raises(IpsFault):
        service.control(fx.acme, job_handle(job), "delete")


def test_x74_execute_job_runs_now_and_keeps_the_schedule(fx: Fixture, service: JobService) -> None:
    job = schedule(service, fx, exec_schedule="0 0 5 * * ?")
    before = job.next_fire
    run = service.execute(fx.acme, job_handle(job), service.find)
    assert run.parent_id == job.id and outcome(run) == "Succeeded"
    assert any(e.log_type == "InitiatingJobName" for e in service.details(run.id))
    assert service.job(job.id).next_fire == before


def test_stop_on_a_schedule_is_refused(fx: Fixture, service: JobService) -> None:
    job = schedule(service, fx, exec_schedule="0 0 6 * * ?")
    with pytest.raises(IpsFault, match="not running"):
        service.control(fx.acme, job_handle(job), "stop")


def test_x34_asset_deleted_before_the_run(fx: Fixture, service: JobService) -> None:
    (entry,) = fx.catalog.upload(fx.acme, [fx.catalog.original_path(
        fx.catalog.asset(fx.acme, fx.handle("#101")))], "tmp")  # type: ignore[arg-type,list-item]  # fmt: skip
    editor = fx.catalog.user("editor@acme.example")
    at = datetime.now() + timedelta(hours=1)
    job = service.submit(editor, "c|1", "x34", {"assetHandleArray": [f"a|{entry.asset_id}"],  # type: ignore[arg-type]
                                                "fmt": "orig"}, exec_time=at)  # fmt: skip
    with fx.catalog.session() as s:
        s.delete(s.get(Asset, entry.asset_id))
    (run_id,) = [r for r in service.fire_due(now=at) if service.job(r).parent_id == job.id]
    run = service.job(run_id)
    assert (run.success, run.errors) == (0, 1)
    (error,) = service.details(run_id, ("ExportError",))
    assert error.message == f"Asset not found: a|{entry.asset_id}"


@pytest.mark.parametrize(
    ("when", "code"),
    [
        ({"exec_time": T0, "exec_schedule": "0 0 2 * * ?"}, 30001),  # X48
        ({"exec_schedule": "every night"}, 30001),
        ({"exec_schedule": "0 0 0 30 2 ?"}, 30001),
    ],
)
def test_schedule_faults(
    fx: Fixture, service: JobService, when: dict[str, object], code: int
) -> None:
    with pytest.raises(IpsFault) as info:
        schedule(service, fx, **when)
    assert info.value.code == code


def test_a_firing_while_the_previous_run_is_active_is_held(
    fx: Fixture, service: JobService
) -> None:
    job = schedule(service, fx, exec_schedule="0 0 7 * * ?")
    with fx.catalog.session() as s:  # a run of this schedule is still going
        s.add(Job(company_id=fx.acme, name="busy", original_name="busy", state="Running",
                  submit_user_id=job.submit_user_id, recipient_user_id=job.recipient_user_id,
                  params=job.params, parent_id=job.id))  # fmt: skip
    assert job.next_fire is not None
    assert [
        r for r in service.fire_due(now=job.next_fire) if service.job(r).parent_id == job.id
    ] == []
    held = service.job(job.id)
    assert held.trigger_state == "Blocked" and held.held
