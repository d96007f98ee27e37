"""Small typed objects passed between pipeline stages.

Lines are `bytes` end to end. Anything that is signed or hashed keeps its exact bytes.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True, slots=True)
class FileIdentity:
    """Which file a cursor belongs to: (device, inode) plus a fingerprint of its first bytes."""

    device: int
    inode: int
    fingerprint: bytes  # SHA-256 of the first `fingerprint_length` bytes
    fingerprint_length: int


@dataclass(frozen=True, slots=True)
class Cursor:
    """How far one file has been read: the offset after the last line taken.

    `before_hash` is SHA-256 of the `before_length` bytes just before `offset` (empty when
    unknown): a saved offset is trusted only if those bytes are still there. `mid_line` says
    the offset is inside a line whose first part was shipped flagged partial.
    """

    path: str
    identity: FileIdentity
    offset: int
    before_hash: bytes = b""
    before_length: int = 0
    mid_line: bool = False


# Entry flags (same values as proto EntryFlag).
FLAG_PARTIAL = 1
FLAG_TRUNCATED = 2
FLAG_CONTINUED = 4


@dataclass(frozen=True, slots=True)
class RawLine:
    """One line read from a file, without its trailing newline."""

    data: bytes
    offset: int          # offset of the first byte in the file
    time_ns: int         # wall-clock time it was read
    flags: int = 0
    original_length: int = 0

    def __repr__(self) -> str:
        return f"<RawLine offset={self.offset} len={len(self.data)} flags={self.flags}>"


@dataclass(frozen=True, slots=True)
class LineBatch:
    """Consecutive lines of one file and the cursor after the last of them."""

    cursor: Cursor
    lines: tuple[RawLine, ...]

    def __repr__(self) -> str:
        return f"<LineBatch {self.cursor.path} lines={len(self.lines)} to={self.cursor.offset}>"


@dataclass(frozen=True, slots=True)
class Label:
    category: str
    layer: int           # proto Layer: 0 none, 1 rules, 2 model, 3 fallback (model too slow)
    confidence: float
    # agent.classify.template_id of the line's masked template (8 bytes); sealed into
    # Entry.template_id. Empty only where no template was computed (hand-built labels).
    template_id: bytes = b""


@dataclass(frozen=True, slots=True)
class LabeledBatch:
    batch: LineBatch
    labels: tuple[Label, ...]  # one per line

    def __repr__(self) -> str:
        return f"<LabeledBatch {self.batch.cursor.path} lines={len(self.labels)}>"


@dataclass(frozen=True, slots=True)
class SealedSegment:
    """A signed segment: exact header bytes, signature and entry bytes."""

    seq: int
    segment_hash: bytes   # SHA-256(header)
    header: bytes
    signature: bytes
    entries: tuple[bytes, ...]
    cursors: tuple[Cursor, ...] = field(default=())
    lines_before: int = 0

    def __repr__(self) -> str:
        return f"<SealedSegment seq={self.seq} entries={len(self.entries)}>"


@dataclass(frozen=True, slots=True)
class ChainHead:
    """Where an agent's chain stands: the next segment continues from here."""

    next_seq: int
    prev_hash: bytes
    lines_total: int

    @classmethod
    def genesis(cls) -> ChainHead:
        return cls(next_seq=0, prev_hash=bytes(32), lines_total=0)


@dataclass(frozen=True, slots=True)
class Ack:
    """The collector's answer for one segment."""

    seq: int
    stored: bool          # stored now or earlier (duplicate)
    code: str = ""
    message: str = ""
    leaf_index: int = 0
    retryable: bool = False
