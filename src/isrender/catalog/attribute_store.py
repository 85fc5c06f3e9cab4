"""A company's catalog attributes in the database (``company_attributes``): read, set, reset.

Values are stored in their IS text form after being read once by ``attributes.py`` (a value
that does not read is refused with InvalidAttributeError, 30001, and nothing is written).
An attribute with no row follows its server-wide setting.
"""

from __future__ import annotations

from collections.abc import Mapping

from sqlalchemy import select

from isrender.catalog.models import Company, CompanyAttribute
from isrender.catalog.service import Catalog, CatalogError
from isrender.render.attributes import ATTRIBUTES, ServingAttributes, attribute_spec, resolve

__all__ = ["company_attributes", "serving_attributes", "set_company_attributes"]


def company_attributes(catalog: Catalog, company_id: int) -> dict[str, str]:
    """The attributes the company sets itself: name -> text, in ATTRIBUTES order."""
    with catalog.session() as s:
        rows = s.scalars(select(CompanyAttribute).where(CompanyAttribute.company_id == company_id))
        stored = {row.name: row.value for row in rows}
    return {spec.name: stored[spec.name] for spec in ATTRIBUTES if spec.name in stored}


def serving_attributes(catalog: Catalog, company_id: int) -> ServingAttributes:
    """What the image server applies for the company: its attributes over the settings."""
    return resolve(company_attributes(catalog, company_id), catalog.settings)


def set_company_attributes(
    catalog: Catalog, company_id: int, changes: Mapping[str, str | None]
) -> dict[str, str]:
    """Set (text) or reset (None: back to the server-wide setting) attributes, all or none;
    names are case-insensitive. Returns the company's attributes afterwards."""
    checked: dict[str, str | None] = {}
    for name, value in changes.items():
        spec = attribute_spec(name)
        if value is not None:
            spec.parse(value)
            value = value.strip()
        checked[spec.name] = value
    with catalog.session() as s:
        if s.get(Company, company_id) is None:
            raise CatalogError("no such company")
        for name, value in checked.items():
            row = s.get(CompanyAttribute, (company_id, name))
            if value is None:
                if row is not None:
                    s.delete(row)
            elif row is None:
                s.add(CompanyAttribute(company_id=company_id, name=name, value=value))
            else:
                row.value = value
    return company_attributes(catalog, company_id)
