"""copytruncate of an idle-closed file and of a file read behind (found by attacking the
tailer)."""
from __future__ import annotations

import asyncio
import os
import shutil
from pathlib import Path

from tests.unit.tail.harness import TailRun, append, numbered


def lines_of(data: bytes) -> list[bytes]:
    return data.split(b"\n")[:-1]


async def wait_idle_closed(run: TailRun) -> None:
    for _ in range(200):
        if run.tailer is not None and run.tailer.statistics().files_open == 0:
            return
        await asyncio.sleep(0.02)
    raise AssertionError("never idle-closed")


async def test_copytruncate_of_idle_closed_file_single_path(tmp_path: Path) -> None:
    """A quiet app: app.log idle-closed (tail.close_idle_secs). It writes U and logrotate
    copytruncates before the next scan (the same window case_07 fixed for open files)."""
    log = tmp_path / "app.log"
    run = TailRun([str(log)], close_idle_secs=0.3)
    log.write_bytes(numbered("q", 0, 10))
    await run.start()
    await run.wait_for(10)
    await wait_idle_closed(run)
    append(log, numbered("q", 10, 20))
    shutil.copyfile(log, tmp_path / "app.log.1")
    os.truncate(log, 0)
    append(log, numbered("q", 20, 25))
    await run.wait_for(25, timeout=3)
    got = await run.settle()
    await run.stop()
    assert got == lines_of(numbered("q", 0, 25))


async def test_copytruncate_while_reader_lags(tmp_path: Path) -> None:
    """Backpressure: only part of app.log is read when it is copytruncated."""
    log = tmp_path / "app.log"
    run = TailRun([str(log)], consumer_delay=0.02, read_chunk_bytes=2048)
    log.write_bytes(numbered("L", 0, 3000))
    await run.start()
    await run.wait_for(200)
    append(log, numbered("L", 3000, 3100))
    shutil.copyfile(log, tmp_path / "app.log.1")
    os.truncate(log, 0)
    append(log, numbered("L", 3100, 3200))
    await run.wait_for(3200, timeout=60)
    got = await run.settle()
    await run.stop()
    assert got == lines_of(numbered("L", 0, 3200))


async def test_copytruncate_rotate1_copy_overwrites_previous_copy_inode(tmp_path: Path) -> None:
    """`cp app.log app.log.1 && : > app.log` every time: app.log.1 keeps its inode (the
    previous copy, drained and forgotten) and is rewritten in place."""
    log = tmp_path / "app.log"
    run = TailRun([str(log)])
    log.write_bytes(numbered("o", 0, 10))
    await run.start()
    await run.wait_for(10)
    n = 10
    for r in range(4):
        append(log, numbered("o", n, n + 5))
        shutil.copyfile(log, tmp_path / "app.log.1")  # same inode after the first time
        os.truncate(log, 0)
        append(log, numbered("o", n + 5, n + 10))
        n += 10
        await run.wait_for(n, timeout=5)
        await asyncio.sleep(0.7)
        if r % 2:
            await run.stop()
            for key in set(run.keeper.forgotten):  # as the real spool: forget/keep/forget
                if run.keeper.forgotten.count(key) > run.keeper.kept.count(key):
                    run.cursors.pop(key, None)
            await run.start()
    got = await run.settle()
    await run.stop()
    assert got == lines_of(numbered("o", 0, n))
