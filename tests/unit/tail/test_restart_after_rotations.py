"""Start-up after rotations while stopped, with cursors forgotten as the spool forgets
them. Found by attacking the tailer."""
from __future__ import annotations

import asyncio
import gzip
import os
import time
from pathlib import Path

from tests.unit.tail.harness import TailRun, assert_exactly_once, numbered


def lines_of(data: bytes) -> list[bytes]:
    return data.split(b"\n")[:-1]


def key_of(path: Path) -> tuple[int, int]:
    st = os.stat(path)
    return (st.st_dev, st.st_ino)


def drop_forgotten(run: TailRun) -> None:
    """What the real spool does: forgotten cursors are gone at the next start."""
    for key in run.keeper.forgotten:
        if key not in run.keeper.kept:
            run.cursors.pop(key, None)


async def wait_forgotten(run: TailRun, key: tuple[int, int]) -> None:
    for _ in range(200):
        if key in run.keeper.forgotten:
            return
        await asyncio.sleep(0.05)
    raise AssertionError(f"{key} never forgotten")


async def stop_for_real(run: TailRun) -> None:
    await run.stop()
    drop_forgotten(run)


async def test_same_tick_mtime_old_generation_not_reread_after_shift(tmp_path: Path) -> None:
    """app.log (A) rotated to app.log.1 while running, new app.log gets B in the same
    clock tick (coarse mtime: equal). A is drained and forgotten. While stopped:
    .1 -> .2, app.log -> .1, new app.log C. A must not be read again."""
    log = tmp_path / "app.log"
    A, B, C = numbered("A", 0, 20), numbered("B", 0, 5), numbered("C", 0, 5)
    log.write_bytes(A)
    run = TailRun([str(tmp_path / "*.log")])
    await run.start()
    await run.wait_for(20)
    k1 = key_of(log)
    os.rename(log, tmp_path / "app.log.1")
    log.write_bytes(B)
    t = time.time_ns()
    os.utime(tmp_path / "app.log.1", ns=(t, t))
    os.utime(log, ns=(t, t))
    await run.wait_for(25)
    await wait_forgotten(run, k1)
    await stop_for_real(run)
    os.rename(tmp_path / "app.log.1", tmp_path / "app.log.2")
    os.rename(log, tmp_path / "app.log.1")
    log.write_bytes(C)
    await run.start()
    await run.wait_for(30, timeout=5)
    got = await run.settle(0.5)
    await run.stop()
    assert_exactly_once(got, lines_of(A) + lines_of(B) + lines_of(C))


async def test_saved_file_deleted_while_stopped_generations_after_it_read(
        tmp_path: Path) -> None:
    """logrotate `rotate 2`, three rotations while stopped: the saved file itself is
    deleted, but app.log.2 (B) and app.log.1 (C), written after it, are still there."""
    log = tmp_path / "app.log"
    A, B, C, D = (numbered(t, 0, 5) for t in "ABCD")
    log.write_bytes(A)
    run = TailRun([str(tmp_path / "*.log")])
    await run.start()
    await run.wait_for(5)
    await stop_for_real(run)
    d = tmp_path
    os.rename(log, d / "app.log.1")
    log.write_bytes(B)
    os.rename(d / "app.log.1", d / "app.log.2")
    os.rename(log, d / "app.log.1")
    log.write_bytes(C)
    os.unlink(d / "app.log.2")
    os.rename(d / "app.log.1", d / "app.log.2")
    os.rename(log, d / "app.log.1")
    log.write_bytes(D)
    await run.start()
    await run.wait_for(20, timeout=5)
    got = await run.settle(0.5)
    await run.stop()
    assert_exactly_once(got, lines_of(A) + lines_of(B) + lines_of(C) + lines_of(D))


async def test_straggler_write_to_saved_file_hides_next_generation(tmp_path: Path) -> None:
    """While stopped: app.log (A) rotated to .1; new app.log gets B; a process still
    holding the old descriptor appends A2 to app.log.1 later
    rotated again (.1->.2,
    app.log->.1), new app.log C. B (now app.log.1) must be read."""
    log = tmp_path / "app.log"
    A, A2, B, C = numbered("A", 0, 10), numbered("A", 10, 12), numbered("B", 0, 5), \
        numbered("C", 0, 5)
    log.write_bytes(A)
    run = TailRun([str(tmp_path / "*.log")])
    await run.start()
    await run.wait_for(10)
    await stop_for_real(run)
    d = tmp_path
    os.rename(log, d / "app.log.1")
    log.write_bytes(B)
    time.sleep(0.05)  # B written before A2 (both after the stop)
    with open(d / "app.log.1", "ab") as f:
        f.write(A2)
    os.rename(d / "app.log.1", d / "app.log.2")
    os.rename(log, d / "app.log.1")
    log.write_bytes(C)
    await run.start()
    await run.wait_for(22, timeout=5)
    got = await run.settle(0.5)
    await run.stop()
    assert_exactly_once(got, lines_of(A + A2) + lines_of(B) + lines_of(C))


async def test_compressed_generation_reusing_saved_inode_is_not_read(tmp_path: Path) -> None:
    """logrotate compress + nocreate while stopped. R1: app.log (A) -> app.log.1, gzip'd
    (its inode freed)
    the app re-creates app.log (B). R2: app.log.1.gz -> .2.gz,
    app.log -> app.log.1 and gzip'd: the new app.log.1.gz takes the saved file's inode
    number. The app writes app.log (C). No gzip bytes may be emitted as lines."""
    log = tmp_path / "app.log"
    d = tmp_path
    A, A2, B, C = numbered("A", 0, 10), numbered("A", 10, 15), numbered("B", 0, 5), \
        numbered("C", 0, 5)
    log.write_bytes(A)
    run = TailRun([str(tmp_path / "*.log")])
    await run.start()
    await run.wait_for(10)
    saved = key_of(log)
    await stop_for_real(run)

    def gzip_file(src: Path) -> None:
        data = src.read_bytes()
        dst = Path(str(src) + ".gz")
        with open(dst, "wb") as f:
            f.write(gzip.compress(data))
        os.unlink(src)

    with open(log, "ab") as f:
        f.write(A2)
    os.rename(log, d / "app.log.1")
    log.write_bytes(B)                  # the app reopens at once (HUP)
    gzip_file(d / "app.log.1")          # frees the saved inode
    os.rename(d / "app.log.1.gz", d / "app.log.2.gz")
    os.rename(log, d / "app.log.1")
    gzip_file(d / "app.log.1")          # created first: takes the freed inode number
    log.write_bytes(C)                  # the app reopens lazily, after the gzip
    reused = [p.name for p in d.iterdir() if key_of(p) == saved]
    assert reused == ["app.log.1.gz"], f"precondition: inode reuse did not happen: {reused}"
    await run.start()
    await run.wait_for(5, timeout=3)
    got = await run.settle(0.5)
    await run.stop()
    expected = set(lines_of(A + A2 + B + C))
    foreign = [line for line in got if line not in expected]
    assert not foreign, f"saved inode now at {reused}; read {len(foreign)} foreign lines"
