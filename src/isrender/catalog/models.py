"""The catalog's tables (SQLAlchemy 2): companies, users, memberships, groups, folders,
permissions, assets and image presets. SQLite by default, PostgreSQL with a database_url."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, UniqueConstraint, func
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

__all__ = ["Asset", "Base", "CatalogVersion", "Company", "CompanyAttribute", "Folder", "Group",
           "GroupMember", "IdempotencyKey", "ImageFormat", "Membership", "Permission",
           "User"]  # fmt: skip


class Base(DeclarativeBase):
    pass


class Company(Base):
    __tablename__ = "companies"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    root_path: Mapped[str] = mapped_column(String(200))  # "Acme/"
    expires: Mapped[datetime | None]
    overwrite_mode: Mapped[str] = mapped_column(String(40), default="OverwriteFullName")


class CompanyAttribute(Base):
    """One catalog attribute a company sets (attributes.py ATTRIBUTES), in its IS text form;
    an attribute with no row follows the server-wide setting."""

    __tablename__ = "company_attributes"
    company_id: Mapped[int] = mapped_column(ForeignKey("companies.id"), primary_key=True)
    name: Mapped[str] = mapped_column(String(40), primary_key=True)
    value: Mapped[str] = mapped_column(String(2000))


class CatalogVersion(Base):
    """One row: a counter bumped by every transaction that writes companies, folders, assets,
    presets or attributes (catalog/versioning.py), so servers can trust cached lookups."""

    __tablename__ = "catalog_version"
    id: Mapped[int] = mapped_column(primary_key=True)
    version: Mapped[int]


class User(Base):
    __tablename__ = "users"
    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(320), unique=True)
    first_name: Mapped[str] = mapped_column(String(100), default="")
    last_name: Mapped[str] = mapped_column(String(100), default="")
    password_hash: Mapped[str] = mapped_column(String(300))
    default_role: Mapped[str] = mapped_column(String(40))
    is_valid: Mapped[bool] = mapped_column(default=True)
    password_expires: Mapped[datetime | None]


class Membership(Base):
    __tablename__ = "memberships"
    __table_args__ = (UniqueConstraint("user_id", "company_id"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    company_id: Mapped[int] = mapped_column(ForeignKey("companies.id"))
    role: Mapped[str] = mapped_column(String(40), default="")
    is_active: Mapped[bool] = mapped_column(default=True)


class Group(Base):
    __tablename__ = "groups"
    id: Mapped[int] = mapped_column(primary_key=True)
    company_id: Mapped[int] = mapped_column(ForeignKey("companies.id"))
    name: Mapped[str] = mapped_column(String(200))


class GroupMember(Base):
    __tablename__ = "group_members"
    group_id: Mapped[int] = mapped_column(ForeignKey("groups.id"), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), primary_key=True)


class Folder(Base):
    __tablename__ = "folders"
    __table_args__ = (UniqueConstraint("company_id", "path"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    company_id: Mapped[int] = mapped_column(ForeignKey("companies.id"))
    path: Mapped[str] = mapped_column(String(1000))  # relative to the company root: "products/"
    has_permissions: Mapped[bool] = mapped_column(default=False)


class Permission(Base):
    """A permission entry on a folder or (explicitly) an asset (§1.4.3)."""

    __tablename__ = "permissions"
    id: Mapped[int] = mapped_column(primary_key=True)
    group_id: Mapped[int] = mapped_column(ForeignKey("groups.id"))
    folder_id: Mapped[int | None] = mapped_column(ForeignKey("folders.id"))
    asset_id: Mapped[int | None] = mapped_column(ForeignKey("assets.id"))
    permission_type: Mapped[str] = mapped_column(String(10))  # Read, Write, Delete
    is_allowed: Mapped[bool] = mapped_column(default=True)
    is_override: Mapped[bool] = mapped_column(default=False)


class Asset(Base):
    __tablename__ = "assets"
    __table_args__ = (Index("ix_assets_company_name", "company_id", "name"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    company_id: Mapped[int] = mapped_column(ForeignKey("companies.id"))
    folder_id: Mapped[int] = mapped_column(ForeignKey("folders.id"))
    name: Mapped[str] = mapped_column(String(500))
    type: Mapped[str] = mapped_column(String(40))
    sub_type: Mapped[str | None] = mapped_column(String(100))
    file_name: Mapped[str | None] = mapped_column(String(500))
    trash_state: Mapped[str] = mapped_column(String(20), default="NotInTrash")
    has_permissions: Mapped[bool] = mapped_column(default=False)
    # the stored original: content address and size, and image dimensions when known
    sha256: Mapped[str | None] = mapped_column(String(64))
    file_size: Mapped[int | None]
    width: Mapped[int | None]
    height: Mapped[int | None]
    owner_id: Mapped[int | None] = mapped_column(ForeignKey("assets.id"))  # derived views
    modifier: Mapped[str] = mapped_column(String(4000), default="")
    post_modifier: Mapped[str] = mapped_column(String(4000), default="")
    created: Mapped[datetime] = mapped_column(server_default=func.now())
    created_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    last_modified: Mapped[datetime] = mapped_column(server_default=func.now(), onupdate=func.now())
    folder: Mapped[Folder] = relationship(lazy="joined")


class ImageFormat(Base):
    """A company image preset: used as a macro ``$name$`` (§1.8)."""

    __tablename__ = "image_formats"
    __table_args__ = (UniqueConstraint("company_id", "name"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    company_id: Mapped[int] = mapped_column(ForeignKey("companies.id"))
    name: Mapped[str] = mapped_column(String(200))
    url_modifier: Mapped[str] = mapped_column(String(4000))


class IdempotencyKey(Base):
    """An ``Idempotency-Key`` of a JSON API submit (§5.3), shared by every server process: the
    unique constraint makes the first insert win; ``job_id`` is empty while that submit runs."""

    __tablename__ = "idempotency_keys"
    __table_args__ = (UniqueConstraint("company_id", "user_id", "key"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    company_id: Mapped[int] = mapped_column(ForeignKey("companies.id"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    key: Mapped[str] = mapped_column(String(255))
    body_sha256: Mapped[str] = mapped_column(String(64))
    job_id: Mapped[int | None] = mapped_column(ForeignKey("jobs.id", ondelete="CASCADE"))
    created: Mapped[datetime]  # naive UTC, set by the server (one clock for the 24 h window)
