"""Rotations that land between two steps of one scan (found by a loaded test machine)."""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
from dataclasses import replace
from pathlib import Path

import pytest

from agent.records import Cursor, LineBatch
from agent.tail import Tailer
from tests.unit.tail.harness import FAST, TailRun, append, assert_exactly_once, numbered


async def test_a_file_rotated_between_the_scan_and_its_opening_is_still_read_first(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The scan saw generation 2 at app.log; before it was opened it was renamed away and
    generation 3 took its place. Both are read, 2 before 3."""
    log = tmp_path / "app.log"
    log.write_bytes(numbered("g1", 0, 100))
    run = TailRun([str(log)])
    await run.start()
    await run.wait_for(100)
    os.rename(log, tmp_path / "app.log.1")
    log.write_bytes(numbered("g2", 0, 100))
    real = Tailer._matching_paths
    rotated = False

    def rotate_right_after_the_glob(self: Tailer) -> dict[tuple[int, int], str]:
        nonlocal rotated
        found = real(self)
        if not rotated and any(p == str(log) for p in found.values()) and (
                os.stat(log).st_ino != os.stat(tmp_path / "app.log.1").st_ino):
            rotated = True
            os.rename(log, tmp_path / "app.log.2")
            log.write_bytes(numbered("g3", 0, 100))
        return found

    monkeypatch.setattr(Tailer, "_matching_paths", rotate_right_after_the_glob)
    got = await run.wait_for(300, timeout=20)
    await run.stop()
    assert rotated
    want = b"".join(numbered(g, 0, 100) for g in ("g1", "g2", "g3")).split(b"\n")[:-1]
    assert_exactly_once(got, want)
    assert got == want  # in write order


async def _batches_until_quiet(tailer: Tailer, queue: asyncio.Queue[LineBatch],
                               quiet: float = 0.4) -> list[LineBatch]:
    """Batches the running `tailer` emits until none arrives for `quiet` seconds."""
    got: list[LineBatch] = []
    while True:
        try:
            got.append(await asyncio.wait_for(queue.get(), quiet))
        except TimeoutError:
            return got


async def _tail_from(paths: list[str], saved: dict[tuple[int, int], Cursor]) -> list[bytes]:
    """Start a tailer from `saved` cursors and return every line it delivers."""
    queue: asyncio.Queue[LineBatch] = asyncio.Queue()
    tailer = Tailer(replace(FAST, paths=paths), saved, queue)
    task = asyncio.create_task(tailer.run())
    await tailer.wait_scanned()
    batches = await _batches_until_quiet(tailer, queue)
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task
    return [line.data for b in batches for line in b.lines]


def _cursors_after(batches: list[LineBatch]) -> dict[tuple[int, int], Cursor]:
    """What a spool acknowledging `batches` in order has saved: the latest cursor per file."""
    return {(b.cursor.identity.device, b.cursor.identity.inode): b.cursor for b in batches}


async def _assert_every_kill_point_delivers_once(tmp_path: Path, paths: list[str],
                                                 before: list[LineBatch],
                                                 after: list[LineBatch],
                                                 written: list[bytes]) -> None:
    for acked in range(len(after) + 1):
        shipped = before + after[:acked]
        again = await _tail_from(paths, _cursors_after(shipped))
        lines = [line.data for b in shipped for line in b.lines] + again
        assert_exactly_once(lines, written)


async def test_a_kill_after_any_batch_following_a_copytruncate_never_reads_the_copy_again(
        tmp_path: Path) -> None:
    """copytruncate's copy (matched by the globs) gets its cursor acknowledged before any
    batch of the truncated original's new content, so killing the agent after any batch
    leaves cursors from which a restart delivers every line exactly once."""
    log = tmp_path / "app.log"
    paths = [str(tmp_path / "app.log*")]
    log.write_bytes(numbered("line", 0, 3))
    queue: asyncio.Queue[LineBatch] = asyncio.Queue()
    tailer = Tailer(replace(FAST, paths=paths), {}, queue)
    task = asyncio.create_task(tailer.run())
    await tailer.wait_scanned()
    before = await _batches_until_quiet(tailer, queue)
    shutil.copyfile(log, tmp_path / "app.log.1")
    os.truncate(log, 0)
    append(log, numbered("line", 3, 4))  # the same length as before: only content differs
    after = await _batches_until_quiet(tailer, queue)
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task
    assert [line.data for b in before + after for line in b.lines] == [
        f"line {i:07d}".encode() for i in range(4)]
    await _assert_every_kill_point_delivers_once(
        tmp_path, paths, before, after, [f"line {i:07d}".encode() for i in range(4)])


async def test_a_kill_after_any_batch_following_a_copytruncate_while_stopped_is_exactly_once(
        tmp_path: Path) -> None:
    """A copytruncate while the agent was stopped: on start the copy's cursor is
    acknowledged before the original's new content, so a second kill after any batch still
    leaves cursors that deliver every line exactly once."""
    log = tmp_path / "app.log"
    paths = [str(tmp_path / "app.log*")]
    log.write_bytes(numbered("line", 0, 3))
    queue: asyncio.Queue[LineBatch] = asyncio.Queue()
    tailer = Tailer(replace(FAST, paths=paths), {}, queue)
    task = asyncio.create_task(tailer.run())
    await tailer.wait_scanned()
    before = await _batches_until_quiet(tailer, queue)
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task
    shutil.copyfile(log, tmp_path / "app.log.1")
    os.truncate(log, 0)
    append(log, numbered("line", 3, 4))
    queue = asyncio.Queue()
    tailer = Tailer(replace(FAST, paths=paths), _cursors_after(before), queue)
    task = asyncio.create_task(tailer.run())
    await tailer.wait_scanned()
    after = await _batches_until_quiet(tailer, queue)
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task
    await _assert_every_kill_point_delivers_once(
        tmp_path, paths, before, after, [f"line {i:07d}".encode() for i in range(4)])
