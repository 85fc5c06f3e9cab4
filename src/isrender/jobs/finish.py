"""The finish step of a run (production-system.md §2.8.2 step 5): manifest.json, the ZIP
package, EndExport, the counters' final state, Done, and the e-mail digest.

It runs once per job: a worker claims it with a lease (``Ledger.claim_finish``) once every
chunk is done, and the move to Done is guarded on that claim. Files are rebuilt from the
entry rows, so a finisher that dies is simply replaced. The digest is marked pending in the
same transaction as Done and cleared once sent, so a crash between the two sends it later.
"""

from __future__ import annotations

import json
import os
import zipfile
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import select, update

from isrender.catalog import Catalog
from isrender.catalog.models import Asset
from isrender.jobs.ledger import Ledger, LogLine, changed
from isrender.jobs.mail import Transport, compose_digest, should_send
from isrender.jobs.models import EXPORTED, Job, JobLogEntry, JobState

__all__ = ["Finisher", "outcome", "severity"]

# Outputs that are compressed already (measured: deflating 100 WebP outputs took 10x longer
# than storing them and saved 0.03 %).
PACKED = frozenset(".jpg .jpeg .png .webp .avif .gif .heic .zip .mp4 .pdf".split())


def outcome(job: Job) -> str:
    """§2.7.2: Stopped, Failed, PartiallyFailed, SucceededWithWarnings or Succeeded."""
    if job.stopped:
        return "Stopped"
    if job.fatal_error or (job.errors and not job.success):
        return "Failed"
    if job.errors:
        return "PartiallyFailed"
    return "SucceededWithWarnings" if job.warnings else "Succeeded"


def severity(log_type: str) -> str:
    if log_type.endswith(("Error", "Failure")):
        return "error"
    return "warning" if log_type.endswith("Warning") else "info"


class Finisher:
    def __init__(self, catalog: Catalog, ledger: Ledger, outputs: Path, transport: Transport):
        self.catalog, self.ledger, self.outputs, self.transport = (
            catalog,
            ledger,
            outputs,
            transport,
        )

    def finish(self, job_id: int, owner: str) -> None:
        with self.catalog.session() as s:
            job = s.get(Job, job_id)
        if job is None:
            return
        if job.state != JobState.DONE:
            self._close(job, owner)
        self.mail(job_id, owner)

    def _close(self, job: Job, owner: str) -> None:
        tail = job.total + 1
        folder = self.outputs / str(job.id)
        try:
            self._package(job, folder)
        except OSError as exc:
            problem = f"could not write the package: {exc.strerror or exc}"
            self.ledger.log(job.id, LogLine("ExportInfo", problem, tail))
        stopped = job.stopped or (job.stop_requested and job.cancelled > 0 and not job.fatal_error)
        summary = (f"{job.success} exported, {job.errors} errors, {job.warnings} warnings, "
                   f"{job.duplicates} duplicates, {job.cancelled} cancelled of {job.total}; "
                   f"outputs: {folder}")  # fmt: skip
        setting = str(job.params.get("emailSetting") or "None")
        problems = bool(job.errors or job.fatal_error)
        with self.catalog.session() as s:
            closed = changed(
    s,
                update(Job)
                .where(Job.id == job.id, Job.finisher == owner, Job.state != JobState.DONE)
                .values(state=JobState.DONE, end_date=datetime.now(), stopped=stopped,
                        mail_pending=should_send(setting, problems, bool(job.warnings)))
            )  # fmt: skip
            if closed == 1:
                s.add(LogLine("EndExport", summary, tail).row(job.id))

    def _package(self, job: Job, folder: Path) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        for stray in folder.rglob(".*.part"):  # left by a worker that died mid-write
            stray.unlink(missing_ok=True)
        manifest = folder / "manifest.json"
        body = json.dumps({"job": job.name, "entries": self.manifest(job.id)}, indent=2)
        part = manifest.with_name(".manifest.json.part")
        part.write_text(body)
        os.replace(part, manifest)
        package = folder.with_suffix(".zip")
        part = package.with_name(f".{package.name}.part")
        with zipfile.ZipFile(part, "w", zipfile.ZIP_DEFLATED) as z:
            for path in sorted(p for p in folder.rglob("*") if p.is_file()):
                if not path.name.endswith(".part"):
                    # deflating a JPEG or WebP costs time and saves nothing: store those
                    method = zipfile.ZIP_STORED if path.suffix.lower() in PACKED else None
                    z.write(path, path.relative_to(folder).as_posix(), compress_type=method)
        os.replace(part, package)

    def manifest(self, job_id: int) -> list[dict[str, Any]]:
        """The exported entries in array order, from the entry rows."""
        rows = [e for e in self.ledger.entries(job_id) if e.outcome in EXPORTED]
        with self.catalog.session() as s:
            ids = [e.asset_id for e in rows]
            assets = {a.id: a for a in s.scalars(select(Asset).where(Asset.id.in_(ids)))}
        out = []
        for e in rows:
            asset = assets.get(e.asset_id or 0)
            out.append({
                "assetHandle": e.handle, "name": asset.name if asset else "",
                "type": asset.type if asset else "",
                "fileName": asset.file_name if asset else None, "outputPath": e.output,
                "format": Path(e.output or "").suffix.lstrip("."), "bytes": e.bytes,
                "sha256": e.sha256, "status": e.outcome, "message": "",
            })  # fmt: skip
        return out

    # ---- e-mail ---------------------------------------------------------------------------

    def mail(self, job_id: int, owner: str) -> None:
        """Send the pending digest once (cleared under the finish claim)."""
        with self.catalog.session() as s:
            job = s.get(Job, job_id)
        if job is None or not job.mail_pending or job.finisher != owner:
            return
        self._send(job)
        self.ledger.set(job_id, Job.finisher == owner, mail_pending=False)

    def _send(self, job: Job) -> None:
        tail = job.total + 1
        recipient = self.catalog.user(f"u|{job.recipient_user_id}|")
        if recipient is None or not recipient.is_valid:
            self.ledger.log(job.id, LogLine("ExportInfo", "notification recipient unavailable",
                                            tail))  # fmt: skip
            return
        with self.catalog.session() as s:
            query = select(JobLogEntry).where(JobLogEntry.job_id == job.id)
            entries = s.scalars(query.order_by(JobLogEntry.position, JobLogEntry.id)).all()
        problems = [(severity(e.log_type), f"{e.asset_handle or ''} {e.message}".strip())
                    for e in entries if severity(e.log_type) != "info"]  # fmt: skip
        problems += [("warning", f"{e.asset_handle}: {aux}") for e in entries for aux in e.aux]
        summary = [
            f"{job.success} exported, {job.errors} errors, {job.warnings} warnings, "
            f"{job.duplicates} duplicates, {job.cancelled} cancelled, {job.total} total"
        ]
        link = str((self.outputs / str(job.id)).with_suffix(".zip")) if job.success else None
        setting = str(job.params.get("emailSetting") or "None")
        mail = compose_digest(setting, job.original_name, outcome(job), summary, problems, link,
                              recipient.email, job.locale)  # fmt: skip
        try:
            self.transport.send(mail, self.catalog.settings.mail_from)
        except (OSError, ConnectionError) as exc:
            message = f"notification could not be sent: {exc}"
            self.ledger.log(job.id, LogLine("ExportInfo", message, tail))
