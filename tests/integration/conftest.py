from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.integration.harness import Collector, make_key


@pytest.fixture
def agent_key(tmp_path: Path) -> Path:
    return make_key(tmp_path)


@pytest.fixture
def authorized_keys(tmp_path: Path, agent_key: Path) -> Path:
    path = tmp_path / "authorized_keys"
    path.write_text(Path(f"{agent_key}.pub").read_text())
    return path


@pytest.fixture
def collector(tmp_path: Path, authorized_keys: Path) -> Iterator[Collector]:
    c = Collector(tmp_path, authorized_keys)
    c.start()
    try:
        yield c
    finally:
        c.stop()
