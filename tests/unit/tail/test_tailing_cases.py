"""The scenarios of ../shared/cases/TAILING-CASES.md that real shippers got wrong, one test
each (scaled down), run against the real Tailer on real files. Cases about the spool and
whole-process kills are in tests/integration/test_tailing_restarts.py and tests/unit/spool.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import threading
from pathlib import Path

import pytest

from agent.records import FLAG_CONTINUED, FLAG_PARTIAL, FLAG_TRUNCATED, Cursor, FileIdentity
from tests.unit.tail.harness import TailRun, append, assert_exactly_once, numbered, numbers
from tests.unit.tail.test_missed_generations import race_in_scans


def lines_of(data: bytes) -> list[bytes]:
    return data.split(b"\n")[:-1]


async def test_case_01_rotated_file_is_drained_even_when_reading_lags_the_rotate_wait(
        tmp_path: Path) -> None:
    """A slow consumer and a short rotate wait never drop the end of the rotated file."""
    log = tmp_path / "app.log"
    run = TailRun([str(log)], rotate_wait_secs=0.1, read_chunk_bytes=4096, consumer_delay=0.003)
    first = numbered("a", 0, 20_000)
    log.write_bytes(first)
    await run.start()
    await asyncio.sleep(0.1)
    os.rename(log, tmp_path / "app.log.1")
    log.write_bytes(numbered("b", 0, 10))
    got = await run.wait_for(20_010, timeout=60)
    await run.stop()
    assert_exactly_once(got, lines_of(first) + lines_of(numbered("b", 0, 10)))


async def test_case_02_middle_generation_of_a_double_rotation_is_read(tmp_path: Path) -> None:
    """Two rotations inside one scan interval: the generation never seen at the path is found."""
    x = tmp_path / "x"
    run = TailRun([str(x)], poll_interval_ms=1000)
    x.write_bytes(numbered("g1", 0, 1000))
    await run.start()
    await run.wait_for(1000)
    os.rename(x, tmp_path / "x.1")
    x.write_bytes(numbered("g2", 0, 1000))
    os.rename(tmp_path / "x.1", tmp_path / "x.2")
    os.rename(x, tmp_path / "x.1")
    x.write_bytes(numbered("g3", 0, 1000))
    got = await run.wait_for(3000, timeout=20)
    await run.stop()
    want = [*lines_of(numbered("g1", 0, 1000)), *lines_of(numbered("g2", 0, 1000)),
            *lines_of(numbered("g3", 0, 1000))]
    assert got == want  # exactly once and in write order


async def test_a_generation_rotated_away_before_a_scan_that_saw_the_path_empty_is_read(
        tmp_path: Path) -> None:
    """A writer stalled between its rename and its next open leaves the path empty while the
    tailer scans; the generation it had written before that scan is still read (case 3 lost
    app.log.1 this way under load)."""
    log = tmp_path / "app.log"
    run = TailRun([str(tmp_path / "*.log")], poll_interval_ms=20)
    await run.start()
    log.write_bytes(numbered("g", 0, 100))
    os.rename(log, tmp_path / "app.log.1")
    await asyncio.sleep(0.3)  # scans every 20 ms find no app.log, long after app.log.1's mtime
    log.write_bytes(numbered("g", 100, 200))
    got = await run.wait_for(200, timeout=20)
    await run.stop()
    assert got == lines_of(numbered("g", 0, 200))


async def test_generations_renamed_between_a_scans_glob_and_its_open_are_all_read(
        tmp_path: Path) -> None:
    """A writer rotating while the tailer scans: the file the glob saw is renamed before it
    is opened (twice), and once the path is empty when it is opened. Five generations, each
    read once and in order (case 3 lost app.log.4 this way under load). The renames run
    inside the scan, right after its glob, so the interleaving is exact."""
    log = tmp_path / "app.log"
    gen = [numbered(f"g{i}", 0, 50) for i in range(1, 6)]
    run = TailRun([str(tmp_path / "*.log")], poll_interval_ms=20)
    await run.start()
    assert run.tailer is not None
    glob_files = run.tailer._matching_paths
    steps = iter([
        (lambda: log.write_bytes(gen[0]),
         lambda: (os.rename(log, tmp_path / "app.log.1"), log.write_bytes(gen[1]))),
        (lambda: (os.rename(log, tmp_path / "app.log.2"), log.write_bytes(gen[2]),
                  os.rename(log, tmp_path / "app.log.3"), log.write_bytes(gen[3])),
         lambda: os.rename(log, tmp_path / "app.log.4")),
        (lambda: log.write_bytes(gen[4]), lambda: None)])

    def writer_racing_the_scan() -> dict[tuple[int, int], str]:
        before, after = next(steps, (lambda: None, lambda: None))
        before()
        found = glob_files()
        after()
        return found

    run.tailer._matching_paths = writer_racing_the_scan  # type: ignore[method-assign]
    got = await run.wait_for(250, timeout=20)
    await run.stop()
    assert got == [line for g in gen for line in lines_of(g)]


async def test_case_03_rotation_by_rename_under_heavy_writes_loses_nothing(
        tmp_path: Path) -> None:
    """Writing fast while renaming every ~200 KB: every line once, offsets within files."""
    log = tmp_path / "app.log"
    run = TailRun([str(tmp_path / "*.log")])
    await run.start()
    total = 100_000

    def writer() -> None:
        n, generation = 0, 0
        f = open(log, "ab")  # noqa: SIM115
        while n < total:
            f.write(numbered("h", n, n + 500))
            n += 500
            if f.tell() > 200_000:
                f.close()
                generation += 1
                os.rename(log, tmp_path / f"app.log.{generation}")
                f = open(log, "ab")  # noqa: SIM115
        f.close()

    thread = threading.Thread(target=writer)
    thread.start()
    await asyncio.to_thread(thread.join)
    got = await run.wait_for(total, timeout=60)
    await run.stop()
    assert sorted(numbers(got, "h")) == list(range(total))
    for (dev, ino), cursor in run.cursors.items():  # no offset beyond its own file's size
        for path in tmp_path.iterdir():
            st = path.stat()
            if (st.st_dev, st.st_ino) == (dev, ino):
                assert cursor.offset <= st.st_size


async def test_case_04_first_line_after_rotation_is_read(tmp_path: Path) -> None:
    log = tmp_path / "app.log"
    run = TailRun([str(log)])
    log.write_bytes(numbered("a", 0, 5))
    await run.start()
    await run.wait_for(5)
    os.rename(log, tmp_path / "app.log.1")
    log.write_bytes(b"first after rotation\n")
    got = await run.wait_for(6)
    await run.stop()
    assert got == [*lines_of(numbered("a", 0, 5)), b"first after rotation"]


async def test_case_05_symlink_whose_target_rotates_keeps_every_line(tmp_path: Path) -> None:
    """kubelet style: link.log -> real/0.log, 0.log renamed to 0.log.N under load."""
    real = tmp_path / "real"
    real.mkdir()
    (tmp_path / "link.log").symlink_to(real / "0.log")
    run = TailRun([str(tmp_path / "link.log")])
    await run.start()
    total = 20_000
    for start in range(0, total, 2000):
        append(real / "0.log", numbered("k", start, start + 2000))
        if start % 6000 == 4000:
            os.rename(real / "0.log", real / f"0.log.{start}")
        await asyncio.sleep(0.01)
    got = await run.wait_for(total, timeout=30)
    await run.stop()
    assert numbers(got, "k") == list(range(total))


async def test_case_06_two_level_symlink_chain_ships_the_end_of_the_rotated_file(
        tmp_path: Path) -> None:
    for d in ("containers", "pods/p", "runtime"):
        (tmp_path / d).mkdir(parents=True)
    (tmp_path / "runtime" / "abc.log").write_bytes(numbered("r", 0, 3000))
    (tmp_path / "pods/p/0.log").symlink_to(tmp_path / "runtime" / "abc.log")
    (tmp_path / "containers/x.log").symlink_to(tmp_path / "pods/p/0.log")
    run = TailRun([str(tmp_path / "containers" / "*.log")])
    await run.start()
    await asyncio.sleep(0.05)
    append(tmp_path / "runtime" / "abc.log", numbered("r", 3000, 5000))
    os.rename(tmp_path / "runtime" / "abc.log", tmp_path / "runtime" / "abc.log.1")
    (tmp_path / "runtime" / "abc.log").write_bytes(numbered("r", 5000, 5100))
    got = await run.wait_for(5100, timeout=20)
    await run.stop()
    assert numbers(got, "r") == list(range(5100))


def kubelet_layout(tmp_path: Path) -> tuple[Path, Path]:
    """containers/x.log -> pods/0.log: the glob sees the link, the kubelet rotates the target."""
    (tmp_path / "containers").mkdir()
    (tmp_path / "pods").mkdir()
    (tmp_path / "containers" / "x.log").symlink_to(tmp_path / "pods" / "0.log")
    return tmp_path / "containers" / "*.log", tmp_path / "pods" / "0.log"


async def test_case_05_symlinks_target_rotated_while_stopped_has_its_rest_read(
        tmp_path: Path) -> None:
    """The rotated target is beside the target, not beside the link: it is looked for
    there, not forgotten as deleted."""
    glob_, target = kubelet_layout(tmp_path)
    target.write_bytes(numbered("k", 0, 20))
    run = TailRun([str(glob_)])
    await run.start()
    await run.wait_for(20)
    await run.stop()
    append(target, numbered("k", 20, 40))
    os.rename(target, target.with_name("0.log.20261204-120000"))
    target.write_bytes(numbered("k", 40, 60))
    await run.start()
    got = await run.wait_for(60, timeout=10)
    await run.stop()
    assert numbers(got, "k") == list(range(60))


async def test_case_05_symlinks_target_rotated_while_idle_closed_has_its_rest_read(
        tmp_path: Path) -> None:
    glob_, target = kubelet_layout(tmp_path)
    target.write_bytes(numbered("k", 0, 20))
    run = TailRun([str(glob_)], close_idle_secs=0.3)
    await run.start()
    await run.wait_for(20)
    await asyncio.sleep(0.8)  # closed while idle
    assert run.tailer is not None and run.tailer.statistics().files_open == 0

    def grow_and_rotate() -> None:
        append(target, numbered("k", 20, 40))
        os.rename(target, target.with_name("0.log.20261204-120000"))
        target.write_bytes(numbered("k", 40, 60))

    race_in_scans(run, [grow_and_rotate])
    got = await run.wait_for(60, timeout=10)
    await run.stop()
    assert numbers(got, "k") == list(range(60))


async def test_case_07_copytruncate_copy_matched_by_the_glob_is_not_read_again(
        tmp_path: Path) -> None:
    log = tmp_path / "app.log"
    run = TailRun([str(tmp_path / "app.log*")])
    log.write_bytes(numbered("c", 0, 10))
    await run.start()
    await run.wait_for(10)
    shutil.copyfile(log, tmp_path / "app.log.1")
    os.truncate(log, 0)
    append(log, numbered("c", 10, 15))
    got = await run.settle()
    await run.stop()
    assert_exactly_once(got, lines_of(numbered("c", 0, 15)))


async def test_case_07_copy_holding_lines_not_yet_read_delivers_just_those(
        tmp_path: Path) -> None:
    """Lines written between our last read and the copy are read from the copy, once."""
    log = tmp_path / "app.log"
    run = TailRun([str(tmp_path / "app.log*")], poll_interval_ms=1000)
    log.write_bytes(numbered("c", 0, 10))
    await run.start()
    await run.wait_for(10)
    await run.stop()
    append(log, numbered("c", 10, 20))
    shutil.copyfile(log, tmp_path / "app.log.1")
    os.truncate(log, 0)
    await run.start()
    got = await run.settle()
    await run.stop()
    assert_exactly_once(got, lines_of(numbered("c", 0, 20)))


async def test_case_08_copytruncate_across_a_restart_loses_nothing(tmp_path: Path) -> None:
    log = tmp_path / "app.log"
    run = TailRun([str(log)])
    log.write_bytes(numbered("d", 0, 50))
    await run.start()
    await run.wait_for(50)
    await run.stop()
    shutil.copyfile(log, tmp_path / "app.log.1")
    os.truncate(log, 0)
    append(log, numbered("d", 50, 100))
    await run.start()
    await run.wait_for(100)
    shutil.copyfile(log, tmp_path / "app.log.2")
    os.truncate(log, 0)
    append(log, numbered("d", 100, 150))
    got = await run.wait_for(150)
    await run.settle()
    await run.stop()
    assert_exactly_once(run.lines, lines_of(numbered("d", 0, 150)))
    assert got[:150] == lines_of(numbered("d", 0, 150))


async def test_case_09_truncation_while_stopped_is_handled_once_across_restarts(
        tmp_path: Path) -> None:
    log = tmp_path / "app.log"
    run = TailRun([str(log)])
    log.write_bytes(numbered("e", 0, 100))
    await run.start()
    await run.wait_for(100)
    await run.stop()
    os.truncate(log, 0)
    append(log, numbered("f", 0, 10))
    await run.start()
    await run.wait_for(110)
    for _ in range(2):
        await run.restart()
        await run.settle(0.2)
    await run.stop()
    assert_exactly_once(run.lines, lines_of(numbered("e", 0, 100) + numbered("f", 0, 10)))


async def test_case_10_truncate_and_quick_longer_rewrite_is_read_from_the_start(
        tmp_path: Path) -> None:
    """The file is rewritten past its old size before we look: no stale-offset garbage."""
    log = tmp_path / "app.log"
    run = TailRun([str(log)], poll_interval_ms=1000)
    log.write_bytes(numbered("old", 0, 10))
    await run.start()
    await run.wait_for(10)
    with open(log, "wb") as f:  # O_TRUNC, same inode
        f.write(numbered("new", 0, 100))
    got = await run.wait_for(110)
    await run.settle()
    await run.stop()
    assert_exactly_once(got, lines_of(numbered("old", 0, 10) + numbered("new", 0, 100)))


async def test_case_11_overwrite_in_place_with_fewer_lines_is_read_promptly(
        tmp_path: Path) -> None:
    log = tmp_path / "app.log"
    run = TailRun([str(log)])
    log.write_bytes(numbered("big", 0, 9999))
    await run.start()
    await run.wait_for(9999)
    other = tmp_path / "other"
    other.write_bytes(numbered("small", 0, 20))
    shutil.copyfile(other, log)  # cp other app.log: O_TRUNC, same inode
    got = await run.wait_for(9999 + 20, timeout=5)
    await run.stop()
    assert numbers(got, "small") == list(range(20))


async def test_case_12_alternating_append_and_overwrite_keeps_every_number(
        tmp_path: Path) -> None:
    """Each write waits until the previous line was read (a line overwritten before anyone
    could read it is gone for every tailer); the fault was missing the lines written right
    after each truncation, or repeating the ones before it."""
    log = tmp_path / "app.log"
    log.write_bytes(b"")
    run = TailRun([str(log)])
    await run.start()
    for i in range(1, 51):
        if i % 10 == 0:
            log.write_bytes(f"n {i:07d}\n".encode())
        else:
            append(log, f"n {i:07d}\n".encode())
        await run.wait_for(i, timeout=5)
    got = await run.settle(0.2)
    await run.stop()
    assert sorted(set(numbers(got, "n"))) == list(range(1, 51))
    assert len(numbers(got, "n")) == 50


async def test_case_13_nul_run_left_by_a_non_append_writer_is_skipped_and_counted(
        tmp_path: Path) -> None:
    log = tmp_path / "app.log"
    fd = os.open(log, os.O_WRONLY | os.O_CREAT, 0o644)  # no O_APPEND
    os.write(fd, numbered("w", 0, 50_000))
    run = TailRun([str(log)], poll_interval_ms=1000)
    await run.start()
    await run.wait_for(50_000, timeout=20)
    os.truncate(log, 0)
    os.write(fd, b"after the truncation\n")  # lands at the old offset
    os.close(fd)
    got = await run.wait_for(50_001)
    assert run.tailer is not None
    stats = run.tailer.statistics()
    await run.stop()
    assert got[-1] == b"after the truncation" and len(got) == 50_001
    assert stats.nul_bytes_skipped == 50_000 * 10


async def test_case_14_reused_inode_with_different_content_is_read_from_the_start(
        tmp_path: Path) -> None:
    """A saved cursor for this inode but other content: the file is new, read from 0."""
    b = tmp_path / "b"
    b.write_bytes(b"x\n")
    st = b.stat()
    run = TailRun([str(b)])
    old_content = FileIdentity(st.st_dev, st.st_ino, b"\x11" * 32, 100)
    run.cursors[(st.st_dev, st.st_ino)] = Cursor(str(tmp_path / "a"), old_content, 100)
    await run.start()
    got = await run.wait_for(1)
    await run.stop()
    assert got == [b"x"]


@pytest.mark.parametrize("header", [b"HEADER v1\n", b"H" * 3000 + b"\n"])
async def test_case_15_files_with_the_same_first_line_are_two_files(
        tmp_path: Path, header: bytes) -> None:
    (tmp_path / "a.log").write_bytes(header + numbered("a", 0, 20))
    (tmp_path / "b.log").write_bytes(header + numbered("b", 0, 5))
    run = TailRun([str(tmp_path / "*.log")])
    await run.start()
    got = await run.wait_for(27)
    await run.settle()
    await run.stop()
    assert numbers(got, "a") == list(range(20)) and numbers(got, "b") == list(range(5))
    assert got.count(header[:-1]) == 2


async def test_case_16_rotation_while_stopped_is_not_read_again(tmp_path: Path) -> None:
    log = tmp_path / "app.log"
    run = TailRun([str(tmp_path / "app.log*")])
    log.write_bytes(numbered("p", 0, 100))
    await run.start()
    await run.wait_for(100)
    await run.stop()
    os.rename(log, tmp_path / "app.log.1")
    log.write_bytes(numbered("q", 0, 5))
    await run.start()
    await run.settle()
    await run.stop()
    assert_exactly_once(run.lines, lines_of(numbered("p", 0, 100) + numbered("q", 0, 5)))


async def test_case_16_lines_appended_before_a_rotation_out_of_the_globs_while_stopped(
        tmp_path: Path) -> None:
    """Renamed to a name the globs do not match while stopped: its unread end still ships."""
    log = tmp_path / "app.log"
    run = TailRun([str(log)])
    log.write_bytes(numbered("p", 0, 100))
    await run.start()
    await run.wait_for(100)
    await run.stop()
    append(log, numbered("p", 100, 110))
    os.rename(log, tmp_path / "app.log.1")
    log.write_bytes(numbered("q", 0, 5))
    await run.start()
    await run.wait_for(115)
    await run.settle()
    await run.stop()
    assert run.lines == lines_of(numbered("p", 0, 110) + numbered("q", 0, 5))


@pytest.mark.parametrize("pattern", ["app.log", "app.log*"])
async def test_case_16_rest_of_a_file_rotated_while_stopped_is_emitted_before_the_new_file(
        tmp_path: Path, pattern: str) -> None:
    """Rotated while stopped, within the globs or out of them: on start the rotated file's
    unread end leaves before any line of the new file at its path (write order)."""
    log = tmp_path / "app.log"
    run = TailRun([str(tmp_path / pattern)], read_chunk_bytes=256)
    log.write_bytes(numbered("p", 0, 10))
    await run.start()
    await run.wait_for(10)
    await run.stop()
    append(log, numbered("p", 10, 100))
    os.rename(log, tmp_path / "app.log.1")
    log.write_bytes(numbered("p", 100, 105))
    await run.start()
    await run.wait_for(105)
    await run.settle()
    await run.stop()
    assert numbers(run.lines, "p") == list(range(105))


async def test_case_17_over_long_line_does_not_cause_repeats_after_restart(
        tmp_path: Path) -> None:
    log = tmp_path / "app.log"
    log.write_bytes(numbered("s", 0, 50) + b"L" * 640_000 + b"\n" + numbered("s", 50, 75))
    run = TailRun([str(log)], max_line_bytes=32 * 1024)
    await run.start()
    await run.wait_for(76)
    await run.restart()
    await run.settle()
    await run.stop()
    assert len(run.records) == 76
    (long,) = [r for r in run.records if r.flags & FLAG_TRUNCATED]
    assert len(long.data) == 32 * 1024 and long.original_length == 640_000


async def test_case_18_partial_line_completed_while_stopped_is_one_line(tmp_path: Path) -> None:
    log = tmp_path / "app.log"
    run = TailRun([str(log)], partial_idle_secs=30)
    log.write_bytes(numbered("t", 0, 3) + b"partial")
    await run.start()
    await run.wait_for(3)
    await run.stop()
    append(log, b"-rest\n")
    await run.start()
    got = await run.wait_for(4)
    await run.stop()
    assert got == [*lines_of(numbered("t", 0, 3)), b"partial-rest"]


async def test_case_18_partial_already_shipped_is_continued_across_a_restart(
        tmp_path: Path) -> None:
    log = tmp_path / "app.log"
    run = TailRun([str(log)], partial_idle_secs=0.2)
    log.write_bytes(b"partial")
    await run.start()
    await run.wait_for(1)
    await run.stop()
    append(log, b"-rest\n")
    await run.start()
    await run.wait_for(2)
    await run.stop()
    first, rest = run.records
    assert (first.data, first.flags) == (b"partial", FLAG_PARTIAL)
    assert (rest.data, rest.flags) == (b"-rest", FLAG_CONTINUED)
    assert first.data + rest.data == b"partial-rest"


async def test_case_22_double_rotation_then_restart_repeats_nothing(tmp_path: Path) -> None:
    log = tmp_path / "app.log"
    run = TailRun([str(tmp_path / "app.log*")])
    await run.start()
    for generation in range(3):
        append(log, numbered(f"g{generation}", 0, 20))
        await run.wait_for(20 * (generation + 1))
        if generation < 2:
            for n in range(generation, 0, -1):
                os.rename(tmp_path / f"app.log.{n}", tmp_path / f"app.log.{n + 1}")
            os.rename(log, tmp_path / "app.log.1")
            await asyncio.sleep(0.1)
    await run.restart()
    await run.settle()
    await run.stop()
    want = [x for g in range(3) for x in lines_of(numbered(f"g{g}", 0, 20))]
    assert_exactly_once(run.lines, want)


async def test_case_23_mixed_lf_and_crlf_offsets_match_the_file_size(tmp_path: Path) -> None:
    log = tmp_path / "app.log"
    data = b"".join(b"line %d\r\n" % i if i % 2 else b"line %d\n" % i for i in range(100))
    log.write_bytes(data)
    run = TailRun([str(log)])
    await run.start()
    await run.wait_for(100)
    await run.restart()
    await run.settle()
    await run.stop()
    assert len(run.records) == 100
    (cursor,) = run.cursors.values()
    assert cursor.offset == len(data)


async def test_case_24_last_line_without_newline_is_flushed_after_the_idle_time(
        tmp_path: Path) -> None:
    log = tmp_path / "app.log"
    log.write_bytes(b"a\nb\nc")
    run = TailRun([str(log)], partial_idle_secs=0.5)
    await run.start()
    assert await run.wait_for(2) == [b"a", b"b"]
    await asyncio.sleep(0.1)
    assert len(run.records) == 2  # c is held while it may still grow
    await run.wait_for(3)
    await run.stop()
    assert (run.records[2].data, run.records[2].flags) == (b"c", FLAG_PARTIAL)


async def test_case_25_one_huge_line_is_truncated_and_tailing_continues(tmp_path: Path) -> None:
    log = tmp_path / "app.log"
    euros = b"\xe2\x82\xac" * 350_000
    log.write_bytes(numbered("u", 0, 10) + euros + b"\n" + numbered("u", 10, 20))
    run = TailRun([str(log)], max_line_bytes=64 * 1024)
    await run.start()
    got = await run.wait_for(21)
    await run.stop()
    assert numbers(got, "u") == list(range(20))
    (big,) = [r for r in run.records if r.flags & FLAG_TRUNCATED]
    assert big.original_length == 1_050_000
    big.data.decode("utf-8")  # cut on a character boundary
    assert run.tailer is not None and run.tailer.statistics().truncated_lines == 1


async def test_case_26_single_over_long_unterminated_line_is_handled_once(
        tmp_path: Path) -> None:
    log = tmp_path / "app.log"
    log.write_bytes(b"z" * 200_000)
    run = TailRun([str(log)], max_line_bytes=64 * 1024, partial_idle_secs=0.3)
    await run.start()
    await run.wait_for(1)
    await run.restart()
    await run.settle()
    await run.stop()
    (only,) = run.records
    assert only.flags == FLAG_PARTIAL | FLAG_TRUNCATED and only.original_length == 200_000
    (cursor,) = run.cursors.values()
    assert cursor.offset == 200_000


async def test_case_27_long_line_below_the_limit_is_intact_and_fragments_join(
        tmp_path: Path) -> None:
    log = tmp_path / "app.log"
    long = b"y" * 65_536
    log.write_bytes(long + b"\n")
    run = TailRun([str(log)], partial_idle_secs=5)
    await run.start()
    assert await run.wait_for(1) == [long]
    append(log, b"hello")
    await asyncio.sleep(0.3)
    assert len(run.records) == 1
    append(log, b" world\n")
    got = await run.wait_for(2)
    await run.stop()
    assert got == [long, b"hello world"]


async def test_case_28_deleted_file_held_by_a_stalled_output_is_closed_and_counted(
        tmp_path: Path) -> None:
    log = tmp_path / "app.log"
    log.write_bytes(numbered("v", 0, 200_000))
    run = TailRun([str(log)], max_rotated_open_secs=1.0, read_chunk_bytes=65536,
                  consumer_delay=3600)  # the output never takes anything
    await run.start()
    await asyncio.sleep(0.3)
    log.unlink()
    await asyncio.sleep(3.5)
    assert run.tailer is not None
    stats = run.tailer.statistics()
    await run.stop()
    assert stats.files_open == 0
    assert stats.unread_bytes_dropped > 0


async def test_case_32_rest_of_the_rotated_file_is_emitted_before_the_new_file(
        tmp_path: Path) -> None:
    log = tmp_path / "f"
    run = TailRun([str(log)], poll_interval_ms=1000, read_chunk_bytes=2048)
    log.write_bytes(numbered("o", 1, 501))
    await run.start()
    await run.wait_for(500)
    append(log, numbered("o", 501, 1001))
    os.rename(log, tmp_path / "f.1")
    log.write_bytes(numbered("o", 1001, 1011))
    got = await run.wait_for(1010)
    await run.stop()
    assert numbers(got, "o") == list(range(1, 1011))


async def test_case_33_wall_clock_stepping_back_does_not_stop_reading_or_timers(
        tmp_path: Path) -> None:
    """Timers run on the monotonic clock; a wall clock an hour behind only changes stamps."""
    import time

    offset = {"ns": 0}
    run = TailRun([str(tmp_path / "app.log")], partial_idle_secs=0.3,
                  wall_ns=lambda: time.time_ns() + offset["ns"])
    append(tmp_path / "app.log", numbered("w", 0, 10))
    await run.start()
    await run.wait_for(10)
    offset["ns"] = -3600 * 10**9
    append(tmp_path / "app.log", numbered("w", 10, 20) + b"tail")
    got = await run.wait_for(21)
    await run.stop()
    assert numbers(got, "w") == list(range(20)) and got[-1] == b"tail"
    assert run.records[-1].time_ns < run.records[0].time_ns  # stamped with the stepped clock


async def test_case_07_copy_not_matched_by_the_glob_delivers_the_lines_not_yet_read(
        tmp_path: Path) -> None:
    """copytruncate with `paths = [app.log]`: lines written between our last read and the
    truncation are only in the copy app.log.1, which no glob matches. They are read from
    it, once, before the truncated file's new lines."""
    log = tmp_path / "app.log"
    run = TailRun([str(log)])
    log.write_bytes(numbered("c", 0, 10))
    await run.start()
    await run.wait_for(10)
    # No await in between: the tailer cannot read before the truncation.
    append(log, numbered("c", 10, 20))
    shutil.copyfile(log, tmp_path / "app.log.1")
    os.truncate(log, 0)
    append(log, numbered("c", 20, 25))
    await run.wait_for(25, timeout=5)
    got = await run.settle()
    await run.stop()
    assert got == lines_of(numbered("c", 0, 25))
