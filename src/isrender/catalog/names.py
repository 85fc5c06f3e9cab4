"""The one naming rule for asset, folder, company and user names, wherever they enter (CLI,
JSON API, SOAP, upload): ``Catalog`` checks every name it stores, so no entry point can skip it.

A name is refused when it is

- blank, or begins or ends with white space (`` .jpg`` would become the blank asset `` ``);
- only dots (``.``, ``..``: they mean "this" and "parent" in every path);
- longer than ``MAX_NAME_BYTES`` bytes of UTF-8 (output files are named after assets: with an
  extension and a ``-n`` suffix the file name stays under the 255-byte file-system limit);
- holding a reserved character: ``|`` separates the parts of handles (``a|1`` would shadow the
  handle of asset 1), ``/`` and ``\\`` separate folders, ``?`` and ``#`` end the path of an
  image URL, and control characters are never text. (``%`` is allowed: the object path is
  %-decoded exactly once, so ``a%2541`` names the asset ``a%41``.)

User names are e-mail addresses, so ``@`` and ``.`` are ordinary characters.
"""

from __future__ import annotations

import unicodedata
from pathlib import PurePosixPath

from isrender.errors import InvalidNameError

__all__ = [
    "MAX_NAME_BYTES",
    "RESERVED",
    "check_file_name",
    "check_folder_path",
    "check_name",
    "name_problem",
    "storable",
]

MAX_NAME_BYTES = 200
RESERVED = {
    "|": "separates the parts of handles",
    "/": "separates folders",
    "\\": "separates folders",
    "?": "starts the query of an image URL",
    "#": "starts the fragment of a URL",
}


def name_problem(name: str) -> str | None:
    """Why ``name`` is refused, or None when it is a good name."""
    if not name.strip():
        return "a name may not be blank"
    if name != name.strip():
        return "a name may not begin or end with white space"
    if not name.strip("."):
        return "a name may not be only dots"
    size = len(name.encode("utf-8", "surrogatepass"))
    if size > MAX_NAME_BYTES:
        return f"{size} bytes long; at most {MAX_NAME_BYTES} bytes (UTF-8)"
    for char in name:
        if char in RESERVED:
            return f"{char!r} is reserved ({RESERVED[char]})"
        if unicodedata.category(char) in ("Cc", "Cs"):
            return f"control character {char!r} is not allowed"
    return None


def storable(text: str) -> bool:
    """Whether a database can even compare ``text`` (PostgreSQL refuses NUL characters): a
    lookup of a name that is not storable is "not found" without a query."""
    return "\x00" not in text


def check_name(kind: str, name: str) -> str:
    """``name``, or InvalidNameError (30001) saying which ``kind`` of name and why."""
    problem = name_problem(name)
    if problem is not None:
        raise InvalidNameError(kind, name, problem)
    return name


def check_folder_path(path: str) -> str:
    """A folder path (``products/shoes/``): every folder in it follows the rule. Empty parts
    and ``.`` are dropped later by the catalog; ``..`` is refused here (only dots)."""
    for part in path.replace("\\", "/").split("/"):
        if part and part != ".":
            check_name("folder", part)
    return path


def check_file_name(file_name: str) -> str | None:
    """Why an uploaded file name is refused (the file name and its asset name, the name
    without extension, both follow the rule), or None."""
    problem = name_problem(file_name)
    if problem is not None:
        return f"file name {_shown(file_name)}: {problem}"
    stem = PurePosixPath(file_name).stem  # what the catalog names the asset
    problem = name_problem(stem)
    return f"asset name {_shown(stem)}: {problem}" if problem is not None else None


def _shown(name: str) -> str:
    return repr(name if len(name) <= 60 else name[:57] + "...")
