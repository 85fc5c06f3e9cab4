"""Roles, effective role and permissions (production-system.md §1.3-§1.4).

D-8: ``IpsCompanyAdmin`` may submit and execute jobs and ``TrialSiteAdmin`` may read log
details (the reference's lists look like slips); ``strict_role_lists`` restores them literally.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum

__all__ = ["Operation", "PermissionEntry", "Role", "allowed", "can_read", "category"]


class Role(StrEnum):
    IPS_ADMIN = "IpsAdmin"
    IPS_COMPANY_ADMIN = "IpsCompanyAdmin"
    IPS_USER = "IpsUser"
    WEB_SERVICE_USER = "WebServiceUser"
    TRIAL_SITE_ADMIN = "TrialSiteAdmin"
    TRIAL_SITE_USER = "TrialSiteUser"
    IMAGE_PORTAL_ADMIN = "ImagePortalAdmin"
    IMAGE_PORTAL_USER = "ImagePortalUser"
    IMAGE_PORTAL_CONTRIB = "ImagePortalContrib"
    IMAGE_PORTAL_CONTRIB_USER = "ImagePortalContribUser"


ADMINS = frozenset({Role.IPS_ADMIN, Role.IPS_COMPANY_ADMIN, Role.TRIAL_SITE_ADMIN,
                    Role.IMAGE_PORTAL_ADMIN})  # fmt: skip
PORTAL = frozenset({Role.IMAGE_PORTAL_USER, Role.IMAGE_PORTAL_CONTRIB,
                    Role.IMAGE_PORTAL_CONTRIB_USER})  # fmt: skip


def category(role: Role) -> str:
    """``admin``, ``editor`` or ``viewer`` (§1.4.1)."""
    if role in ADMINS:
        return "admin"
    return "viewer" if role is Role.IMAGE_PORTAL_USER else "editor"


class Operation(StrEnum):
    SUBMIT_JOB = "submitJob"
    CONTROL_JOB = "controlJob"  # getActiveJobs, stop/pause/resume/delete
    JOB_LOGS = "getJobLogs"
    JOB_LOG_DETAILS = "getJobLogDetails"
    GET_ASSETS = "getAssets"
    UPLOAD = "upload"
    SAVE_IMAGE_FORMAT = "saveImageFormat"
    GET_IMAGE_FORMATS = "getImageFormats"
    # isrender's own (no IPS operation): catalog attributes change every URL of the company
    CATALOG_ATTRIBUTES = "catalogAttributes"


_ALL = frozenset(Role) - {Role.WEB_SERVICE_USER}
_NOT_PORTAL_USER = _ALL - {Role.IMAGE_PORTAL_USER}
_LISTS: dict[Operation, frozenset[Role]] = {
    # §1.4.2, with D-8 applied
    Operation.SUBMIT_JOB: _NOT_PORTAL_USER,
    Operation.CONTROL_JOB: _NOT_PORTAL_USER,
    Operation.JOB_LOGS: _ALL,
    Operation.JOB_LOG_DETAILS: _ALL,
    Operation.GET_ASSETS: _ALL,
    Operation.UPLOAD: frozenset({Role.IPS_ADMIN, Role.IPS_COMPANY_ADMIN, Role.IPS_USER,
                                 Role.TRIAL_SITE_ADMIN, Role.IMAGE_PORTAL_ADMIN,
                                 Role.IMAGE_PORTAL_CONTRIB, Role.IMAGE_PORTAL_CONTRIB_USER}),
    Operation.SAVE_IMAGE_FORMAT: frozenset({Role.IPS_ADMIN, Role.IPS_COMPANY_ADMIN,
                                            Role.IPS_USER, Role.IMAGE_PORTAL_ADMIN}),
    Operation.GET_IMAGE_FORMATS: _ALL - {Role.TRIAL_SITE_ADMIN, Role.TRIAL_SITE_USER},
    Operation.CATALOG_ATTRIBUTES: frozenset({Role.IPS_ADMIN, Role.IPS_COMPANY_ADMIN}),
}  # fmt: skip
_STRICT_REMOVALS = {
    Operation.SUBMIT_JOB: {Role.IPS_COMPANY_ADMIN},
    Operation.JOB_LOG_DETAILS: {Role.TRIAL_SITE_ADMIN},
}


def allowed(role: Role, operation: Operation, *, strict_role_lists: bool = False) -> bool:
    """Whether ``role`` may call ``operation``. WebServiceUser counts as IpsUser (§1.4.1)."""
    if role is Role.WEB_SERVICE_USER:
        role = Role.IPS_USER
    roles = _LISTS[operation]
    if strict_role_lists:
        roles = roles - _STRICT_REMOVALS.get(operation, set())
    return role in roles


@dataclass(frozen=True, slots=True)
class PermissionEntry:
    """One ``Read`` entry of a permission set for a group (§1.4.3)."""

    group_id: int
    allowed: bool
    override: bool = False


def can_read(role: Role, user_groups: Iterable[int], entries: Iterable[PermissionEntry]) -> bool:
    """Effective Read (§1.4.3 [P]): admins and production users always; portal users by the
    effective permission set of the asset, where override entries alone count if any."""
    if role not in PORTAL:
        return True
    groups = set(user_groups)
    mine = [e for e in entries if e.group_id in groups]
    if any(e.override for e in mine):
        mine = [e for e in mine if e.override]
    return any(e.allowed for e in mine) and not any(not e.allowed for e in mine)
