"""A generation not drained at the stop and shifted while stopped, a waiting file rotated
twice while stopped, a compressed generation with a less common suffix. Found by attacking
the tailer."""
from __future__ import annotations

import asyncio
import lzma
import os
from pathlib import Path

from tests.unit.tail.harness import TailRun, assert_exactly_once, numbered
from tests.unit.tail.test_missed_generations import race_in_scans
from tests.unit.tail.test_restart_after_rotations import lines_of, stop_for_real
from tests.unit.tail.test_stale_cursors import until_waiting


async def test_shift_while_stopped_with_undrained_generation(tmp_path: Path) -> None:
    """Stopped while app.log.1 (A, rotated) is not drained (slow collector) and app.log
    (B) partly read
    while stopped .1->.2, app.log->.1, new app.log C."""
    log, d = tmp_path / "app.log", tmp_path
    A, B, C = numbered("A", 0, 400), numbered("B", 0, 50), numbered("C", 0, 5)
    log.write_bytes(A)
    run = TailRun([str(tmp_path / "*.log")], consumer_delay=0.01, read_chunk_bytes=1024)
    await run.start()
    await run.wait_for(50)
    os.rename(log, d / "app.log.1")
    log.write_bytes(B)
    await run.wait_for(120)
    await stop_for_real(run)
    run.consumer_delay = 0.0
    os.rename(d / "app.log.1", d / "app.log.2")
    os.rename(log, d / "app.log.1")
    log.write_bytes(C)
    await run.start()
    await run.wait_for(455, timeout=10)
    got = await run.settle(0.5)
    await run.stop()
    assert_exactly_once(got, lines_of(A + B + C))


async def test_waiting_file_rotated_twice_while_stopped(tmp_path: Path) -> None:
    """max_open_files=1: b.log waits behind a.log (never read). While stopped b.log is
    rotated twice (b.log.2 = B1, b.log.1 = B2, b.log = B3). All of them are read."""
    a, b, d = tmp_path / "a.log", tmp_path / "b.log", tmp_path
    a.write_bytes(numbered("A", 0, 5))
    run = TailRun([str(tmp_path / "*.log")], max_open_files=1)
    await run.start()
    await run.wait_for(5)
    B1, B2, B3 = numbered("B1", 0, 5), numbered("B2", 0, 5), numbered("B3", 0, 5)
    b.write_bytes(B1)
    await until_waiting(run, 1)
    await asyncio.sleep(0.2)
    await stop_for_real(run)
    os.rename(b, d / "b.log.1")
    b.write_bytes(B2)
    os.rename(d / "b.log.1", d / "b.log.2")
    os.rename(b, d / "b.log.1")
    b.write_bytes(B3)
    await run.start()
    await asyncio.sleep(0.3)
    a.unlink()
    await run.wait_for(20, timeout=5)
    got = await run.settle(0.5)
    await run.stop()
    assert_exactly_once(got, lines_of(numbered("A", 0, 5) + B1 + B2 + B3))


async def test_lzma_compressed_generation_not_read_as_text(tmp_path: Path) -> None:
    """logrotate compress (no delaycompress), compresscmd lzma: within one scan app.log
    (open, read to its end) -> app.log.1 -> app.log.1.lzma (mtime kept, as compressors
    do), new app.log. No compressed bytes may be emitted."""
    log, d = tmp_path / "app.log", tmp_path
    A, B = numbered("A", 0, 10), numbered("B", 0, 5)
    log.write_bytes(A)
    run = TailRun([str(tmp_path / "*.log")])
    await run.start()
    await run.wait_for(10)
    await asyncio.sleep(0.2)

    def rotate_and_compress() -> None:
        os.rename(log, d / "app.log.1")
        log.write_bytes(B)
        st = os.stat(d / "app.log.1")
        z = d / "app.log.1.lzma"
        z.write_bytes(lzma.compress((d / "app.log.1").read_bytes(), format=lzma.FORMAT_ALONE))
        os.utime(z, ns=(st.st_atime_ns, st.st_mtime_ns))
        os.unlink(d / "app.log.1")

    race_in_scans(run, [rotate_and_compress])
    await run.wait_for(15, timeout=5)
    got = await run.settle(0.5)
    await run.stop()
    expected = set(lines_of(A + B))
    assert not [x for x in got if x not in expected], [x for x in got if x not in expected]
    assert_exactly_once(got, lines_of(A + B))
