"""Folder paths of a company: their normal form (``a/b/``) and the row for one, created on
demand (uploads, permissions and asset records all land in a folder)."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from isrender.catalog.models import Folder
from isrender.catalog.names import check_folder_path
from isrender.errors import CatalogError, IpsFault

__all__ = ["folder_at", "folder_problem", "normal_folder"]


def normal_folder(path: str) -> str:
    parts = [p for p in path.replace("\\", "/").split("/") if p and p != "."]
    if ".." in parts:
        raise CatalogError("'..' is not allowed in a folder path")
    return "".join(f"{p}/" for p in parts)


def folder_at(s: Session, company_id: int, path: str, create: bool = False) -> Folder:
    """The company's folder at ``path``; absent: created when ``create``, else CatalogError."""
    path = normal_folder(path)
    folder = s.scalar(select(Folder).where(Folder.company_id == company_id, Folder.path == path))
    if folder is None:
        if not create:
            raise CatalogError(f"no folder {path!r}")
        check_folder_path(path)
        folder = Folder(company_id=company_id, path=path)
        s.add(folder)
        s.flush()
    return folder


def folder_problem(folder: str) -> str | None:
    """Why ``folder`` cannot hold an upload, or None."""
    try:
        check_folder_path(folder)
    except IpsFault as fault:
        return fault.reason
    return None
