"""Build signed, chained segments in-process (for store, collector and tamper tests)."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from pathlib import Path

import nacl.signing

from agent._pb import sealtail_pb2 as pb
from agent.formats import (
    ZERO_HASH,
    VerifiedSegment,
    build_header,
    encode_entry,
    segment_hash,
    sign_header,
    verify_segment,
)
from agent.records import Cursor, FileIdentity, Label, RawLine
from agent.store import SQLiteStore

IDENT = FileIdentity(1, 2, b"\x00" * 32, 0)


@dataclass
class ChainWriter:
    """One agent's chain: each `next()` signs the following segment."""

    key: nacl.signing.SigningKey
    name: str = "host-a"
    boot_id: bytes = b"b" * 16
    lines: int = 20
    seq: int = 0
    prev: bytes = ZERO_HASH
    lines_total: int = 0
    offset: int = 0
    text: str = "Failed password for bob"
    segments: list[pb.Segment] = field(default_factory=list)

    def next(self, *, lines: int | None = None, tag: str = "") -> pb.Segment:
        n = self.lines if lines is None else lines
        t0 = 1_000_000 + self.seq * 100
        entries = []
        for i in range(n):
            line = RawLine(f"{self.name}{tag} seg {self.seq} line {i}: {self.text}".encode(),
                           self.offset, t0 + i)
            self.offset += len(line.data) + 1
            entries.append(encode_entry(line, 0, Label("failed_login", 1, 1.0)))
        header = build_header(
            agent_name=self.name, agent_key=bytes(self.key.verify_key), boot_id=self.boot_id,
            seq=self.seq, prev_hash=self.prev, entries=entries, t_first_ns=t0,
            t_last_ns=t0 + max(n - 1, 0), sources=[Cursor("/var/log/app.log", IDENT, self.offset)],
            lines_before=self.lines_total)
        seg = pb.Segment(header=header, signature=sign_header(self.key, header), entries=entries)
        self.seq += 1
        self.prev = segment_hash(header)
        self.lines_total += n
        self.segments.append(seg)
        return seg


def verified(seg: pb.Segment) -> VerifiedSegment:
    return verify_segment(seg.header, seg.signature, list(seg.entries))


def store_segments(data_dir: Path, segments: list[pb.Segment]) -> None:
    """Append segments through the real store (in order); each must be accepted."""
    store = SQLiteStore(data_dir)

    async def fill() -> None:
        for seg in segments:
            result = await store.append(verified(seg))
            assert result.status == pb.ACK_STORED, result

    try:
        asyncio.run(fill())
    finally:
        store.close()


@dataclass
class LabeledChain:
    """One agent's chain of real lines, labelled by the real classifier (rules only), with
    the times the test chooses: `seal([(time_ns, line), ...])` signs the next segment."""

    key: nacl.signing.SigningKey
    name: str = "host-a"
    source: str = "/var/log/auth.log"
    seq: int = 0
    prev: bytes = ZERO_HASH
    lines_total: int = 0
    offset: int = 0
    segments: list[pb.Segment] = field(default_factory=list)

    def __post_init__(self) -> None:
        from agent.classify import Classifier, ClassifyConfig

        self._classifier = Classifier(ClassifyConfig(model=False))

    def seal(self, lines: list[tuple[int, bytes]]) -> pb.Segment:
        entries = []
        for t, data in lines:
            raw = RawLine(data, self.offset, t)
            self.offset += len(data) + 1
            entries.append(encode_entry(raw, 0, self._classifier.label(data)))
        times = [t for t, _ in lines] or [0]
        header = build_header(
            agent_name=self.name, agent_key=bytes(self.key.verify_key), boot_id=b"c" * 16,
            seq=self.seq, prev_hash=self.prev, entries=entries, t_first_ns=min(times),
            t_last_ns=max(times), sources=[Cursor(self.source, IDENT, self.offset)],
            lines_before=self.lines_total)
        seg = pb.Segment(header=header, signature=sign_header(self.key, header), entries=entries)
        self.seq += 1
        self.prev = segment_hash(header)
        self.lines_total += len(lines)
        self.segments.append(seg)
        return seg


@dataclass
class PrelabeledChain:
    """One agent's chain of lines carrying the labels the test gives (no classifier): for
    stores of hundreds of thousands of lines, still signed, verified and stored through
    `SQLiteStore.append` like any agent's. `seal([(time_ns, line, label), ...])`."""

    key: nacl.signing.SigningKey
    name: str = "host-a"
    source: str = "/var/log/auth.log"
    seq: int = 0
    prev: bytes = ZERO_HASH
    lines_total: int = 0
    offset: int = 0

    def seal(self, lines: list[tuple[int, bytes, Label]]) -> pb.Segment:
        entries = []
        for t, data, label in lines:
            entries.append(encode_entry(RawLine(data, self.offset, t), 0, label))
            self.offset += len(data) + 1
        times = [t for t, _, _ in lines] or [0]
        header = build_header(
            agent_name=self.name, agent_key=bytes(self.key.verify_key), boot_id=b"p" * 16,
            seq=self.seq, prev_hash=self.prev, entries=entries, t_first_ns=min(times),
            t_last_ns=max(times), sources=[Cursor(self.source, IDENT, self.offset)],
            lines_before=self.lines_total)
        seg = pb.Segment(header=header, signature=sign_header(self.key, header), entries=entries)
        self.seq += 1
        self.prev = segment_hash(header)
        self.lines_total += len(lines)
        return seg
