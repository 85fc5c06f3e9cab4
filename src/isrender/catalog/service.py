"""Catalog: companies, users, roles, folders, assets and presets over one database and one
file store (production-system.md §1). Every lookup is scoped to a company: an object of another
company is "not found", indistinguishable from an absent one (§1.1).
"""

from __future__ import annotations

import base64
import functools
import hashlib
import hmac
import os
import secrets
from collections.abc import Callable, Container, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event, make_url, select
from sqlalchemy.exc import ArgumentError
from sqlalchemy.orm import Session, sessionmaker

from isrender.catalog.asset_types import detect_type
from isrender.catalog.handles import HandleKind, parse_handle
from isrender.catalog.models import (
    Asset,
    Company,
    Folder,
    Group,
    GroupMember,
    ImageFormat,
    Membership,
    Permission,
    User,
)
from isrender.catalog.names import check_file_name, check_folder_path, check_name, storable
from isrender.catalog.roles import PORTAL, PermissionEntry, Role, can_read
from isrender.catalog.storage import FileStore
from isrender.catalog.throttle import LoginThrottle, ThrottleLimits
from isrender.catalog.versioning import track_catalog_writes
from isrender.config import Settings
from isrender.errors import CatalogError, IpsFault, IsRenderError, ModifierError
from isrender.language import parse
from isrender.macros import MacroRegistry
from isrender.macros.files import MacroEntry
from isrender.render.attributes import CatalogAttributes

MAX_SOURCE_PIXELS = CatalogAttributes().max_source_pixels  # what the image server refuses

__all__ = ["Catalog", "CatalogError", "UploadEntry", "hash_password", "verify_password"]


def _sqlite_pragmas(connection: Any, _record: Any) -> None:
    """WAL lets readers work during a job's writes; NORMAL sync keeps per-entry commits cheap
    while staying crash-safe (a crash loses at most the last commits, never consistency)."""
    cursor = connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.close()


def database_engine(url: str) -> Engine:
    """The engine for ``database_url``: ``postgresql://`` means psycopg 3 (the ``[postgres]``
    extra), not SQLAlchemy's default psycopg2; SQLite connections get their pragmas."""
    try:
        parsed = make_url(url)
    except ArgumentError:
        raise CatalogError("database_url is not a URL like postgresql://user@host/db") from None
    if parsed.drivername in ("postgresql", "postgres"):
        parsed = parsed.set(drivername="postgresql+psycopg")
    try:
        engine = create_engine(parsed, pool_pre_ping=parsed.get_backend_name() == "postgresql")
    except ModuleNotFoundError as exc:  # the driver of the URL's database is not installed
        postgres = parsed.drivername.startswith("postgres")
        extra = " (pip install 'isrender[postgres]')" if postgres else ""
        raise CatalogError(f"database_url needs the {exc.name} module{extra}") from None
    if engine.dialect.name == "sqlite":
        event.listen(engine, "connect", _sqlite_pragmas)
    return engine


def _require_current_schema(engine: Engine) -> None:
    """An empty database gets the schema at head; one behind head must be upgraded first."""
    from isrender.migrations import prepare  # alembic loads only when a catalog opens

    status = prepare(engine)
    if not status.known:
        raise CatalogError(
            f"the catalog database is at schema revision {status.current}, newer than this "
            f"isrender knows ({status.head}): upgrade isrender"
        )
    if not status.ready:
        raise CatalogError(
            f"the catalog database is at schema revision {status.current}; this isrender needs "
            f"{status.head}: run `isrender catalog upgrade` (back up the database first)"
        )


OVERWRITE_MODES = ("OverwriteFullName", "OverwriteAnyExt", "OverwriteFullNameAnyFolder",
                   "OverwriteAnyExtAnyFolder")  # fmt: skip


# ---- passwords: scrypt from the standard library ------------------------------------------------

_SCRYPT = {"n": 2**14, "r": 8, "p": 1}


def hash_password(password: str) -> str:
    salt = os.urandom(16)
    digest = hashlib.scrypt(password.encode(), salt=salt, dklen=32, **_SCRYPT)
    encoded = base64.b64encode(salt).decode(), base64.b64encode(digest).decode()
    return "scrypt$" + "$".join(encoded)


@functools.cache
def _decoy_hash() -> str:
    """A hash no password matches: unknown users get the same scrypt work as known ones, so
    the answer time does not tell whether an account exists."""
    return hash_password(secrets.token_hex(16))


def verify_password(password: str, stored: str) -> bool:
    try:
        scheme, salt, digest = stored.split("$")
        expected = base64.b64decode(digest)
        actual = hashlib.scrypt(
            password.encode(), salt=base64.b64decode(salt), dklen=len(expected), **_SCRYPT
        )
    except ValueError:
        return False
    return scheme == "scrypt" and hmac.compare_digest(actual, expected)


@dataclass(frozen=True, slots=True)
class UploadEntry:
    """One file of an upload: ``status`` is ``UploadSuccess``, ``FileUpdated``,
    ``DuplicateSkipped`` or ``UploadError`` (the IPS upload log types, §1.9)."""

    source: str
    status: str
    asset_id: int | None = None
    asset_type: str | None = None
    message: str = ""


class Catalog:
    def __init__(self, settings: Settings) -> None:
        settings.data_dir.mkdir(parents=True, exist_ok=True)
        self.settings = settings
        self.engine = database_engine(settings.database)
        _require_current_schema(self.engine)
        self._sessions = sessionmaker(self.engine, expire_on_commit=False)
        # servers' cached lookups follow every write: at once in this process, by polling the
        # catalog version in the others
        self.change_listeners: list[Callable[[], None]] = []
        track_catalog_writes(self._sessions, self.change_listeners)
        self.files = FileStore(settings.originals_dir)
        self._base_macros: MacroRegistry | None = None
        self._base_stamp: tuple[int, ...] = ()
        self.logins = LoginThrottle(ThrottleLimits(
            settings.login_failures_per_account, settings.login_failures_per_address,
            settings.login_failure_window, settings.login_lockout_seconds,
        ))  # fmt: skip

    @contextmanager
    def session(self) -> Iterator[Session]:
        with self._sessions() as session, session.begin():
            yield session

    def close(self) -> None:
        """Close the pooled database connections (the catalog reconnects if used again)."""
        self.engine.dispose()

    # ---- companies ----------------------------------------------------------------------------

    def add_company(self, name: str, root_path: str | None = None) -> Company:
        check_name("company", name)
        check_folder_path(root_path or "")
        with self.session() as s:
            if s.scalar(select(Company).where(Company.name == name)):
                raise CatalogError(f"a company named {name!r} already exists")
            company = Company(name=name, root_path=root_path or f"{name}/")
            s.add(company)
        return company

    def set_overwrite_mode(self, company_id: int, mode: str) -> None:
        """CompanySettings.overwriteMode (§1.2): how uploads replace existing assets."""
        if mode not in OVERWRITE_MODES:
            raise CatalogError(f"overwriteMode must be one of {', '.join(OVERWRITE_MODES)}")
        with self.session() as s:
            company = s.get(Company, company_id)
            if company is None:
                raise CatalogError("no such company")
            company.overwrite_mode = mode

    def company(self, ref: str) -> Company | None:
        """By handle (``c|1``) or by name."""
        if not storable(ref):
            return None
        with self.session() as s:
            handle = parse_handle(ref, HandleKind.COMPANY)
            if handle is not None:
                return s.get(Company, handle.id)
            return s.scalar(select(Company).where(Company.name == ref))

    def companies(self) -> list[Company]:
        with self.session() as s:
            return list(s.scalars(select(Company).order_by(Company.id)).all())

    def require_company(self, ref: str) -> Company:
        company = self.company(ref)
        if company is None:
            raise CatalogError(f"no company {ref!r}")
        return company

    # ---- users and roles ----------------------------------------------------------------------

    def add_user(
        self,
        email: str,
        password: str,
        role: Role,
        companies: tuple[tuple[int, Role | None], ...] = (),
        *,
        first_name: str = "",
        last_name: str = "",
    ) -> User:
        check_name("user", email)
        with self.session() as s:
            if s.scalar(select(User).where(User.email == email)):
                raise CatalogError(f"a user {email!r} already exists")
            user = User(
                email=email,
                password_hash=hash_password(password),
                default_role=role.value,
                first_name=first_name,
                last_name=last_name,
            )
            s.add(user)
            s.flush()
            for company_id, company_role in companies:
                s.add(Membership(user_id=user.id, company_id=company_id,
                                 role=(company_role or role).value))  # fmt: skip
        return user

    def set_membership(self, user_id: int, company_id: int, role: Role, active: bool) -> None:
        with self.session() as s:
            membership = s.scalar(
                select(Membership).where(
                    Membership.user_id == user_id, Membership.company_id == company_id
                )
            )
            if membership is None:
                membership = Membership(user_id=user_id, company_id=company_id)
                s.add(membership)
            membership.role, membership.is_active = role.value, active

    def authenticate(self, email: str, password: str, address: str = "") -> User:
        """The user, or an authenticationFault (10001/10002 share one reason, §4.1).

        Throttled per account and per client ``address`` (``self.logins``, LoginThrottled
        while locked). Unknown and invalid users cost the same scrypt work as a wrong password
        and answer 10001 like it, unless ``reveal_unknown_users`` asks for the reference's 10002.
        """
        self.logins.check(email, address)
        with self.session() as s:
            user = s.scalar(select(User).where(User.email == email)) if storable(email) else None
        matches = verify_password(password, user.password_hash if user else _decoy_hash())
        if user is None or not user.is_valid:
            self.logins.failed(email, address)
            code = 10002 if self.settings.reveal_unknown_users else 10001
            raise IpsFault(code, "Invalid username/password")
        expired = user.password_expires and user.password_expires < datetime.now(UTC).replace(
            tzinfo=None
        )
        if expired or not matches:
            self.logins.failed(email, address)
            raise IpsFault(10001, "Invalid username/password")
        self.logins.succeeded(email, address)
        return user

    def effective_role(self, user: User, company_id: int) -> Role | None:
        """§1.3: IpsAdmin by default role; else the active membership's role; else None."""
        if user.default_role == Role.IPS_ADMIN.value:
            return Role.IPS_ADMIN
        with self.session() as s:
            membership = s.scalar(
                select(Membership).where(
                    Membership.user_id == user.id,
                    Membership.company_id == company_id,
                    Membership.is_active.is_(True),
                )
            )
        if membership is None:
            return None
        return Role(membership.role or user.default_role)

    def user(self, ref: str) -> User | None:
        """By handle (``u|11|...``, identity is the id) or by e-mail."""
        if not storable(ref):
            return None
        with self.session() as s:
            handle = parse_handle(ref, HandleKind.USER)
            if handle is not None:
                return s.get(User, handle.id)
            return s.scalar(select(User).where(User.email == ref))

    # ---- groups and permissions ---------------------------------------------------------------

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
            folder = self._folder(s, company_id, path, create=True)
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

    def set_asset_modifiers(
        self, company_id: int, ref: str, modifier: str | None, post_modifier: str | None
    ) -> Asset:
        """The asset's catalog Modifier / PostModifier (checked: they must parse)."""
        for text in (modifier, post_modifier):
            if text:
                try:
                    parse(text)
                except ModifierError as exc:
                    raise IpsFault(30001, f"modifier: {exc.message}") from None
        asset = self.find_asset(company_id, ref)
        if asset is None:
            raise CatalogError(f"asset {ref!r} not found")
        with self.session() as s:
            row = s.get(Asset, asset.id)
            assert row is not None
            if modifier is not None:
                row.modifier = modifier
            if post_modifier is not None:
                row.post_modifier = post_modifier
        return self.asset(company_id, ref)  # type: ignore[return-value]

    def can_read(self, user: User, role: Role, asset: Asset) -> bool:
        """§1.4.3: the asset's own set, else the nearest folder's with one, else none."""
        if role not in PORTAL:
            return True  # admins and production users read everything in their company
        with self.session() as s:
            groups = s.scalars(
                select(GroupMember.group_id).where(GroupMember.user_id == user.id)
            ).all()
            return can_read(role, groups, self._effective_entries(s, asset))

    def _effective_entries(self, s: Session, asset: Asset) -> list[PermissionEntry]:
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

    # ---- folders and assets -------------------------------------------------------------------

    @staticmethod
    def _normal_folder(path: str) -> str:
        parts = [p for p in path.replace("\\", "/").split("/") if p and p != "."]
        if ".." in parts:
            raise CatalogError("'..' is not allowed in a folder path")
        return "".join(f"{p}/" for p in parts)

    def _folder(self, s: Session, company_id: int, path: str, create: bool = False) -> Folder:
        path = self._normal_folder(path)
        folder = s.scalar(
            select(Folder).where(Folder.company_id == company_id, Folder.path == path)
        )
        if folder is None:
            if not create:
                raise CatalogError(f"no folder {path!r}")
            check_folder_path(path)
            folder = Folder(company_id=company_id, path=path)
            s.add(folder)
            s.flush()
        return folder

    def add_asset(
        self, company_id: int, name: str, asset_type: str, folder: str = "",
        sub_type: str | None = None, **fields: object,
    ) -> Asset:  # fmt: skip
        """An asset record without a file (sets, views) or with ``fields`` set directly."""
        check_name("asset", name)
        with self.session() as s:
            target = self._folder(s, company_id, folder, create=True)
            asset = Asset(company_id=company_id, folder_id=target.id, name=name,
                          type=asset_type, sub_type=sub_type, **fields)  # fmt: skip
            s.add(asset)
        return asset

    def asset(self, company_id: int, ref: str) -> Asset | None:
        """An asset of this company by handle; anything else (malformed, absent, another
        company's) is None."""
        handle = parse_handle(ref, HandleKind.ASSET)
        if handle is None:
            return None
        with self.session() as s:
            asset = s.get(Asset, handle.id)
            return asset if asset is not None and asset.company_id == company_id else None

    def find_asset(self, company_id: int, ref: str) -> Asset | None:
        """An asset of this company by handle, ``name`` or ``folder/path/name``."""
        asset = self.asset(company_id, ref)
        if asset is None and storable(ref):
            folder, _, name = ref.rpartition("/")
            with self.session() as s:
                query = select(Asset).where(Asset.company_id == company_id, Asset.name == name)
                rows = s.scalars(query.order_by(Asset.id)).all()
            wanted = self._normal_folder(folder) if folder else None
            asset = next((a for a in rows if wanted is None or a.folder.path == wanted), None)
        return asset

    def served_asset(self, company_id: int, ref: str) -> Asset | None:
        """The asset an image URL names (§1.1 object); assets in the trash are not served."""
        asset = self.find_asset(company_id, ref)
        return asset if asset is not None and asset.trash_state == "NotInTrash" else None

    def assets(self, company_id: int) -> list[Asset]:
        with self.session() as s:
            query = select(Asset).where(Asset.company_id == company_id).order_by(Asset.id)
            return list(s.scalars(query).all())

    def original_path(self, asset: Asset) -> Path | None:
        """The stored original, or None when the asset has none (or it went missing)."""
        if not asset.sha256:
            return None
        path = self.files.path(asset.sha256)
        return path if path.is_file() else None

    # ---- upload -------------------------------------------------------------------------------

    def upload(
        self, company_id: int, paths: list[Path], folder: str = "", *,
        overwrite: bool = True, user_id: int | None = None,
    ) -> list[UploadEntry]:  # fmt: skip
        """Upload files and directories (recursively, keeping sub-folders)."""
        entries: list[UploadEntry] = []
        claimed: set[int] = set()  # assets this upload created or replaced: never replaced again
        for path in paths:
            refused = check_file_name(path.name)  # before any file-system call: may be too long
            if refused is not None:
                entries.append(UploadEntry(path.name, "UploadError", message=refused))
            elif path.is_dir():
                for file in sorted(p for p in path.rglob("*") if p.is_file()):
                    sub = file.parent.relative_to(path).as_posix()
                    target = (
                        f"{folder}/{path.name}/{sub}" if sub != "." else f"{folder}/{path.name}"
                    )
                    entries.append(self._upload_file(company_id, file, target, overwrite,
                                                     user_id, claimed))  # fmt: skip
            else:
                entries.append(self._upload_file(company_id, path, folder, overwrite, user_id,
                                                 claimed))  # fmt: skip
        return entries

    def _upload_file(
        self, company_id: int, path: Path, folder: str, overwrite: bool, user_id: int | None,
        claimed: set[int],
    ) -> UploadEntry:  # fmt: skip
        refused = check_file_name(path.name) or _folder_problem(folder)
        if refused is not None:
            return UploadEntry(path.name, "UploadError", message=refused)
        try:
            data = path.read_bytes()
        except OSError as exc:
            return UploadEntry(path.name, "UploadError", message=f"cannot read: {exc.strerror}")
        asset_type = detect_type(path.name, data[:8192])
        if asset_type is None:
            return UploadEntry(path.name, "UploadError", message="not a file type IPS stores")
        width = height = None
        if asset_type in ("Image", "AnimatedGif"):
            from isrender.render.vips.renderer import (
                read_source_info,  # the catalog may use the renderer
            )

            try:
                info = read_source_info(data)
            except IsRenderError as exc:
                return UploadEntry(path.name, "UploadError", message=exc.public_message)
            if info.pixels > MAX_SOURCE_PIXELS:  # it could never be served: refuse it now
                return UploadEntry(
                    path.name,
                    "UploadError",
                    message=(
                        f"the image is {info.width}x{info.height} ({info.pixels / 1e6:.1f} Mpx), "
                        f"above the {MAX_SOURCE_PIXELS / 1e6:g} Mpx limit (max_source_pixels)"
                    ),
                )
            width, height = info.width, info.height
        stored = self.files.put(data)
        with self.session() as s:
            company = s.get(Company, company_id)
            assert company is not None
            target = self._folder(s, company_id, folder, create=True)
            existing = _replaced_asset(s, company, target.id, path.name)
            twin = existing is not None and existing.id in claimed
            if twin:  # an earlier file of this upload: keep both, under two names
                existing = None
            if existing is not None and not overwrite:
                return UploadEntry(path.name, "DuplicateSkipped", existing.id, existing.type,
                                   f"an asset named {existing.name!r} exists")  # fmt: skip
            name = existing.name if existing else _free_name(s, company_id, path.stem)
            message = "" if existing or name == path.stem else f"stored as asset {name!r}"
            if twin:
                message = f"another file of this upload is also named {path.name!r}; {message}"
            asset = existing or Asset(company_id=company_id, name=name, created_by=user_id)
            asset.folder_id, asset.type, asset.file_name = target.id, asset_type, path.name
            asset.sha256, asset.file_size = stored.sha256, stored.size
            asset.width, asset.height, asset.trash_state = width, height, "NotInTrash"
            s.add(asset)
            s.flush()
            claimed.add(asset.id)
            status = "FileUpdated" if existing is not None else "UploadSuccess"
            return UploadEntry(path.name, status, asset.id, asset_type, message)

    # ---- presets (ImageFormat) used as macros -------------------------------------------------

    def save_preset(self, company_id: int, name: str, definition: str) -> ImageFormat:
        """Create or update a preset; one that does not parse or cannot be expanded (unknown
        or cyclic invocations) is refused (30001, §1.8)."""
        try:
            parse(definition)
        except ModifierError as exc:
            raise IpsFault(30001, f"imageFormat/urlModifier: {exc.message}") from None
        with self.session() as s:
            preset = s.scalar(
                select(ImageFormat).where(
                    ImageFormat.company_id == company_id, ImageFormat.name == name
                )
            )
            preset = preset or ImageFormat(company_id=company_id, name=name)
            preset.url_modifier = definition
            s.add(preset)
            s.flush()
            registry = self._registry(s, company_id)
        problem = registry.get(name, f"c|{company_id}")
        if problem is not None and problem.problem is not None:
            self.delete_preset(company_id, name)
            raise IpsFault(30001, f"imageFormat/urlModifier: {problem.problem.message}")
        return preset

    def delete_preset(self, company_id: int, name: str) -> None:
        with self.session() as s:
            preset = s.scalar(
                select(ImageFormat).where(
                    ImageFormat.company_id == company_id, ImageFormat.name == name
                )
            )
            if preset is not None:
                s.delete(preset)

    def presets(self, company_id: int) -> list[ImageFormat]:
        with self.session() as s:
            query = select(ImageFormat).where(ImageFormat.company_id == company_id)
            return list(s.scalars(query.order_by(ImageFormat.id)).all())

    def macro_registry(self, company_id: int) -> MacroRegistry:
        """Company presets first, then the server-wide macro files (D-2); use it with
        ``catalog=f"c|{company_id}"``."""
        with self.session() as s:
            return self._registry(s, company_id)

    def _server_macros(self) -> MacroRegistry:
        """The server-wide macro files, loaded once and again only when one changes."""
        stamp = tuple(p.stat().st_mtime_ns if p.exists() else 0 for p in self.settings.macro_files)
        if self._base_macros is None or self._base_stamp != stamp:
            self._base_macros = MacroRegistry.from_files(*self.settings.macro_files)
            self._base_stamp = stamp
        return self._base_macros

    def _registry(self, s: Session, company_id: int) -> MacroRegistry:
        base = self._server_macros()
        presets = s.scalars(
            select(ImageFormat).where(ImageFormat.company_id == company_id).order_by(ImageFormat.id)
        ).all()
        entries = [MacroEntry(p.name, p.url_modifier, f"preset {p.name}") for p in presets]
        return base.with_macros(entries, catalog=f"c|{company_id}")


def _replaced_asset(s: Session, company: Company, folder_id: int, file_name: str) -> Asset | None:
    """The asset an upload of ``file_name`` replaces under the company's overwriteMode (§1.2).

    The reference names the modes only; isrender reads them literally: *FullName* matches the
    whole file name, *AnyExt* the name without extension; *AnyFolder* looks in every folder,
    otherwise only in the destination folder.
    """
    mode = company.overwrite_mode
    stem = file_name.rpartition(".")[0] or file_name
    query = select(Asset).where(Asset.company_id == company.id, Asset.trash_state == "NotInTrash")
    if not mode.endswith("AnyFolder"):
        query = query.where(Asset.folder_id == folder_id)
    for asset in s.scalars(query.order_by(Asset.id)):
        name = asset.file_name or asset.name
        if mode.startswith("OverwriteAnyExt"):
            if (name.rpartition(".")[0] or name) == stem:
                return asset
        elif name == file_name:
            return asset
    return None


def _folder_problem(folder: str) -> str | None:
    try:
        check_folder_path(folder)
    except IpsFault as fault:
        return fault.reason
    return None


def free_name(stem: str, taken: Container[str]) -> str:
    """``stem``, or the first ``stem-n`` not in ``taken`` (asset names, job names)."""
    name, n = stem, 0
    while name in taken:
        n += 1
        name = f"{stem}-{n}"
    return name


def _free_name(s: Session, company_id: int, stem: str) -> str:
    """Asset names are unique within a company."""
    return free_name(stem, set(s.scalars(select(Asset.name).where(Asset.company_id == company_id))))
