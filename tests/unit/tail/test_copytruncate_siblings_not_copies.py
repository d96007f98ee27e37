"""Siblings named like a rotation that are not copies are not read when a file is truncated;
old generations, symlinks, many files (found by attacking the tailer)."""
from __future__ import annotations

import asyncio
import os
import shutil
import time
from pathlib import Path

from tests.unit.tail.harness import TailRun, append, assert_exactly_once, numbered
from tests.unit.tail.test_restart_after_rotations import key_of, stop_for_real, wait_forgotten


def lines_of(data: bytes) -> list[bytes]:
    return data.split(b"\n")[:-1]


def rewrite(path: Path, data: bytes) -> None:
    """`app > app.log`: truncate in place (same inode) and write."""
    with open(path, "r+b") as f:
        f.truncate(0)
        f.write(data)


async def test_graceful_stop_copytruncate_in_shutdown_grace_window(tmp_path: Path) -> None:
    """SIGTERM: the tailer stops first, then the shipper drains for shutdown_grace_secs and
    the last ack rewrites head.json (the 'newest record'). Meanwhile the app writes U and
    logrotate copytruncates (plain copy, mtime now). At start-up the copy's mtime is before
    the last record: U only lives in the copy."""
    log = tmp_path / "app.log"
    run = TailRun([str(log)])
    log.write_bytes(numbered("a", 0, 10))
    await run.start()
    await run.wait_for(10)
    await stop_for_real(run)          # tail task cancelled first
    append(log, numbered("a", 10, 20))  # U: written after the tailer stopped
    shutil.copyfile(log, tmp_path / "app.log.1")
    os.truncate(log, 0)
    time.sleep(0.01)
    run.last_batch_wall_ns = time.time_ns()  # the shipper's final ack writes head.json
    append(log, numbered("a", 20, 25))
    await run.start()
    await run.wait_for(25, timeout=5)
    got = await run.settle()
    await run.stop()
    assert_exactly_once(got, lines_of(numbered("a", 0, 25)))


async def test_self_truncation_running_old_generation_touched_by_straggler(
        tmp_path: Path) -> None:
    """Rename rotation (app.log -> app.log.1, drained, forgotten); a straggler appends S to
    app.log.1 later; then the app restarts with `> app.log`. No restart of the agent."""
    log = tmp_path / "app.log"
    run = TailRun([str(log)])
    A, B, S, C = (numbered(t, 0, 10) for t in "ABSC")
    log.write_bytes(A)
    await run.start()
    await run.wait_for(10)
    k1 = key_of(log)
    os.rename(log, tmp_path / "app.log.1")
    log.write_bytes(B)
    await run.wait_for(20)
    await wait_forgotten(run, k1)
    append(tmp_path / "app.log.1", S)
    time.sleep(0.01)
    rewrite(log, C)
    await run.wait_for(30, timeout=3)
    got = await run.settle()
    await run.stop()
    # S may or may not be read (out of the globs); A and B exactly once, C after B
    got_no_s = [g for g in got if not g.startswith(b"S ")]
    assert got_no_s == lines_of(A) + lines_of(B) + lines_of(C)


async def test_self_truncation_after_agent_restart_old_generation_touched_by_straggler(
        tmp_path: Path) -> None:
    """As above, but the agent was restarted after app.log.1 was drained and forgotten."""
    log = tmp_path / "app.log"
    run = TailRun([str(log)])
    A, B, S, C = (numbered(t, 0, 10) for t in "ABSC")
    log.write_bytes(A)
    await run.start()
    await run.wait_for(10)
    k1 = key_of(log)
    os.rename(log, tmp_path / "app.log.1")
    log.write_bytes(B)
    await run.wait_for(20)
    await wait_forgotten(run, k1)
    await stop_for_real(run)
    await run.start()
    await asyncio.sleep(0.2)
    append(tmp_path / "app.log.1", S)
    time.sleep(0.01)
    rewrite(log, C)
    await run.wait_for(30, timeout=3)
    got = await run.settle()
    await run.stop()
    got_no_s = [g for g in got if not g.startswith(b"S ")]
    assert got_no_s == lines_of(A) + lines_of(B) + lines_of(C)


async def test_self_truncation_after_restart_same_tick_rename_rotation(tmp_path: Path) -> None:
    """Rename rotation with the new app.log written in the same (coarse) clock tick as the
    rotated file's last write; agent restarted; later the app rewrites app.log in place
    (`>`) before writing anything else to it."""
    log = tmp_path / "app.log"
    run = TailRun([str(log)])
    A, B, C = numbered("A", 0, 10), numbered("B", 0, 10), numbered("C", 0, 10)
    log.write_bytes(A)
    await run.start()
    await run.wait_for(10)
    k1 = key_of(log)
    os.rename(log, tmp_path / "app.log.1")
    log.write_bytes(B)
    t = time.time_ns()
    os.utime(tmp_path / "app.log.1", ns=(t, t))
    os.utime(log, ns=(t, t))
    await run.wait_for(20)
    await wait_forgotten(run, k1)
    await stop_for_real(run)
    await run.start()
    await asyncio.sleep(0.2)
    rewrite(log, C)
    await run.wait_for(30, timeout=3)
    got = await run.settle()
    await run.stop()
    assert got == lines_of(A) + lines_of(B) + lines_of(C)


async def test_inplace_rewrite_next_to_rename_rotated_generations(tmp_path: Path) -> None:
    """An app rotating by rename (app.log.1..3) that also rewrites app.log with `>` on its
    restart, several times. No sibling is touched after its rotation."""
    log = tmp_path / "app.log"
    run = TailRun([str(log)])
    expected: list[bytes] = []
    data = numbered("g0", 0, 10)
    log.write_bytes(data)
    expected += lines_of(data)
    await run.start()
    await run.wait_for(len(expected))
    for r in range(1, 5):
        for i in (2, 1):
            if (tmp_path / f"app.log.{i}").exists():
                os.rename(tmp_path / f"app.log.{i}", tmp_path / f"app.log.{i + 1}")
        os.rename(log, tmp_path / "app.log.1")
        data = numbered(f"g{r}", 0, 10)
        log.write_bytes(data)
        expected += lines_of(data)
        await run.wait_for(len(expected), timeout=5)
        await asyncio.sleep(0.05)
        data = numbered(f"r{r}", 0, 10)
        rewrite(log, data)
        expected += lines_of(data)
        await run.wait_for(len(expected), timeout=5)
        await asyncio.sleep(0.05)
    got = await run.settle()
    await run.stop()
    assert got == expected


async def test_kubelet_symlink_copytruncate(tmp_path: Path) -> None:
    """/containers/x.log -> /pods/p/c/0.log; copytruncate of 0.log to 0.log.20261204-120000
    in the pods dir; paths=[containers/*.log]."""
    pods = tmp_path / "pods" / "p" / "c"
    pods.mkdir(parents=True)
    cont = tmp_path / "containers"
    cont.mkdir()
    real = pods / "0.log"
    real.write_bytes(numbered("k", 0, 10))
    (cont / "x.log").symlink_to(real)
    run = TailRun([str(cont / "*.log")])
    await run.start()
    await run.wait_for(10)
    n = 10
    for r in range(3):
        append(real, numbered("k", n, n + 5))
        shutil.copyfile(real, pods / f"0.log.2026120{r + 1}-120000")
        os.truncate(real, 0)
        append(real, numbered("k", n + 5, n + 10))
        n += 10
        await run.wait_for(n, timeout=5)
        await asyncio.sleep(0.1)
    got = await run.settle()
    await run.stop()
    assert got == lines_of(numbered("k", 0, n))


async def test_many_files_copytruncate_one_directory(tmp_path: Path) -> None:
    """300 files in one directory with *.log, all copytruncated at once with unread lines."""
    N = 300
    names = [tmp_path / f"svc{i}.log" for i in range(N)]
    for p in names:
        p.write_bytes(numbered(p.stem, 0, 3))
    run = TailRun([str(tmp_path / "*.log")])
    await run.start()
    await run.wait_for(3 * N, timeout=30)
    for p in names:
        append(p, numbered(p.stem, 3, 6))
        shutil.copyfile(p, tmp_path / (p.name + ".1"))
        os.truncate(p, 0)
        append(p, numbered(p.stem, 6, 8))
    await run.wait_for(8 * N, timeout=30)
    got = await run.settle(0.6)
    await run.stop()
    expected = [line for p in names for line in lines_of(numbered(p.stem, 0, 8))]
    assert_exactly_once(got, expected)
    for p in names:
        mine = [g for g in got if g.startswith(p.stem.encode() + b" ")]
        assert mine == lines_of(numbered(p.stem, 0, 8)), p


async def test_many_files_similar_names_one_truncated(tmp_path: Path) -> None:
    """paths=[app.log]; siblings app.log.1 ... app.log.3 are *other instances'* logs
    (worker-numbered, actively written). The main app.log is rewritten with `>`."""
    log = tmp_path / "app.log"
    run = TailRun([str(log)])
    log.write_bytes(numbered("m", 0, 10))
    for i in range(1, 4):
        (tmp_path / f"app.log.{i}").write_bytes(numbered(f"w{i}", 0, 10))
    await run.start()
    await run.wait_for(10)
    await asyncio.sleep(0.1)
    for i in range(1, 4):
        append(tmp_path / f"app.log.{i}", numbered(f"w{i}", 10, 12))
    rewrite(log, numbered("n", 0, 5))
    await run.wait_for(15, timeout=3)
    got = await run.settle()
    await run.stop()
    assert got == lines_of(numbered("m", 0, 10)) + lines_of(numbered("n", 0, 5))
