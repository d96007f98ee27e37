"""Run the real Tailer on real files in-process, record what it emits, restart it."""

from __future__ import annotations

import asyncio
import contextlib
import re
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

from agent.config import TailConfig
from agent.records import Cursor, LineBatch, RawLine
from agent.tail import Tailer

FAST = TailConfig(poll_interval_ms=20, partial_idle_secs=0.5, rotate_wait_secs=0.5,
                  max_rotated_open_secs=30.0)


class RecordingKeeper:
    """Stands where the spool stands: records which files the tailer says it is done with."""

    def __init__(self) -> None:
        self.forgotten: list[tuple[int, int]] = []
        self.kept: list[tuple[int, int]] = []

    def forget(self, key: tuple[int, int]) -> None:
        self.forgotten.append(key)

    def keep(self, key: tuple[int, int]) -> None:
        self.kept.append(key)


class TailRun:
    """A Tailer plus what a spool would keep: every emitted line and the latest cursor per
    file (as a segment acknowledged after each batch would)."""

    def __init__(self, paths: list[str], *, consumer_delay: float = 0.0,
                 wall_ns: Callable[[], int] = time.time_ns, **options: object) -> None:
        self.config = replace(FAST, paths=paths, **options)  # type: ignore[arg-type]
        self.consumer_delay = consumer_delay  # a slow collector: seconds per batch
        self.wall_ns = wall_ns
        self.records: list[RawLine] = []
        self.sources: list[str] = []
        self.cursors: dict[tuple[int, int], Cursor] = {}
        self.last_batch_wall_ns: int | None = None  # as the spool's newest record's mtime
        self._task: asyncio.Task[None] | None = None
        self._drain: asyncio.Task[None] | None = None
        self.tailer: Tailer | None = None
        self.keeper = RecordingKeeper()

    async def start(self, *, first_start: bool = False) -> None:
        queue: asyncio.Queue[LineBatch] = asyncio.Queue(8)
        self.tailer = Tailer(self.config, dict(self.cursors), queue, first_start=first_start,
                             wall_ns=self.wall_ns, cursor_keeper=self.keeper,
                             stopped_after_ns=self.last_batch_wall_ns)
        self._task = asyncio.create_task(self.tailer.run())
        self._drain = asyncio.create_task(self._collect(queue))
        # As the agent does before it reports "tailing": lines written into a file that is
        # renamed out of the globs before the first scan cannot be known by any tailer.
        await asyncio.wait_for(self.tailer.wait_scanned(), 30)

    async def _collect(self, queue: asyncio.Queue[LineBatch]) -> None:
        while True:
            batch = await queue.get()
            if self.consumer_delay:
                await asyncio.sleep(self.consumer_delay)
            self.records.extend(batch.lines)
            self.sources.extend([batch.cursor.path] * len(batch.lines))
            c = batch.cursor
            self.cursors[(c.identity.device, c.identity.inode)] = c
            self.last_batch_wall_ns = time.time_ns()

    async def stop(self) -> None:
        """Like SIGKILL after the last acknowledged batch: nothing unemitted is kept."""
        for task in (self._task, self._drain):
            if task is not None:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task

    async def restart(self) -> None:
        await self.stop()
        await self.start()

    @property
    def lines(self) -> list[bytes]:
        return [r.data for r in self.records]

    async def wait_for(self, count: int, timeout: float = 10.0) -> list[bytes]:
        deadline = time.monotonic() + timeout
        while len(self.records) < count and time.monotonic() < deadline:
            await asyncio.sleep(0.02)
        return self.lines

    async def settle(self, seconds: float = 0.4) -> list[bytes]:
        """Wait until nothing new arrives for `seconds`."""
        seen = -1
        while seen != len(self.records):
            seen = len(self.records)
            await asyncio.sleep(seconds)
        return self.lines


def numbered(tag: str, start: int, stop: int) -> bytes:
    return b"".join(f"{tag} {i:07d}\n".encode() for i in range(start, stop))


def numbers(lines: list[bytes], tag: str) -> list[int]:
    pattern = re.compile(rb"^" + re.escape(tag.encode()) + rb" (\d+)$")
    return [int(m.group(1)) for line in lines if (m := pattern.match(line))]


def assert_exactly_once(lines: list[bytes], expected: list[bytes]) -> None:
    got, want = Counter(lines), Counter(expected)
    missing, extra = want - got, got - want
    assert not missing and not extra, (
        f"missing {sum(missing.values())} (e.g. {list(missing)[:3]}), "
        f"extra {sum(extra.values())} (e.g. {list(extra)[:3]})")


def append(path: Path, data: bytes) -> None:
    with open(path, "ab") as f:
        f.write(data)
