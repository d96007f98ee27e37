"""Files waiting for a slot (more matches than tail.max_open_files) are followed like open
ones: by identity through renames, rotations, symlink changes and restarts, and read in the
order they were written once a slot frees. Each test holds the one slot with a busy file
(b.log) and frees it by deleting that file (it is drained, then closed)."""

from __future__ import annotations

import asyncio
import os
from pathlib import Path

from tests.unit.tail.harness import TailRun, numbered
from tests.unit.tail.test_missed_generations import lines_of, race_in_scans


async def start_with_one_slot_taken(tmp_path: Path, paths: list[str],
                                    **options: object) -> TailRun:
    """A tailer with one slot, held by b.log (10 lines read)."""
    (tmp_path / "b.log").write_bytes(numbered("busy", 0, 10))
    run = TailRun(paths, max_open_files=1, **options)  # type: ignore[arg-type]
    await run.start()
    await run.wait_for(10)
    return run


async def free_the_slot_and_collect(run: TailRun, tmp_path: Path, expected: int) -> list[bytes]:
    os.unlink(tmp_path / "b.log")
    await run.wait_for(10 + expected, timeout=10)
    got = await run.settle(0.4)
    await run.stop()
    return got[10:]


async def scans(run: TailRun, count: int = 3) -> None:
    """Let the tailer scan a few times (the poll interval is 20 ms)."""
    await asyncio.sleep(0.05 * count)


async def test_a_file_waiting_for_a_slot_is_read_when_one_frees(tmp_path: Path) -> None:
    run = await start_with_one_slot_taken(tmp_path, [str(tmp_path / "*.log")])
    a = numbered("a", 0, 20)
    (tmp_path / "z.log").write_bytes(a)
    await scans(run)
    assert run.lines[10:] == []
    assert run.tailer is not None and run.tailer.statistics().files_waiting == 1
    assert await free_the_slot_and_collect(run, tmp_path, 20) == lines_of(a)
    assert run.tailer.statistics().files_waiting == 0


async def test_a_waiting_file_rotated_out_of_the_globs_is_read_before_its_successor(
        tmp_path: Path) -> None:
    log = tmp_path / "z.log"
    run = await start_with_one_slot_taken(tmp_path, [str(tmp_path / "*.log")])
    a, b = numbered("a", 0, 20), numbered("b", 0, 20)
    log.write_bytes(a)
    await scans(run)
    os.rename(log, tmp_path / "z.log.1")
    log.write_bytes(b)
    await scans(run)
    assert await free_the_slot_and_collect(run, tmp_path, 40) == lines_of(a) + lines_of(b)


async def test_a_waiting_file_rotated_twice_within_one_scan_keeps_every_generation_in_order(
        tmp_path: Path) -> None:
    log = tmp_path / "z.log"
    run = await start_with_one_slot_taken(tmp_path, [str(tmp_path / "*.log")])
    a, b, c = numbered("a", 0, 20), numbered("b", 0, 20), numbered("c", 0, 20)
    log.write_bytes(a)
    await scans(run)
    race_in_scans(run, [lambda: (os.rename(log, tmp_path / "z.log.1"), log.write_bytes(b),
                                 os.rename(tmp_path / "z.log.1", tmp_path / "z.log.2"),
                                 os.rename(log, tmp_path / "z.log.1"), log.write_bytes(c))])
    await scans(run)
    got = await free_the_slot_and_collect(run, tmp_path, 60)
    assert got == lines_of(a) + lines_of(b) + lines_of(c)


async def test_two_waiting_generations_are_read_one_after_the_other(tmp_path: Path) -> None:
    log = tmp_path / "z.log"
    run = await start_with_one_slot_taken(tmp_path, [str(tmp_path / "*.log")])
    a, b, c = numbered("a", 0, 300), numbered("b", 0, 300), numbered("c", 0, 300)
    log.write_bytes(a)
    await scans(run)
    os.rename(log, tmp_path / "z.log.1")
    log.write_bytes(b)
    await scans(run)
    os.rename(tmp_path / "z.log.1", tmp_path / "z.log.2")
    os.rename(log, tmp_path / "z.log.1")
    log.write_bytes(c)
    await scans(run)
    got = await free_the_slot_and_collect(run, tmp_path, 900)
    assert got == lines_of(a) + lines_of(b) + lines_of(c)


async def test_a_waiting_file_renamed_to_another_matched_name_is_read_before_its_successor(
        tmp_path: Path) -> None:
    log = tmp_path / "z.log"
    run = await start_with_one_slot_taken(tmp_path, [str(tmp_path / "b*.log"),
                                                     str(tmp_path / "z.log*")])
    a, b = numbered("a", 0, 20), numbered("b", 0, 20)
    log.write_bytes(a)
    await scans(run)
    os.rename(log, tmp_path / "z.log.1")
    log.write_bytes(b)
    await scans(run)
    os.unlink(tmp_path / "b.log")
    await run.wait_for(30)
    assert run.lines[10:] == lines_of(a)
    os.unlink(tmp_path / "z.log.1")  # still matched, A holds the slot until it is deleted
    await run.wait_for(50)
    got = await run.settle(0.4)
    await run.stop()
    assert got[10:] == lines_of(a) + lines_of(b)


async def test_a_waiting_symlinks_old_target_is_read_after_the_link_is_repointed(
        tmp_path: Path) -> None:
    logs, d1, d2 = tmp_path / "logs", tmp_path / "d1", tmp_path / "d2"
    for d in (logs, d1, d2):
        d.mkdir()
    old, new = numbered("old", 0, 20), numbered("new", 0, 20)
    (d1 / "0.log").write_bytes(old)
    (d2 / "0.log").write_bytes(new)
    run = await start_with_one_slot_taken(logs, [str(logs / "*.log")])
    (logs / "link.log").symlink_to(d1 / "0.log")
    await scans(run)
    (logs / "link.tmp").symlink_to(d2 / "0.log")
    os.rename(logs / "link.tmp", logs / "link.log")  # the kubelet's atomic repoint
    await scans(run)
    assert await free_the_slot_and_collect(run, logs, 40) == lines_of(old) + lines_of(new)


async def test_a_waiting_file_rotated_while_the_agent_is_stopped_is_read_after_restart(
        tmp_path: Path) -> None:
    log = tmp_path / "z.log"
    run = await start_with_one_slot_taken(tmp_path, [str(tmp_path / "*.log")])
    a, b = numbered("a", 0, 20), numbered("b", 0, 20)
    log.write_bytes(a)
    await scans(run)
    await run.stop()
    os.rename(log, tmp_path / "z.log.1")
    log.write_bytes(b)
    await run.start()
    assert await free_the_slot_and_collect(run, tmp_path, 40) == lines_of(a) + lines_of(b)


async def test_a_file_still_waiting_at_a_restart_is_read_once(tmp_path: Path) -> None:
    run = await start_with_one_slot_taken(tmp_path, [str(tmp_path / "*.log")])
    a = numbered("a", 0, 20)
    (tmp_path / "z.log").write_bytes(a)
    await scans(run)
    await run.restart()
    assert await free_the_slot_and_collect(run, tmp_path, 20) == lines_of(a)


async def test_a_waiting_file_whose_inode_now_holds_other_content_is_not_read(
        tmp_path: Path) -> None:
    """The inode a waiting file had, found outside the globs with other first bytes, is an
    unrelated file (a reused inode number, shown here by rewriting and renaming the file):
    it is never read, and the successor at the path still is."""
    log = tmp_path / "z.log"
    run = await start_with_one_slot_taken(tmp_path, [str(tmp_path / "*.log")])
    a, b = numbered("a", 0, 20), numbered("b", 0, 20)
    log.write_bytes(a)
    await scans(run)
    with open(log, "r+b") as f:
        f.truncate(0)
        f.write(b"password=hunter2\n")
    os.rename(log, tmp_path / "secret1.txt")
    log.write_bytes(b)
    await scans(run)
    assert await free_the_slot_and_collect(run, tmp_path, 20) == lines_of(b)


async def test_a_waiting_copy_of_content_already_read_is_not_read_again(
        tmp_path: Path) -> None:
    """copytruncate's copy waits for a slot while the original is open: when it is read,
    it starts where the original's reading stood."""
    log = tmp_path / "app.log"
    a, b = numbered("a", 0, 20), numbered("b", 0, 20)
    log.write_bytes(a)
    # The original closes when idle for 0.5 s, and the copy gets the slot.
    run = TailRun([str(tmp_path / "*")], max_open_files=1, close_idle_secs=0.5)
    await run.start()
    await run.wait_for(20)
    (tmp_path / "app.log.1").write_bytes(a)  # copied; the original is truncated after
    await scans(run)
    with open(log, "r+b") as f:
        f.truncate(0)
    await scans(run)
    with open(log, "ab") as f:
        f.write(b)
    await run.wait_for(40, timeout=5)
    await asyncio.sleep(1.5)  # both files idle-closed in turn: the copy has been opened
    got = await run.settle(0.4)
    await run.stop()
    assert got == lines_of(a) + lines_of(b)


async def test_a_waiting_file_deleted_before_it_gets_a_slot_is_counted_as_unread(
        tmp_path: Path) -> None:
    """Nothing can read a file deleted before it was opened: its bytes are counted, and its
    path's next file is still read."""
    log = tmp_path / "z.log"
    run = await start_with_one_slot_taken(tmp_path, [str(tmp_path / "*.log")])
    a, b = numbered("a", 0, 20), numbered("b", 0, 20)
    log.write_bytes(a)
    await scans(run)
    log.unlink()
    await scans(run)
    assert run.tailer is not None and run.tailer.statistics().unread_bytes_dropped == len(a)
    log.write_bytes(b)
    await scans(run)
    assert await free_the_slot_and_collect(run, tmp_path, 20) == lines_of(b)
