"""Rotations racing the agent's start, and delaycompress while stopped. Found by attacking
the tailer."""
from __future__ import annotations

import gzip
import os
from pathlib import Path

from agent.tail import Tailer
from tests.unit.tail.harness import TailRun, assert_exactly_once, numbered
from tests.unit.tail.test_restart_after_rotations import (
    key_of,
    lines_of,
    stop_for_real,
    wait_forgotten,
)


async def test_rotation_just_before_start_then_late_new_file_no_reread(
        tmp_path: Path, monkeypatch) -> None:
    """Stopped with app.log (A) read. Right before the restart's first glob the app
    writes A2 and logrotate (nocreate) renames app.log -> app.log.1. The agent drains
    A2 and forgets app.log.1
    later the app re-creates app.log (C). A must not repeat."""
    log = tmp_path / "app.log"
    A, A2, C = numbered("A", 0, 20), numbered("A", 20, 25), numbered("C", 0, 5)
    log.write_bytes(A)
    run = TailRun([str(tmp_path / "*.log")])
    await run.start()
    await run.wait_for(20)
    k = key_of(log)
    await stop_for_real(run)

    original = Tailer._matching_paths
    done = []

    def patched(self):  # type: ignore[no-untyped-def]
        if not done:
            done.append(1)
            with open(log, "ab") as f:
                f.write(A2)
            os.rename(log, tmp_path / "app.log.1")
        return original(self)

    monkeypatch.setattr(Tailer, "_matching_paths", patched)
    await run.start()
    await run.wait_for(25, timeout=5)
    await wait_forgotten(run, k)
    log.write_bytes(C)
    await run.wait_for(30, timeout=5)
    got = await run.settle(0.5)
    await run.stop()
    assert_exactly_once(got, lines_of(A + A2 + C))


async def test_delaycompress_two_rotations_while_stopped(tmp_path: Path) -> None:
    """logrotate compress+delaycompress, two rotations while stopped: the saved file is
    now app.log.2.gz (its inode gone), B sits uncompressed in app.log.1, C in app.log."""
    log, d = tmp_path / "app.log", tmp_path
    A, B, C = numbered("A", 0, 10), numbered("B", 0, 5), numbered("C", 0, 5)
    log.write_bytes(A)
    run = TailRun([str(tmp_path / "*.log")])
    await run.start()
    await run.wait_for(10)
    await stop_for_real(run)
    os.rename(log, d / "app.log.1")
    log.write_bytes(B)            # rotation 1
    os.rename(d / "app.log.1", d / "app.log.2")                    # rotation 2
    (d / "app.log.2.gz").write_bytes(gzip.compress((d / "app.log.2").read_bytes()))
    os.unlink(d / "app.log.2")
    os.rename(log, d / "app.log.1")
    log.write_bytes(C)
    await run.start()
    await run.wait_for(20, timeout=5)
    got = await run.settle(0.5)
    await run.stop()
    assert_exactly_once(got, lines_of(A + B + C))
