"""One authorization check for every way in (JSON API, SOAP, web UI, CLI): production-system.md
§1.4. The caller must name an existing company, be an active member of it, and hold a role
whose list allows the operation; the faults are the reference's, checked in its order."""

from __future__ import annotations

from typing import TYPE_CHECKING

from isrender.catalog.roles import Operation, Role, allowed
from isrender.errors import IpsFault

if TYPE_CHECKING:
    from isrender.catalog.models import Company, User
    from isrender.catalog.service import Catalog

__all__ = ["authorize", "authorize_in", "check_role", "permits"]


def authorize(
    catalog: Catalog, user: User, company_ref: str, operation: Operation
) -> tuple[Company, Role]:
    """The company and the caller's role in it, or the first IpsFault (20000, 20006, 20003)."""
    company = catalog.company(company_ref)
    if company is None:
        raise IpsFault(20000, "companyHandle does not name a company")
    return company, authorize_in(catalog, user, company, operation)


def authorize_in(catalog: Catalog, user: User, company: Company, operation: Operation) -> Role:
    """The caller's role in a company already found, or the first IpsFault (20006, 20003)."""
    role = catalog.effective_role(user, company.id)
    if role is None:
        raise IpsFault(20006, "not an active member of the company")
    check_role(catalog, role, operation)
    return role


def permits(catalog: Catalog, user: User, company: Company, operation: Operation) -> bool:
    """Whether ``authorize_in`` lets the call through (to list, or to show a control)."""
    try:
        authorize_in(catalog, user, company, operation)
    except IpsFault:
        return False
    return True


def check_role(catalog: Catalog, role: Role, operation: Operation) -> None:
    """The role-list step alone (IpsFault 20003), for callers that check in another order:
    submitJob checks the role before the company (§2.1)."""
    if not allowed(role, operation, strict_role_lists=catalog.settings.strict_role_lists):
        raise IpsFault(20003, f"role {role.value} may not call {operation.value}")
