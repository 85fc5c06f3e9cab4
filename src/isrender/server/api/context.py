"""What every resource module of the JSON API shares: the services, who is calling, and the
company check every handler makes first (production-system.md §5.3, §1.4).

Authentication is Basic, or a bearer token from ``POST /tokens``; authorization is
``catalog/authorize.py``, the one check the CLI, SOAP and the web UI make too.
"""

import base64
import binascii
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from fastapi import Request

from isrender.catalog import Catalog, Operation, Role
from isrender.catalog.authorize import authorize
from isrender.catalog.models import Company, User
from isrender.errors import IpsFault
from isrender.jobs import Job, JobService
from isrender.server.idempotency import SharedIdempotencyKeys
from isrender.server.tokens import ExpiredToken, InvalidToken, Signer

__all__ = ["PREFIX", "ApiContext", "IpsOperation"]

PREFIX = "/api/ips/v1"

IpsOperation = Callable[[User, dict[str, Any]], dict[str, Any]]


@dataclass(frozen=True, slots=True)
class ApiContext:
    """The job service (and its catalog), the token signer, and the submit keys."""

    service: JobService
    signer: Signer
    submitted: SharedIdempotencyKeys  # in the database: every process agrees

    @property
    def catalog(self) -> Catalog:
        return self.service.catalog

    def caller(self, request: Request) -> User:
        """The authenticated user (a FastAPI dependency), or the IPS authentication fault."""
        scheme, _, credentials = request.headers.get("authorization", "").partition(" ")
        if scheme.lower() == "bearer" and credentials:
            return self._bearer(credentials)
        if scheme.lower() != "basic" or not credentials:
            raise IpsFault(10000, "the request carries no credentials (Basic or Bearer)")
        try:
            email, _, password = base64.b64decode(credentials).decode().partition(":")
        except (binascii.Error, UnicodeDecodeError):
            raise IpsFault(10001, "Invalid username/password") from None
        address = request.client.host if request.client else ""  # throttled per address too
        return self.catalog.authenticate(email, password, address)

    def _bearer(self, token: str) -> User:
        try:
            subject = self.signer.open(token)
        except (InvalidToken, ExpiredToken) as exc:
            raise IpsFault(10001, f"bearer token: {exc.message}") from None
        user = self.catalog.user(f"u|{subject.removeprefix('user:')}|")
        if user is None or not user.is_valid:
            raise IpsFault(10002, "Invalid username/password")
        return user

    def member(self, user: User, company_ref: str, operation: Operation) -> tuple[Company, Role]:
        return authorize(self.catalog, user, company_ref, operation)

    def company_job(self, user: User, company_ref: str, handle: str, operation: Operation) -> Job:
        company, _ = self.member(user, company_ref, operation)
        return self.service.require(company.id, handle)
