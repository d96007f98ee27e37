"""The spool: sealed segments on disk until the collector acknowledges them.

Layout of the state directory::

    spool/00000000000000000042.seg   one sealed segment (framed, see _frame)
    head.json                        chain head and cursors through the last acknowledged seq
    anchor.checkpoint                the largest signed collector checkpoint received in an ack
    quarantine/                      files found corrupt at start-up, kept for inspection

Durability: a segment is written to a temp file, fsynced, renamed into place and the
directory fsynced before anything depends on it. On an ack, head.json is replaced the same way
*before* segment files are deleted, so the chain head and cursors are always recoverable:
head.json, then every segment still in the spool, in seq order.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import struct
import time
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from google.protobuf.message import DecodeError

from agent._pb import sealtail_pb2 as pb
from agent.errors import ErrorCode, SpoolError, VerificationError
from agent.formats import verify_segment
from agent.records import ChainHead, Cursor, FileIdentity, SealedSegment

log = logging.getLogger("sealtail.spool")

MAGIC = b"STSEG01\n"
ANCHOR_FILE = "anchor.checkpoint"
_FRAME = struct.Struct(">II")  # payload length, CRC-32 of payload
InodeKey = tuple[int, int]


@dataclass(frozen=True, slots=True)
class SpoolStatistics:
    segments: int
    bytes: int
    oldest_seq: int | None
    quarantined: int


@dataclass(frozen=True, slots=True)
class _Pending:
    seq: int
    path: Path
    size: int
    next_head: ChainHead
    cursors: tuple[Cursor, ...]


def frame(payload: bytes) -> bytes:
    return MAGIC + _FRAME.pack(len(payload), zlib.crc32(payload)) + payload


def unframe(data: bytes, *, where: str) -> bytes:
    """Payload of a framed spool file; SpoolError when torn or corrupt."""
    head = len(MAGIC) + _FRAME.size
    if len(data) < head or not data.startswith(MAGIC):
        raise SpoolError(f"{where}: not a sealtail segment file (bad magic or too short)")
    length, crc = _FRAME.unpack_from(data, len(MAGIC))
    payload = data[head:]
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


def atomic_write(path: Path, data: bytes) -> None:
    """temp file → fsync → rename → fsync directory: a crash leaves the old or the new file."""
    tmp = path.with_name(f".{path.name}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_CLOEXEC, 0o600)
    try:
        view = memoryview(data)
        while view:
            view = view[os.write(fd, view):]
        os.fsync(fd)
    finally:
        os.close(fd)
    os.replace(tmp, path)
    fsync_dir(path.parent)


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

    def __init__(self, directory: Path, agent_key: bytes) -> None:
        self._dir = directory
        self._seg_dir = directory / "spool"
        self._quarantine = directory / "quarantine"
        self._head_file = directory / "head.json"
        self.anchor_file = directory / ANCHOR_FILE
        self.anchor: bytes | None = None
        self._agent_key = agent_key
        self._pending: dict[int, _Pending] = {}
        self._acked_head = ChainHead.genesis()
        self._acked_cursors: dict[InodeKey, Cursor] = {}
        self.head = ChainHead.genesis()
        self.cursors: dict[InodeKey, Cursor] = {}
        self.fresh = False  # no state at all was found: this is the agent's first start
        self.head_lost = False  # head.json was unreadable and no segment replaced it
        self._quarantined = 0
        self._appended = 0  # segments appended since open; waiters compare against it
        self._new_segment = asyncio.Condition()

    @classmethod
    def open(cls, directory: Path, agent_key: bytes) -> Spool:
        spool = cls(directory, agent_key)
        try:
            for d in (directory, spool._seg_dir, spool._quarantine):
                d.mkdir(mode=0o700, parents=True, exist_ok=True)
            spool._recover()
        except OSError as exc:
            raise SpoolError(f"{directory}: cannot use state directory: {exc.strerror}") from exc
        return spool

    # -- recovery ---------------------------------------------------------------------------

    def _recover(self) -> None:
        self.fresh = not self._head_file.exists() and not any(self._seg_dir.glob("*.seg"))
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
        for path in sorted(self._seg_dir.glob("*.seg")):
            try:
                pending = self._load_segment(path)
            except (SpoolError, VerificationError) as exc:
                self._quarantine_file(path, str(exc))
                continue
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
        for tmp in self._seg_dir.glob(".*.tmp"):
            tmp.unlink()  # an interrupted write; its segment was never acknowledged to anyone
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
        )

    def adopt_head(self, head: ChainHead) -> None:
        """Continue the chain from `head` (learned from the collector after state was lost)."""
        if self._pending:
            raise RuntimeError("adopt_head with segments in the spool")
        self._acked_head = self.head = head
        self.head_lost = False

    def _quarantine_file(self, path: Path, why: str) -> None:
        self._quarantined += 1
        target = self._quarantine / f"{path.name}.{time.time_ns()}"
        os.replace(path, target)
        log.error("spool file %s is unusable (%s); moved to %s", path, why, target)

    # -- writing ----------------------------------------------------------------------------

    def _segment_path(self, seq: int) -> Path:
        return self._seg_dir / f"{seq:020d}.seg"

    async def append(self, seg: SealedSegment) -> None:
        """Write a sealed segment durably (off the event loop), then make it available."""
        payload = pb.Segment(header=seg.header, signature=seg.signature,
                             entries=seg.entries).SerializeToString()
        data = frame(payload)
        path = self._segment_path(seg.seq)
        try:
            await asyncio.to_thread(atomic_write, path, data)
        except OSError as exc:
            raise SpoolError(f"{path}: cannot write segment: {exc.strerror}") from exc
        next_head = ChainHead(seg.seq + 1, seg.segment_hash, seg.lines_before + len(seg.entries))
        self._pending[seg.seq] = _Pending(seg.seq, path, len(data), next_head, seg.cursors)
        self.head = next_head
        self._appended += 1
        async with self._new_segment:
            self._new_segment.notify_all()

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

    async def read(self, seq: int) -> bytes:
        """The Segment message bytes of a pending segment."""
        pending = self._pending[seq]
        raw = await asyncio.to_thread(pending.path.read_bytes)
        return unframe(raw, where=str(pending.path))

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
        body = json.dumps({
            "next_seq": self._acked_head.next_seq,
            "prev_hash": self._acked_head.prev_hash.hex(),
            "lines_total": self._acked_head.lines_total,
            "cursors": [cursor_to_json(c) for c in self._acked_cursors.values()],
        }, indent=1).encode()
        paths = [self._pending.pop(s).path for s in done]

        def commit() -> None:
            if anchor is not None:
                atomic_write(self.anchor_file, anchor)
            atomic_write(self._head_file, body)  # head first: then deleting is always safe
            for p in paths:
                p.unlink(missing_ok=True)
            fsync_dir(self._seg_dir)

        try:
            await asyncio.to_thread(commit)
        except OSError as exc:
            raise SpoolError(f"{self._dir}: cannot record acknowledgement: {exc.strerror}") from exc
        if anchor is not None:
            self.anchor = anchor

    def statistics(self) -> SpoolStatistics:
        return SpoolStatistics(
            segments=len(self._pending),
            bytes=sum(p.size for p in self._pending.values()),
            oldest_seq=min(self._pending) if self._pending else None,
            quarantined=self._quarantined,
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
