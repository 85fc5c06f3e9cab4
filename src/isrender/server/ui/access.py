"""Who may do what in the web UI: the JSON API's checks, through the same functions.

Job, log and preset actions go through the API's own operations (``api_router``'s operation
table), so their rules are not restated here. For what the API reaches only inside its route
handlers (browsing assets, downloading outputs), ``member`` and ``may`` make the API's own
check (``catalog/authorize.py``) with the same ``Operation`` and the same fault codes.
"""

from __future__ import annotations

from isrender.catalog import Catalog, Operation, Role
from isrender.catalog.authorize import authorize, permits
from isrender.catalog.models import Asset, Company, User
from isrender.errors import IpsFault

__all__ = ["companies_of", "may", "member", "pick_company", "readable"]


def member(catalog: Catalog, user: User, company_ref: str, operation: Operation) -> Role:
    """The caller's role, by the same check as the JSON API (catalog/authorize.py)."""
    return authorize(catalog, user, company_ref, operation)[1]


def may(catalog: Catalog, user: User, company: Company, operation: Operation) -> bool:
    """Whether the same user's API call would be allowed (to show or hide a control)."""
    return permits(catalog, user, company, operation)


def companies_of(catalog: Catalog, user: User) -> list[Company]:
    """The companies the user is an active member of (every company for IpsAdmin)."""
    return [c for c in catalog.companies() if catalog.effective_role(user, c.id) is not None]


def pick_company(catalog: Catalog, user: User, wanted: str | None) -> Company:
    """The company a page is about: ``wanted`` (name or handle) or the user's first one."""
    if wanted:
        company = catalog.company(wanted)
        if company is None:
            raise IpsFault(20000, f"no company {wanted!r}")
        return company
    mine = companies_of(catalog, user)
    if not mine:
        raise IpsFault(20006, "you are not an active member of any company")
    return mine[0]


def readable(catalog: Catalog, user: User, company: Company, operation: Operation) -> list[Asset]:
    """The company's assets this user may read (§1.4.3), after the role check for
    ``operation``; trashed assets are left out, as the image server leaves them out."""
    role = member(catalog, user, f"c|{company.id}", operation)
    return [
        a
        for a in catalog.assets(company.id)
        if a.trash_state == "NotInTrash" and catalog.can_read(user, role, a)
    ]
