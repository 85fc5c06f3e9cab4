"""One ExportJob run (production-system.md §2.8.2): start entries, job-level re-check, the
entry loop in array order, finish (manifest, ZIP, EndExport, counters, e-mail).

Conversions run on a thread pool (libvips releases the GIL), a few entries ahead of the entry
being logged, so both cores work while logs, names and counters stay in array order. Stop and
pause are honoured between entries. Outputs are written to a temporary name and renamed.
"""

from __future__ import annotations

import hashlib
import json
import os
import socket
import time
import zipfile
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from isrender.attributes import CatalogAttributes
from isrender.catalog import Catalog, ExportClass, export_class
from isrender.catalog.models import Asset
from isrender.errors import IpsFault, IsRenderError
from isrender.jobs.export import (
    ExportParams,
    compose,
    conversion_extension,
    output_name,
    unique_name,
)
from isrender.jobs.models import Job, JobLogEntry
from isrender.service import ImageService

__all__ = ["EXPORT_ATTRIBUTES", "Entry", "Run"]

# Exports deliver full resolution (D-50) and accept sources up to 200 Mpx (§2.8.13).
EXPORT_ATTRIBUTES = CatalogAttributes(max_source_pixels=200_000_000, max_render_pixels=200_000_000)
# The conversion step of every export: the same ImageService the image server uses.
EXPORT_IMAGES = ImageService(EXPORT_ATTRIBUTES)
LOG_FILE_TYPES = {"Image": "MasterImage", "AnimatedGif": "MasterImage", "Video": "Video",
                  "MasterVideo": "Video", "WindowsCovering": "WindowCovering"}  # fmt: skip
SAME_NAME_TYPES = frozenset(
    "Font IccProfile Xsl Xml Svg Pdf Aco PsdTemplate Zip Template Watermark Cabinet Vignette "
    "ViewerSwf Mask ImageMap ImageSet RenderSet SpinSet Catalog".split()
)


def log_file_type(asset_type: str) -> str:
    if asset_type in LOG_FILE_TYPES:
        return LOG_FILE_TYPES[asset_type]
    return asset_type if asset_type in SAME_NAME_TYPES else "NoType"


class EntryError(Exception):
    def __init__(self, message: str, code: int) -> None:
        super().__init__(message)
        self.message, self.code = message, code


@dataclass
class Entry:
    """One accepted entry on its way to an output."""

    handle: str
    asset: Asset
    source: Path | None = None
    data: bytes = b""
    relative: str = ""
    warnings: list[str] = field(default_factory=list)


class Run:
    def __init__(self, catalog: Catalog, job: Job, outputs: Path, workers: int) -> None:
        self.catalog, self.job, self.workers = catalog, job, workers
        self.params = ExportParams(
            tuple(job.params["assetHandleArray"]),  # type: ignore[arg-type]
            str(job.params["fmt"]),
            str(job.params.get("is_modifier") or ""),
            str(job.params.get("macro") or "").strip("$"),
            str(job.params.get("emailSetting") or "None"),
            str(job.params.get("clientId") or ""),
        )
        self.scope = f"c|{job.company_id}"
        self.registry = catalog.macro_registry(job.company_id)
        self.folder = outputs / str(job.id)
        self.manifest: list[dict[str, Any]] = []
        self.taken: set[str] = set()
        # whose Read permission applies: the submitter's, looked up once per run (m-12)
        self.submitter = catalog.user(f"u|{job.submit_user_id}|")
        self.role = (
            catalog.effective_role(self.submitter, job.company_id) if self.submitter else None
        )

    # ---- logging and state ----------------------------------------------------------------

    def log(self, log_type: str, message: str = "", entry: Entry | None = None,
            handle: str | None = None, code: int | None = None, aux: list[str] | None = None,
            counts: dict[str, int] | None = None) -> None:  # fmt: skip
        """One log entry and, in the same transaction, the counters it changes."""
        asset = entry.asset if entry else None
        with self.catalog.session() as s:
            if counts:
                job = s.get(Job, self.job.id)
                assert job is not None
                for key, step in counts.items():
                    setattr(job, key, getattr(job, key) + step)
                s.flush()
                self.job = job
            s.add(JobLogEntry(
                job_id=self.job.id, log_type=log_type, message=message,
                asset_handle=handle or (entry.handle if entry else None),
                asset_name=asset.name if asset else None,
                asset_type=log_file_type(asset.type) if asset else None,
                fault_code=code, aux=aux or [],
            ))  # fmt: skip

    def update(self, **fields: Any) -> None:
        with self.catalog.session() as s:
            job = s.get(Job, self.job.id)
            assert job is not None
            for key, value in fields.items():
                setattr(job, key, value)
            s.flush()
            self.job = job

    def flags(self) -> tuple[bool, bool]:
        with self.catalog.session() as s:
            job = s.get(Job, self.job.id)
            assert job is not None
            return job.stop_requested, job.pause_requested

    # ---- the run --------------------------------------------------------------------------

    def execute(self, on_done: Callable[[Run], None]) -> None:
        self.update(state="Running", start_date=datetime.now())
        self.log("BeginExport", "Export has begun")
        self.log("OriginalJobName", self.job.original_name)
        self.log("JobType", "Export")
        self.log("JobClient", socket.gethostname())
        self.log("TotalFileCount", str(self.job.total))
        if self.job.parent_id is not None:  # a run of a schedule (or of executeJob)
            with self.catalog.session() as s:
                parent = s.get(Job, self.job.parent_id)
            self.log("InitiatingJobName", parent.name if parent else "")
        fatal = self.recheck()
        if fatal:
            self.log("FatalError", fatal)
            self.cancel_from(0)
            self.update(fatal_error=True)
        else:
            if self.params.fmt == "orig" and (self.params.is_modifier or self.params.macro):
                self.log("ExportInfo", "is_modifier/macro ignored because fmt=orig")
            self.entries()
        self.finish()
        on_done(self)

    def cancel_unstarted(self) -> None:
        """A queued run stopped before it began: every entry FileCancel, then Done."""
        self.log("BeginExport", "Export stopped before it began")
        self.cancel_from(0)
        self.update(stopped=True)
        self.finish()

    def recheck(self) -> str:
        """§2.8.2 step 2: the job may be run long after it was submitted."""
        company = self.catalog.company(self.scope)
        if company is None or (company.expires and company.expires < datetime.now()):
            return "the company is no longer available"
        user = self.catalog.user(f"u|{self.job.submit_user_id}|")
        if user is None or not user.is_valid or not self.catalog.effective_role(user, company.id):
            return "the submitting user is no longer an active member of the company"
        if self.params.fmt == "convert":
            try:
                compose(self.params, self.registry, self.scope)
            except IpsFault as fault:
                return f"the export commands no longer validate: {fault.reason}"
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            return f"the output store is unavailable: {exc.strerror}"
        return ""

    def entries(self) -> None:
        """Classify every entry first (cheap), then produce the accepted ones on the pool and
        log strictly in array order."""
        seen: set[str] = set()
        plan: list[Entry | EntryError | None] = []  # None: a duplicate
        for handle in self.params.asset_handles:
            if handle in seen:
                plan.append(None)
                continue
            seen.add(handle)
            try:
                plan.append(self.prepare(handle))
            except EntryError as error:
                plan.append(error)
        with ThreadPoolExecutor(max_workers=self.workers) as pool:
            futures = {
                i: pool.submit(self.produce, item)
                for i, item in enumerate(plan)
                if isinstance(item, Entry)
            }
            for index, item in enumerate(plan):
                if not self.wait_while_paused():
                    for future in futures.values():
                        future.cancel()
                    self.cancel_from(index)
                    self.update(stopped=True)
                    return
                self.settle(index, item, futures.get(index))

    def settle(
        self, index: int, item: Entry | EntryError | None, future: Future[Entry] | None
    ) -> None:
        handle = self.params.asset_handles[index]
        if item is None:
            self.log("DuplicateSkipped", f"Duplicate entry skipped: {handle}", handle=handle,
                     counts={"duplicates": 1, "processed": 1})  # fmt: skip
            return
        if isinstance(item, Entry):
            assert future is not None
            try:
                self.store(future.result())
            except EntryError as error:
                item = error
        if isinstance(item, EntryError):
            self.log("ExportError", item.message, handle=handle, code=item.code,
                     counts={"errors": 1, "processed": 1})  # fmt: skip

    def wait_while_paused(self) -> bool:
        """False when a stop was requested; blocks (cooperatively) while paused."""
        while True:
            stop, pause = self.flags()
            if stop:
                return False
            if not pause:
                return True
            time.sleep(0.2)

    def cancel_from(self, index: int) -> None:
        remaining = self.params.asset_handles[index:]
        for handle in remaining:
            self.log("FileCancel", f"Not exported: {handle}", handle=handle)
        self.update(cancelled=self.job.cancelled + len(remaining))

    def prepare(self, handle: str) -> Entry:
        """Resolve and check one entry (§2.8.3), before any bytes are produced."""
        asset = self.catalog.asset(self.job.company_id, handle)
        if asset is None:
            raise EntryError(f"Asset not found: {handle}", 30001)
        where = f"{asset.folder.path}{asset.file_name or asset.name}"
        if asset.trash_state != "NotInTrash":
            raise EntryError(f"Asset is in the trash: {where}", 30001)
        kind = export_class(asset.type, asset.sub_type)
        if kind is ExportClass.SET:
            raise EntryError(
                f"Asset type {asset.type} is not supported by ExportJob: {asset.name}", 30001
            )
        user, role = self.submitter, self.role
        if user is None or role is None or not self.catalog.can_read(user, role, asset):
            raise EntryError(f"Read permission denied: {where}", 20009)
        entry = Entry(handle, asset)
        if self.params.fmt == "orig":
            if kind in (ExportClass.VIRTUAL, ExportClass.NONE):
                raise EntryError(f"Asset has no original file: {asset.name} ({asset.type})", 30001)
            entry.source = self.catalog.original_path(asset)
        else:
            if kind in (ExportClass.FILE, ExportClass.NONE):
                raise EntryError(
                    f"Asset type {asset.type} cannot be converted: {asset.name}", 30001
                )
            owner = self.catalog.asset(self.job.company_id, f"a|{asset.owner_id}") if (
                kind is ExportClass.VIRTUAL and asset.owner_id) else asset  # fmt: skip
            entry.source = self.catalog.original_path(owner) if owner else None
        if entry.source is None:
            raise EntryError(f"Original file unavailable: {where}", 30000)
        return entry

    def produce(self, entry: Entry) -> Entry:
        """The output bytes (runs on the pool): the original, or a conversion."""
        assert entry.source is not None
        try:
            if self.params.fmt == "orig":
                entry.data = entry.source.read_bytes()
                entry.relative = output_name(entry.asset.folder.path, entry.asset.file_name,
                                             entry.asset.name, entry.asset.id, None)  # fmt: skip
                return entry
            asset = entry.asset
            request = compose(self.params, self.registry, self.scope, asset.modifier,
                              asset.post_modifier)  # fmt: skip
            entry.data = EXPORT_IMAGES.render_bound(entry.source, request).data
            entry.relative = output_name(asset.folder.path, asset.file_name, asset.name,
                                         asset.id, conversion_extension(request))  # fmt: skip
        except OSError:
            where = f"{entry.asset.folder.path}{entry.asset.file_name or entry.asset.name}"
            raise EntryError(f"Original file unavailable: {where}", 30000) from None
        except IpsFault as fault:
            raise EntryError(fault.reason, fault.code) from None
        except IsRenderError as exc:
            where = f"{entry.asset.folder.path}{entry.asset.file_name or entry.asset.name}"
            raise EntryError(f"Conversion failed: {where}: {exc.public_message}", 30000) from None
        return entry

    def store(self, entry: Entry) -> None:
        """Name (collisions ignore case), write atomically, log, count, record."""
        wanted = entry.relative
        if self.catalog.settings.export_layout == "flat":
            wanted = wanted.rpartition("/")[2]
        relative = unique_name(wanted, self.taken)
        if relative != wanted:
            name = relative.rpartition("/")[2]
            entry.warnings.append(f"output renamed to {name} to avoid a name collision")
        target = self.folder / relative
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
            temporary = target.with_name(f".{target.name}.part")
            temporary.write_bytes(entry.data)
            os.replace(temporary, target)
        except OSError as exc:
            raise EntryError(f"Could not store output: {exc.strerror}", 30000) from None
        kind = "ExportWarning" if entry.warnings else "ExportSuccess"
        counts = {"success": 1, "warnings": int(bool(entry.warnings)), "processed": 1}
        self.log(kind, f"Exported {relative}", entry, aux=entry.warnings, counts=counts)
        self.manifest.append({
            "assetHandle": entry.handle, "name": entry.asset.name, "type": entry.asset.type,
            "fileName": entry.asset.file_name, "outputPath": relative,
            "format": Path(relative).suffix.lstrip("."), "bytes": len(entry.data),
            "sha256": hashlib.sha256(entry.data).hexdigest(), "status": kind, "message": "",
        })  # fmt: skip

    def finish(self) -> None:
        """manifest.json, the ZIP package, EndExport, and Done."""
        self.folder.mkdir(parents=True, exist_ok=True)
        manifest = self.folder / "manifest.json"
        manifest.write_text(json.dumps({"job": self.job.name, "entries": self.manifest}, indent=2))
        package = self.folder.with_suffix(".zip")
        with zipfile.ZipFile(package.with_suffix(".zip.part"), "w", zipfile.ZIP_DEFLATED) as z:
            for path in sorted(p for p in self.folder.rglob("*") if p.is_file()):
                z.write(path, path.relative_to(self.folder).as_posix())
        os.replace(package.with_suffix(".zip.part"), package)
        job = self.job
        summary = (f"{job.success} exported, {job.errors} errors, {job.warnings} warnings, "
                   f"{job.duplicates} duplicates, {job.cancelled} cancelled of {job.total}; "
                   f"outputs: {self.folder}")  # fmt: skip
        self.log("EndExport", summary)
        self.update(state="Done", end_date=datetime.now())
