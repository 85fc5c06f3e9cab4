"""Shared fixtures: the spec and examples beside the checkout (../shared), skipped if absent."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

SHARED = Path(__file__).resolve().parents[1].parent / "shared"


def shared_path(*parts: str) -> Path:
    path = SHARED.joinpath(*parts)
    if not path.exists():
        pytest.skip(f"{path} is absent: these tests read ../shared beside the checkout")
    return path


def jsonl(name: str) -> list[dict[str, str]]:
    with shared_path("examples", name).open(encoding="utf-8") as fh:
        return [json.loads(line) for line in fh if line.strip()]
