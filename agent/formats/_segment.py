"""Entries, segment headers, signatures and the checks a verifier runs on them.

Pure and synchronous: no I/O. Everything hashed or signed is handled as the exact bytes
received; parsed views sit beside those bytes and are never re-encoded for hashing.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass

import nacl.exceptions
import nacl.signing
from google.protobuf.message import DecodeError

from agent._pb import sealtail_pb2 as pb
from agent.errors import ErrorCode, VerificationError
from agent.formats._merkle import leaf_hashes, root_from_leaf_hashes
from agent.records import Cursor, Label, RawLine

FORMAT_VERSION = 1
SEGMENT_SIGNING_PREFIX = b"sealtail/segment/v1\n"
ZERO_HASH = bytes(32)
# Upper bounds a verifier enforces before doing work proportional to a claim.
MAX_ENTRIES_PER_SEGMENT = 1_000_000
MAX_HEADER_BYTES = 16 * 1024 * 1024


def encode_entry(line: RawLine, source: int, label: Label) -> bytes:
    """Serialize one line as the exact leaf bytes that will be hashed, signed and shipped."""
    msg = pb.Entry(
        line=line.data,
        source=source,
        offset=line.offset,
        time_ns=line.time_ns,
        category=label.category,
        confidence=label.confidence,
        layer=label.layer,  # type: ignore[arg-type]
        flags=line.flags,
        original_length=line.original_length,
        template_id=label.template_id,
    )
    return msg.SerializeToString()


def decode_entry(data: bytes) -> pb.Entry:
    """Parse leaf bytes into an Entry (raises DecodeError on garbage)."""
    return pb.Entry.FromString(data)


def line_locator(index: int, leaf: bytes) -> bytes:
    """A store-side hint binding a leaf hash to its position (16 bytes). Lets a verifier name
    the first altered, moved or removed line once the signed root has already failed."""
    return hashlib.sha256(index.to_bytes(8, "big") + leaf).digest()[:16]


def segment_hash(header: bytes) -> bytes:
    """The chain link and dedupe key of a segment: SHA-256 of its header bytes."""
    return hashlib.sha256(header).digest()


# Wire tags (field number << 3 | wire type 2, length-delimited) of Segment's fields 1..3.
_TAG_HEADER, _TAG_SIGNATURE, _TAG_ENTRIES = 0x0A, 0x12, 0x1A


def _length(data: bytes, pos: int) -> tuple[int, int]:
    """A minimal varint length at `pos` and the position after it; ValueError otherwise."""
    value = shift = 0
    start = pos
    while True:
        byte = data[pos]  # IndexError past the end
        pos += 1
        value |= (byte & 0x7F) << shift
        if byte < 0x80:
            break
        shift += 7
        if shift > 63:
            raise ValueError("varint too long")
    if byte == 0 and pos - start > 1:
        raise ValueError("varint not minimal")
    return value, pos


def split_segment(payload: bytes) -> tuple[bytes, bytes, memoryview] | None:
    """Header, signature and the entries of a serialized Segment, without parsing it.

    The entries come as the exact bytes of a Segment holding only them (what `entries_zstd`
    compresses), a view into `payload`: no copy of the lines is made. A shipper sends a
    spooled segment this way in a fraction of the memory a parse and re-serialization take.

    Returns None unless `payload` is in the layout `SerializeToString` writes: header, then
    signature, then only entries, every length minimal and in bounds. Re-serializing the
    parsed message gives these bytes exactly then; for anything else, parse it instead.
    """
    try:
        header = signature = b""
        pos, end = 0, len(payload)
        if pos < end and payload[pos] == _TAG_HEADER:
            n, pos = _length(payload, pos + 1)
            header, pos = payload[pos:pos + n], pos + n
        if pos < end and payload[pos] == _TAG_SIGNATURE:
            n, pos = _length(payload, pos + 1)
            signature, pos = payload[pos:pos + n], pos + n
        start = pos
        while pos < end:
            if payload[pos] != _TAG_ENTRIES:
                return None
            n, pos = _length(payload, pos + 1)
            pos += n
        if pos != end:  # the last field runs past the end
            return None
    except (IndexError, ValueError):
        return None
    return header, signature, memoryview(payload)[start:]


def key_id(public_key: bytes) -> str:
    """A short printable identity for an agent key (first 8 bytes of SHA-256, hex)."""
    return hashlib.sha256(public_key).hexdigest()[:16]


def cursor_to_pb(cursor: Cursor) -> pb.SourceCursor:
    ident = cursor.identity
    return pb.SourceCursor(
        path=cursor.path,
        device=ident.device,
        inode=ident.inode,
        fingerprint=ident.fingerprint,
        fingerprint_length=ident.fingerprint_length,
        offset=cursor.offset,
        before_hash=cursor.before_hash,
        before_length=cursor.before_length,
        mid_line=cursor.mid_line,
    )


def build_header(
    *,
    agent_name: str,
    agent_key: bytes,
    boot_id: bytes,
    seq: int,
    prev_hash: bytes,
    entries: Sequence[bytes],
    t_first_ns: int,
    t_last_ns: int,
    sources: Sequence[Cursor],
    lines_before: int,
) -> bytes:
    """Serialize the header of a segment over `entries` (computes the Merkle root)."""
    header = pb.SegmentHeader(
        version=FORMAT_VERSION,
        agent_name=agent_name,
        agent_key=agent_key,
        boot_id=boot_id,
        seq=seq,
        prev_hash=prev_hash,
        root=root_from_leaf_hashes(leaf_hashes(entries)),
        count=len(entries),
        t_first_ns=t_first_ns,
        t_last_ns=t_last_ns,
        sources=[cursor_to_pb(c) for c in sources],
        lines_before=lines_before,
    )
    return header.SerializeToString()


def sign_header(signing_key: nacl.signing.SigningKey, header: bytes) -> bytes:
    return signing_key.sign(SEGMENT_SIGNING_PREFIX + header).signature


@dataclass(frozen=True, slots=True)
class VerifiedSegment:
    """A segment whose signature, Merkle root and entries were checked. Only
    `verify_segment` creates these; stores accept nothing else."""

    header: pb.SegmentHeader
    header_bytes: bytes
    signature: bytes
    entries: tuple[bytes, ...]
    leaf_hashes: tuple[bytes, ...]
    segment_hash: bytes

    @property
    def seq(self) -> int:
        return self.header.seq

    @property
    def agent_name(self) -> str:
        return self.header.agent_name

    @property
    def agent_key(self) -> bytes:
        return self.header.agent_key

    def __repr__(self) -> str:
        return (f"<VerifiedSegment agent={self.agent_name} seq={self.seq} "
                f"entries={len(self.entries)}>")


def parse_header(header_bytes: bytes, *, agent: str | None = None) -> pb.SegmentHeader:
    if len(header_bytes) > MAX_HEADER_BYTES:
        raise VerificationError(
            f"header of {len(header_bytes)} bytes exceeds {MAX_HEADER_BYTES}",
            code=ErrorCode.PARSE_ERROR, agent=agent)
    try:
        return pb.SegmentHeader.FromString(header_bytes)
    except DecodeError as exc:
        raise VerificationError(f"header does not parse: {exc}", code=ErrorCode.PARSE_ERROR,
                                agent=agent) from exc


def verify_header(header_bytes: bytes, signature: bytes, *,
                  expected_key: bytes | None = None) -> pb.SegmentHeader:
    """Check a segment header on its own: version, key, signature and field sizes.

    Raises:
        VerificationError naming the agent and seq.
    """
    header = parse_header(header_bytes)
    agent = header.agent_name or "?"
    seq = header.seq

    def fail(msg: str, code: ErrorCode) -> VerificationError:
        return VerificationError(msg, code=code, agent=agent, seq=seq)

    if header.version != FORMAT_VERSION:
        raise fail(f"unknown format version {header.version}", ErrorCode.BAD_VERSION)
    if len(header.agent_key) != 32:
        raise fail("agent key is not 32 bytes", ErrorCode.PARSE_ERROR)
    if expected_key is not None and header.agent_key != expected_key:
        raise fail(f"signed by key {key_id(header.agent_key)}, expected {key_id(expected_key)}",
                   ErrorCode.KEY_MISMATCH)
    if not signature:  # a downgrade to "unsigned" is a failure, never a pass with a note
        raise fail("segment is unsigned", ErrorCode.BAD_SIGNATURE)
    if len(signature) != 64:
        raise fail(f"signature is {len(signature)} bytes, expected 64", ErrorCode.BAD_SIGNATURE)
    try:
        nacl.signing.VerifyKey(header.agent_key).verify(SEGMENT_SIGNING_PREFIX + header_bytes,
                                                        signature)
    except (nacl.exceptions.BadSignatureError, nacl.exceptions.ValueError) as exc:
        raise fail("signature does not verify over the header", ErrorCode.BAD_SIGNATURE) from exc
    if len(header.prev_hash) != 32 or len(header.root) != 32:
        raise fail("prev_hash/root must be 32 bytes", ErrorCode.PARSE_ERROR)
    if seq == 0 and header.prev_hash != ZERO_HASH:
        raise fail("segment 0 must have an all-zero prev_hash", ErrorCode.CHAIN_BROKEN)
    if header.count > MAX_ENTRIES_PER_SEGMENT:
        raise fail(f"header claims {header.count} entries (limit {MAX_ENTRIES_PER_SEGMENT})",
                   ErrorCode.COUNT_MISMATCH)
    if header.t_first_ns > header.t_last_ns:
        raise fail("signed t_first is after t_last", ErrorCode.TIME_OUT_OF_RANGE)
    return header


def check_entry(header: pb.SegmentHeader, index: int, data: bytes) -> pb.Entry:
    """Parse entry `index` of a verified header's segment and check it against the header."""
    def fail(msg: str, code: ErrorCode) -> VerificationError:
        return VerificationError(msg, code=code, agent=header.agent_name or "?", seq=header.seq,
                                 line=index)

    try:
        entry = pb.Entry.FromString(data)
    except DecodeError as exc:
        raise fail(f"entry does not parse: {exc}", ErrorCode.PARSE_ERROR) from exc
    if entry.source >= len(header.sources):
        raise fail(f"entry names source {entry.source}, header has {len(header.sources)}",
                   ErrorCode.BAD_SOURCE)
    if not header.t_first_ns <= entry.time_ns <= header.t_last_ns:
        raise fail("entry time outside the segment's signed [t_first, t_last]",
                   ErrorCode.TIME_OUT_OF_RANGE)
    return entry


def verify_segment(
    header_bytes: bytes,
    signature: bytes,
    entries: Sequence[bytes],
    *,
    expected_key: bytes | None = None,
    locators: Sequence[bytes] | None = None,
) -> VerifiedSegment:
    """Check one segment on its own: signature, entry count, Merkle root, entry contents.

    Args:
        expected_key: when given, the header's agent key must equal it.
        locators: `line_locator` values remembered at ingest, one per stored line. Used only
            to *locate* the first altered line after the root has failed; never to pass one.

    Raises:
        VerificationError naming the agent, seq and (where known) line index.
    """
    header = verify_header(header_bytes, signature, expected_key=expected_key)
    agent = header.agent_name or "?"
    seq = header.seq

    def fail(msg: str, code: ErrorCode, line: int | None = None) -> VerificationError:
        return VerificationError(msg, code=code, agent=agent, seq=seq, line=line)

    hashes = leaf_hashes(entries)
    if len(entries) != header.count or root_from_leaf_hashes(hashes) != header.root:
        line = _first_difference(hashes, locators)
        if len(entries) != header.count:
            if line is None:  # the stored lines agree up to here: the rest is missing or extra
                line = min(len(entries), header.count)
            raise fail(f"{len(entries)} entries present, the signed header says {header.count}",
                       ErrorCode.COUNT_MISMATCH, line)
        if line is not None:
            raise fail("leaf hash does not match the signed root", ErrorCode.LEAF_MISMATCH, line)
        raise fail("entries do not hash to the signed root (altered line not locatable)",
                   ErrorCode.ROOT_MISMATCH)

    for i, data in enumerate(entries):
        check_entry(header, i, data)
    return VerifiedSegment(
        header=header,
        header_bytes=header_bytes,
        signature=signature,
        entries=tuple(entries),
        leaf_hashes=tuple(hashes),
        segment_hash=segment_hash(header_bytes),
    )


def _first_difference(hashes: Sequence[bytes], locators: Sequence[bytes] | None) -> int | None:
    if locators is None:
        return None
    for i, (leaf, loc) in enumerate(zip(hashes, locators, strict=False)):
        if line_locator(i, leaf) != loc:
            return i
    return None


@dataclass
class ChainCoverage:
    """What a chain check covered, for the one-line summary."""

    agent: str
    agent_key: bytes
    first_seq: int
    last_seq: int
    segments: int = 0
    lines: int = 0
    last_hash: bytes = ZERO_HASH
    last_time_ns: int = 0


class ChainVerifier:
    """Checks that one agent's segments, fed in order, form an unbroken chain.

    Args:
        require_genesis: the first segment must be seq 0 (a collector's full store).
            A spool holds only unshipped segments and starts mid-chain.
    """

    def __init__(self, *, require_genesis: bool) -> None:
        self._require_genesis = require_genesis
        self.coverage: ChainCoverage | None = None
        self._next_lines = 0

    def feed(self, seg: VerifiedSegment) -> None:
        h = seg.header
        cov = self.coverage

        def fail(message: str, code: ErrorCode) -> VerificationError:
            return VerificationError(message, code=code, agent=h.agent_name, seq=h.seq)

        if cov is None:
            if self._require_genesis and h.seq != 0:
                raise fail(f"chain starts at seq {h.seq}, segments 0..{h.seq - 1} are missing",
                           ErrorCode.CHAIN_GAP)
            self.coverage = ChainCoverage(agent=h.agent_name, agent_key=h.agent_key,
                                          first_seq=h.seq, last_seq=h.seq)
            cov = self.coverage
        else:
            if h.agent_key != cov.agent_key:
                raise fail("segment signed by a different agent key", ErrorCode.KEY_MISMATCH)
            if h.agent_name != cov.agent:
                # One key, two names (a shared key): a segment moved between hosts.
                raise fail(f"signed agent name {h.agent_name!r} in the chain of {cov.agent!r}",
                           ErrorCode.ORIGIN_MISMATCH)
            expected = cov.last_seq + 1
            if h.seq < expected:
                raise fail(f"seq {h.seq} follows seq {cov.last_seq}", ErrorCode.SEQ_REGRESSION)
            if h.seq > expected:
                missing = f"{expected}" if h.seq == expected + 1 else f"{expected}..{h.seq - 1}"
                raise fail(f"gap: seq {cov.last_seq} is followed by {h.seq}; missing {missing}",
                           ErrorCode.CHAIN_GAP)
            if h.prev_hash != cov.last_hash:
                raise fail(f"prev_hash does not match the hash of seq {cov.last_seq}",
                           ErrorCode.CHAIN_BROKEN)
            if h.lines_before != self._next_lines:
                raise fail(f"lines_before={h.lines_before}, but earlier segments hold "
                           f"{self._next_lines}", ErrorCode.CHAIN_BROKEN)
            cov.last_seq = h.seq
        cov.segments += 1
        cov.lines += h.count
        cov.last_hash = seg.segment_hash
        cov.last_time_ns = max(cov.last_time_ns, h.t_last_ns)
        self._next_lines = h.lines_before + h.count
