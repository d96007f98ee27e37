"""The seal stage: entries → signed, hash-chained segments."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

import nacl.signing

from agent.config import SealConfig
from agent.formats import build_header, encode_entry, segment_hash, sign_header
from agent.records import ChainHead, Cursor, LabeledBatch, SealedSegment

log = logging.getLogger("sealtail.seal")

InodeKey = tuple[int, int]


@dataclass(frozen=True, slots=True)
class SealStatistics:
    segments: int
    lines: int
    next_seq: int


class Sealer:
    """Collects labeled lines into segments, closing one by size, line count or age.

    Each closed segment is signed, chained to the previous one and handed to `sink` (the
    spool), which must have made it durable when it returns. A `None` on the inbox means
    end of input: the open segment is sealed and `run` returns.
    """

    def __init__(self, config: SealConfig, signing_key: nacl.signing.SigningKey,
                 agent_name: str, head: ChainHead,
                 inbox: asyncio.Queue[LabeledBatch | None],
                 sink: Callable[[SealedSegment], Awaitable[None]],
                 *, monotonic: Callable[[], float] = time.monotonic) -> None:
        self._config = config
        self._key = signing_key
        self._public = bytes(signing_key.verify_key)
        self._name = agent_name
        self._boot_id = os.urandom(16)
        self._head = head
        self._inbox = inbox
        self._sink = sink
        self._monotonic = monotonic
        self._segments = self._lines = 0
        self._reset()

    def _reset(self) -> None:
        self._entries: list[bytes] = []
        self._bytes = 0
        self._sources: dict[InodeKey, int] = {}
        self._cursors: list[Cursor] = []
        self._t_first = self._t_last = 0
        self._opened_at: float | None = None

    def statistics(self) -> SealStatistics:
        return SealStatistics(self._segments, self._lines, self._head.next_seq)

    async def run(self) -> None:
        while True:
            timeout = None
            if self._opened_at is not None:
                age = self._monotonic() - self._opened_at
                timeout = max(0.0, self._config.max_segment_age_ms / 1000 - age)
            item: LabeledBatch | bool | None = False
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(timeout):
                    item = await self._inbox.get()
            if item is None:
                await self.seal()
                return
            if item is False:  # the open segment reached its age
                await self.seal()
                continue
            assert isinstance(item, LabeledBatch)
            await self.add(item)

    async def add(self, labeled: LabeledBatch) -> None:
        batch = labeled.batch
        cursor = batch.cursor
        key = (cursor.identity.device, cursor.identity.inode)
        cfg = self._config
        for line, label in zip(batch.lines, labeled.labels, strict=True):
            if self._opened_at is None:
                self._opened_at = self._monotonic()
                self._t_first = self._t_last = line.time_ns
            index = self._sources.get(key)
            if index is None:
                index = self._sources[key] = len(self._cursors)
                self._cursors.append(cursor)
            entry = encode_entry(line, index, label)
            self._entries.append(entry)
            self._bytes += len(entry)
            self._t_first = min(self._t_first, line.time_ns)
            self._t_last = max(self._t_last, line.time_ns)
        if key not in self._sources:  # a cursor-only batch (no lines) still moves the cursor
            self._sources[key] = len(self._cursors)
            self._cursors.append(cursor)
            if self._opened_at is None:
                self._opened_at = self._monotonic()
        self._cursors[self._sources[key]] = cursor
        # Segments close at batch boundaries, so every cursor is one the tailer made (with its
        # content check); a segment may pass the limits by at most one batch (<= one read).
        if len(self._entries) >= cfg.max_segment_lines or self._bytes >= cfg.max_segment_bytes:
            await self.seal()

    def continue_from(self, head: ChainHead) -> None:
        """Seal the next segment on top of `head` (learned after construction, before
        anything was sealed: the chain head came from the collector)."""
        if self._segments or self._entries or self._cursors:
            raise RuntimeError("continue_from after segments were sealed or lines taken")
        self._head = head

    async def seal(self) -> SealedSegment | None:
        """Close the open segment (if any), sign it and hand it to the sink. A segment may
        hold no entries when only cursors moved (a copy recognised, read_from=end)."""
        if not self._entries and not self._cursors:
            self._reset()
            return None
        head = self._head
        entries = tuple(self._entries)
        header = build_header(
            agent_name=self._name, agent_key=self._public, boot_id=self._boot_id,
            seq=head.next_seq, prev_hash=head.prev_hash, entries=entries,
            t_first_ns=self._t_first, t_last_ns=self._t_last, sources=self._cursors,
            lines_before=head.lines_total)
        seg = SealedSegment(seq=head.next_seq, segment_hash=segment_hash(header), header=header,
                            signature=sign_header(self._key, header), entries=entries,
                            cursors=tuple(self._cursors), lines_before=head.lines_total)
        self._reset()
        await self._sink(seg)
        self._head = ChainHead(seg.seq + 1, seg.segment_hash, head.lines_total + len(entries))
        self._segments += 1
        self._lines += len(entries)
        log.info("sealed segment seq=%d entries=%d", seg.seq, len(entries))
        return seg
