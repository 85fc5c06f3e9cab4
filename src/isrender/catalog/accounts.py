"""Companies (tenants) and users: creation, look-up by handle or name, memberships, the
effective role in a company (§1.3) and authentication (§4.1)."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import select

from isrender.catalog.core import CatalogCore
from isrender.catalog.handles import HandleKind, parse_handle
from isrender.catalog.models import Company, Membership, User
from isrender.catalog.names import check_folder_path, check_name, storable
from isrender.catalog.passwords import decoy_hash, hash_password, verify_password
from isrender.catalog.roles import Role
from isrender.errors import CatalogError, IpsFault

__all__ = ["OVERWRITE_MODES", "Accounts"]

OVERWRITE_MODES = ("OverwriteFullName", "OverwriteAnyExt", "OverwriteFullNameAnyFolder",
                   "OverwriteAnyExtAnyFolder")  # fmt: skip


class Accounts(CatalogCore):
    """The companies and users part of ``Catalog``."""

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
        matches = verify_password(password, user.password_hash if user else decoy_hash())
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
