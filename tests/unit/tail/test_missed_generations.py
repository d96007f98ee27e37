"""Generations renamed out of the globs before any scan saw them: every one is read, and
nothing that is not a generation is taken for one (found by a helper attacking the first-scan
bound of 3f7c08a; each test failed on that commit or before it)."""

from __future__ import annotations

import asyncio
import os
import time
from collections.abc import Callable
from pathlib import Path

from tests.unit.tail.harness import TailRun, assert_exactly_once, numbered


def lines_of(data: bytes) -> list[bytes]:
    return data.split(b"\n")[:-1]


def key_of(path: Path) -> tuple[int, int]:
    st = os.stat(path)
    return (st.st_dev, st.st_ino)


def race_in_scans(run: TailRun, steps: list[Callable[[], object]]) -> None:
    """Run steps[i]() right before the glob of the i-th scan from now: exact interleaving."""
    assert run.tailer is not None
    glob_files = run.tailer._matching_paths
    it = iter(steps)

    def wrapped() -> dict[tuple[int, int], str]:
        next(it, lambda: None)()
        return glob_files()

    run.tailer._matching_paths = wrapped  # type: ignore[method-assign]


async def wait_forgotten(run: TailRun, key: tuple[int, int]) -> None:
    for _ in range(200):
        if key in run.keeper.forgotten:
            return
        await asyncio.sleep(0.05)
    raise AssertionError(f"{key} never forgotten")


async def test_a_clock_stepped_back_after_the_first_scan_hides_no_generation(
        tmp_path: Path) -> None:
    """Wall clock an hour ahead at the first scan, then corrected (NTP): a path first seen
    later, rotated between two scans, still has its first generation read."""
    log = tmp_path / "app.log"
    offset = {"ns": 3600 * 10**9}
    run = TailRun([str(tmp_path / "*.log")], wall_ns=lambda: time.time_ns() + offset["ns"])
    await run.start()
    offset["ns"] = 0
    await asyncio.sleep(0.1)
    g1, g2 = numbered("g1", 0, 50), numbered("g2", 0, 50)
    race_in_scans(run, [lambda: (log.write_bytes(g1), os.rename(log, tmp_path / "app.log.1"),
                                 log.write_bytes(g2))])
    await run.wait_for(100, timeout=5)
    got = await run.settle(0.3)
    await run.stop()
    assert got == lines_of(g1) + lines_of(g2)


async def test_an_excluded_sibling_is_never_taken_for_a_generation(tmp_path: Path) -> None:
    """tail.exclude holds even for files found by name beside a new path."""
    run = TailRun([str(tmp_path / "*")], exclude=[str(tmp_path / "*.secret")])
    await run.start()
    (tmp_path / "app.log.7.secret").write_bytes(b"password=hunter2\n")
    await asyncio.sleep(0.3)
    (tmp_path / "app.log").write_bytes(numbered("a", 0, 10))
    await run.wait_for(10, timeout=5)
    got = await run.settle(0.3)
    await run.stop()
    assert got == lines_of(numbered("a", 0, 10))


async def test_a_sibling_not_named_like_a_rotation_is_not_read(tmp_path: Path) -> None:
    """app.log.bak and app.logger are other files: neither is read nor holds app.log back."""
    run = TailRun([str(tmp_path / "*.log")])
    await run.start()
    (tmp_path / "app.log.bak").write_bytes(numbered("bak", 0, 20))
    (tmp_path / "app.logger").write_bytes(numbered("lg", 0, 20))
    await asyncio.sleep(0.3)
    (tmp_path / "app.log").write_bytes(numbered("a", 0, 10))
    await run.wait_for(10, timeout=5)
    got = await run.settle(0.3)
    await run.stop()
    assert got == lines_of(numbered("a", 0, 10))


async def test_generations_named_by_date_are_found(tmp_path: Path) -> None:
    """logrotate's dateext and the kubelet name generations by date, not by number."""
    log = tmp_path / "app.log"
    run = TailRun([str(log)], poll_interval_ms=20)
    g = [numbered(f"g{i}", 0, 20) for i in range(3)]
    log.write_bytes(g[0])
    await run.start()
    await run.wait_for(20)
    race_in_scans(run, [lambda: (os.rename(log, tmp_path / "app.log-20261204"),
                                 log.write_bytes(g[1]),
                                 os.rename(log, tmp_path / "app.log.20261205-171500"),
                                 log.write_bytes(g[2]))])
    await run.wait_for(60, timeout=10)
    got = await run.settle(0.3)
    await run.stop()
    assert got == [line for x in g for line in lines_of(x)]


async def test_a_successor_rotated_before_its_first_read_rereads_no_old_generation(
        tmp_path: Path) -> None:
    """A successor waiting on a slow predecessor is rotated before it is ever read; after a
    restart (cursors of forgotten files pruned, as the spool does) the generation finished in
    the previous run is not read again."""
    log = tmp_path / "app.log"
    run = TailRun([str(log)], read_chunk_bytes=4096, consumer_delay=0.02)
    g0 = numbered("g0", 0, 50)
    log.write_bytes(g0)
    await run.start()
    await run.wait_for(50)
    k0 = key_of(log)
    os.rename(log, tmp_path / "app.log.1")
    g1 = numbered("g1", 0, 20_000)
    log.write_bytes(g1)
    await wait_forgotten(run, k0)
    await run.wait_for(20_050, timeout=30)
    await run.stop()
    for k in run.keeper.forgotten:
        run.cursors.pop(k, None)
    g1b = numbered("g1b", 0, 20_000)  # written while stopped: slow to drain after restart
    with open(log, "ab") as f:
        f.write(g1b)
    await run.start()
    g2, g3 = numbered("g2", 0, 10), numbered("g3", 0, 10)
    race_in_scans(run, [
        lambda: (os.rename(log, tmp_path / "app.log.2"), log.write_bytes(g2)),
        lambda: (os.rename(log, tmp_path / "app.log.3"), log.write_bytes(g3))])
    want = [*lines_of(g0), *lines_of(g1), *lines_of(g1b), *lines_of(g2), *lines_of(g3)]
    await run.wait_for(len(want), timeout=60)
    got = await run.settle(0.5)
    await run.stop()
    assert_exactly_once(got, want)


async def test_a_path_empty_for_a_while_after_its_file_was_forgotten_rereads_nothing(
        tmp_path: Path) -> None:
    log = tmp_path / "app.log"
    run = TailRun([str(tmp_path / "*.log")])
    await run.start()
    g1, g2 = numbered("g1", 0, 30), numbered("g2", 0, 30)
    log.write_bytes(g1)
    await run.wait_for(30)
    k1 = key_of(log)
    os.rename(log, tmp_path / "app.log.1")
    await wait_forgotten(run, k1)
    await asyncio.sleep(0.3)
    log.write_bytes(g2)
    await run.wait_for(60, timeout=5)
    got = await run.settle(0.3)
    await run.stop()
    assert got == lines_of(g1) + lines_of(g2)
