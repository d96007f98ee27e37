"""Shared test helpers: the ../shared data folder, keys, small builders."""

from __future__ import annotations

import os
from collections.abc import Iterator
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


@pytest.fixture
def read_only_dir(tmp_path: Path) -> Iterator[Path]:
    """A directory this process cannot write: mode 0500 for a normal user; for root (whom
    modes do not stop) a read-only tmpfs mounted there, skipped when mounting is not allowed."""
    import subprocess

    path = tmp_path / "read-only"
    path.mkdir()
    if os.geteuid() != 0:
        path.chmod(0o500)
        try:
            yield path
        finally:
            path.chmod(0o700)
        return
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", "ro,size=1m", "tmpfs", str(path)],
                             capture_output=True).returncode == 0
    if not mounted:
        pytest.skip("running as root and cannot mount a read-only tmpfs")
    try:
        yield path
    finally:
        subprocess.run(["umount", str(path)], check=False)
