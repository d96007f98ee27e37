"""The tailer tells the cursor keeper (the spool) which files it is done with, so saved
cursors do not grow by one per rotated file forever — and never forgets one it may need."""

from __future__ import annotations

import asyncio
import os
from pathlib import Path

from tests.unit.tail.harness import TailRun, assert_exactly_once, numbered


def key_of(path: Path) -> tuple[int, int]:
    st = os.stat(path)
    return (st.st_dev, st.st_ino)


async def wait_forgotten(run: TailRun, key: tuple[int, int], timeout: float = 10.0) -> bool:
    for _ in range(int(timeout / 0.05)):
        if key in run.keeper.forgotten:
            return True
        await asyncio.sleep(0.05)
    return False


async def test_a_file_rotated_out_of_the_globs_is_forgotten_once_read_to_its_end(
        tmp_path: Path) -> None:
    log = tmp_path / "app.log"
    run = TailRun([str(log)], rotate_wait_secs=0.1)
    log.write_bytes(numbered("a", 0, 100))
    await run.start()
    await run.wait_for(100)
    old = key_of(log)
    os.rename(log, tmp_path / "app.log.1")
    log.write_bytes(numbered("b", 0, 10))
    assert await wait_forgotten(run, old)
    got = await run.wait_for(110)
    await run.stop()
    assert_exactly_once(got, (numbered("a", 0, 100) + numbered("b", 0, 10)).split(b"\n")[:-1])
    assert key_of(log) not in run.keeper.forgotten


async def test_a_deleted_file_is_forgotten_once_read_to_its_end(tmp_path: Path) -> None:
    log = tmp_path / "app.log"
    run = TailRun([str(log)], rotate_wait_secs=0.1)
    log.write_bytes(numbered("a", 0, 50))
    await run.start()
    await run.wait_for(50)
    old = key_of(log)
    log.unlink()
    assert await wait_forgotten(run, old)
    await run.stop()


async def test_a_file_still_growing_is_never_forgotten(tmp_path: Path) -> None:
    log = tmp_path / "app.log"
    run = TailRun([str(log)], rotate_wait_secs=0.1, close_idle_secs=0.2)
    log.write_bytes(numbered("a", 0, 10))
    await run.start()
    await run.wait_for(10)
    await asyncio.sleep(1.0)  # long enough to be closed as idle, which is not forgetting
    await run.stop()
    assert run.keeper.forgotten == []


async def test_a_saved_cursor_of_a_file_deleted_while_stopped_is_forgotten_at_start(
        tmp_path: Path) -> None:
    log = tmp_path / "app.log"
    run = TailRun([str(log)])
    log.write_bytes(numbered("a", 0, 20))
    await run.start()
    await run.wait_for(20)
    await run.stop()
    old = key_of(log)
    log.unlink()
    await run.start()
    assert await wait_forgotten(run, old)
    await run.stop()


async def test_a_saved_cursor_is_kept_while_its_directory_is_missing(tmp_path: Path) -> None:
    """A volume not mounted yet looks like a missing directory: its files come back later
    and must resume from their cursors, not be read again from the start."""
    logs = tmp_path / "mnt"
    logs.mkdir()
    log = logs / "app.log"
    run = TailRun([str(logs / "*.log")])
    log.write_bytes(numbered("a", 0, 20))
    await run.start()
    await run.wait_for(20)
    await run.stop()
    os.rename(logs, tmp_path / "unmounted")
    await run.start()
    await asyncio.sleep(0.5)
    assert run.keeper.forgotten == []
    os.rename(tmp_path / "unmounted", logs)
    with open(log, "ab") as f:
        f.write(numbered("a", 20, 30))
    got = await run.wait_for(30)
    await run.settle()
    await run.stop()
    assert_exactly_once(got, numbered("a", 0, 30).split(b"\n")[:-1])


async def test_a_copy_first_seen_after_a_restart_whose_original_was_deleted_is_not_read_again(
        tmp_path: Path) -> None:
    """copytruncate, then the original deleted, all while stopped: the original's cursor is
    dropped (its file is gone), but what it delivered still marks the copy as read (found
    by the property test)."""
    log = tmp_path / "app.log"
    run = TailRun([str(tmp_path / "app.log*")])
    log.write_bytes(numbered("a", 0, 5))
    await run.start()
    await run.wait_for(5)
    await run.stop()
    (tmp_path / "app.log.1").write_bytes(log.read_bytes())
    os.truncate(log, 0)
    log.unlink()
    await run.start()
    got = await run.settle(0.3)
    await run.stop()
    assert_exactly_once(got, numbered("a", 0, 5).split(b"\n")[:-1])
