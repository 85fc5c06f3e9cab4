"""What a bench run is asked to do: sources, modifier strings, worker and client counts, caps.

Every check runs before anything is measured, so a typo costs no benchmark time, and every
problem is a BenchSetupError (exit 2) or a ModifierError with its caret.
"""

from __future__ import annotations

import glob
import os
from dataclasses import dataclass
from pathlib import Path

from isrender.errors import BenchSetupError
from isrender.macros import MacroRegistry

__all__ = [
    "IMAGE_SUFFIXES",
    "MAX_DURATION_S",
    "MAX_REQUESTS",
    "Budget",
    "check_modifiers",
    "find_sources",
    "parse_counts",
    "read_mods_file",
]

MAX_DURATION_S = 300.0  # per row: a forgotten bench must not run for hours
MAX_REQUESTS = 1_000_000  # --against: the hard cap on requests per row
MAX_COUNT = 256  # workers or clients
# Folder walks take these; a file named on the command line is taken whatever its name.
IMAGE_SUFFIXES = frozenset(
    ".jpg .jpeg .jpe .png .gif .tif .tiff .webp .avif .heic .heif .jp2 .bmp .psd .svg".split()
)


@dataclass(frozen=True)
class Budget:
    """How long each row runs: ``duration_s`` of wall time, or ``repeat`` passes over the
    sources (one of the two)."""

    duration_s: float | None
    repeat: int | None

    @classmethod
    def from_options(cls, duration: float | None, repeat: int | None) -> Budget:
        if duration is not None and repeat is not None:
            raise BenchSetupError("give --duration or --repeat, not both")
        if repeat is not None:
            if repeat < 1:
                raise BenchSetupError(f"--repeat must be at least 1, not {repeat}")
            return cls(None, repeat)
        seconds = 10.0 if duration is None else duration
        if not 0 < seconds <= MAX_DURATION_S:
            raise BenchSetupError(
                f"--duration must be more than 0 and at most {MAX_DURATION_S:g} s, not {seconds:g}"
            )
        return cls(seconds, None)


def parse_counts(text: str, option: str) -> tuple[int, ...]:
    """``1,2,4`` -> (1, 2, 4); ``auto`` -> powers of two up to the CPU count, and the count."""
    if text.strip().lower() == "auto":
        cpus = os.cpu_count() or 1
        counts = {1, cpus}
        power = 2
        while power < cpus:
            counts.add(power)
            power *= 2
        return tuple(sorted(counts))
    counts_found: list[int] = []
    for part in text.split(","):
        try:
            count = int(part.strip())
        except ValueError:
            raise BenchSetupError(
                f"{option} takes counts like 1,2,4 (or auto), not {text!r}"
            ) from None
        if not 1 <= count <= MAX_COUNT:
            raise BenchSetupError(f"{option}: {count} is outside 1..{MAX_COUNT}")
        if count not in counts_found:
            counts_found.append(count)
    return tuple(counts_found)


def read_mods_file(path: Path) -> list[str]:
    """One modifier string or ``$preset$`` per line; blank lines and ``#`` comments skipped."""
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise BenchSetupError(f"cannot read --mods-file {path.name}: {exc}") from None
    return [line.strip() for line in lines if line.strip() and not line.lstrip().startswith("#")]


def check_modifiers(modifiers: list[str], macros: MacroRegistry | None) -> None:
    """Parse, expand and bind each string strictly (no pixels): a bad string stops the run
    with its caret instead of failing every image."""
    if not modifiers:
        raise BenchSetupError("give at least one --mods or a --mods-file with modifier strings")
    from isrender.service import ImageService, SourceRecord

    service, record = ImageService(macros=macros), SourceRecord("", None, "")
    for text in modifiers:
        service.prepare(record, text, strict=True, answers=None)


def find_sources(arguments: tuple[str, ...]) -> list[Path]:
    """Files as given, folders walked (image suffixes only), globs expanded; sorted, unique."""
    if not arguments:
        raise BenchSetupError("give the source images: files, folders or globs")
    found: dict[Path, None] = {}
    for argument in arguments:
        matches = _expand(argument)
        if not matches:
            raise BenchSetupError(f"no file, folder or glob match: {argument}")
        for path in matches:
            found.setdefault(path, None)
    return list(found)


def _expand(argument: str) -> list[Path]:
    path = Path(argument)
    if path.is_file():
        return [path]
    if path.is_dir():
        images = _walk(path)
        if not images:
            raise BenchSetupError(f"the folder {argument} holds no image files")
        return images
    matches = sorted(glob.glob(argument, recursive=True))
    files: list[Path] = []
    for match in map(Path, matches):
        files.extend([match] if match.is_file() else _walk(match) if match.is_dir() else [])
    return files


def _walk(folder: Path) -> list[Path]:
    return sorted(
        p
        for p in folder.rglob("*")
        if p.is_file() and p.suffix.lower() in IMAGE_SUFFIXES and not p.name.startswith(".")
    )
