"""Restarts after copytruncate, numbering shifts (`*.log*` globs), dateext rotations and
waiting files rewritten while stopped, with cursors forgotten as the spool forgets them.
Found by attacking the tailer."""
from __future__ import annotations

import asyncio
import os
from pathlib import Path

from tests.unit.tail.harness import TailRun, assert_exactly_once, numbered
from tests.unit.tail.test_restart_after_rotations import (
    key_of,
    lines_of,
    stop_for_real,
    wait_forgotten,
)
from tests.unit.tail.test_stale_cursors import until_waiting


def copytruncate(src: Path, dst: Path) -> None:
    dst.write_bytes(src.read_bytes())
    with open(src, "r+b") as f:
        f.truncate(0)


async def _copytruncate_while_stopped(tmp_path: Path, glob: str) -> None:
    log = tmp_path / "app.log"
    A, A2, D = numbered("A", 0, 20), numbered("A", 20, 30), numbered("D", 0, 5)
    log.write_bytes(A)
    run = TailRun([str(tmp_path / glob)])
    await run.start()
    await run.wait_for(20)
    await stop_for_real(run)
    with open(log, "ab") as f:
        f.write(A2)
    copytruncate(log, tmp_path / "app.log.1")
    with open(log, "ab") as f:
        f.write(D)
    await run.start()
    await run.wait_for(35, timeout=5)
    got = await run.settle(0.5)
    await run.stop()
    assert_exactly_once(got, lines_of(A + A2 + D))


async def test_copytruncate_while_stopped_star_log(tmp_path: Path) -> None:
    await _copytruncate_while_stopped(tmp_path, "*.log")


async def test_copytruncate_while_stopped_star_log_star(tmp_path: Path) -> None:
    await _copytruncate_while_stopped(tmp_path, "*.log*")


async def test_copytruncate_twice_while_stopped_star_log_star(tmp_path: Path) -> None:
    """Two copytruncate rotations while stopped (app.log.1 -> app.log.2 in between)."""
    log, d = tmp_path / "app.log", tmp_path
    A, A2, B, C = numbered("A", 0, 20), numbered("A", 20, 30), numbered("B", 0, 7), \
        numbered("C", 0, 5)
    log.write_bytes(A)
    run = TailRun([str(tmp_path / "*.log*")])
    await run.start()
    await run.wait_for(20)
    await stop_for_real(run)
    with open(log, "ab") as f:
        f.write(A2)
    copytruncate(log, d / "app.log.1")
    with open(log, "ab") as f:
        f.write(B)
    os.rename(d / "app.log.1", d / "app.log.2")
    copytruncate(log, d / "app.log.1")
    with open(log, "ab") as f:
        f.write(C)
    await run.start()
    await run.wait_for(42, timeout=5)
    got = await run.settle(0.5)
    await run.stop()
    assert_exactly_once(got, lines_of(A + A2 + B + C))


async def test_numbering_shift_star_log_star_with_deletion(tmp_path: Path) -> None:
    """`*.log*`, rotate 2: generations all tailed; while stopped the oldest is deleted
    (its inode number free for the new app.log), .1->.2, app.log->.1, new app.log."""
    log, d = tmp_path / "app.log", tmp_path
    A, B, C, D = (numbered(t, 0, 6) for t in "ABCD")
    log.write_bytes(A)
    run = TailRun([str(tmp_path / "*.log*")])
    await run.start()
    await run.wait_for(6)
    os.rename(log, d / "app.log.1")
    log.write_bytes(B)
    await run.wait_for(12)
    os.rename(d / "app.log.1", d / "app.log.2")
    os.rename(log, d / "app.log.1")
    log.write_bytes(C)
    await run.wait_for(18)
    await asyncio.sleep(0.3)
    await stop_for_real(run)
    os.unlink(d / "app.log.2")
    os.rename(d / "app.log.1", d / "app.log.2")
    os.rename(log, d / "app.log.1")
    log.write_bytes(D)
    await run.start()
    await run.wait_for(24, timeout=5)
    got = await run.settle(0.5)
    await run.stop()
    assert_exactly_once(got, lines_of(A + B + C + D))


async def test_numbering_shift_star_log_star_new_file_same_header(tmp_path: Path) -> None:
    """As above, but every generation starts with the same banner line, and the new
    app.log (reusing the deleted generation's inode) is longer than that cursor."""
    log, d = tmp_path / "app.log", tmp_path
    hdr = b"=== app v1 started ===\n"
    A, B, C = (hdr + numbered(t, 0, 6) for t in "ABC")
    D = hdr + numbered("D", 0, 30)
    log.write_bytes(A)
    run = TailRun([str(tmp_path / "*.log*")])
    await run.start()
    await run.wait_for(7)
    os.rename(log, d / "app.log.1")
    log.write_bytes(B)
    await run.wait_for(14)
    os.rename(d / "app.log.1", d / "app.log.2")
    os.rename(log, d / "app.log.1")
    log.write_bytes(C)
    await run.wait_for(21)
    await asyncio.sleep(0.3)
    await stop_for_real(run)
    old2 = key_of(d / "app.log.2")
    os.unlink(d / "app.log.2")
    os.rename(d / "app.log.1", d / "app.log.2")
    os.rename(log, d / "app.log.1")
    log.write_bytes(D)
    reused = key_of(log) == old2
    await run.start()
    await run.wait_for(52, timeout=5)
    got = await run.settle(0.5)
    await run.stop()
    assert_exactly_once(got, lines_of(A + B + C + D)), reused


async def test_dateext_several_rotations_while_stopped(tmp_path: Path) -> None:
    """`*.log`, dateext: an old already-read generation is present; while stopped
    app.log (A + A2) -> app.log-20261203, B -> app.log-20261204, new app.log C."""
    log, d = tmp_path / "app.log", tmp_path
    OLD, A, A2, B, C = (numbered("O", 0, 5), numbered("A", 0, 10), numbered("A", 10, 15),
                      numbered("B", 0, 5), numbered("C", 0, 5))
    log.write_bytes(OLD)
    run = TailRun([str(tmp_path / "*.log")])
    await run.start()
    await run.wait_for(5)
    k = key_of(log)
    os.rename(log, d / "app.log-20261202")
    log.write_bytes(A)
    await run.wait_for(15)
    await wait_forgotten(run, k)
    await stop_for_real(run)
    with open(log, "ab") as f:
        f.write(A2)
    os.rename(log, d / "app.log-20261203")
    log.write_bytes(B)
    os.rename(log, d / "app.log-20261204")
    log.write_bytes(C)
    await run.start()
    await run.wait_for(30, timeout=5)
    got = await run.settle(0.5)
    await run.stop()
    assert got == lines_of(OLD + A + A2 + B + C)


async def test_waiting_file_rewritten_then_restart_before_slot(tmp_path: Path) -> None:
    """a.log read and idle-closed; b.log takes the only slot. a.log is rewritten (C,
    shorter), seen while waiting
    agent restarted
    then b.log deleted: C read once."""
    a, b = tmp_path / "a.log", tmp_path / "b.log"
    A, B, C = numbered("A", 0, 20), numbered("B", 0, 10), numbered("C", 0, 5)
    a.write_bytes(A)
    run = TailRun([str(tmp_path / "*.log")], max_open_files=1, close_idle_secs=0.3)
    await run.start()
    await run.wait_for(20)
    await asyncio.sleep(0.6)
    b.write_bytes(B)
    await run.wait_for(30)
    a.write_bytes(C)
    await until_waiting(run, 1)
    await asyncio.sleep(0.2)
    await stop_for_real(run)
    await run.start()
    await asyncio.sleep(0.2)
    b.unlink()
    await run.wait_for(35, timeout=5)
    got = await run.settle(0.5)
    await run.stop()
    assert_exactly_once(got, lines_of(A + B + C))


async def test_waiting_file_appended_rotated_while_stopped(tmp_path: Path) -> None:
    """a.log idle-closed, waiting behind b.log; a.log gets L while waiting; stopped;
    a.log -> a.log.1 and a new a.log (N) while stopped. L then N read once."""
    a, b = tmp_path / "a.log", tmp_path / "b.log"
    A, L, B, N = (numbered("A", 0, 20), numbered("A", 20, 25), numbered("B", 0, 10),
                  numbered("N", 0, 5))
    a.write_bytes(A)
    run = TailRun([str(tmp_path / "*.log")], max_open_files=1, close_idle_secs=0.3)
    await run.start()
    await run.wait_for(20)
    await asyncio.sleep(0.6)
    b.write_bytes(B)
    await run.wait_for(30)
    with open(a, "ab") as f:
        f.write(L)
    await until_waiting(run, 1)
    await asyncio.sleep(0.2)
    await stop_for_real(run)
    os.rename(a, tmp_path / "a.log.1")
    a.write_bytes(N)
    await run.start()
    await run.wait_for(40, timeout=5)
    got = await run.settle(0.5)
    await run.stop()
    assert_exactly_once(got, lines_of(A + L + B + N))


async def test_waiting_file_copytruncated_star_log_star(tmp_path: Path) -> None:
    """`*.log*`, max_open_files=1: a.log idle-closed then waiting, gets L, is
    copytruncated to a.log.1 and gets M
    then b.log is deleted: L and M read once."""
    a, b = tmp_path / "a.log", tmp_path / "b.log"
    A, L, B, M = (numbered("A", 0, 20), numbered("A", 20, 25), numbered("B", 0, 10),
                  numbered("M", 0, 5))
    a.write_bytes(A)
    run = TailRun([str(tmp_path / "*.log*")], max_open_files=1, close_idle_secs=0.3)
    await run.start()
    await run.wait_for(20)
    await asyncio.sleep(0.6)
    b.write_bytes(B)
    await run.wait_for(30)
    with open(a, "ab") as f:
        f.write(L)
    await until_waiting(run, 1)
    copytruncate(a, tmp_path / "a.log.1")
    with open(a, "ab") as f:
        f.write(M)
    await until_waiting(run, 2)
    await asyncio.sleep(0.2)
    b.unlink()
    await run.wait_for(40, timeout=5)
    got = await run.settle(0.5)
    await run.stop()
    assert_exactly_once(got, lines_of(A + L + B + M))
