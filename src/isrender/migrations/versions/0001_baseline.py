"""The schema as it was before migrations existed (commit fa8593e): catalog and job tables.

A database with these tables and no ``alembic_version`` is stamped with this revision.

Revision ID: 0001_baseline
Revises:
"""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from alembic import op

revision = "0001_baseline"
down_revision = None
branch_labels = None
depends_on = None


def _id() -> sa.Column[int]:
    return sa.Column("id", sa.Integer(), primary_key=True)


def _ref(name: str, target: str, nullable: bool = False) -> sa.Column[int]:
    return sa.Column(name, sa.Integer(), sa.ForeignKey(target), nullable=nullable)


def _text(name: str, length: int, nullable: bool = False) -> sa.Column[str]:
    return sa.Column(name, sa.String(length), nullable=nullable)


def _flag(name: str) -> sa.Column[bool]:
    return sa.Column(name, sa.Boolean(), nullable=False)


def _count(name: str) -> sa.Column[int]:
    return sa.Column(name, sa.Integer(), nullable=False)


def _when(name: str, now: bool = False) -> sa.Column[datetime]:
    if now:
        return sa.Column(name, sa.DateTime(), server_default=sa.func.now(), nullable=False)
    return sa.Column(name, sa.DateTime(), nullable=True)


def upgrade() -> None:
    _catalog_tables()
    _job_tables()


def _catalog_tables() -> None:
    op.create_table(
        "companies", _id(), _text("name", 200), _text("root_path", 200), _when("expires"),
        _text("overwrite_mode", 40), sa.UniqueConstraint("name"),
    )  # fmt: skip
    op.create_table(
        "users", _id(), _text("email", 320), _text("first_name", 100), _text("last_name", 100),
        _text("password_hash", 300), _text("default_role", 40), _flag("is_valid"),
        _when("password_expires"), sa.UniqueConstraint("email"),
    )  # fmt: skip
    op.create_table(
        "folders", _id(), _ref("company_id", "companies.id"), _text("path", 1000),
        _flag("has_permissions"), sa.UniqueConstraint("company_id", "path"),
    )  # fmt: skip
    op.create_table("groups", _id(), _ref("company_id", "companies.id"), _text("name", 200))
    op.create_table(
        "image_formats", _id(), _ref("company_id", "companies.id"), _text("name", 200),
        _text("url_modifier", 4000), sa.UniqueConstraint("company_id", "name"),
    )  # fmt: skip
    op.create_table(
        "memberships", _id(), _ref("user_id", "users.id"), _ref("company_id", "companies.id"),
        _text("role", 40), _flag("is_active"), sa.UniqueConstraint("user_id", "company_id"),
    )  # fmt: skip
    op.create_table(
        "assets", _id(), _ref("company_id", "companies.id"), _ref("folder_id", "folders.id"),
        _text("name", 500), _text("type", 40), _text("sub_type", 100, nullable=True),
        _text("file_name", 500, nullable=True), _text("trash_state", 20),
        _flag("has_permissions"), _text("sha256", 64, nullable=True),
        sa.Column("file_size", sa.Integer(), nullable=True),
        sa.Column("width", sa.Integer(), nullable=True),
        sa.Column("height", sa.Integer(), nullable=True),
        _ref("owner_id", "assets.id", nullable=True), _text("modifier", 4000),
        _text("post_modifier", 4000), _when("created", now=True),
        _ref("created_by", "users.id", nullable=True), _when("last_modified", now=True),
    )  # fmt: skip
    op.create_index("ix_assets_company_name", "assets", ["company_id", "name"])
    op.create_table(
        "group_members",
        sa.Column("group_id", sa.Integer(), sa.ForeignKey("groups.id"), primary_key=True),
        sa.Column("user_id", sa.Integer(), sa.ForeignKey("users.id"), primary_key=True),
    )
    op.create_table(
        "permissions", _id(), _ref("group_id", "groups.id"),
        _ref("folder_id", "folders.id", nullable=True),
        _ref("asset_id", "assets.id", nullable=True), _text("permission_type", 10),
        _flag("is_allowed"), _flag("is_override"),
    )  # fmt: skip


def _job_tables() -> None:
    op.create_table(
        "jobs", _id(), _ref("company_id", "companies.id"), _text("name", 300),
        _text("original_name", 255), _text("type", 40), _text("state", 30),
        _ref("submit_user_id", "users.id"), _ref("recipient_user_id", "users.id"),
        sa.Column("params", sa.JSON(), nullable=False),
        sa.Column("description", sa.Text(), nullable=False), _text("locale", 20),
        _when("submitted", now=True), _when("start_date"), _when("end_date"),
        _flag("stop_requested"), _flag("pause_requested"), _flag("stopped"),
        _flag("fatal_error"), _count("processed"), _count("success"), _count("errors"),
        _count("warnings"), _count("duplicates"), _count("cancelled"), _count("total"),
        _when("exec_time"), _text("exec_schedule", 200, nullable=True),
        _text("trigger_state", 20), _when("next_fire"), _flag("held"),
        _ref("parent_id", "jobs.id", nullable=True),
    )  # fmt: skip
    op.create_table(
        "job_log", _id(), _ref("job_id", "jobs.id"), _when("date", now=True),
        _text("log_type", 40), sa.Column("message", sa.Text(), nullable=False),
        _text("asset_handle", 200, nullable=True), _text("asset_name", 500, nullable=True),
        _text("asset_type", 40, nullable=True),
        sa.Column("fault_code", sa.Integer(), nullable=True),
        sa.Column("aux", sa.JSON(), nullable=False),
    )  # fmt: skip
    op.create_index("ix_job_log_job_id", "job_log", ["job_id"])


def downgrade() -> None:
    for table in ("job_log", "jobs", "permissions", "group_members", "assets", "memberships",
                  "image_formats", "groups", "folders", "users", "companies"):  # fmt: skip
        op.drop_table(table)
