"""What the catalog-backed command groups share (assets, company, presets, upload, user, jobs):
the existing catalog, a company's id, and a password from the option or a prompt.

Kept apart from support.py, which the fast commands (check, explain) import: this module loads
the catalog (SQLAlchemy)."""

from __future__ import annotations

import sys

import click

from isrender.catalog import Catalog
from isrender.cli.support import catalog_settings
from isrender.errors import PasswordRequired

__all__ = ["existing_catalog", "password_for", "require_company_id"]


def password_for(email: str, password: str | None, *, confirm: bool = False) -> str:
    """``password``, else a prompt on the terminal; with no terminal, PasswordRequired (exit 2)
    instead of click's bare "Abort"."""
    if password is not None:
        return password
    if not sys.stdin.isatty():
        raise PasswordRequired(
            f"no password for {email} and no terminal to ask on: "
            "pass --password or set ISRENDER_PASSWORD"
        )
    prompted: str = click.prompt(f"password for {email}", hide_input=True,
                                 confirmation_prompt=confirm)  # fmt: skip
    return prompted


def existing_catalog() -> Catalog:
    """The existing catalog; none: CatalogMissing (only ``catalog init`` creates one)."""
    return Catalog(catalog_settings())


def require_company_id(catalog: Catalog, ref: str) -> int:
    return catalog.require_company(ref).id
