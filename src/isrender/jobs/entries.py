"""What happens to one ExportJob entry (production-system.md §2.8.3-§2.8.8): the checks, the
output name, the bytes (the original or a conversion) and the file, written atomically.

Nothing here knows about workers or leases: the planner (``plan.py``) calls ``prepare`` and
``output_name`` once per entry when a run starts, workers (``worker.py``) call ``produce`` and
``write`` for the entries of the chunks they claim.
"""

from __future__ import annotations

import errno
import os
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

from isrender.catalog import Catalog, ExportClass, export_class
from isrender.catalog.models import Asset, User
from isrender.catalog.roles import Role
from isrender.errors import EntryError, IpsFault, IsRenderError, StoreFailure
from isrender.jobs.export import (
    ExportParams,
    compose,
    conversion_extension,
    output_name,
)
from isrender.jobs.models import Job
from isrender.render.attributes import CatalogAttributes
from isrender.service import ImageService, PreparedRequest

__all__ = ["EXPORT_ATTRIBUTES", "Entry", "EntryError", "Exporter", "StoreFailure", "log_file_type"]

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
# Write errors that no retry of the same entry can mend: they fail the whole job (§ faults).
STORE_FATAL = {errno.ENOSPC: "disk full", errno.EROFS: "read-only file system",
               errno.EDQUOT: "disk quota exceeded", errno.EIO: "input/output error"}  # fmt: skip


def log_file_type(asset_type: str) -> str:
    if asset_type in LOG_FILE_TYPES:
        return LOG_FILE_TYPES[asset_type]
    return asset_type if asset_type in SAME_NAME_TYPES else "NoType"


@dataclass
class Entry:
    """One accepted entry: its asset and where its bytes come from."""

    handle: str
    asset: Asset
    source: Path
    warnings: list[str] = field(default_factory=list)


def params_of(job: Job) -> ExportParams:
    p = job.params
    return ExportParams(
        tuple(str(h) for h in p["assetHandleArray"]),  # type: ignore[attr-defined]
        str(p["fmt"]),
        str(p.get("is_modifier") or ""),
        str(p.get("macro") or "").strip("$"),
        str(p.get("emailSetting") or "None"),
        str(p.get("clientId") or ""),
    )


class Exporter:
    """The entry rules of one job run, with the submitter's permissions looked up once."""

    def __init__(self, catalog: Catalog, job: Job) -> None:
        self.catalog, self.job = catalog, job
        self.params = params_of(job)
        self.scope = f"c|{job.company_id}"
        self.registry = catalog.macro_registry(job.company_id)
        self.submitter: User | None = catalog.user(f"u|{job.submit_user_id}|")
        self.role: Role | None = (
            catalog.effective_role(self.submitter, job.company_id) if self.submitter else None
        )
        self._request = cache(self._compose)

    def _compose(self, modifier: str, post_modifier: str) -> PreparedRequest:
        return compose(self.params, self.registry, self.scope, modifier, post_modifier)

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
        owner: Asset | None = asset
        if self.params.fmt == "orig":
            if kind in (ExportClass.VIRTUAL, ExportClass.NONE):
                raise EntryError(f"Asset has no original file: {asset.name} ({asset.type})", 30001)
        else:
            if kind in (ExportClass.FILE, ExportClass.NONE):
                raise EntryError(
                    f"Asset type {asset.type} cannot be converted: {asset.name}", 30001
                )
            if kind is ExportClass.VIRTUAL and asset.owner_id:
                owner = self.catalog.asset(self.job.company_id, f"a|{asset.owner_id}")
        source = self.catalog.original_path(owner) if owner else None
        if source is None:
            raise EntryError(f"Original file unavailable: {where}", 30000)
        return Entry(handle, asset, source)

    def output_name(self, entry: Entry) -> str:
        """The relative output path before collisions are resolved (§2.8.7-§2.8.8)."""
        asset = entry.asset
        extension = None
        if self.params.fmt == "convert":
            try:
                request = self._request(asset.modifier or "", asset.post_modifier or "")
            except IpsFault as fault:
                raise EntryError(fault.reason, fault.code) from None
            extension = conversion_extension(request.request)
        name = output_name(asset.folder.path, asset.file_name, asset.name, asset.id, extension)
        if self.catalog.settings.export_layout == "flat":
            name = name.rpartition("/")[2]
        return name

    def produce(self, entry: Entry) -> bytes:
        """The output bytes: the original, or a conversion."""
        asset = entry.asset
        where = f"{asset.folder.path}{asset.file_name or asset.name}"
        try:
            if self.params.fmt == "orig":
                return entry.source.read_bytes()
            prepared = self._request(asset.modifier or "", asset.post_modifier or "")
            return EXPORT_IMAGES.render(prepared.on(entry.source)).data
        except OSError:
            raise EntryError(f"Original file unavailable: {where}", 30000) from None
        except IpsFault as fault:
            raise EntryError(fault.reason, fault.code) from None
        except IsRenderError as exc:
            raise EntryError(f"Conversion failed: {where}: {exc.public_message}", 30000) from None


def write_output(folder: Path, relative: str, data: bytes, owner_tag: str) -> None:
    """Write atomically: a temporary name of this worker, then a rename into place, so a
    re-run of the entry by another worker never meets a half-written file."""
    target = folder / relative
    temporary = target.with_name(f".{target.name}.{owner_tag}.part")
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        temporary.write_bytes(data)
        os.replace(temporary, target)
    except OSError as exc:
        temporary.unlink(missing_ok=True)
        cause = STORE_FATAL.get(exc.errno or 0)
        if cause:
            raise StoreFailure(f"{cause} writing {relative}") from None
        raise EntryError(f"Could not store output {relative}: {exc.strerror}", 30000) from None
