"""copytruncate whose copy no glob matches, while running and while stopped (found by
attacking the tailer)."""
from __future__ import annotations

import asyncio
import os
import shutil
import time
from pathlib import Path

from tests.unit.tail.harness import TailRun, append, assert_exactly_once, numbered
from tests.unit.tail.test_restart_after_rotations import stop_for_real


def lines_of(data: bytes) -> list[bytes]:
    return data.split(b"\n")[:-1]


def copytruncate(log: Path, dest: Path, *, preserve: bool = False) -> None:
    (shutil.copy2 if preserve else shutil.copyfile)(log, dest)
    os.truncate(log, 0)


def shift(d: Path, base: str, n: int) -> None:
    """logrotate's numbered shift before making the new .1: .n-1 -> .n ... .1 -> .2"""
    for i in range(n - 1, 0, -1):
        src = d / f"{base}.{i}"
        if src.exists():
            os.rename(src, d / f"{base}.{i + 1}")


async def test_copytruncate_repeated_numbered_single_path(tmp_path: Path) -> None:
    """paths=[app.log], logrotate copytruncate rotate 5, six times, each time with lines
    written after the last read (only in the copy)."""
    log = tmp_path / "app.log"
    run = TailRun([str(log)])
    log.write_bytes(numbered("c", 0, 10))
    await run.start()
    await run.wait_for(10)
    n = 10
    for _ in range(6):
        append(log, numbered("c", n, n + 7))  # unread: only in the copy
        shift(tmp_path, "app.log", 5)
        copytruncate(log, tmp_path / "app.log.1")
        append(log, numbered("c", n + 7, n + 10))
        n += 10
        await run.wait_for(n, timeout=5)
        await asyncio.sleep(0.1)
    got = await run.settle()
    await run.stop()
    assert got == lines_of(numbered("c", 0, n))


async def test_copytruncate_repeated_dateext_single_path(tmp_path: Path) -> None:
    log = tmp_path / "app.log"
    run = TailRun([str(log)])
    log.write_bytes(numbered("c", 0, 10))
    await run.start()
    await run.wait_for(10)
    n = 10
    for r in range(5):
        append(log, numbered("c", n, n + 7))
        copytruncate(log, tmp_path / f"app.log-2026120{r + 1}")
        append(log, numbered("c", n + 7, n + 10))
        n += 10
        await run.wait_for(n, timeout=5)
        await asyncio.sleep(0.1)
    got = await run.settle()
    await run.stop()
    assert got == lines_of(numbered("c", 0, n))


async def test_copytruncate_cp_p_preserved_mtime_running(tmp_path: Path) -> None:
    log = tmp_path / "app.log"
    run = TailRun([str(log)])
    log.write_bytes(numbered("c", 0, 10))
    await run.start()
    await run.wait_for(10)
    n = 10
    for _ in range(4):
        append(log, numbered("c", n, n + 7))
        shift(tmp_path, "app.log", 5)
        copytruncate(log, tmp_path / "app.log.1", preserve=True)
        append(log, numbered("c", n + 7, n + 10))
        n += 10
        await run.wait_for(n, timeout=5)
        await asyncio.sleep(0.1)
    got = await run.settle()
    await run.stop()
    assert got == lines_of(numbered("c", 0, n))


async def test_copytruncate_cp_p_with_nothing_unread(tmp_path: Path) -> None:
    """cp -p right after our read: copy's mtime equals the read mtime (included): the copy
    holds nothing new and must not repeat anything."""
    log = tmp_path / "app.log"
    run = TailRun([str(log)])
    log.write_bytes(numbered("c", 0, 10))
    await run.start()
    await run.wait_for(10)
    await asyncio.sleep(0.1)
    copytruncate(log, tmp_path / "app.log.1", preserve=True)
    append(log, numbered("c", 10, 15))
    await run.wait_for(15, timeout=5)
    got = await run.settle()
    await run.stop()
    assert got == lines_of(numbered("c", 0, 15))


async def test_copytruncate_while_stopped_cp_p_lines_written_before_last_record(
        tmp_path: Path) -> None:
    """Two files tailed. U is appended to app.log; the agent is killed before reading it,
    but another file's batch (other.log) was recorded after U was written (the spool's
    newest record is later than U's mtime). While stopped: copytruncate with cp -p (mtime
    of the copy = U's write time). At start-up the copy is older than the last record."""
    log, other = tmp_path / "app.log", tmp_path / "other.log"
    run = TailRun([str(log), str(other)])
    log.write_bytes(numbered("a", 0, 10))
    await run.start()
    await run.wait_for(10)
    await stop_for_real(run)
    append(log, numbered("a", 10, 20))     # U: never read
    time.sleep(0.01)
    run.last_batch_wall_ns = time.time_ns()  # other.log's last record, after U
    time.sleep(0.01)
    copytruncate(log, tmp_path / "app.log.1", preserve=True)
    append(log, numbered("a", 20, 25))
    await run.start()
    await run.wait_for(25, timeout=5)
    got = await run.settle()
    await run.stop()
    assert_exactly_once(got, lines_of(numbered("a", 0, 25)))


async def test_copytruncate_while_stopped_single_path(tmp_path: Path) -> None:
    log = tmp_path / "app.log"
    run = TailRun([str(log)])
    log.write_bytes(numbered("a", 0, 10))
    await run.start()
    await run.wait_for(10)
    await stop_for_real(run)
    append(log, numbered("a", 10, 20))
    shift(tmp_path, "app.log", 3)
    copytruncate(log, tmp_path / "app.log.1")
    append(log, numbered("a", 20, 25))
    await run.start()
    await run.wait_for(25, timeout=5)
    got = await run.settle()
    await run.stop()
    assert got == lines_of(numbered("a", 0, 25))


async def test_copytruncate_twice_while_stopped_single_path(tmp_path: Path) -> None:
    log = tmp_path / "app.log"
    run = TailRun([str(log)])
    log.write_bytes(numbered("a", 0, 10))
    await run.start()
    await run.wait_for(10)
    await stop_for_real(run)
    append(log, numbered("a", 10, 20))
    time.sleep(0.01)
    shift(tmp_path, "app.log", 3)
    copytruncate(log, tmp_path / "app.log.1")
    append(log, numbered("a", 20, 30))
    time.sleep(0.01)
    shift(tmp_path, "app.log", 3)
    copytruncate(log, tmp_path / "app.log.1")
    append(log, numbered("a", 30, 35))
    await run.start()
    await run.wait_for(35, timeout=5)
    got = await run.settle()
    await run.stop()
    assert got == lines_of(numbered("a", 0, 35))


async def test_copytruncate_repeated_with_restarts_single_path(tmp_path: Path) -> None:
    """copytruncate rotate 3 several times, the agent restarted between rotations."""
    log = tmp_path / "app.log"
    run = TailRun([str(log)])
    log.write_bytes(numbered("c", 0, 10))
    await run.start()
    await run.wait_for(10)
    n = 10
    for _ in range(4):
        append(log, numbered("c", n, n + 5))
        shift(tmp_path, "app.log", 3)
        copytruncate(log, tmp_path / "app.log.1")
        append(log, numbered("c", n + 5, n + 10))
        n += 10
        await run.wait_for(n, timeout=5)
        await asyncio.sleep(1.0)  # copy drained and forgotten
        await stop_for_real(run)
        await run.start()
    got = await run.settle()
    await run.stop()
    assert_exactly_once(got, lines_of(numbered("c", 0, n)))
    assert got == lines_of(numbered("c", 0, n))
