"""The spool: sealed segments on disk until the collector acknowledges them.

Layout of the state directory::

    spool/00000000000000000042.seg   one sealed segment (framed, see _frame)
    head.json                        chain head and cursors through the last acknowledged seq
    anchor.checkpoint                the largest signed collector checkpoint received in an ack
    quarantine/                      files found corrupt at start-up, kept for inspection
    spool.reserve                    RESERVE_BYTES kept on disk to record acks on a full disk

Durability: a segment is written to a temp file, fsynced, renamed into place and the
directory fsynced before anything depends on it. On an ack, head.json is replaced the same way
*before* segment files are deleted, so the chain head and cursors are always recoverable:
head.json, then every segment still in the spool, in seq order.

Bounds: the spool holds at most `max_bytes` and `max_segments` unacknowledged (one segment
always fits). With the policy "block" (the only one: an audit log must not drop), `append`
waits for acknowledgements when full, so the sealer stops, the queues fill and the tailer
stops reading: backpressure to the files, whose cursors simply wait.

Disk full (ENOSPC, EDQUOT): the partial temp file is removed, the error is reported once, and
the write is retried with backoff until space returns; nothing is dropped. Recording an ack
on a full disk would deadlock (no room for head.json, so no segment can be deleted), so a
small reserve file is released for it.
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import json
import logging
import os
import random
import struct
import time
import zlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from google.protobuf.message import DecodeError

from agent._pb import sealtail_pb2 as pb
from agent.config import SpoolConfig
from agent.dirlock import lock_directory
from agent.errors import ErrorCode, SealtailError, SpoolError, VerificationError
from agent.formats import verify_segment
from agent.records import ChainHead, Cursor, FileIdentity, SealedSegment

log = logging.getLogger("sealtail.spool")

MAGIC = b"STSEG01\n"
ANCHOR_FILE = "anchor.checkpoint"
RESERVE_FILE = "spool.reserve"
RESERVE_BYTES = 64 * 1024  # head.json and anchor.checkpoint fit many times over
_FRAME = struct.Struct(">II")  # payload length, CRC-32 of payload
_DISK_FULL = frozenset({errno.ENOSPC, errno.EDQUOT})
_DISK_FULL_RETRY_SECS = (0.05, 2.0)  # first and largest delay between write attempts
InodeKey = tuple[int, int]


@dataclass(frozen=True, slots=True)
class SpoolStatistics:
    segments: int
    bytes: int
    oldest_seq: int | None
    quarantined: int
    max_bytes: int = 0
    max_segments: int = 0
    policy: str = "block"
    oldest_age_secs: float = 0.0  # how long the oldest unacknowledged segment has waited
    full: bool = False  # an append is waiting for room (reading has stopped)
    disk_full: bool = False  # the last write failed with ENOSPC/EDQUOT; retrying
    disk_full_events: int = 0


@dataclass(frozen=True, slots=True)
class _Pending:
    seq: int
    path: Path
    size: int
    next_head: ChainHead
    cursors: tuple[Cursor, ...]
    since: float = 0.0  # wall-clock time it entered the spool (file mtime after a restart)
    head_before: ChainHead = ChainHead.genesis()  # the chain head this segment continues


def is_disk_full(exc: OSError) -> bool:
    return exc.errno in _DISK_FULL


def frame_head(payload: bytes) -> bytes:
    """The bytes before `payload` in its spool file (written apart: no copy of the payload)."""
    return MAGIC + _FRAME.pack(len(payload), zlib.crc32(payload))


def unframe(data: bytes, *, where: str) -> bytes:
    """Payload of a framed spool file; SpoolError when torn or corrupt."""
    head = len(MAGIC) + _FRAME.size
    if len(data) < head or not data.startswith(MAGIC):
        raise SpoolError(f"{where}: not a sealtail segment file (bad magic or too short)")
    length, crc = _FRAME.unpack_from(data, len(MAGIC))
    return _check_payload(data[head:], length, crc, where=where)


def read_framed(path: Path) -> bytes:
    """`unframe(path.read_bytes())`, reading the payload into its own bytes (no copy)."""
    head = len(MAGIC) + _FRAME.size
    with path.open("rb") as f:
        start = f.read(head)
        if len(start) < head or not start.startswith(MAGIC):
            raise SpoolError(f"{path}: not a sealtail segment file (bad magic or too short)")
        length, crc = _FRAME.unpack_from(start, len(MAGIC))
        return _check_payload(f.read(), length, crc, where=str(path))


def _check_payload(payload: bytes, length: int, crc: int, *, where: str) -> bytes:
    if len(payload) != length:
        raise SpoolError(f"{where}: torn write: {len(payload)} of {length} payload bytes")
    if zlib.crc32(payload) != crc:
        raise SpoolError(f"{where}: checksum mismatch")
    return payload


def fsync_dir(directory: Path) -> None:
    fd = os.open(directory, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def atomic_write(path: Path, data: bytes | Sequence[bytes]) -> None:
    """temp file → fsync → rename → fsync directory: a crash leaves the old or the new file.

    `data` is the content, or its parts in order (written one after another, never joined:
    a segment is not copied to put its frame in front).
    When a write fails (a full disk) the temp file is removed, so a failed attempt does not
    keep the space it took.
    """
    tmp = path.with_name(f".{path.name}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_CLOEXEC, 0o600)
    try:
        try:
            for part in (data,) if isinstance(data, bytes) else data:
                view = memoryview(part)
                while view:
                    view = view[os.write(fd, view):]
            os.fsync(fd)
        finally:
            os.close(fd)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            tmp.unlink()
        raise
    fsync_dir(path.parent)


LOCK_FILE = "agent.lock"


def check_state_dir(directory: Path) -> None:
    """Raise SpoolError (one line, naming the directory) unless `directory` is, or can be
    created as, a directory this process can write: not a file, not read-only, not lacking
    write permission. Changes nothing (used by `sealtail config check` and at start-up)."""
    target = directory
    while not target.exists():
        if target.parent == target:
            break
        target = target.parent
    what = "state directory" if target == directory else f"state directory {directory}: parent"
    if not target.is_dir():
        raise SpoolError(f"{what} {target} is not a directory")
    try:
        read_only = bool(os.statvfs(target).f_flag & os.ST_RDONLY)
    except OSError as exc:
        raise SpoolError(f"{what} {target} cannot be used: {exc.strerror}") from exc
    if read_only:
        raise SpoolError(f"{what} {target} is on a read-only file system")
    if not os.access(target, os.W_OK | os.X_OK):
        raise SpoolError(f"{what} {target} is not writable by this user (uid {os.geteuid()})")


def lock_state_dir(directory: Path) -> int:
    """Check and create the state directory and take STATE/agent.lock for this process's life;
    returns the descriptor to keep open. Raises SpoolError (state_dir_in_use) naming the pid
    of another agent holding it, or (spool_io) when the directory cannot be written."""
    check_state_dir(directory)

    def in_use(pid: int | None) -> SealtailError:
        holder = "another agent" if pid is None else f"pid {pid}"
        return SpoolError(f"state directory {directory} is in use by {holder}; two agents must "
                          "not share one state directory (give each its own agent.state_dir)",
                          code=ErrorCode.STATE_DIR_IN_USE)

    try:
        return lock_directory(directory, LOCK_FILE, in_use)
    except OSError as exc:
        raise SpoolError(f"state directory {directory} cannot be used: {exc.strerror}") from exc


def cursor_to_json(c: Cursor) -> dict[str, object]:
    i = c.identity
    return {"path": c.path, "device": i.device, "inode": i.inode,
            "fingerprint": i.fingerprint.hex(), "fingerprint_length": i.fingerprint_length,
            "offset": c.offset, "before_hash": c.before_hash.hex(),
            "before_length": c.before_length, "mid_line": c.mid_line}


def cursor_from_json(d: dict[str, Any]) -> Cursor:
    ident = FileIdentity(int(d["device"]), int(d["inode"]), bytes.fromhex(d["fingerprint"]),
                         int(d["fingerprint_length"]))
    return Cursor(str(d["path"]), ident, int(d["offset"]),
                  bytes.fromhex(d.get("before_hash", "")), int(d.get("before_length", 0)),
                  bool(d.get("mid_line", False)))


def cursor_from_pb(s: pb.SourceCursor) -> Cursor:
    return Cursor(s.path, FileIdentity(s.device, s.inode, s.fingerprint, s.fingerprint_length),
                  s.offset, s.before_hash, s.before_length, s.mid_line)


class Spool:
    """Durable queue of sealed segments. Open with `Spool.open` (runs recovery).

    After `open`, `head` is where the next segment continues the chain and `cursors` is where
    each known file should resume.
    """

    def __init__(self, directory: Path, agent_key: bytes,
                 config: SpoolConfig | None = None) -> None:
        self._config = config or SpoolConfig()
        self._dir = directory
        self._reserve = directory / RESERVE_FILE
        self._seg_dir = directory / "spool"
        self._quarantine = directory / "quarantine"
        self._head_file = directory / "head.json"
        self.anchor_file = directory / ANCHOR_FILE
        self.anchor: bytes | None = None
        self._agent_key = agent_key
        self._pending: dict[int, _Pending] = {}
        self._acked_head = ChainHead.genesis()
        self._acked_cursors: dict[InodeKey, Cursor] = {}
        # Files the tailer is done with: their cursors leave head.json once no unacknowledged
        # segment carries one (else an ack would bring them back).
        self._forgotten: set[InodeKey] = set()
        self.head = ChainHead.genesis()
        self.cursors: dict[InodeKey, Cursor] = {}
        self.fresh = False  # no state at all was found: this is the agent's first start
        # Wall time of the newest record the previous run left (head.json or a segment):
        # every line it sealed was read before then. None on a first start.
        self.last_record_wall_ns: int | None = None
        self.head_lost = False  # head.json was unreadable and no segment replaced it
        self._quarantined = 0
        self._appended = 0  # segments appended since open; waiters compare against it
        self._new_segment = asyncio.Condition()
        self._room = asyncio.Condition()  # notified when acks free room
        self._io_lock = asyncio.Lock()  # one spool write at a time: acks get freed space first
        self._bytes = 0
        self._waiting_for_room = False
        self._disk_full = False
        self._disk_full_events = 0

    @classmethod
    def open(cls, directory: Path, agent_key: bytes,
             config: SpoolConfig | None = None) -> Spool:
        """Open (create) the state directory and recover: never fails on a corrupt file.

        Raises SpoolError only when the directory itself cannot be used.
        """
        spool = cls(directory, agent_key, config)
        try:
            for d in (directory, spool._seg_dir, spool._quarantine):
                d.mkdir(mode=0o700, parents=True, exist_ok=True)
            spool._recover()
        except OSError as exc:
            raise SpoolError(f"{directory}: cannot use state directory: {exc.strerror}") from exc
        spool._ensure_reserve()
        return spool

    def _ensure_reserve(self) -> bool:
        """Keep RESERVE_BYTES allocated on disk (best effort; False when there is no room)."""
        try:
            self._make_reserve()
            return True
        except OSError as exc:
            log.warning("%s: cannot keep the disk-full reserve (%s); segments wait for it",
                        self._reserve, exc.strerror)
            return False

    def _make_reserve(self) -> None:
        if not (self._reserve.exists() and self._reserve.stat().st_size == RESERVE_BYTES):
            atomic_write(self._reserve, bytes(RESERVE_BYTES))

    # -- recovery ---------------------------------------------------------------------------

    def _recover(self) -> None:
        self.fresh = not self._head_file.exists() and not any(self._seg_dir.glob("*.seg"))
        records = [self._head_file, *self._seg_dir.glob("*.seg")]
        times = [p.stat().st_mtime_ns for p in records if p.exists()]
        self.last_record_wall_ns = max(times) if times else None
        if self.anchor_file.exists():
            self.anchor = self.anchor_file.read_bytes()
        if self._head_file.exists():
            try:
                self._load_head_file()
            except SpoolError as exc:
                # Never a crash loop: keep the file for inspection, recover the chain head
                # from the spool or the collector (see daemon), re-read files without cursor.
                self._quarantine_file(self._head_file, str(exc))
                self.head_lost = True
        self.head, self.cursors = self._acked_head, dict(self._acked_cursors)
        # Without a readable head.json the spool's own segments say where the chain stands:
        # the lowest valid one (signed with this agent's key) starts it. Never quarantine a
        # valid continuation only because the head file is missing.
        head_known = self._head_file.exists()
        for path in sorted(self._seg_dir.glob("*.seg")):
            try:
                pending = self._load_segment(path)
            except (SpoolError, VerificationError) as exc:
                self._quarantine_file(path, str(exc))
                continue
            if not head_known and not self._pending:
                self._acked_head = self.head = pending.head_before
                head_known = True
                log.warning("%s: no chain head file; the chain continues from the spool's "
                            "first segment (seq %d)", self._dir, pending.seq)
            if pending.seq < self.head.next_seq:
                log.info("%s: already acknowledged (head is at %d); removing", path,
                         self.head.next_seq)
                path.unlink()
                continue
            if pending.seq != self.head.next_seq:
                self._quarantine_file(path, f"seq {pending.seq} does not follow "
                                            f"{self.head.next_seq - 1}")
                continue
            self._pending[pending.seq] = pending
            self.head = pending.next_head
            self.head_lost = False
            for c in pending.cursors:
                self.cursors[(c.identity.device, c.identity.inode)] = c
        for tmp in [*self._seg_dir.glob(".*.tmp"), *self._dir.glob(".*.tmp")]:
            tmp.unlink()  # an interrupted write; its segment was never acknowledged to anyone
        self._bytes = sum(p.size for p in self._pending.values())
        if self._pending:
            log.info("spool holds %d unacknowledged segments (seq %d..%d)", len(self._pending),
                     min(self._pending), max(self._pending))

    def _load_head_file(self) -> None:
        try:
            data = json.loads(self._head_file.read_text())
            self._acked_head = ChainHead(int(data["next_seq"]), bytes.fromhex(data["prev_hash"]),
                                         int(data["lines_total"]))
            cursors = [cursor_from_json(c) for c in data["cursors"]]
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise SpoolError(f"unreadable chain head ({exc})",
                             code=ErrorCode.SPOOL_CORRUPT) from exc
        self._acked_cursors = {(c.identity.device, c.identity.inode): c for c in cursors}

    def _load_segment(self, path: Path) -> _Pending:
        raw = path.read_bytes()
        payload = unframe(raw, where=str(path))
        try:
            seg = pb.Segment.FromString(payload)
        except DecodeError as exc:
            raise SpoolError(f"{path}: segment does not parse: {exc}") from exc
        verified = verify_segment(seg.header, seg.signature, list(seg.entries),
                                  expected_key=self._agent_key)
        h = verified.header
        return _Pending(
            seq=h.seq, path=path, size=len(raw),
            next_head=ChainHead(h.seq + 1, verified.segment_hash, h.lines_before + h.count),
            cursors=tuple(cursor_from_pb(s) for s in h.sources),
            since=path.stat().st_mtime,
            head_before=ChainHead(h.seq, h.prev_hash, h.lines_before),
        )

    def adopt_head(self, head: ChainHead) -> None:
        """Continue the chain from `head` (learned from the collector after state was lost,
        or genesis): written durably to head.json before anything is sealed on top of it, so
        a restart before the first acknowledgement still knows where the chain stands.

        Raises SpoolError when head.json cannot be written.
        """
        if self._pending:
            raise RuntimeError("adopt_head with segments in the spool")
        self._acked_head = self.head = head
        try:
            atomic_write(self._head_file, self._head_body())
        except OSError as exc:
            raise SpoolError(f"{self._head_file}: cannot record the chain head: "
                             f"{exc.strerror}") from exc
        self.head_lost = False

    def _head_body(self) -> bytes:
        return json.dumps({
            "next_seq": self._acked_head.next_seq,
            "prev_hash": self._acked_head.prev_hash.hex(),
            "lines_total": self._acked_head.lines_total,
            "cursors": [cursor_to_json(c) for c in self._acked_cursors.values()],
        }, indent=1).encode()

    def _quarantine_file(self, path: Path, why: str) -> None:
        self._quarantined += 1
        target = self._quarantine / f"{path.name}.{time.time_ns()}"
        os.replace(path, target)
        log.error("spool file %s is unusable (%s); moved to %s", path, why, target)

    # -- writing ----------------------------------------------------------------------------

    def _segment_path(self, seq: int) -> Path:
        return self._seg_dir / f"{seq:020d}.seg"

    def _has_room(self, size: int) -> bool:
        cfg = self._config
        return not self._pending or (self._bytes + size <= cfg.max_bytes
                                     and len(self._pending) < cfg.max_segments)

    async def wait_for_room(self, size: int) -> None:
        """Wait until a segment of `size` bytes fits (policy "block"; one always fits)."""
        if self._has_room(size):
            return
        self._waiting_for_room = True
        log.warning("spool full (%d segments, %d bytes; max_segments=%d, max_bytes=%d): "
                    "reading stops until the collector acknowledges", len(self._pending),
                    self._bytes, self._config.max_segments, self._config.max_bytes)
        try:
            async with self._room:
                await self._room.wait_for(lambda: self._has_room(size))
        finally:
            self._waiting_for_room = False
        log.info("spool has room again; reading resumes")

    async def append(self, seg: SealedSegment) -> None:
        """Write a sealed segment durably (off the event loop), then make it available.

        Waits while the spool is full and, on a full disk, retries until space returns.
        Raises SpoolError for any other write failure.
        """
        payload = pb.Segment(header=seg.header, signature=seg.signature,
                             entries=seg.entries).SerializeToString()
        data = (frame_head(payload), payload)
        size = len(data[0]) + len(payload)
        path = self._segment_path(seg.seq)
        await self.wait_for_room(size)
        await self._write_retrying(path, data, what=f"segment seq={seg.seq}")
        next_head = ChainHead(seg.seq + 1, seg.segment_hash, seg.lines_before + len(seg.entries))
        self._pending[seg.seq] = _Pending(seg.seq, path, size, next_head, seg.cursors,
                                          time.time())
        self._bytes += size
        self.head = next_head
        self._appended += 1
        async with self._new_segment:
            self._new_segment.notify_all()

    async def _write_retrying(self, path: Path, data: bytes | Sequence[bytes], *,
                              what: str) -> None:
        delay, cap = _DISK_FULL_RETRY_SECS
        while True:
            try:
                async with self._io_lock:
                    # Segments never take the reserve's room: it is re-made first, so an ack
                    # can always be recorded (and space freed) on a disk our spool filled.
                    await asyncio.to_thread(self._make_reserve)
                    await asyncio.to_thread(atomic_write, path, data)
            except OSError as exc:
                if not is_disk_full(exc):
                    raise SpoolError(f"{path}: cannot write {what}: {exc.strerror}") from exc
                if not self._disk_full:
                    self._disk_full = True
                    self._disk_full_events += 1
                    log.error("%s: disk full writing %s (%s): reading stops; retrying until "
                              "space returns, nothing is dropped", self._dir, what, exc.strerror)
                await asyncio.sleep(random.uniform(delay / 2, delay))
                delay = min(cap, delay * 2)
                continue
            if self._disk_full:
                self._disk_full = False
                log.warning("%s: space is back; %s written, reading resumes", self._dir, what)
            return

    # -- reading and acknowledging ----------------------------------------------------------

    def pending_seqs(self) -> list[int]:
        return sorted(self._pending)

    @property
    def appended(self) -> int:
        """How many segments were appended since open (a cursor for `wait_for_segment`)."""
        return self._appended

    async def wait_for_segment(self, seen: int) -> None:
        """Wait until more than `seen` segments have been appended (returns at once if so)."""
        async with self._new_segment:
            await self._new_segment.wait_for(lambda: self._appended > seen)

    def forget(self, key: InodeKey) -> None:
        """The file with this (device, inode) is gone and fully read: drop its cursor from
        the chain head written at the next acknowledgement (head.json would otherwise grow
        by one cursor per rotated file, forever)."""
        self._forgotten.add(key)
        self.cursors.pop(key, None)

    def keep(self, key: InodeKey) -> None:
        """Undo `forget`: the tailer reads a file with this (device, inode) again."""
        self._forgotten.discard(key)

    def _prune_forgotten(self, still_pending: list[_Pending]) -> None:
        if not self._forgotten:
            return
        carried = {(c.identity.device, c.identity.inode)
                   for p in still_pending for c in p.cursors}
        for key in self._forgotten - carried:
            self._acked_cursors.pop(key, None)
        self._forgotten &= carried

    async def read(self, seq: int) -> bytes:
        """The Segment message bytes of a pending segment."""
        pending = self._pending[seq]
        try:
            return await asyncio.to_thread(read_framed, pending.path)
        except OSError as exc:
            raise SpoolError(f"{pending.path}: cannot read segment seq={seq}: "
                             f"{exc.strerror}") from exc

    async def ack(self, seq: int, anchor: bytes | None = None) -> None:
        """The collector holds every segment through `seq`: record that, then delete them.

        `anchor`, when given, replaces anchor.checkpoint (written first: evidence before
        deletion).
        """
        done = [s for s in sorted(self._pending) if s <= seq]
        if not done:
            return
        for s in done:
            for c in self._pending[s].cursors:
                self._acked_cursors[(c.identity.device, c.identity.inode)] = c
        self._acked_head = self._pending[done[-1]].next_head
        self._prune_forgotten(still_pending=[p for s, p in self._pending.items() if s > seq])
        body = self._head_body()
        removed = [self._pending.pop(s) for s in done]
        paths = [r.path for r in removed]
        freed = sum(r.size for r in removed)

        def commit() -> None:
            if anchor is not None:
                atomic_write(self.anchor_file, anchor)
            atomic_write(self._head_file, body)  # head first: then deleting is always safe
            for p in paths:
                p.unlink(missing_ok=True)
            fsync_dir(self._seg_dir)

        await self._commit_ack(commit)
        self._bytes -= freed
        if anchor is not None:
            self.anchor = anchor
        async with self._room:
            self._room.notify_all()

    async def _commit_ack(self, commit: Callable[[], None]) -> None:
        """Run `commit`; on a full disk, release the reserve for it, else retry until room."""
        delay, cap = _DISK_FULL_RETRY_SECS
        while True:
            try:
                async with self._io_lock:
                    await asyncio.to_thread(commit)
            except OSError as exc:
                if not is_disk_full(exc):
                    raise SpoolError(f"{self._dir}: cannot record acknowledgement: "
                                     f"{exc.strerror}") from exc
                if self._reserve.exists():
                    log.warning("%s: disk full recording an acknowledgement; using the "
                                "reserve", self._dir)
                    with contextlib.suppress(OSError):
                        self._reserve.unlink()
                    continue
                # Only when something else filled the disk after the reserve was used.
                log.error("%s: disk full recording an acknowledgement and no reserve left; "
                          "retrying until space is freed", self._dir)
                await asyncio.sleep(random.uniform(delay / 2, delay))
                delay = min(cap, delay * 2)
                continue
            return

    def statistics(self) -> SpoolStatistics:
        oldest = min(self._pending) if self._pending else None
        return SpoolStatistics(
            segments=len(self._pending),
            bytes=self._bytes,
            oldest_seq=oldest,
            quarantined=self._quarantined,
            max_bytes=self._config.max_bytes,
            max_segments=self._config.max_segments,
            policy=self._config.full_policy,
            oldest_age_secs=(max(0.0, time.time() - self._pending[oldest].since)
                             if oldest is not None else 0.0),
            full=self._waiting_for_room,
            disk_full=self._disk_full,
            disk_full_events=self._disk_full_events,
        )


def read_spool_segments(directory: Path) -> list[tuple[Path, bytes]]:
    """Every segment file in a state directory's spool as (path, Segment bytes), by seq.

    Raises SpoolError naming the first torn or corrupt file. Used by `sealtail verify --spool`.
    """
    seg_dir = directory / "spool" if (directory / "spool").is_dir() else directory
    out = []
    for path in sorted(seg_dir.glob("*.seg")):
        out.append((path, unframe(path.read_bytes(), where=str(path))))
    return out
