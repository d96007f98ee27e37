"""The tail stage: find files by glob, follow them through rotation, emit line batches."""

from __future__ import annotations

import asyncio
import contextlib
import fnmatch
import glob
import logging
import os
import stat
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

import watchfiles

from agent.config import TailConfig
from agent.records import Cursor, FileIdentity, LineBatch
from agent.tail._identity import FINGERPRINT_BYTES, fingerprint_matches, identify
from agent.tail._lines import LineSplitter

log = logging.getLogger("sealtail.tail")

InodeKey = tuple[int, int]


@dataclass(frozen=True, slots=True)
class TailStatistics:
    files_open: int
    lines_read: int
    bytes_read: int
    rotations: int
    truncations: int
    truncated_lines: int


class _TrackedFile:
    """One open file and where reading stands in it."""

    def __init__(self, path: str, fd: int, identity: FileIdentity, offset: int,
                 max_line_bytes: int, now: float) -> None:
        self.path = path
        self.fd = fd
        self.identity = identity
        self.splitter = LineSplitter(offset, max_line_bytes)
        self.last_data = now          # monotonic time bytes last arrived
        self.unreachable_since: float | None = None  # rotated away or deleted

    @property
    def key(self) -> InodeKey:
        return (self.identity.device, self.identity.inode)

    def cursor(self) -> Cursor:
        return Cursor(self.path, self.identity, self.splitter.start)


class Tailer:
    """Reads every file matching the configured globs and puts `LineBatch`es on `out`.

    Files are tracked by (device, inode), so a file renamed within the globs is the same file,
    and a rotated-away file is read to its end (and `rotate_wait_secs` beyond) before closing.
    Lines are emitted in file order; a batch's cursor is the offset after its last line.

    Args:
        saved: cursors recovered from the spool, by (device, inode). A file whose identity and
            fingerprint match resumes at the saved offset; any other file starts at 0.
        out: bounded queue; a full queue stops reading (backpressure).
    """

    def __init__(self, config: TailConfig, saved: Mapping[InodeKey, Cursor],
                 out: asyncio.Queue[LineBatch], *,
                 monotonic: Callable[[], float] = time.monotonic,
                 wall_ns: Callable[[], int] = time.time_ns) -> None:
        self._config = config
        self._saved = dict(saved)
        self._out = out
        self._monotonic = monotonic
        self._wall_ns = wall_ns
        self._files: dict[InodeKey, _TrackedFile] = {}
        self._changed = asyncio.Event()
        self._lines = self._bytes = self._rotations = self._truncations = 0

    def statistics(self) -> TailStatistics:
        return TailStatistics(
            files_open=len(self._files), lines_read=self._lines, bytes_read=self._bytes,
            rotations=self._rotations, truncations=self._truncations,
            truncated_lines=sum(f.splitter.truncated_lines for f in self._files.values()))

    async def run(self) -> None:
        """Tail until cancelled."""
        watcher = asyncio.create_task(self._watch(), name="tail-watch")
        try:
            while True:
                self._scan()
                progressed = await self._read_all()
                await self._finish_idle()
                if not progressed:
                    with contextlib.suppress(TimeoutError):
                        async with asyncio.timeout(self._config.poll_interval_ms / 1000):
                            await self._changed.wait()
                    self._changed.clear()
        finally:
            watcher.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await watcher
            self.close()

    def close(self) -> None:
        for f in self._files.values():
            os.close(f.fd)
        self._files.clear()

    # -- discovery ---------------------------------------------------------------------------

    def _matching_paths(self) -> dict[InodeKey, str]:
        found: dict[InodeKey, str] = {}
        for pattern in self._config.paths:
            for path in sorted(glob.glob(os.path.abspath(pattern), recursive=True)):
                if any(fnmatch.fnmatch(path, ex) for ex in self._config.exclude):
                    continue
                try:
                    st = os.stat(path)  # follows symlinks: a link is tailed as its target
                except OSError:
                    continue
                if stat.S_ISREG(st.st_mode):
                    found.setdefault((st.st_dev, st.st_ino), path)
        return found

    def _scan(self) -> None:
        now = self._monotonic()
        found = self._matching_paths()
        for key, f in self._files.items():
            path = found.get(key)
            if path is None:
                if f.unreachable_since is None:
                    f.unreachable_since = now
                    self._rotations += 1
                    log.info("rotated or deleted: %s (reading it to its end)", f.path)
            else:
                f.unreachable_since = None
                f.path = path
        for key, path in found.items():
            if key not in self._files:
                self._open(path, now)

    def _open(self, path: str, now: float) -> None:
        try:
            fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
        except OSError as exc:
            log.warning("cannot open %s: %s", path, exc.strerror)
            return
        try:
            st = os.fstat(fd)
            identity = identify(fd, st.st_size)
            key = (identity.device, identity.inode)
            if key in self._files:  # raced with a rename: already tracked
                os.close(fd)
                return
            offset = self._resume_offset(fd, identity, st.st_size, path)
        except OSError as exc:
            os.close(fd)
            log.warning("cannot read %s: %s", path, exc.strerror)
            return
        self._files[key] = _TrackedFile(path, fd, identity, offset,
                                        self._config.max_line_bytes, now)
        log.info("tailing %s from offset %d", path, offset)

    def _resume_offset(self, fd: int, identity: FileIdentity, size: int, path: str) -> int:
        saved = self._saved.pop((identity.device, identity.inode), None)
        if saved is None:
            return 0
        if not fingerprint_matches(fd, saved.identity):
            log.info("%s: inode reused by a different file; reading from the start", path)
            return 0
        if saved.offset > size:
            log.warning("%s: shorter (%d) than the saved offset %d: truncated while stopped; "
                        "reading from the start", path, size, saved.offset)
            self._truncations += 1
            return 0
        return saved.offset

    # -- reading -----------------------------------------------------------------------------

    async def _read_all(self) -> bool:
        progressed = False
        for f in list(self._files.values()):
            if await self._read_one(f):
                progressed = True
        return progressed

    async def _read_one(self, f: _TrackedFile) -> bool:
        try:
            size = os.fstat(f.fd).st_size
        except OSError as exc:
            log.warning("cannot stat %s: %s", f.path, exc.strerror)
            return False
        position = f.splitter.read_position
        if size < position:
            self._truncated(f, size)
            position = 0
        if size == position:
            return False
        n = min(size - position, self._config.read_chunk_bytes)
        try:
            chunk = await asyncio.to_thread(os.pread, f.fd, n, position)
        except OSError as exc:
            log.warning("cannot read %s at %d: %s", f.path, position, exc.strerror)
            return False
        if not chunk:
            return False
        f.last_data = self._monotonic()
        self._bytes += len(chunk)
        if f.identity.fingerprint_length < FINGERPRINT_BYTES and position < FINGERPRINT_BYTES:
            # The fingerprint grows with the file until it covers the first 1 KiB.
            f.identity = identify(f.fd, position + len(chunk))
        lines = f.splitter.feed(chunk, self._wall_ns())
        if lines:
            self._lines += len(lines)
            await self._out.put(LineBatch(f.cursor(), tuple(lines)))
        return True

    def _truncated(self, f: _TrackedFile, size: int) -> None:
        self._truncations += 1
        log.warning("%s truncated (size %d < offset %d); reading from the start",
                    f.path, size, f.splitter.read_position)
        f.splitter = LineSplitter(0, self._config.max_line_bytes)
        f.identity = identify(f.fd, size)

    async def _finish_idle(self) -> None:
        """Ship long-idle partial lines; close rotated files that have been drained."""
        now = self._monotonic()
        for key, f in list(self._files.items()):
            idle = now - f.last_data
            if f.splitter.pending_bytes and idle >= self._config.partial_idle_secs:
                line = f.splitter.flush_partial(self._wall_ns())
                if line is not None:
                    self._lines += 1
                    await self._out.put(LineBatch(f.cursor(), (line,)))
            if (f.unreachable_since is not None
                    and now - f.unreachable_since >= self._config.rotate_wait_secs
                    and idle >= self._config.rotate_wait_secs
                    and not f.splitter.pending_bytes):
                os.close(f.fd)
                del self._files[key]
                log.info("closed %s after reading it to the end", f.path)

    # -- change notification ----------------------------------------------------------------

    def _watch_dirs(self) -> list[str]:
        dirs = set()
        for pattern in self._config.paths:
            parts = Path(os.path.abspath(pattern)).parts
            static = _takewhile_static(parts)
            base = Path(*static) if static else Path(".")
            if base.is_dir():
                dirs.add(str(base))
            elif base.parent.is_dir():
                dirs.add(str(base.parent))
        return sorted(dirs)

    async def _watch(self) -> None:
        """Wake the read loop on file-system events; polling covers anything missed."""
        while True:
            dirs = self._watch_dirs()
            if not dirs:
                await asyncio.sleep(1)
                continue
            try:
                async for _ in watchfiles.awatch(*dirs, debounce=50, step=10,
                                                 recursive=True, yield_on_timeout=False,
                                                 rust_timeout=1000):
                    self._changed.set()
                    if self._watch_dirs() != dirs:
                        break
            except (OSError, RuntimeError) as exc:  # a watched directory vanished, etc.
                log.debug("watcher restarting: %s", exc)
                await asyncio.sleep(1)


def _takewhile_static(parts: tuple[str, ...]) -> list[str]:
    out = []
    for p in parts:
        if glob.has_magic(p):
            break
        out.append(p)
    return out
