"""IPS handles (production-system.md §1.1): what the server emits and what it accepts.

Identity is the numeric id; names embedded in handles are never used for lookup. Anything that
does not parse is "not found", like an id of another company: that rule keeps other companies'
objects from leaking.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum

__all__ = ["Handle", "HandleKind", "asset_handle", "company_handle", "folder_handle",
           "format_handle", "parse_handle", "user_handle"]  # fmt: skip


class HandleKind(StrEnum):
    COMPANY = "c"
    USER = "u"
    ASSET = "a"
    FOLDER = "f"
    GROUP = "g"
    IMAGE_FORMAT = "if"
    JOB = "j"


@dataclass(frozen=True, slots=True)
class Handle:
    kind: HandleKind
    id: int | None  # None for folder handles, which are paths
    path: str = ""  # folder handles: the path
    company: int | None = None  # image format and job handles carry their company
    name: str = ""  # job handles: the job's name, which must match the job the id names


def company_handle(company_id: int) -> str:
    return f"c|{company_id}"


def user_handle(user_id: int, email: str) -> str:
    return f"u|{user_id}|{email}"


def asset_handle(asset_id: int) -> str:
    return f"a|{asset_id}"


def folder_handle(root_path: str, relative: str) -> str:
    return f"f|{root_path}{relative}"


def format_handle(company_id: int, format_id: int) -> str:
    return f"if|{company_id}|{format_id}"


_NUMBER = re.compile(r"[0-9]{1,18}\Z")


def parse_handle(text: str, kind: HandleKind) -> Handle | None:
    """The handle of ``kind`` that ``text`` names, or None when it is not one (-> not found).

    Accepted besides the emitted forms: asset handles ``a|<id>|<any>|<any>`` copied from IPS
    material, and folder handles written as bare paths (``Acme/products/``).
    """
    text = text.strip()
    parts = text.split("|")
    if kind is HandleKind.FOLDER:
        path = text[2:] if text.startswith("f|") else text
        return Handle(kind, None, path) if path and "|" not in path else None
    if parts[0] != kind.value:
        return None
    if kind is HandleKind.JOB:
        # j|<company>||<name>|<jobId>: identity is the trailing id
        if len(parts) < 3 or not _NUMBER.match(parts[-1]) or not _NUMBER.match(parts[1]):
            return None
        name = "|".join(parts[3:-1]) if len(parts) >= 5 else ""
        return Handle(kind, int(parts[-1]), company=int(parts[1]), name=name)
    if kind is HandleKind.IMAGE_FORMAT:
        if len(parts) != 3 or not (_NUMBER.match(parts[1]) and _NUMBER.match(parts[2])):
            return None
        return Handle(kind, int(parts[2]), company=int(parts[1]))
    if len(parts) < 2 or not _NUMBER.match(parts[1]):
        return None
    allowed_parts = {HandleKind.USER: (3,), HandleKind.ASSET: (2, 4)}.get(kind, (2,))
    if len(parts) not in allowed_parts:
        return None
    return Handle(kind, int(parts[1]))
