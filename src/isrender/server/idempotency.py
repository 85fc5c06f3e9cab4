"""``Idempotency-Key`` on submit (§5.3), in the database, so every server process and machine
sharing the catalog agrees: the same key and body from the same user of the same company within
24 hours return the first job's handle and create no second job.

The first request inserts a row (company, user, key) with no job yet; the unique constraint
makes exactly one insert win, whatever the number of processes. The winner submits and records
the job; the others wait for it (and answer its handle), or get 409 if it takes too long.
A winner that fails removes its row, so a retry can submit; a row left by a crashed process is
taken over once it is older than ``stale_after``.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import ColumnElement, and_, delete, or_, select, update
from sqlalchemy.exc import IntegrityError

from isrender.catalog import Catalog
from isrender.catalog.models import IdempotencyKey
from isrender.errors import IdempotencyKeyBusy, IpsFault
from isrender.jobs import Job, job_handle

__all__ = ["SharedIdempotencyKeys"]

MAX_KEY_LENGTH = 255


def _utcnow() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


def _job_id(handle: str) -> int:
    """The job id of a handle ``j|company||name|id`` (jobs.service.job_handle)."""
    return int(handle.rpartition("|")[2])


@dataclass
class SharedIdempotencyKeys:
    catalog: Catalog
    window: float = 24 * 3600.0  # a key is remembered this long
    wait: float = 20.0  # how long a duplicate waits for the first submit to finish
    stale_after: float = 120.0  # a row with no job this old was left by a crashed process

    def submit(
        self, company_id: int, user_id: int, key: str | None, body: object,
        create: Callable[[], str],
    ) -> str:  # fmt: skip
        """The handle of the job ``create`` made for this key (now or earlier)."""
        if not key:
            return create()
        if len(key) > MAX_KEY_LENGTH:
            raise IpsFault(30001, f"Idempotency-Key: at most {MAX_KEY_LENGTH} characters")
        digest = hashlib.sha256(json.dumps(body, sort_keys=True).encode()).hexdigest()
        deadline = time.monotonic() + self.wait
        while True:
            won = self._reserve(company_id, user_id, key, digest)
            if won is not None:
                return self._submit_as_owner(won, create)
            handle = self._earlier(company_id, user_id, key, digest)
            if handle:
                return handle
            if time.monotonic() > deadline:
                raise IdempotencyKeyBusy()
            time.sleep(0.05)

    def _reserve(self, company_id: int, user_id: int, key: str, digest: str) -> int | None:
        """Insert this key's row; its id if this request won, None if the key is taken."""
        now = _utcnow()
        expired = or_(
            IdempotencyKey.created < now - timedelta(seconds=self.window),
            and_(IdempotencyKey.job_id.is_(None),
                 IdempotencyKey.created < now - timedelta(seconds=self.stale_after)),
        )  # fmt: skip
        try:
            with self.catalog.session() as s:
                s.execute(
                    delete(IdempotencyKey).where(self._same(company_id, user_id, key), expired)
                )
                row = IdempotencyKey(company_id=company_id, user_id=user_id, key=key,
                                     body_sha256=digest, created=now)  # fmt: skip
                s.add(row)
                s.flush()
                return row.id
        except IntegrityError:
            return None  # the unique constraint: another request holds this key

    def _earlier(self, company_id: int, user_id: int, key: str, digest: str) -> str:
        """The handle recorded for the key, or "" while its submit runs (or once it is gone)."""
        with self.catalog.session() as s:
            row = s.scalar(select(IdempotencyKey).where(self._same(company_id, user_id, key)))
            if row is None or row.job_id is None:
                return ""
            if row.body_sha256 != digest:
                raise IpsFault(30001, "Idempotency-Key was used before with a different body")
            job = s.get(Job, row.job_id)
            if job is None:  # the job row is gone: the key is free again
                s.delete(row)
                return ""
            return job_handle(job)

    def _submit_as_owner(self, row_id: int, create: Callable[[], str]) -> str:
        try:
            handle = create()
        except BaseException:
            with self.catalog.session() as s:  # free the key: the request may be retried
                s.execute(delete(IdempotencyKey).where(IdempotencyKey.id == row_id))
            raise
        with self.catalog.session() as s:
            s.execute(
                update(IdempotencyKey)
                .where(IdempotencyKey.id == row_id)
                .values(job_id=_job_id(handle))
            )
        return handle

    @staticmethod
    def _same(company_id: int, user_id: int, key: str) -> ColumnElement[bool]:
        return and_(
            IdempotencyKey.company_id == company_id,
            IdempotencyKey.user_id == user_id,
            IdempotencyKey.key == key,
        )
