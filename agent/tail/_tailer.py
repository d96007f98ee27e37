"""The tail stage: find files by glob, follow them through rotation, emit line batches.

How a file is recognised (the whole kind of fault behind most lost or repeated lines):

* A file is its (device, inode). A name is only where it was last seen, so a file renamed
  within the globs is the same file, and one renamed out of them is still drained.
* A saved or running offset is trusted only while the file's first bytes (fingerprint) and
  the bytes just before the offset (`before_hash`) are unchanged. Otherwise the file was
  truncated or rewritten in place (copytruncate, `>`, `cp other f`) and is read from 0,
  skipping a leading run of NULs left by writers without O_APPEND.
* A new file whose content starts with what another file already delivered is a *copy*
  (copytruncate's `f.1` matched by the same globs): it is read from where the original was.
  Its cursor is emitted before any line of the truncated original's new content: after
  that, nothing else remembers which content the copy repeats.
* After a rotation, the new file at a path is read only once the rotated one is drained,
  so lines leave in the order they were written. Generations renamed away before any scan
  saw them (two rotations in one interval) are found in the directory by name (a rotation
  suffix: `.1`, `-20261204`...) and age (modified since the path's last file was read, or
  for a new path since the earliest scan: file times are wall-clock times).
* Past tail.max_open_files, files wait for a slot without a descriptor but with a cursor
  (their first bytes, where reading will start): followed by inode and checked by content
  like open files, and read, in order, before their path's next file.
* Timers use the monotonic clock; wall-clock time stamps lines and dates the search above.
"""

from __future__ import annotations

import asyncio
import bisect
import contextlib
import fnmatch
import glob
import hashlib
import logging
import os
import re
import stat
import time
from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Protocol

import watchfiles

from agent.config import TailConfig
from agent.records import Cursor, FileIdentity, LineBatch
from agent.tail._identity import FINGERPRINT_BYTES, fingerprint_matches, identify, read_at
from agent.tail._lines import TAIL_BYTES, LineSplitter

log = logging.getLogger("sealtail.tail")

InodeKey = tuple[int, int]
COMPRESSED_SUFFIXES = (".gz", ".bz2", ".xz", ".zst", ".zip", ".lz4", ".lzma", ".lz", ".lzo",
                       ".Z", ".br", ".tgz", ".7z")
MIN_SCAN_SPACING_SECS = 0.05
COARSE_MTIME_SLACK_NS = 20_000_000  # file times tick coarsely (jiffies): compare with slack
# What a rotator appends to a file's name: `.1`, `-20261204`, `.2026-12-04_17-00`,
# `.20261204-171500` (logrotate, Python's and log4j's handlers, the kubelet). Siblings with
# other suffixes (`.bak`, `.secret`, `ger` of app.logger) are other files, never generations.
ROTATED_SUFFIX = re.compile(r"[._-]\d[\w.:-]*")
RECENT_CONTENTS = 256  # truncated/closed files remembered to recognise copies of them
NO_FILE: tuple[int, int] = (-1, -1)  # "no predecessor" where a (device, inode) is expected


@dataclass(frozen=True, slots=True)
class TailStatistics:
    files_open: int
    files_waiting: int  # matched, but waiting for a slot (tail.max_open_files)
    lines_read: int
    bytes_read: int
    rotations: int
    truncations: int
    truncated_lines: int
    nul_bytes_skipped: int
    copies_skipped_bytes: int
    unread_bytes_dropped: int


@dataclass(frozen=True, slots=True)
class _Content:
    """What was delivered from some file: enough to recognise a copy of it."""

    fingerprint: bytes
    fingerprint_length: int
    offset: int
    before_hash: bytes
    before_length: int


@dataclass(frozen=True, slots=True)
class _Occupant:
    """The file last seen at a path: where its generations would be found."""

    key: InodeKey
    real_path: str
    last_mtime_ns: int


@dataclass(slots=True)
class _Waiting:
    """A matched file not opened for want of a slot (tail.max_open_files). Its cursor in
    `Tailer._saved` (emitted too, so a restart knows it) holds its first bytes and where
    reading will start: it is followed like an open file, by inode and checked by content,
    through renames, rotations and a repointed symlink."""

    path: str
    real_path: str
    last_mtime_ns: int
    predecessor: InodeKey | None  # the file its path held before: read first
    size: int  # when last seen: what is lost if it goes before it gets a slot


class CursorKeeper(Protocol):
    """Whoever keeps the saved cursors (the spool): told which files are done with."""

    def forget(self, key: InodeKey) -> None: ...

    def keep(self, key: InodeKey) -> None: ...


class _TrackedFile:
    """One open file and where reading stands in it."""

    def __init__(self, path: str, fd: int, identity: FileIdentity, splitter: LineSplitter,
                 now: float) -> None:
        self.path = path
        # Where the bytes really live (symlinks resolved): rotations happen there.
        self.real_path = os.path.realpath(path)
        self.fd = fd
        self.identity = identity
        self.splitter = splitter
        self.last_data = now                          # monotonic time bytes last arrived
        self.last_mtime_ns = 0                        # mtime when last read (or opened)
        self.unreachable_since: float | None = None   # rotated away or deleted
        self.predecessor: InodeKey | None = None      # read only after this one is drained
        # Opened past its start on our own judgement (a copy, or read_from=end): the cursor
        # must be recorded even if no line follows, or a restart would read it all again.
        self.needs_cursor = False

    @property
    def key(self) -> InodeKey:
        return (self.identity.device, self.identity.inode)

    def cursor(self) -> Cursor:
        s = self.splitter
        before_hash = hashlib.sha256(s.tail).digest() if s.tail else b""
        return Cursor(self.path, self.identity, s.start, before_hash, len(s.tail), s.mid_line)

    def content(self) -> _Content:
        return _cursor_content(self.cursor())


def _cursor_content(c: Cursor) -> _Content:
    return _Content(c.identity.fingerprint, c.identity.fingerprint_length, c.offset,
                    c.before_hash, c.before_length)


class Tailer:
    """Reads every file matching the configured globs and puts `LineBatch`es on `out`.

    Lines are emitted in file order; a batch's cursor is the position after its last line,
    with the content checks that make it safe to resume from.

    Args:
        saved: cursors recovered from the spool, by (device, inode).
        first_start: no state existed: files found now start at `read_from`.
        out: bounded queue; a full queue stops reading (backpressure).
        cursor_keeper: told when a file's cursor is no longer needed (it was read to its end
            after being rotated away or deleted, or at start-up it is no longer in its
            directory) and when such a (device, inode) is tailed again (a reused inode
            number). Lets the spool prune its saved cursors.
        stopped_after_ns: wall time of the newest record the previous run left (every line
            it delivered was read before then): generations of a saved file's path modified
            since, rotated away while the agent was stopped, are read at start-up.
    """

    def __init__(self, config: TailConfig, saved: Mapping[InodeKey, Cursor],
                 out: asyncio.Queue[LineBatch], *, first_start: bool = False,
                 monotonic: Callable[[], float] = time.monotonic,
                 wall_ns: Callable[[], int] = time.time_ns,
                 cursor_keeper: CursorKeeper | None = None,
                 stopped_after_ns: int | None = None) -> None:
        self._config = config
        self._stopped_after_ns = stopped_after_ns
        self._keeper = cursor_keeper
        self._forgotten: set[InodeKey] = set()
        self._saved = dict(saved)
        self._out = out
        self._monotonic = monotonic
        self._wall_ns = wall_ns
        self._files: dict[InodeKey, _TrackedFile] = {}
        self._at_path: dict[str, InodeKey] = {}       # last inode seen at each matched path
        self._history: dict[str, _Occupant] = {}      # last tracked file at each path, kept
        # Files truncated or closed lately: a new file starting with their content is a copy.
        self._recent: deque[_Content] = deque(maxlen=RECENT_CONTENTS)
        self._start_at_end = first_start and config.read_from == "end"
        self._started = False
        # Files closed because they were idle, with their size then: reopened when it changes.
        self._idle_closed: dict[InodeKey, tuple[int, str]] = {}  # (size, real path)
        # Files waiting for a slot, in the order they get one; cursors not yet emitted.
        self._waiting: dict[InodeKey, _Waiting] = {}
        self._waiting_cursors: list[Cursor] = []
        self._resumed = False  # set by _starting_point: the offset came from a saved cursor
        self._sizes: dict[InodeKey, int] = {}      # this scan's, of the files found
        self._mtimes: dict[InodeKey, int] = {}
        self._listings: dict[str, tuple[list[str], list[os.DirEntry[str]]]] = {}  # this scan's
        self._last_scan = float("-inf")
        # Earliest wall time of any scan (None until the first): a generation of a path
        # first seen later may have been created, written and renamed away at any time
        # since. The earliest, not the first: a clock stepped back must not hide them.
        self._earliest_scan_wall_ns: int | None = None
        self._warned_limit = self._warned_empty = False
        self._changed = asyncio.Event()
        self._scanned = asyncio.Event()  # set after the first scan: files are being tailed
        self._lines = self._bytes = self._rotations = self._truncations = 0
        self._truncated_lines = self._nuls = self._copy_bytes = self._dropped = 0

    def statistics(self) -> TailStatistics:
        open_files = self._files.values()
        return TailStatistics(
            files_open=len(self._files), files_waiting=len(self._waiting),
            lines_read=self._lines, bytes_read=self._bytes,
            rotations=self._rotations, truncations=self._truncations,
            truncated_lines=self._truncated_lines
            + sum(f.splitter.truncated_lines for f in open_files),
            nul_bytes_skipped=self._nuls + sum(f.splitter.nul_bytes_skipped for f in open_files),
            copies_skipped_bytes=self._copy_bytes, unread_bytes_dropped=self._dropped)

    def reconfigure(self, config: TailConfig) -> None:
        """Apply a reloaded [tail] table. New globs are scanned at once; files no longer
        matched are read to their end and then closed, like a rotated file (they are not
        counted as rotations, and no sibling generation is looked for). Offsets stay."""
        self._config = config
        now = self._monotonic()
        still = self._matching_paths()
        for key, f in self._files.items():
            if key not in still and f.unreachable_since is None:
                f.unreachable_since = now
                log.info("no longer matched by tail.paths: %s (reading it to its end)", f.path)
        for key in [k for k in self._waiting if k not in still]:
            log.info("no longer matched by tail.paths: %s (was waiting for a slot)",
                     self._waiting.pop(key).path)
        self._last_scan = float("-inf")  # rescan on the next turn
        self._changed.set()

    def set_first_start(self, first_start: bool) -> None:
        """Whether no state existed (see `first_start` in the class doc), when it was known
        only after construction (the collector said whether the chain is new). Before `run`."""
        if self._started:
            raise RuntimeError("set_first_start after the tailer started")
        self._start_at_end = first_start and self._config.read_from == "end"

    async def wait_scanned(self) -> None:
        """Wait until the globs have been scanned once (the files found are open)."""
        await self._scanned.wait()

    def cursors(self) -> list[Cursor]:
        return [f.cursor() for f in self._files.values()]

    async def run(self) -> None:
        """Tail until cancelled."""
        watcher = asyncio.create_task(self._watch(), name="tail-watch")
        try:
            while True:
                if self._scan_due():
                    self._scan()
                progressed = await self._read_all()
                await self._finish_idle()
                if not progressed:
                    await self._wait_for_change()
        finally:
            watcher.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await watcher
            self.close()

    def close(self) -> None:
        for key, f in list(self._files.items()):
            self._close(key, f, "on shutdown")

    def _scan_due(self) -> bool:
        """Globbing thousands of paths costs: rescan after a change event (at most every
        50 ms) or every poll interval, not after every chunk read."""
        since = self._monotonic() - self._last_scan
        due = since >= self._config.poll_interval_ms / 1000 or (
            self._changed.is_set() and since >= MIN_SCAN_SPACING_SECS)
        if due:
            self._changed.clear()  # this scan covers every event so far
        return due

    async def _wait_for_change(self) -> None:
        """Nothing to read: sleep until a change event or the poll interval (never spin)."""
        if self._changed.is_set():  # an event, but the last scan was moments ago
            since = self._monotonic() - self._last_scan
            await asyncio.sleep(max(0.0, MIN_SCAN_SPACING_SECS - since))
            return
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(self._config.poll_interval_ms / 1000):
                await self._changed.wait()

    # -- discovery ---------------------------------------------------------------------------

    def _matching_paths(self) -> dict[InodeKey, str]:
        found: dict[InodeKey, str] = {}
        self._sizes, self._mtimes = {}, {}
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
                    self._sizes[(st.st_dev, st.st_ino)] = st.st_size
                    self._mtimes[(st.st_dev, st.st_ino)] = st.st_mtime_ns
        return found

    def _scan(self) -> None:
        now = self._monotonic()
        self._last_scan = now
        self._listings.clear()
        earliest_scan_ns = self._earliest_scan_wall_ns  # of the scans before this one
        wall = self._wall_ns()
        self._earliest_scan_wall_ns = wall if earliest_scan_ns is None else min(earliest_scan_ns,
                                                                                wall)
        found = self._matching_paths()
        # Files renamed while the agent was stopped: the file now at a saved cursor's path
        # is read after the one the cursor was taken from, wherever that went.
        renamed_while_stopped: dict[str, InodeKey] = {}
        if not self._started:
            self._started = True
            renamed_while_stopped = {c.path: key for key, c in self._saved.items()
                                     if found.get(key) != c.path}
            self._resume_rotated_while_stopped(found, now)
            # Rotated more than once while stopped: the generations after the saved file,
            # created and renamed away while no scan ran, are read before the path's file.
            # They were written after the saved file's last write (strictly: an older
            # generation may share its tick of a coarse file clock), or after the previous
            # run's last record (it read every generation it finished before then): the
            # earlier of the two. The saved file may be gone (`rotate 2`, compressed) or
            # written to after its rotation; a successor not read when the agent stopped
            # (waiting for it to drain) may be older than the record.
            for saved_path, key in renamed_while_stopped.items():
                if key in found:
                    continue  # renamed within the globs: its generations are matched too
                rotated = self._files.get(key)
                bounds = [rotated.last_mtime_ns + 1] if rotated is not None else []
                if self._stopped_after_ns is not None:
                    bounds.append(self._stopped_after_ns)
                if bounds:
                    renamed_while_stopped[saved_path] = self._find_missed_generations(
                        _Occupant(key, os.path.realpath(saved_path), min(bounds)), found, now)
            # A saved file still at its path but no longer holding what was read: truncated
            # by copytruncate (its copy, out of the globs, holds the unread end), or a new
            # file that reused its inode number after rotations. Its generations since the
            # last record are read first; a copy is read from where the saved cursor ends.
            if self._stopped_after_ns is not None:
                for key, cursor in list(self._saved.items()):
                    if (found.get(key) == cursor.path and (cursor.offset or cursor.mid_line)
                            and not _same_content(cursor.path, cursor)):
                        real_path = os.path.realpath(cursor.path)
                        copy = self._open_copies(_cursor_content(cursor), real_path, found,
                                                 now, NO_FILE)
                        newest = self._find_missed_generations(
                            _Occupant(copy, real_path, self._stopped_after_ns), found, now)
                        if newest != NO_FILE:
                            renamed_while_stopped[cursor.path] = newest
        newly_unreachable: list[_TrackedFile] = []
        for key, f in self._files.items():
            path = found.get(key)
            if path is None:
                if f.unreachable_since is None:
                    f.unreachable_since = now
                    self._rotations += 1
                    newly_unreachable.append(f)
                    log.info("rotated or deleted: %s (reading it to its end)", f.path)
            else:
                f.unreachable_since = None
                if f.path != path:
                    f.path, f.real_path = path, os.path.realpath(path)
        # A new file at a rotated file's path is read after it (and after any generation
        # renamed away in between), so lines leave in the order they were written.
        successor_of = dict(renamed_while_stopped)
        for f in newly_unreachable:
            successor_of[f.path] = self._find_missed_generations(
                _Occupant(f.key, f.real_path, f.last_mtime_ns), found, now)
        self._reopen_idle_closed_if_rotated(found, now)
        self._follow_waiting(found, now, successor_of)
        # A predecessor is opened before its successor, or the successor would not wait;
        # then files waiting for a slot, longest-waiting first; then new ones in glob order.
        first = set(successor_of.values())
        rank = {key: i for i, key in enumerate(self._waiting)}
        # A waiting file that an open one must follow gets a slot even at the limit: the
        # open one cannot be read (or closed) before it, and holds its slot meanwhile.
        needed = {f.predecessor for f in self._files.values()} & rank.keys()
        for key, path in sorted(found.items(),
                                key=lambda item: (item[0] not in first,
                                                  rank.get(item[0], len(rank)))):
            if key in self._files:
                continue
            closed_at = self._idle_closed.get(key)
            if closed_at is not None and self._sizes.get(key) == closed_at[0]:
                continue  # closed while idle and still unchanged
            waited = self._waiting.get(key)
            if waited is not None:
                previous = waited.predecessor  # known when it began to wait
            else:
                previous = self._predecessor_at(path, key, found, now, successor_of,
                                                earliest_scan_ns)
            if closed_at is not None:
                previous = self._copy_of_idle_closed(key, path, closed_at[1], found,
                                                     now) or previous
            if previous is not None and previous not in self._files:
                previous = previous if previous in self._waiting else None
            if previous in self._waiting or (len(self._files) >= self._config.max_open_files
                                             and key not in needed):
                self._wait(key, path, previous)
                continue
            self._idle_closed.pop(key, None)
            self._waiting.pop(key, None)
            self._open(path, now, predecessor=previous, expect=key)
        waiting = len(self._waiting)
        if waiting and not self._warned_limit:
            log.warning("%d files wait for a free slot (tail.max_open_files=%d); they are read "
                        "as open files go idle", waiting, self._config.max_open_files)
        self._warned_limit = waiting > 0
        if not found and not self._warned_empty:
            log.warning("no file matches %s (yet)", ", ".join(self._config.paths))
        self._warned_empty = not found
        self._at_path = {path: key for key, path in found.items()}
        for key, w in self._waiting.items():  # a waiting file occupies its path too
            if key in found:
                self._history[w.path] = _Occupant(key, w.real_path, w.last_mtime_ns)
        # What each matched path holds now, from the files themselves rather than the glob:
        # a file the glob saw may have been renamed before it was opened, and its successor
        # opened at the path instead. Recording the renamed one (its name, app.log.1) as the
        # path's occupant made the next scan look for app.log.1.* and miss app.log.4.
        for f in self._files.values():
            if f.unreachable_since is None:  # still at the matched path it is tracked at
                self._at_path[f.path] = f.key
                self._history[f.path] = _Occupant(f.key, f.real_path, f.last_mtime_ns)
        self._start_at_end = False
        self._scanned.set()

    def _predecessor_at(self, path: str, key: InodeKey, found: dict[InodeKey, str], now: float,
                        successor_of: dict[str, InodeKey],
                        earliest_scan_ns: int | None) -> InodeKey | None:
        """The file `path` held before `key` (read first), looking for generations renamed
        away in between; None when `key` is the path's first file."""
        before = self._history.get(path)
        if before is None and earliest_scan_ns is not None:
            # Never seen occupied: its generations may go back to the earliest scan, not
            # just the previous one. A writer stalled between its rename and its next
            # open leaves the path empty for a scan, and the generation written before
            # that scan was lost (TAILING-CASES 3 under load: app.log.1 missed).
            before = _Occupant(NO_FILE, os.path.realpath(path),
                               earliest_scan_ns - COARSE_MTIME_SLACK_NS)
        if path not in successor_of and before is not None and before.key != key:
            # A new file where another was: the rotation completed, possibly more than
            # once since we last looked (the path may even have been empty meanwhile).
            successor_of[path] = self._find_missed_generations(before, found, now)
        previous = successor_of.get(path, self._at_path.get(path))
        return previous if previous != key else None

    def _copy_of_idle_closed(self, key: InodeKey, path: str, real_path: str,
                             found: dict[InodeKey, str], now: float) -> InodeKey | None:
        """An idle-closed file that changed: truncated by copytruncate, its copy may hold
        lines written before the truncation and not read. Opened first; its key, or None."""
        cursor = self._saved.get(key)
        if cursor is None or not (cursor.offset or cursor.mid_line) or _same_content(path,
                                                                                  cursor):
            return None
        copy = self._open_copies(_cursor_content(cursor), real_path, found, now, NO_FILE)
        return None if copy == NO_FILE else copy

    # -- files waiting for a slot ------------------------------------------------------------

    def _wait(self, key: InodeKey, path: str, predecessor: InodeKey | None) -> None:
        """Remember a matched file that cannot be opened yet, and where its reading will
        start: a saved cursor still true of it (an idle-closed file may have been truncated
        and rewritten since), or its start as if opened now (0, a copy's offset, or its end
        on a first start with read_from=end)."""
        if key in self._waiting:
            return
        try:
            st = os.stat(path)
        except OSError:
            return  # gone since the glob: the next scan sees where
        if (st.st_dev, st.st_ino) != key:
            return
        if not self._check_waiting_cursor(path, key):
            return
        self._idle_closed.pop(key, None)  # followed as a waiting file from now on
        self._waiting[key] = _Waiting(path, os.path.realpath(path), st.st_mtime_ns, predecessor,
                                      st.st_size)

    def _check_waiting_cursor(self, path: str, key: InodeKey, size_before: int = 0) -> bool:
        """Make `_saved[key]` the cursor `path` would be read from if opened now, checking
        a saved one against the file as `_open` would (truncated or rewritten: from 0, or
        from where a copy ends; what it held past the cursor, up to `size_before`, was
        never read and is counted as dropped). A changed cursor is emitted, so a restart
        knows it. False when the file could not be read (the cursor, if any, is kept)."""
        saved = self._saved.get(key)
        if (saved is not None and saved.offset == 0 and not saved.mid_line
                and saved.identity.fingerprint_length >= FINGERPRINT_BYTES):
            return True  # read from 0 whatever happened to it, and its head is known in full
        cursor = self._cursor_before_opening(path, key)
        if cursor is None:
            if saved is not None:
                self._saved[key] = saved
            return False
        self._saved[key] = cursor
        if saved is not None and (saved.offset or saved.mid_line) and not self._resumed:
            unread = max(0, size_before - saved.offset)
            if unread:
                self._dropped += unread
                log.warning("%s was truncated or rewritten while it waited for a slot: its %d "
                            "bytes past offset %d were never read (tail.max_open_files)",
                            path, unread, saved.offset)
        if saved is None or (cursor.offset, cursor.mid_line, cursor.before_hash) != (
                saved.offset, saved.mid_line, saved.before_hash):
            self._waiting_cursors.append(cursor)
        return True

    def _cursor_before_opening(self, path: str, key: InodeKey) -> Cursor | None:
        """The cursor `path` would start at if opened now (opened only to read its head)."""
        try:
            fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
        except OSError:
            return None
        try:
            size = os.fstat(fd).st_size
            identity = identify(fd, size)
            if (identity.device, identity.inode) != key:
                return None
            splitter = self._starting_point(fd, identity, size, path, from_start=False)
            return _TrackedFile(path, fd, identity, splitter, 0.0).cursor()
        except OSError:
            return None
        finally:
            os.close(fd)

    def _follow_waiting(self, found: dict[InodeKey, str], now: float,
                        successor_of: dict[str, InodeKey]) -> None:
        """Waiting files renamed within the globs get their new name. One that left them
        (rotated, a symlink repointed) is found by inode in its directory, checked by its
        first bytes (the inode number may now be an unrelated file's), and opened at once,
        like a rotated open file, before whatever now holds its path."""
        for key, w in list(self._waiting.items()):
            path = found.get(key)
            cursor = self._saved.get(key)
            if path is not None:
                seen = (self._sizes.get(key, w.size), self._mtimes.get(key, w.last_mtime_ns))
                changed, size_before = seen != (w.size, w.last_mtime_ns), w.size
                w.size, w.last_mtime_ns = seen
                if cursor is None:  # resumed at start-up by something else: wait afresh
                    del self._waiting[key]
                    continue
                if path != w.path:
                    w.path, w.real_path = path, os.path.realpath(path)
                    self._saved[key] = replace(cursor, path=path)
                # Written to since last seen: appended (a longer head then tells it apart
                # better), or truncated and rewritten, which leaves its cursor stale.
                if changed:
                    self._check_waiting_cursor(path, key, size_before)
                continue
            del self._waiting[key]
            moved = self._find_moved_waiting(key, w, cursor)
            if moved is None:
                unread = max(0, w.size - (cursor.offset if cursor else 0))
                self._dropped += unread
                self._saved.pop(key, None)
                log.warning("%s left tail.paths while it waited for a slot and is no longer "
                            "in %s (deleted, or moved elsewhere): its %d bytes cannot be read "
                            "(tail.max_open_files)", w.path, Path(w.real_path).parent, unread)
                self._forget(key, w.path, "gone while waiting for a slot")
                continue
            f = self._open(moved, now, predecessor=w.predecessor, expect=key,
                           only_expected=True)
            if f is None:
                continue
            f.unreachable_since = now
            self._rotations += 1
            log.info("%s was rotated to %s while it waited for a slot; reading it now",
                     w.path, moved)
            if w.path not in successor_of:
                successor_of[w.path] = self._find_missed_generations(
                    _Occupant(key, w.real_path, w.last_mtime_ns), found, now)

    def _find_moved_waiting(self, key: InodeKey, w: _Waiting,
                            cursor: Cursor | None) -> str | None:
        path = _find_inode_in(_where_it_may_be(w.path, w.real_path), key)
        if path is None or cursor is None or not _is_it(path, cursor, w.real_path):
            return None
        return path

    def _open(self, path: str, now: float, *, predecessor: InodeKey | None = None,
              from_start: bool = False, expect: InodeKey | None = None,
              only_expected: bool = False) -> _TrackedFile | None:
        """Open `path` and track it. With `expect`, the file the caller found there: if
        another is there now, the expected one was rotated meanwhile and is found and read
        first; or, with `only_expected` (a file found by inode outside the globs, where the
        name may now be an unrelated file's), nothing is opened."""
        try:
            fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
        except FileNotFoundError:
            # gone since the glob (rotated, deleted): the next scan finds where it went
            log.info("%s vanished before it was opened", path)
            return None
        except OSError as exc:
            log.warning("cannot open %s: %s", path, exc.strerror)
            return None
        try:
            st = os.fstat(fd)
            identity = identify(fd, st.st_size)
            key = (identity.device, identity.inode)
            if key in self._files:  # raced with a rename: already tracked
                os.close(fd)
                return None
            if expect is not None and key != expect:
                os.close(fd)
                if only_expected:
                    return None
                return self._open_replaced(path, now, expect, predecessor)
            splitter = self._starting_point(fd, identity, st.st_size, path, from_start)
        except OSError as exc:
            os.close(fd)
            log.warning("cannot read %s: %s", path, exc.strerror)
            return None
        f = _TrackedFile(path, fd, identity, splitter, now)
        # A bound for its later generations even if it is rotated before its first read (a
        # successor waiting on its predecessor): 0 would take every sibling ever written.
        f.last_mtime_ns = st.st_mtime_ns
        f.needs_cursor = splitter.start > 0 and not self._resumed
        if predecessor is not None and predecessor in self._files:
            f.predecessor = predecessor
        self._files[key] = f
        if key in self._forgotten and self._keeper is not None:
            self._forgotten.discard(key)
            self._keeper.keep(key)  # the inode number was reused: its cursors count again
        log.info("tailing %s from offset %d", path, splitter.start)
        return f

    def _open_replaced(self, path: str, now: float, expected: InodeKey,
                       predecessor: InodeKey | None) -> _TrackedFile | None:
        """The file the scan found at `path` was renamed away (rotated) before we opened it,
        and a newer one took its place: read the one we expected first, where it went."""
        moved = _find_inode(Path(os.path.realpath(path)).parent, expected)
        if moved is not None:
            rotated = self._open(moved, now, predecessor=predecessor, expect=expected)
            if rotated is not None:
                rotated.unreachable_since = now
                self._rotations += 1
                predecessor = rotated.key
                log.info("%s was rotated to %s while being opened", path, moved)
        return self._open(path, now, predecessor=predecessor)

    def _starting_point(self, fd: int, identity: FileIdentity, size: int, path: str,
                        from_start: bool) -> LineSplitter:
        limit = self._config.max_line_bytes
        self._resumed = False
        saved = self._saved.pop((identity.device, identity.inode), None)
        if saved is not None and saved.offset == 0 and not saved.mid_line:
            saved = None  # nothing read yet (it waited for a slot): start as a new file would
        if saved is not None and not from_start:
            problem = _resume_problem(fd, saved, size)
            if problem is None:
                self._resumed = True
                return LineSplitter(saved.offset, limit, continued=saved.mid_line,
                                    tail=read_at(fd, saved.before_length,
                                                 saved.offset - saved.before_length))
            self._truncations += 1
            log.warning("%s: %s; not resuming at the saved offset", path, problem)
            # Its old content may live on in a copy (copytruncate): remember it. And this
            # file may itself be a copy of something read (a reused inode number): go on.
            self._recent.append(_cursor_content(saved))
            copy_of = self._copy_offset(fd, identity, size)
            if copy_of:
                return self._copy_splitter(fd, copy_of, path)
            return LineSplitter(0, limit, skip_nuls=True)
        if from_start:
            return LineSplitter(0, limit)
        copy_of = self._copy_offset(fd, identity, size)
        if copy_of:
            return self._copy_splitter(fd, copy_of, path)
        if self._start_at_end:
            end = _last_line_end(fd, size)
            return LineSplitter(end, limit, tail=read_at(fd, min(end, 256), end - min(end, 256)))
        return LineSplitter(0, limit)

    def _copy_splitter(self, fd: int, offset: int, path: str) -> LineSplitter:
        self._copy_bytes += offset
        log.info("%s is a copy of content already read; reading it from offset %d", path,
                 offset)
        before = min(offset, TAIL_BYTES)
        return LineSplitter(offset, self._config.max_line_bytes,
                            tail=read_at(fd, before, offset - before))

    def _copy_offset(self, fd: int, identity: FileIdentity, size: int) -> int:
        """If this new file starts with content another file already delivered, where that
        content ends; else 0.

        Runs for every file opened or starting to wait, against every open file, recent
        content and saved cursor: so the new file's head is read once, its prefix hashes
        are shared, and a candidate's content is built only when its fingerprint matches
        (5,000 files found at once took 18 s to open when each was compared in full)."""
        head = read_at(fd, min(size, FINGERPRINT_BYTES), 0)
        prefix_digests: dict[int, bytes] = {}

        def starts_with(fingerprint: bytes, length: int) -> bool:
            if length == 0 or size < length:
                return False
            digest = prefix_digests.get(length)
            if digest is None:
                digest = prefix_digests[length] = hashlib.sha256(head[:length]).digest()
            return digest == fingerprint

        def copied_up_to(c: _Content, open_fd: int | None) -> int:
            if size >= c.offset:
                if c.before_length and _hash_at(fd, c.before_length,
                                                c.offset - c.before_length) != c.before_hash:
                    return 0
            elif open_fd is not None:
                if not _same_bytes(fd, open_fd, size):
                    return 0  # same long header, different content: a different file
            elif c.fingerprint_length < FINGERPRINT_BYTES:
                return 0  # shorter than what was read, and too short to judge by its prefix
            return min(c.offset, size)

        best = 0
        for f in self._files.values():
            ident = f.identity
            if f.splitter.start > best and starts_with(ident.fingerprint,
                                                       ident.fingerprint_length):
                best = max(best, copied_up_to(f.content(), f.fd))
        for c in self._recent:
            if c.offset > best and starts_with(c.fingerprint, c.fingerprint_length):
                best = max(best, copied_up_to(c, None))
        for saved in self._saved.values():
            ident = saved.identity
            if saved.offset > best and starts_with(ident.fingerprint, ident.fingerprint_length):
                best = max(best, copied_up_to(_cursor_content(saved), None))
        return best

    def _reopen_idle_closed_if_rotated(self, found: dict[InodeKey, str], now: float) -> None:
        """An idle-closed file that left the globs (rotated or deleted while closed): if it
        grew before it went, reopen it by inode and drain it."""
        for key in [k for k in self._idle_closed if k not in found]:
            _, real_path = self._idle_closed.pop(key)
            cursor = self._saved.get(key)
            if cursor is None:
                continue
            path = _find_inode_in(_where_it_may_be(cursor.path, real_path), key)
            if path is None or not _is_it(path, cursor, real_path):
                self._saved.pop(key, None)
                continue
            f = self._open(path, now, expect=key, only_expected=True)
            if f is not None:
                f.unreachable_since = now
                self._rotations += 1

    def _resume_rotated_while_stopped(self, found: dict[InodeKey, str], now: float) -> None:
        """A saved file renamed out of the globs while the agent was stopped: drain it."""
        for key, cursor in list(self._saved.items()):
            if key in found:
                continue
            directories = _where_it_may_be(cursor.path)
            path = _find_inode_in(directories, key)
            if path is None and all(d.is_dir() for d in directories):
                # Gone from a directory we can read: deleted, or moved where no glob looks.
                # (A missing directory may be a volume not mounted yet: keep the cursor.)
                # What it delivered may live on in a copy not yet seen (copytruncate, then
                # the original deleted while stopped): remember it to recognise the copy.
                self._recent.append(_cursor_content(self._saved.pop(key)))
                self._forget(key, cursor.path, "no longer in its directory")
                continue
            if path is None or not _is_it(path, cursor, os.path.realpath(cursor.path)):
                continue  # its inode number now belongs to an unrelated file
            f = self._open(path, now, expect=key, only_expected=True)
            if f is not None:
                f.unreachable_since = now
                log.info("%s was rotated to %s while stopped; reading the rest", cursor.path,
                         path)

    def _find_missed_generations(self, rotated: _Occupant, found: dict[InodeKey, str],
                                 now: float) -> InodeKey:
        """Open files renamed away before any scan saw them (rotated twice within one
        interval): siblings named like the rotated file and modified after its last read.
        Returns the key of the newest generation (the rotated file's own if none)."""
        candidates = [(mtime, path) for mtime, path in self._rotation_siblings(
            rotated.real_path, found) if mtime >= rotated.last_mtime_ns]  # same tick: coarse
        return self._open_generations(candidates, rotated.key, now,
                                      "a generation rotated away before it was seen")

    def _open_copies(self, content: _Content, real_path: str, found: dict[InodeKey, str],
                     now: float, previous: InodeKey) -> InodeKey:
        """copytruncate whose copy no glob matches (`paths = [app.log]`, `app.log.1`): the
        lines written between our last read and the truncation are only in the copy. Open
        the siblings named like a rotation of `real_path` that hold the content read
        (`content`) and more, oldest first, each after `previous`: the existing copy
        detection starts them where that content ends. Judged by content, not by time: a
        sibling merely written lately (another worker's `app.log.2`) is not a copy.
        Returns the newest one's key (`previous` if none)."""
        candidates = [(mtime, path) for mtime, path in self._rotation_siblings(real_path, found)
                      if _holds_more_than(path, content)]
        return self._open_generations(candidates, previous, now,
                                      "a copy holding lines not read yet (copytruncate)")

    def _rotation_siblings(self, real_path: str,
                           found: dict[InodeKey, str]) -> list[tuple[int, str]]:
        """(mtime, path) of the regular files beside `real_path` named like its rotation
        (never compressed or excluded) that are not matched, open or waiting."""
        directory = os.path.dirname(real_path)
        base = os.path.basename(real_path)
        listing = self._listing(directory)
        if listing is None:
            return []
        out = []
        names, entries = listing
        for entry in entries[bisect.bisect_left(names, base):]:
            name = entry.name
            if not name.startswith(base):
                break  # sorted: no later name starts with it
            if (not ROTATED_SUFFIX.fullmatch(name, len(base))
                    or name.endswith(COMPRESSED_SUFFIXES)
                    or any(fnmatch.fnmatch(entry.path, ex) for ex in self._config.exclude)):
                continue
            try:
                st = entry.stat()
            except OSError:
                continue
            key = (st.st_dev, st.st_ino)
            if (stat.S_ISREG(st.st_mode) and key not in self._files and key not in found
                    and key not in self._waiting):
                out.append((st.st_mtime_ns, entry.path))
        return out

    def _open_generations(self, candidates: list[tuple[int, str]], previous: InodeKey,
                          now: float, what: str) -> InodeKey:
        """Open `candidates` ((mtime, path)) oldest first as rotated files, each read after
        the one before (the first after `previous`); the newest's key."""
        for _, path in sorted(candidates):
            f = self._open(path, now)
            if f is None:
                continue
            f.unreachable_since = now
            f.predecessor = previous
            previous = f.key
            log.info("found %s, %s", path, what)
        return previous

    def _listing(self, directory: str) -> tuple[list[str], list[os.DirEntry[str]]] | None:
        """The directory's entries sorted by name, listed once per scan: thousands of new
        files in one directory each search it for generations (a listing per file made
        that scan quadratic)."""
        listing = self._listings.get(directory)
        if listing is None:
            try:
                with os.scandir(directory) as it:
                    entries = sorted(it, key=lambda e: e.name)
            except OSError:
                return None
            listing = self._listings[directory] = ([e.name for e in entries], entries)
        return listing

    # -- reading -----------------------------------------------------------------------------

    async def _read_all(self) -> bool:
        await self._put_pending_cursors()
        progressed = False
        for f in list(self._files.values()):
            if f.predecessor is not None:
                if f.predecessor in self._waiting:
                    continue  # its predecessor waits for a slot (and is given one first)
                before = self._files.get(f.predecessor)
                if before is not None and not self._drained(before):
                    continue  # keep write order across a rotation
                f.predecessor = None
            if await self._read_one(f):
                progressed = True
        return progressed

    def _drained(self, f: _TrackedFile) -> bool:
        try:
            return os.fstat(f.fd).st_size <= f.splitter.read_position
        except OSError:
            return True

    async def _put_pending_cursors(self) -> None:
        """Emit the cursor of every file opened past its start (copies above all) before
        any line is read, and of files that began waiting for a slot (so that a restart
        follows them too). A copy is recognised only while the content it copies is known:
        in memory, or in a saved cursor of the original. Once a batch of the truncated
        original's new content is acknowledged, the copy's own cursor is the only record
        left, so it must be acknowledged first or a restart reads the copy again."""
        while self._waiting_cursors:
            await self._put(LineBatch(self._waiting_cursors.pop(0), ()))
        for f in list(self._files.values()):
            if f.needs_cursor:
                f.needs_cursor = False
                await self._put(LineBatch(f.cursor(), ()))

    async def _read_one(self, f: _TrackedFile) -> bool:
        if f.needs_cursor:
            f.needs_cursor = False
            await self._put(LineBatch(f.cursor(), ()))
        try:
            st = os.fstat(f.fd)
        except OSError as exc:
            log.warning("cannot stat %s: %s", f.path, exc.strerror)
            return False
        size = st.st_size
        position = f.splitter.read_position
        changed = st.st_mtime_ns != f.last_mtime_ns
        f.last_mtime_ns = st.st_mtime_ns
        # Grown, or rewritten to the same size: the content checks tell a truncate-and-rewrite
        # (copytruncate, `>`) from an append.
        if size < position or ((size > position or changed) and self._rewritten(f, size)):
            self._listings.pop(os.path.dirname(f.real_path), None)  # the copy is newer
            copy = self._open_copies(f.content(), f.real_path, self._matched_now(),
                                     self._monotonic(), NO_FILE)
            self._restart_from_zero(f, size)
            position = 0
            # The content just lost may live on in a copy (copytruncate copies, then
            # truncates): open it and record its cursor before any batch carries this
            # file's new content, whose cursor no longer describes the old one.
            self._scan()
            await self._put_pending_cursors()
            if self._files.get(f.key) is not f:
                return True  # closed while we waited (held open too long)
            if copy != NO_FILE:
                f.predecessor = copy  # its new content after the copy's unread end
                return True
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
            await self._put(LineBatch(f.cursor(), tuple(lines)))
        return True

    def _matched_now(self) -> dict[InodeKey, str]:
        """The files the last scan matched, by key (their copies are found by the scan)."""
        return {key: path for path, key in self._at_path.items()}

    async def _put(self, batch: LineBatch) -> None:
        """Queue a batch, waiting as long as it takes (backpressure). While waiting, still
        enforce the bound on how long rotated/deleted files are held open."""
        while True:
            try:
                async with asyncio.timeout(1.0):
                    await self._out.put(batch)
                return
            except TimeoutError:
                self._scan()  # notice rotations and deletions while blocked
                self._enforce_hold_limit()

    def _rewritten(self, f: _TrackedFile, size: int) -> bool:
        """True when the bytes already read are no longer there (truncated and rewritten to
        at least the old length before we looked)."""
        if not fingerprint_matches(f.fd, f.identity):
            return True
        tail = f.splitter.tail
        if tail:
            return read_at(f.fd, len(tail), f.splitter.start - len(tail)) != tail
        return False

    def _restart_from_zero(self, f: _TrackedFile, size: int) -> None:
        self._truncations += 1
        log.warning("%s truncated or rewritten (size %d, read to %d); reading from the start",
                    f.path, size, f.splitter.read_position)
        self._recent.append(f.content())
        self._truncated_lines += f.splitter.truncated_lines
        self._nuls += f.splitter.nul_bytes_skipped
        f.splitter = LineSplitter(0, self._config.max_line_bytes, skip_nuls=True)
        f.identity = identify(f.fd, size)

    async def _finish_idle(self) -> None:
        """Ship long-idle partial lines; close rotated files once drained (or held too long)."""
        now = self._monotonic()
        cfg = self._config
        for key, f in list(self._files.items()):
            idle = now - f.last_data
            if f.splitter.pending_bytes and idle >= cfg.partial_idle_secs:
                line = f.splitter.flush_partial(self._wall_ns())
                if line is not None:
                    self._lines += 1
                    await self._put(LineBatch(f.cursor(), (line,)))
            if key not in self._files:
                continue
            if f.unreachable_since is None:
                if (idle >= cfg.close_idle_secs and not f.splitter.pending_bytes
                        and f.predecessor is None and self._drained(f)):
                    self._saved[key] = f.cursor()
                    self._idle_closed[key] = (_size(f.fd), f.real_path)
                    self._close(key, f, f"after {idle:.0f} s idle (reopened when it grows)")
                continue
            drained = self._drained(f) and not f.splitter.pending_bytes
            if drained and idle >= cfg.rotate_wait_secs and now - f.unreachable_since >= (
                    cfg.rotate_wait_secs):
                self._close(key, f, "after reading it to the end")
                self._forget(key, f.path, "rotated or deleted, and read to its end")
        self._enforce_hold_limit()

    def _enforce_hold_limit(self) -> None:
        """Close rotated/deleted files held longer than `max_rotated_open_secs`, counting and
        reporting the bytes left unread (a deleted file held open keeps its disk space)."""
        now = self._monotonic()
        for key, f in list(self._files.items()):
            if (f.unreachable_since is None
                    or now - f.unreachable_since < self._config.max_rotated_open_secs):
                continue
            unread = max(0, _size(f.fd) - f.splitter.start)
            self._dropped += unread
            log.error("%s: rotated or deleted %.0f s ago and not drained; closing it with %d "
                      "bytes unread (tail.max_rotated_open_secs)", f.path,
                      now - f.unreachable_since, unread)
            self._close(key, f, "held open too long")

    def _close(self, key: InodeKey, f: _TrackedFile, why: str) -> None:
        self._recent.append(f.content())
        self._truncated_lines += f.splitter.truncated_lines
        self._nuls += f.splitter.nul_bytes_skipped
        os.close(f.fd)
        del self._files[key]
        log.info("closed %s %s", f.path, why)

    def _forget(self, key: InodeKey, path: str, why: str) -> None:
        if self._keeper is not None:
            log.debug("forgetting the cursor of %s: %s", path, why)
            self._forgotten.add(key)
            self._keeper.forget(key)

    # -- change notification ----------------------------------------------------------------

    def _watch_dirs(self) -> list[str]:
        dirs = set()
        for pattern in self._config.paths:
            static = _takewhile_static(Path(os.path.abspath(pattern)).parts)
            base = Path(*static) if static else Path("/")
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


def _resume_problem(fd: int, saved: Cursor, size: int) -> str | None:
    """Why a saved offset cannot be trusted for this file, or None if it can."""
    if saved.offset > size:
        return f"shorter ({size}) than the saved offset {saved.offset}: truncated while stopped"
    if not fingerprint_matches(fd, saved.identity):
        return "its first bytes changed: a different file (reused inode) or rewritten"
    if saved.before_length and _hash_at(fd, saved.before_length,
                                        saved.offset - saved.before_length) != saved.before_hash:
        return "the bytes before the saved offset changed: rewritten while stopped"
    return None


def _is_it(path: str, cursor: Cursor, real_path: str) -> bool:
    """Whether the file found by inode at `path`, outside the globs, is the one `cursor`
    (with `real_path`, where its name led) was taken from, rather than an unrelated file
    that reused its inode number: it still holds what the cursor describes, or it is
    named as its rotation would name it (app.log.1, 0.log.20261204-120000). The latter
    covers a file truncated and rewritten (an application restarted) and then rotated
    before we looked again: read from its start, as `_open` decides. A file reusing the
    inode number under such a name is a generation of the same log, unread, all the same.
    An empty file's content tells nothing: it is taken only under such a name."""
    if cursor.identity.fingerprint_length and _same_content(path, cursor):
        return True
    name = Path(path).name
    if name.endswith(COMPRESSED_SUFFIXES):
        return False  # a compressor's new file (app.log.1.gz) may get the freed inode number
    return any(name.startswith(base) and ROTATED_SUFFIX.fullmatch(name, len(base)) is not None
               for base in {Path(cursor.path).name, Path(real_path).name})


def _holds_more_than(path: str, content: _Content) -> bool:
    """True when the file at `path` starts with what `content` describes (its first bytes,
    and the bytes before its offset) and goes on past it: a copy with lines not read."""
    if not content.fingerprint_length:
        return False
    try:
        fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
    except OSError:
        return False
    try:
        if os.fstat(fd).st_size <= content.offset:
            return False
        if _hash_at(fd, content.fingerprint_length, 0) != content.fingerprint:
            return False
        return not content.before_length or _hash_at(
            fd, content.before_length, content.offset - content.before_length
        ) == content.before_hash
    except OSError:
        return False
    finally:
        os.close(fd)


def _same_content(path: str, cursor: Cursor) -> bool:
    """True when the file at `path` still holds what `cursor` was taken from."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
    except OSError:
        return False
    try:
        return _resume_problem(fd, cursor, os.fstat(fd).st_size) is None
    except OSError:
        return False
    finally:
        os.close(fd)


def _hash_at(fd: int, length: int, offset: int) -> bytes:
    return hashlib.sha256(read_at(fd, length, offset)).digest()


def _same_bytes(fd_a: int, fd_b: int, length: int) -> bool:
    """True when both files hold the same first `length` bytes."""
    offset, step = 0, 1 << 20
    while offset < length:
        n = min(step, length - offset)
        if os.pread(fd_a, n, offset) != os.pread(fd_b, n, offset):
            return False
        offset += n
    return True


def _size(fd: int) -> int:
    try:
        return os.fstat(fd).st_size
    except OSError:
        return 0


def _last_line_end(fd: int, size: int) -> int:
    """Offset just after the last newline in the file (0 if none in its last 64 KiB)."""
    start = max(0, size - 65536)
    tail = read_at(fd, size - start, start)
    i = tail.rfind(b"\n")
    return start + i + 1 if i >= 0 else start if start else 0


def _where_it_may_be(path: str, real_path: str | None = None) -> list[Path]:
    """Directories where a file last seen at `path` would be after a rotation: beside the
    name it was matched by, and beside the file the name leads to (a symlink's target
    directory: the kubelet rotates /var/log/pods/.../0.log, not /var/log/containers/x.log),
    now and, when known, when it was last seen."""
    out = [Path(path).parent]
    for real in (os.path.realpath(path), real_path):
        if real is not None and Path(real).parent not in out:
            out.append(Path(real).parent)
    return out


def _find_inode_in(directories: list[Path], key: InodeKey) -> str | None:
    for directory in directories:
        path = _find_inode(directory, key)
        if path is not None:
            return path
    return None


def _find_inode(directory: Path, key: InodeKey) -> str | None:
    try:
        with os.scandir(directory) as entries:
            for entry in entries:
                if entry.inode() == key[1] and entry.is_file(follow_symlinks=False):
                    st = entry.stat(follow_symlinks=False)
                    if (st.st_dev, st.st_ino) == key:
                        return entry.path
    except OSError:
        return None
    return None


def _takewhile_static(parts: tuple[str, ...]) -> list[str]:
    out = []
    for p in parts:
        if glob.has_magic(p):
            break
        out.append(p)
    return out
