"""Catalog attributes per company, and the catalog version servers check their caches against.

- ``company_attributes``: one row per attribute a company sets (DefaultPix, MaxPix, ... in IS
  text form); a company with no rows follows the server-wide settings, as before this revision;
- ``catalog_version``: one counter row, bumped by every write to companies, folders, assets,
  presets and attributes (created on the first write: no row reads as version 0).

Revision ID: 0004_company_attributes
Revises: 0003_job_entries
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004_company_attributes"
down_revision = "0003_job_entries"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "company_attributes",
        sa.Column("company_id", sa.Integer(), sa.ForeignKey("companies.id"), primary_key=True),
        sa.Column("name", sa.String(40), primary_key=True),
        sa.Column("value", sa.String(2000), nullable=False),
    )
    op.create_table(
        "catalog_version",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("version", sa.Integer(), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("catalog_version")
    op.drop_table("company_attributes")
