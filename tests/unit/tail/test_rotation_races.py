"""Rotations that land between two steps of one scan (found by a loaded test machine)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from agent.tail import Tailer
from tests.unit.tail.harness import TailRun, assert_exactly_once, numbered


async def test_a_file_rotated_between_the_scan_and_its_opening_is_still_read_first(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The scan saw generation 2 at app.log; before it was opened it was renamed away and
    generation 3 took its place. Both are read, 2 before 3."""
    log = tmp_path / "app.log"
    log.write_bytes(numbered("g1", 0, 100))
    run = TailRun([str(log)])
    await run.start()
    await run.wait_for(100)
    os.rename(log, tmp_path / "app.log.1")
    log.write_bytes(numbered("g2", 0, 100))
    real = Tailer._matching_paths
    rotated = False

    def rotate_right_after_the_glob(self: Tailer) -> dict[tuple[int, int], str]:
        nonlocal rotated
        found = real(self)
        if not rotated and any(p == str(log) for p in found.values()) and (
                os.stat(log).st_ino != os.stat(tmp_path / "app.log.1").st_ino):
            rotated = True
            os.rename(log, tmp_path / "app.log.2")
            log.write_bytes(numbered("g3", 0, 100))
        return found

    monkeypatch.setattr(Tailer, "_matching_paths", rotate_right_after_the_glob)
    got = await run.wait_for(300, timeout=20)
    await run.stop()
    assert rotated
    want = b"".join(numbered(g, 0, 100) for g in ("g1", "g2", "g3")).split(b"\n")[:-1]
    assert_exactly_once(got, want)
    assert got == want  # in write order
