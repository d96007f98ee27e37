"""A cursor is only true of a file while its content is: files rewritten (an application
restarted with O_TRUNC) while nobody read them, then rotated, are still read, and what
could not be read is counted. Found by attacking the tailer (waiting files, idle-closed
files, restarts); each test failed before the fix."""
from __future__ import annotations

import asyncio
import os
from pathlib import Path

from tests.unit.tail.harness import TailRun, assert_exactly_once, numbered
from tests.unit.tail.test_missed_generations import race_in_scans


def lines_of(data: bytes) -> list[bytes]:
    return data.split(b"\n")[:-1]


async def until_waiting(run: TailRun, count: int) -> None:
    assert run.tailer is not None
    for _ in range(250):
        if run.tailer.statistics().files_waiting == count:
            return
        await asyncio.sleep(0.02)
    raise AssertionError(f"never {count} files waiting: {run.tailer.statistics()}")


async def test_a_waiting_file_rewritten_then_renamed_out_of_the_globs_is_read_from_its_start(
        tmp_path: Path) -> None:
    """a.log is read and idle-closed; b.log takes the only slot. a.log is truncated and
    rewritten (C), so it waits with a cursor past its new end; then it is renamed to a.old.
    C is read once the slot frees, and nothing is counted as dropped."""
    a, b = tmp_path / "a.log", tmp_path / "b.log"
    A, B, C, D = (numbered(t, 0, n) for t, n in (("A", 20), ("B", 10), ("C", 5), ("D", 5)))
    a.write_bytes(A)
    run = TailRun([str(tmp_path / "*.log")], max_open_files=1, close_idle_secs=0.3)
    await run.start()
    await run.wait_for(20)
    await asyncio.sleep(0.6)
    assert run.tailer is not None and run.tailer.statistics().files_open == 0
    b.write_bytes(B)
    await run.wait_for(30)
    a.write_bytes(C)
    await until_waiting(run, 1)
    os.rename(a, tmp_path / "a.old")
    a.write_bytes(D)
    await asyncio.sleep(0.15)
    b.unlink()
    await run.wait_for(40, timeout=5)
    got = await run.settle(0.5)
    stats = run.tailer.statistics()
    await run.stop()
    assert_exactly_once(got, lines_of(A) + lines_of(B) + lines_of(C) + lines_of(D))
    assert stats.unread_bytes_dropped == 0


async def test_a_waiting_file_truncated_before_its_slot_counts_what_it_lost(
        tmp_path: Path) -> None:
    """Lines appended to a waiting file and then wiped by a truncation were never read:
    they are counted in unread_bytes_dropped, and the new content is read."""
    a, b = tmp_path / "a.log", tmp_path / "b.log"
    a.write_bytes(numbered("A", 0, 10))
    run = TailRun([str(tmp_path / "*.log")], max_open_files=1, close_idle_secs=0.3)
    await run.start()
    await run.wait_for(10)
    await asyncio.sleep(0.6)
    b.write_bytes(numbered("B", 0, 5))
    await run.wait_for(15)
    lost = numbered("A", 10, 15)
    with a.open("ab") as f:
        f.write(lost)
    await until_waiting(run, 1)  # seen with the lines appended
    a.write_bytes(numbered("C", 0, 3))
    await asyncio.sleep(0.15)
    b.unlink()
    await run.wait_for(18, timeout=5)
    got = await run.settle(0.5)
    assert run.tailer is not None
    stats = run.tailer.statistics()
    await run.stop()
    assert_exactly_once(got, lines_of(numbered("A", 0, 10)) + lines_of(numbered("B", 0, 5))
                        + lines_of(numbered("C", 0, 3)))
    assert stats.unread_bytes_dropped == len(lost)


async def test_an_idle_closed_file_rewritten_and_rotated_within_one_scan_is_read(
        tmp_path: Path) -> None:
    """Between two scans app.log (idle-closed) is truncated and rewritten, renamed to
    app.log.1, and a new app.log is written: both new contents are read."""
    log = tmp_path / "app.log"
    A, C, D = numbered("A", 0, 20), numbered("C", 0, 5), numbered("D", 0, 5)
    log.write_bytes(A)
    run = TailRun([str(log)], close_idle_secs=0.3)
    await run.start()
    await run.wait_for(20)
    await asyncio.sleep(0.8)
    assert run.tailer is not None and run.tailer.statistics().files_open == 0

    def restart_then_rotate() -> None:
        log.write_bytes(C)
        os.rename(log, tmp_path / "app.log.1")
        log.write_bytes(D)

    race_in_scans(run, [restart_then_rotate])
    await run.wait_for(30, timeout=5)
    got = await run.settle(0.5)
    stats = run.tailer.statistics()
    await run.stop()
    assert_exactly_once(got, lines_of(A) + lines_of(C) + lines_of(D))
    assert stats.unread_bytes_dropped == 0


async def test_a_file_rewritten_then_rotated_while_stopped_is_read_from_its_start(
        tmp_path: Path) -> None:
    """While the agent is stopped the application restarts (app.log truncated, C written)
    and app.log is rotated to app.log.1; a new app.log gets D. C and D are read."""
    log = tmp_path / "app.log"
    A, C, D = numbered("A", 0, 20), numbered("C", 0, 5), numbered("D", 0, 5)
    log.write_bytes(A)
    run = TailRun([str(log)])
    await run.start()
    await run.wait_for(20)
    await run.stop()
    log.write_bytes(C)
    os.rename(log, tmp_path / "app.log.1")
    log.write_bytes(D)
    await run.start()
    await run.wait_for(30, timeout=5)
    got = await run.settle(0.5)
    await run.stop()
    assert_exactly_once(got, lines_of(A) + lines_of(C) + lines_of(D))


async def test_a_file_rotated_twice_while_stopped_has_every_generation_read(
        tmp_path: Path) -> None:
    """Stopped with app.log read to its end; then it gets more lines and is rotated twice
    (app.log -> app.log.1 -> app.log.2, a generation between), and a third app.log is
    written. Every generation is read, in order, after a restart."""
    log = tmp_path / "app.log"
    log.write_bytes(numbered("a", 0, 10))
    run = TailRun([str(log)])
    await run.start()
    await run.wait_for(10)
    await run.stop()
    with log.open("ab") as f:
        f.write(numbered("a", 10, 15))
    os.rename(log, tmp_path / "app.log.1")
    log.write_bytes(numbered("b", 0, 5))
    os.rename(tmp_path / "app.log.1", tmp_path / "app.log.2")
    os.rename(log, tmp_path / "app.log.1")
    log.write_bytes(numbered("c", 0, 5))
    await run.start()
    await run.wait_for(25, timeout=5)
    got = await run.settle(0.5)
    await run.stop()
    assert got == lines_of(numbered("a", 0, 15) + numbered("b", 0, 5) + numbered("c", 0, 5))
