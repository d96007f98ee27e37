"""Shared test helpers: the ../shared data folder, keys, small builders."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
SHARED = REPO.parent / "shared"


def shared_path(relative: str) -> Path:
    """A file or folder under ../shared; skipped when absent, except under CI=true."""
    path = SHARED / relative
    if not path.exists():
        if os.environ.get("CI") == "true":
            pytest.fail(f"{path} is missing under CI=true; shared data must be present")
        pytest.skip(f"{path} not present (shared data folder absent)")
    return path
