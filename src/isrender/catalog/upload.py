"""Uploads: files and directories become assets (§1.9), replacing existing ones under the
company's overwriteMode (§1.2); every file gets one ``UploadEntry`` (the upload log)."""

from __future__ import annotations

from collections.abc import Container
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from isrender.catalog.asset_types import detect_type
from isrender.catalog.core import CatalogCore
from isrender.catalog.folders import folder_at, folder_problem
from isrender.catalog.models import Asset, Company
from isrender.catalog.names import check_file_name
from isrender.errors import IsRenderError
from isrender.render.attributes import CatalogAttributes

__all__ = ["MAX_SOURCE_PIXELS", "UploadEntry", "Uploads", "free_name"]

MAX_SOURCE_PIXELS = CatalogAttributes().max_source_pixels  # what the image server refuses


@dataclass(frozen=True, slots=True)
class UploadEntry:
    """One file of an upload: ``status`` is ``UploadSuccess``, ``FileUpdated``,
    ``DuplicateSkipped`` or ``UploadError`` (the IPS upload log types, §1.9)."""

    source: str
    status: str
    asset_id: int | None = None
    asset_type: str | None = None
    message: str = ""


class Uploads(CatalogCore):
    """The upload part of ``Catalog``."""

    def upload(
        self, company_id: int, paths: list[Path], folder: str = "", *,
        overwrite: bool = True, user_id: int | None = None,
    ) -> list[UploadEntry]:  # fmt: skip
        """Upload files and directories (recursively, keeping sub-folders)."""
        entries: list[UploadEntry] = []
        claimed: set[int] = set()  # assets this upload created or replaced: never replaced again
        for path in paths:
            refused = check_file_name(path.name)  # before any file-system call: may be too long
            if refused is not None:
                entries.append(UploadEntry(path.name, "UploadError", message=refused))
            elif path.is_dir():
                for file in sorted(p for p in path.rglob("*") if p.is_file()):
                    sub = file.parent.relative_to(path).as_posix()
                    target = (
                        f"{folder}/{path.name}/{sub}" if sub != "." else f"{folder}/{path.name}"
                    )
                    entries.append(self._upload_file(company_id, file, target, overwrite,
                                                     user_id, claimed))  # fmt: skip
            else:
                entries.append(self._upload_file(company_id, path, folder, overwrite, user_id,
                                                 claimed))  # fmt: skip
        return entries

    def _upload_file(
        self, company_id: int, path: Path, folder: str, overwrite: bool, user_id: int | None,
        claimed: set[int],
    ) -> UploadEntry:  # fmt: skip
        refused = check_file_name(path.name) or folder_problem(folder)
        if refused is not None:
            return UploadEntry(path.name, "UploadError", message=refused)
        try:
            data = path.read_bytes()
        except OSError as exc:
            return UploadEntry(path.name, "UploadError", message=f"cannot read: {exc.strerror}")
        asset_type = detect_type(path.name, data[:8192])
        if asset_type is None:
            return UploadEntry(path.name, "UploadError", message="not a file type IPS stores")
        width = height = None
        if asset_type in ("Image", "AnimatedGif"):
            from isrender.render.vips.renderer import (
                read_source_info,  # the catalog may use the renderer
            )

            try:
                info = read_source_info(data)
            except IsRenderError as exc:
                return UploadEntry(path.name, "UploadError", message=exc.public_message)
            if info.pixels > MAX_SOURCE_PIXELS:  # it could never be served: refuse it now
                return UploadEntry(
                    path.name,
                    "UploadError",
                    message=(
                        f"the image is {info.width}x{info.height} ({info.pixels / 1e6:.1f} Mpx), "
                        f"above the {MAX_SOURCE_PIXELS / 1e6:g} Mpx limit (max_source_pixels)"
                    ),
                )
            width, height = info.width, info.height
        stored = self.files.put(data)
        with self.session() as s:
            company = s.get(Company, company_id)
            assert company is not None
            target = folder_at(s, company_id, folder, create=True)
            existing = _replaced_asset(s, company, target.id, path.name)
            twin = existing is not None and existing.id in claimed
            if twin:  # an earlier file of this upload: keep both, under two names
                existing = None
            if existing is not None and not overwrite:
                return UploadEntry(path.name, "DuplicateSkipped", existing.id, existing.type,
                                   f"an asset named {existing.name!r} exists")  # fmt: skip
            name = existing.name if existing else _free_name(s, company_id, path.stem)
            message = "" if existing or name == path.stem else f"stored as asset {name!r}"
            if twin:
                message = f"another file of this upload is also named {path.name!r}; {message}"
            asset = existing or Asset(company_id=company_id, name=name, created_by=user_id)
            asset.folder_id, asset.type, asset.file_name = target.id, asset_type, path.name
            asset.sha256, asset.file_size = stored.sha256, stored.size
            asset.width, asset.height, asset.trash_state = width, height, "NotInTrash"
            s.add(asset)
            s.flush()
            claimed.add(asset.id)
            status = "FileUpdated" if existing is not None else "UploadSuccess"
            return UploadEntry(path.name, status, asset.id, asset_type, message)


def _replaced_asset(s: Session, company: Company, folder_id: int, file_name: str) -> Asset | None:
    """The asset an upload of ``file_name`` replaces under the company's overwriteMode (§1.2).

    The reference names the modes only; isrender reads them literally: *FullName* matches the
    whole file name, *AnyExt* the name without extension; *AnyFolder* looks in every folder,
    otherwise only in the destination folder.
    """
    mode = company.overwrite_mode
    stem = file_name.rpartition(".")[0] or file_name
    query = select(Asset).where(Asset.company_id == company.id, Asset.trash_state == "NotInTrash")
    if not mode.endswith("AnyFolder"):
        query = query.where(Asset.folder_id == folder_id)
    for asset in s.scalars(query.order_by(Asset.id)):
        name = asset.file_name or asset.name
        if mode.startswith("OverwriteAnyExt"):
            if (name.rpartition(".")[0] or name) == stem:
                return asset
        elif name == file_name:
            return asset
    return None


def free_name(stem: str, taken: Container[str]) -> str:
    """``stem``, or the first ``stem-n`` not in ``taken`` (asset names, job names)."""
    name, n = stem, 0
    while name in taken:
        n += 1
        name = f"{stem}-{n}"
    return name


def _free_name(s: Session, company_id: int, stem: str) -> str:
    """Asset names are unique within a company."""
    return free_name(stem, set(s.scalars(select(Asset.name).where(Asset.company_id == company_id))))
