"""Groups and Read permissions on folders and assets, and the portal-user check they drive
(§1.4.3: the asset's own set, else the nearest folder's with one, else none)."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from isrender.catalog.core import CatalogCore
from isrender.catalog.folders import folder_at
from isrender.catalog.models import Asset, Folder, Group, GroupMember, Permission, User
from isrender.catalog.roles import PORTAL, PermissionEntry, Role, can_read
from isrender.errors import CatalogError

__all__ = ["Permissions"]


class Permissions(CatalogCore):
    """The groups and permissions part of ``Catalog``."""

    def add_group(self, company_id: int, name: str, member_ids: tuple[int, ...] = ()) -> Group:
        with self.session() as s:
            group = Group(company_id=company_id, name=name)
            s.add(group)
            s.flush()
            for user_id in member_ids:
                s.add(GroupMember(group_id=group.id, user_id=user_id))
        return group

    def set_folder_permission(
        self, company_id: int, path: str, group_id: int, allowed: bool = True,
        override: bool = False, permission_type: str = "Read",
    ) -> None:  # fmt: skip
        with self.session() as s:
            folder = folder_at(s, company_id, path, create=True)
            folder.has_permissions = True
            s.add(Permission(group_id=group_id, folder_id=folder.id, is_allowed=allowed,
                             is_override=override, permission_type=permission_type))  # fmt: skip

    def set_asset_permission(
        self, asset_id: int, group_id: int, allowed: bool = True, override: bool = False,
        permission_type: str = "Read",
    ) -> None:  # fmt: skip
        """setAssetPermissions: from now on the asset has its own set and stops inheriting
        its folder's (§1.4.3)."""
        with self.session() as s:
            asset = s.get(Asset, asset_id)
            if asset is None:
                raise CatalogError("no such asset")
            asset.has_permissions = True
            s.add(Permission(group_id=group_id, asset_id=asset_id, is_allowed=allowed,
                             is_override=override, permission_type=permission_type))  # fmt: skip

    def can_read(self, user: User, role: Role, asset: Asset) -> bool:
        """§1.4.3: the asset's own set, else the nearest folder's with one, else none."""
        if role not in PORTAL:
            return True  # admins and production users read everything in their company
        with self.session() as s:
            groups = s.scalars(
                select(GroupMember.group_id).where(GroupMember.user_id == user.id)
            ).all()
            return can_read(role, groups, _effective_entries(s, asset))


def _effective_entries(s: Session, asset: Asset) -> list[PermissionEntry]:
    query = select(Permission).where(Permission.permission_type == "Read")
    if asset.has_permissions:
        rows = s.scalars(query.where(Permission.asset_id == asset.id)).all()
        return [PermissionEntry(p.group_id, p.is_allowed, p.is_override) for p in rows]
    path = s.get(Folder, asset.folder_id).path  # type: ignore[union-attr]
    while True:
        folder = s.scalar(
            select(Folder).where(Folder.company_id == asset.company_id, Folder.path == path)
        )
        if folder is not None and folder.has_permissions:
            rows = s.scalars(query.where(Permission.folder_id == folder.id)).all()
            return [PermissionEntry(p.group_id, p.is_allowed, p.is_override) for p in rows]
        if not path:
            return []
        path = path.rstrip("/").rpartition("/")[0] + "/" if "/" in path.rstrip("/") else ""
