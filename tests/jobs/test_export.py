"""ExportJob conformance scenarios (production-system.md §6), on the §6.1 fixture."""

from __future__ import annotations

import hashlib
import json
import socket
import time
import zipfile
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

pyvips = pytest.importorskip("pyvips")

from isrender.catalog import Role  # noqa: E402
from isrender.catalog.models import Group  # noqa: E402
from isrender.errors import IpsFault  # noqa: E402
from isrender.jobs import JobService, job_handle, outcome  # noqa: E402
from isrender.jobs.mail import LogTransport  # noqa: E402
from isrender.jobs.models import Job  # noqa: E402
from tests.catalog_fixture import Fixture  # noqa: E402
from tests.tables.export import BASE, ERRORS, FAULTS, RUNS  # noqa: E402

EMAILS = {"root": "root@ips.example", "outsider": "outsider@globex.example"}


@pytest.fixture
def service(fx: Fixture) -> JobService:
    return JobService(fx.catalog, LogTransport())


def user(fx: Fixture, alias: str) -> Any:
    return fx.catalog.user(EMAILS.get(alias, f"{alias}@acme.example"))


def resolve(fx: Fixture, entry: str) -> str:
    return fx.handle(entry) if entry.startswith("#") else entry


def submit(service: JobService, fx: Fixture, caller: str, entries: list[str], **export: Any) -> Job:
    handles = [resolve(fx, e) for e in entries]
    payload = {"assetHandleArray": handles, **export}
    return service.submit(user(fx, caller), "c|1", "export", payload)


@pytest.mark.parametrize(("xid", "caller", "entries", "export", "counters", "result", "outputs"),
                         RUNS, ids=[r[0] for r in RUNS])  # fmt: skip
def test_runs(
    fx: Fixture, service: JobService, xid: str, caller: str, entries: list[str],
    export: dict[str, Any], counters: tuple[int, ...], result: str, outputs: dict[str, Any],
) -> None:  # fmt: skip
    job = service.run(submit(service, fx, caller, entries, **export).id)
    got = (job.success, job.errors, job.warnings, job.duplicates, job.total)
    assert (job.state, got, outcome(job)) == ("Done", counters, result), xid
    assert job.total == job.success + job.errors + job.duplicates + job.cancelled  # invariant
    folder = service.output_dir(job)
    files = {p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file()}
    assert files == set(outputs) | {"manifest.json"}, xid
    for path, expected in outputs.items():
        data = (folder / path).read_bytes()
        if isinstance(expected, str):
            asset = fx.catalog.asset(fx.acme, fx.handle(expected.split(":")[1]))
            original = fx.catalog.original_path(asset)  # type: ignore[arg-type]
            assert hashlib.sha256(data).digest() == hashlib.sha256(original.read_bytes()).digest()  # type: ignore[union-attr]
        else:
            image = pyvips.Image.new_from_buffer(data, "")
            media_type, width, height = expected
            assert (image.width, image.height) == (width, height), (xid, path)
            assert image.get("vips-loader").startswith(media_type.split("/")[1][:3]), (xid, path)
    errors = [(e.message, e.fault_code) for e in service.details(job.id, ("ExportError",))]
    for text, code in ERRORS.get(xid, []):
        assert any(text in message and c == code for message, c in errors), (xid, errors)
    manifest = json.loads((folder / "manifest.json").read_text())
    assert sorted(e["outputPath"] for e in manifest["entries"]) == sorted(outputs)
    with zipfile.ZipFile(folder.with_suffix(".zip")) as package:
        assert set(package.namelist()) == files


@pytest.mark.parametrize(
    ("xid", "caller", "overrides", "code"), FAULTS, ids=[f"{f[0]}-{f[3]}" for f in FAULTS]
)
def test_submit_faults(
    fx: Fixture, service: JobService, xid: str, caller: str, overrides: dict[str, Any], code: int
) -> None:
    args = {**BASE, **overrides}
    target = args.get("user")
    user_ref = None
    if target:
        found = user(fx, target) if "|" not in target else None
        user_ref = f"u|{found.id}|{found.email}" if found else target
    before = len(service.jobs(fx.acme))
    with pytest.raises(IpsFault) as info:
        service.submit(user(fx, caller), args["company"], args["name"], args["export"],
                       user_ref=user_ref, locale=args.get("locale", ""),
                       other_payloads=args.get("other_payloads", 0))  # fmt: skip
    assert info.value.code == code, (xid, info.value)
    assert len(service.jobs(fx.acme)) == before  # no job, no log, no mail
    assert not service.transport.outbox  # type: ignore[union-attr]


def test_x56_company_admin_may_submit_unless_strict(fx: Fixture, service: JobService) -> None:
    assert service.submit(user(fx, "cadmin"), "c|1", "x56", BASE["export"]).id
    strict = JobService(type(fx.catalog)(fx.catalog.settings.__class__(
        data_dir=fx.catalog.settings.data_dir, strict_role_lists=True)))  # fmt: skip
    with pytest.raises(IpsFault) as info:
        strict.submit(user(fx, "cadmin"), "c|1", "x56", BASE["export"])
    assert info.value.code == 20003


def test_x58_admin_submits_for_another_user(fx: Fixture, service: JobService) -> None:
    editor = user(fx, "editor")
    job = service.submit(user(fx, "root"), "c|1", "x58",
                         {"assetHandleArray": [fx.handle("#102")], "fmt": "orig",
                          "emailSetting": "JobCompletion"},
                         user_ref=f"u|{editor.id}|{editor.email}")  # fmt: skip
    service.run(job.id)
    (mail,) = service.transport.outbox  # type: ignore[union-attr]
    assert mail.recipient == "editor@acme.example" and "Succeeded" in mail.subject
    assert job.submit_user_id == user(fx, "root").id


@pytest.mark.parametrize(
    ("xid", "setting", "mails", "lists_errors"),
    [
        ("X64", "None", 0, False),
        ("X21", "Error", 1, True),
        ("X66", "JobCompletion", 1, False),
        ("X67", "All", 1, True),
        ("X65", "ErrorAndWarning", 1, True),
    ],
)
def test_email_settings(
    fx: Fixture, service: JobService, xid: str, setting: str, mails: int, lists_errors: bool
) -> None:
    job = submit(service, fx, "editor", ["#102", "#106", "#107"], fmt="orig", emailSetting=setting)
    service.run(job.id)
    outbox = service.transport.outbox  # type: ignore[union-attr]
    assert len(outbox) == mails, xid
    if mails:
        body = outbox[0].body
        assert outbox[0].subject == '[IPS] Export job "export" PartiallyFailed'
        assert ("ImageSet" in body) is lists_errors and "Download:" in body


def test_x65_no_mail_without_errors(fx: Fixture, service: JobService) -> None:
    service.run(submit(service, fx, "editor", ["#102"], fmt="orig", emailSetting="Error").id)
    assert not service.transport.outbox  # type: ignore[union-attr]


def test_x72_stop_cancels_the_rest(fx: Fixture, service: JobService) -> None:
    job = submit(service, fx, "editor", ["#101", "#102", "#103", "#111"] * 1 + ["#115"],
                 fmt="orig", emailSetting="JobCompletion")  # fmt: skip
    service.control(fx.acme, job_handle(job), "pause")
    service.start(job.id)
    service.control(fx.acme, job_handle(job), "stop")
    done = service.wait(job.id, timeout=30)
    assert done.state == "Done" and outcome(done) == "Stopped"
    assert done.cancelled == done.total - done.success - done.errors
    assert len(service.details(job.id, ("FileCancel",))) == done.cancelled
    # The digest goes out after Done (marked pending in the same transaction): allow for it.
    outbox = service.transport.outbox  # type: ignore[union-attr]
    deadline = time.monotonic() + 10
    while not outbox and time.monotonic() < deadline:
        time.sleep(0.05)
    assert outbox[0].outcome == "Stopped"


def test_x75_duplicate_names_get_suffixes(fx: Fixture, service: JobService) -> None:
    first = service.submit(user(fx, "editor"), "c|1", "exp", BASE["export"])
    second = service.submit(user(fx, "editor"), "c|1", "exp", BASE["export"])
    assert (first.original_name, second.original_name) == ("exp", "exp")
    assert (
        second.name == f"{first.name}-1" if first.name == "exp" else second.name.startswith("exp-")
    )
    assert job_handle(second).endswith(f"|{second.id}")


def test_x76_client_id_is_echoed_only(fx: Fixture, service: JobService) -> None:
    job = submit(service, fx, "editor", ["#102"], fmt="orig", clientId="203.0.113.7")
    assert service.run(job.id).params["clientId"] == "203.0.113.7"


def test_x77_log_type_filter_and_log_shape(fx: Fixture, service: JobService) -> None:
    job = service.run(submit(service, fx, "editor", ["#102", "#106", "#107"], fmt="orig").id)
    assert len(service.details(job.id, ("ExportError",))) == 2
    kinds = [e.log_type for e in service.details(job.id)]
    assert kinds[:5] == ["BeginExport", "OriginalJobName", "JobType", "JobClient", "TotalFileCount"]
    assert kinds[-1] == "EndExport"


def test_x03_orig_notes_ignored_modifiers(fx: Fixture, service: JobService) -> None:
    job = service.run(submit(service, fx, "editor", ["#102"], fmt="orig", is_modifier="wid=1").id)
    (info,) = service.details(job.id, ("ExportInfo",))
    assert info.message == "is_modifier/macro ignored because fmt=orig"


def test_x33_deviation_op_blur_is_rendered_not_ignored(fx: Fixture, service: JobService) -> None:
    """The spec's X33 predates the renderer: op_blur is a [core] command and is applied
    (§2.8.6's Supported class), so the export succeeds without a warning."""
    job = submit(service, fx, "editor", ["#102"], fmt="convert", is_modifier="&fmt=png&op_blur=2")
    done = service.run(job.id)
    assert (done.success, done.warnings) == (1, 0)


def test_other_companies_jobs_are_not_found(fx: Fixture, service: JobService) -> None:
    job = submit(service, fx, "editor", ["#102"], fmt="orig")
    with pytest.raises(IpsFault) as info:
        service.control(fx.globex, job_handle(job), "stop")
    assert info.value.code == 30001


def test_a_dead_workers_chunk_is_taken_back_when_its_lease_expires(
    fx: Fixture, service: JobService
) -> None:
    """A worker died holding a chunk (its lease ran out, a half-written .part is left):
    the next worker takes the chunk back and the job ends Done with each entry once."""
    from isrender.jobs.ledger import Ledger
    from isrender.jobs.models import JobChunk, utcnow
    from isrender.jobs.plan import Planner

    job = submit(service, fx, "editor", ["#102", "#101"], fmt="orig")
    assert Planner(fx.catalog).start(service.job(job.id))
    claim = Ledger(fx.catalog).claim("deadhost:1:dead0000", only_job=job.id)
    assert claim is not None
    with fx.catalog.session() as s:  # the dead worker's lease is over
        s.get(JobChunk, claim.chunk_id).lease_expires = utcnow() - timedelta(seconds=1)  # type: ignore[union-attr]
    folder = service.output_dir(job) / "products"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / ".shoe.jpg.dead0000.part").write_bytes(b"half")
    done = JobService(fx.catalog, LogTransport()).run(job.id)
    assert (done.state, done.success, done.cancelled, outcome(done)) == ("Done", 2, 0, "Succeeded")
    assert not list(service.output_dir(job).rglob("*.part"))
    kinds = [e.log_type for e in service.details(job.id)]
    assert kinds.count("ExportSuccess") == 2 and "FatalError" not in kinds


def test_a_live_workers_chunk_is_never_taken(fx: Fixture, service: JobService) -> None:
    from isrender.jobs.ledger import Ledger
    from isrender.jobs.plan import Planner

    job = submit(service, fx, "editor", ["#102"], fmt="orig")
    assert Planner(fx.catalog).start(service.job(job.id))
    assert not Planner(fx.catalog).start(service.job(job.id))  # started once
    ledger = Ledger(fx.catalog)
    claim = ledger.claim("livehost:1:live0000", only_job=job.id)
    assert claim is not None
    assert ledger.claim("otherhost:2:other000", only_job=job.id) is None
    assert ledger.renew(claim.chunk_id, "livehost:1:live0000")
    assert not ledger.renew(claim.chunk_id, "otherhost:2:other000")


def test_mail_over_real_smtp(fx: Fixture, tmp_path: Path) -> None:
    """A real SMTP server (aiosmtpd) on 127.0.0.1 receives the digest; a refused connection
    is logged and does not fail the job."""
    controller_module = pytest.importorskip("aiosmtpd.controller")
    from aiosmtpd.handlers import Sink

    class Keep(Sink):
        def __init__(self) -> None:
            self.messages: list[Any] = []

        async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
            self.messages.append(envelope)
            return "250 OK"

    handler = Keep()
    with socket.socket() as probe:  # a free port on the loopback interface
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    controller = controller_module.Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        from isrender.jobs.mail import SmtpTransport

        service = JobService(fx.catalog, SmtpTransport("127.0.0.1", port))
        service.run(submit(service, fx, "editor", ["#102"], fmt="orig", emailSetting="All").id)
        (envelope,) = handler.messages
        assert envelope.rcpt_tos == ["editor@acme.example"]
        assert b'Export job "export" Succeeded' in envelope.content
    finally:
        controller.stop()
    broken = JobService(fx.catalog, SmtpTransport("127.0.0.1", 9))
    job = broken.run(submit(broken, fx, "editor", ["#102"], fmt="orig", emailSetting="All").id)
    assert outcome(job) == "Succeeded"
    assert any("could not be sent" in e.message for e in broken.details(job.id, ("ExportInfo",)))


def test_stopping_a_queued_job_cancels_every_entry(fx: Fixture, service: JobService) -> None:
    job = submit(service, fx, "editor", ["#101", "#102"], fmt="orig")
    done = service.control(fx.acme, job_handle(job), "stop")
    assert (done.state, done.cancelled, outcome(done)) == ("Done", 2, "Stopped")
    assert len(service.details(job.id, ("FileCancel",))) == 2


def test_x19_three_files_manifest_and_mail(fx: Fixture, service: JobService) -> None:
    job = service.run(submit(service, fx, "editor", ["#101", "#102", "#104"], fmt="orig",
                             emailSetting="JobCompletion").id)  # fmt: skip
    assert (job.success, job.total, outcome(job)) == (3, 3, "Succeeded")
    manifest = json.loads((service.output_dir(job) / "manifest.json").read_text())
    assert len(manifest["entries"]) == 3 and all(e["sha256"] for e in manifest["entries"])
    (mail,) = service.transport.outbox  # type: ignore[union-attr]
    assert mail.recipient == "editor@acme.example" and "Download:" in mail.body


def test_x78_detail_paging(fx: Fixture, service: JobService) -> None:
    job = service.run(submit(service, fx, "editor", ["#102", "#102", "#101"], fmt="orig").id)
    page, total = service.details_page(job.id, per_page=2)
    assert len(page) == 2 and total == len(service.details(job.id)) > 2
    assert (
        len(service.details(job.id, ("GetFailure",))) == 0
    )  # Get aliases filter the Export family
    assert len(service.details(job.id, ("ReturnSuccess",))) == 2


def test_x79_asset_job_logs(fx: Fixture, service: JobService) -> None:
    job = service.run(submit(service, fx, "editor", ["#102"], fmt="orig").id)
    entries = service.asset_logs(fx.acme, fx.handle("#102"))
    assert any(j.id == job.id and e.log_type == "ExportSuccess" for j, e in entries)
    assert service.asset_logs(fx.globex, fx.handle("#102")) == []


def test_retention_deletes_outputs_and_keeps_logs(fx: Fixture, service: JobService) -> None:
    from datetime import datetime, timedelta

    job = service.run(submit(service, fx, "editor", ["#102"], fmt="orig").id)
    assert service.purge() == [] or job.id not in service.purge()
    later = datetime.now() + timedelta(days=8)
    assert job.id in service.purge(now=later)
    assert (
        not service.output_dir(job).exists()
        and not service.output_dir(job).with_suffix(".zip").exists()
    )
    assert service.details(job.id)  # logs stay


def test_corrupt_image_fails_its_entry_only(fx: Fixture, service: JobService) -> None:
    """A truncated JPEG uploads (its header is fine) and fails at conversion, per entry."""
    corpus = Path(__file__).resolve().parents[2].parent / "shared" / "corpus" / "bad"
    if not (corpus / "truncated.jpg").is_file():
        pytest.skip("../shared/corpus is absent")
    (entry,) = fx.catalog.upload(fx.acme, [corpus / "truncated.jpg"], "products")
    assert entry.status in ("UploadSuccess", "FileUpdated")
    job = service.run(service.submit(user(fx, "editor"), "c|1", "corrupt", {
        "assetHandleArray": [f"a|{entry.asset_id}", fx.handle("#102")], "fmt": "convert",
        "is_modifier": "&fmt=png&wid=100"}).id)  # fmt: skip
    assert (job.success, job.errors) == (1, 1)
    (error,) = service.details(job.id, ("ExportError",))
    assert error.message.startswith("Conversion failed: products/truncated.jpg")
    assert error.fault_code == 30000 and "/shared/" not in error.message


def test_upload_is_a_job_with_upload_logs(fx: Fixture, service: JobService, tmp_path: Path) -> None:
    good = tmp_path / "newshot.png"
    pyvips.Image.black(20, 10).bandjoin([0, 0]).cast("uchar").pngsave(str(good))
    (tmp_path / "notes.txt").write_text("no image")
    job = service.upload(user(fx, "editor"), "c|1", [good, tmp_path / "notes.txt"], "incoming")
    assert (job.type, job.state, job.total, job.success, job.errors) == (
        "UploadPost",
        "Done",
        2,
        1,
        1,
    )
    kinds = [e.log_type for e in service.details(job.id)]
    assert kinds == ["BeginUpload", "UploadSuccess", "UploadError", "EndUpload"]
    again = service.upload(user(fx, "editor"), "c|1", [good], "incoming", overwrite=False)
    assert [e.log_type for e in service.details(again.id)][1] == "DuplicateSkipped"
    with pytest.raises(IpsFault) as info:
        service.upload(user(fx, "viewer"), "c|1", [good])
    assert info.value.code == 20003  # ImagePortalUser may not upload
    with pytest.raises(IpsFault) as outsider:
        service.upload(user(fx, "outsider"), "c|1", [good])
    assert outsider.value.code == 20006


def test_x68_locale_is_recorded_and_english_is_the_fallback(
    fx: Fixture, service: JobService
) -> None:
    """No French message catalog is installed: texts stay English, the locale is kept."""
    editor = user(fx, "editor")
    export = {
        "assetHandleArray": [fx.handle("#102")],
        "fmt": "orig",
        "emailSetting": "JobCompletion",
    }
    job = service.run(service.submit(editor, "c|1", "x68", export, locale="fr-FR").id)
    assert job.locale == "fr-FR"
    (mail,) = service.transport.outbox  # type: ignore[union-attr]
    assert mail.locale == "fr-FR" and "Succeeded" in mail.subject


def _service_with(fx: Fixture, **settings: object) -> JobService:
    catalog = type(fx.catalog)(fx.catalog.settings.model_copy(update=dict(**settings)))
    return JobService(catalog, LogTransport())


def test_flat_layout_drops_folders(fx: Fixture) -> None:
    flat = _service_with(fx, export_layout="flat")
    job = flat.run(submit(flat, fx, "editor", ["#102", "#104"], fmt="orig").id)
    files = {p.name for p in flat.output_dir(job).iterdir() if p.is_file()}
    assert files == {"shoe.jpg", "catalog2020.pdf", "manifest.json"}


@pytest.mark.parametrize(
    ("entry", "code"),
    [("a|99999", 30001), ("#106", 30001), ("#112", 30001), ("#113", 30000)],
)
def test_strict_mode_checks_handles_at_submit(fx: Fixture, entry: str, code: int) -> None:
    strict = _service_with(fx, validate_handles_at_submit=True)
    with pytest.raises(IpsFault) as info:
        submit(strict, fx, "editor", ["#102", entry], fmt="orig")
    assert info.value.code == code
    assert submit(strict, fx, "editor", ["#102", "#102"], fmt="orig").id  # duplicates: no fault


def test_asset_permission_sets_stop_inheriting(fx: Fixture, service: JobService) -> None:
    """contrib may read Acme/public/; an explicit Read deny on #111 overrides the folder."""
    with fx.catalog.session() as s:
        studio = s.query(Group).filter_by(name="Studio").one().id
    contrib = user(fx, "contrib")
    before = fx.catalog.asset(fx.acme, fx.handle("#111"))
    assert before is not None and fx.catalog.can_read(contrib, Role.IMAGE_PORTAL_CONTRIB, before)
    fx.catalog.set_asset_permission(fx.ids["#111"], studio, allowed=False)
    job = service.run(submit(service, fx, "contrib", ["#111"], fmt="orig").id)
    assert (job.success, job.errors) == (0, 1)
    (error,) = service.details(job.id, ("ExportError",))
    assert error.message.startswith("Read permission denied") and error.fault_code == 20009


def test_asset_modifiers_wrap_the_conversion(fx: Fixture, service: JobService) -> None:
    """§2.8.5: asset Modifier first, PostModifier last; the request wins over the Modifier."""
    fx.catalog.set_asset_modifiers(fx.acme, fx.handle("#101"), "wid=100&fmt=gif", "hei=50")
    try:
        job = service.run(submit(service, fx, "editor", ["#101"], fmt="convert",
                                 is_modifier="&fmt=png").id)  # fmt: skip
        image = pyvips.Image.new_from_file(
            str(service.output_dir(job) / "products/fileToExport.png")
        )
        assert image.height == 50  # PostModifier wins; fmt=png from the request beats gif
        with pytest.raises(IpsFault):
            fx.catalog.set_asset_modifiers(fx.acme, fx.handle("#101"), "wid=1&$$", None)
    finally:
        fx.catalog.set_asset_modifiers(fx.acme, fx.handle("#101"), "", "")


@pytest.mark.parametrize(
    ("shape", "found"),
    [("j|{c}||{name}|{id}", True), ("j|{c}||bogus|{id}", False), ("j|{other}||{name}|{id}", False),
     ("j|{c}|||{id}", True), ("j|{c}||{name}|{id}x", False)],
)  # fmt: skip
def test_a_job_handle_naming_another_job_is_not_found(
    fx: Fixture, service: JobService, shape: str, found: bool
) -> None:
    job = submit(service, fx, "editor", ["#102"], fmt="orig")
    handle = shape.format(c=fx.acme, other=fx.globex, name=job.name, id=job.id)
    assert (service.find(fx.acme, handle) is not None) is found


def test_workers_never_finish_an_upload_in_progress(fx: Fixture, service: JobService) -> None:
    from isrender.jobs.worker import Worker

    editor = user(fx, "editor")
    with fx.catalog.session() as s:  # an upload job while its files are being stored
        upload = Job(company_id=fx.acme, name="up", original_name="up", type="UploadPost",
                     state="Running", submit_user_id=editor.id, recipient_user_id=editor.id,
                     params={})  # fmt: skip
        s.add(upload)
        s.flush()
        upload_id = upload.id
    worker = Worker(service, only_job=upload_id)
    assert not worker.finish_one() and not worker.start_one()
    assert service.job(upload_id).state == "Running"


def test_a_bug_fails_its_entry_and_never_loops(
    fx: Fixture, service: JobService, monkeypatch: pytest.MonkeyPatch
) -> None:
    from isrender.jobs.entries import Exporter

    real = Exporter.produce
    broken = fx.handle("#101")

    def produce(self: Exporter, entry: Any) -> bytes:
        if entry.handle == broken:
            raise RuntimeError("a bug")
        return real(self, entry)

    monkeypatch.setattr(Exporter, "produce", produce)
    done = service.run(submit(service, fx, "editor", ["#101", "#102"], fmt="orig").id)
    assert (done.state, done.success, done.errors) == ("Done", 1, 1)
    (error,) = service.details(done.id, ("ExportError",))
    assert error.asset_handle == broken and "internal error" in error.message


def test_a_job_that_cannot_start_fails_instead_of_blocking_the_queue(
    fx: Fixture, service: JobService, monkeypatch: pytest.MonkeyPatch
) -> None:
    from isrender.jobs.plan import Planner

    def explode(self: Planner, job: Job) -> Any:
        raise RuntimeError("a bug while planning")

    monkeypatch.setattr(Planner, "_plan", explode)
    done = service.run(submit(service, fx, "editor", ["#101", "#102"], fmt="orig").id)
    assert (done.state, done.fatal_error, done.cancelled, outcome(done)) == (
        "Done",
        True,
        2,
        "Failed",
    )
    (fatal,) = service.details(done.id, ("FatalError",))
    assert "could not start: a bug while planning" in fatal.message
