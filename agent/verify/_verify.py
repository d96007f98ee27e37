"""Whole-log verification: a collector's store, an agent's spool, or a running collector.

Every leaf hash is recomputed from stored bytes; stored hashes are never trusted.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import grpc

from agent._pb import sealtail_pb2 as pb
from agent._pb import sealtail_pb2_grpc as pb_grpc
from agent.errors import ErrorCode, SealtailError, StoreError, VerificationError
from agent.formats import ChainCoverage, ChainVerifier, key_id, verify_segment
from agent.spool import read_spool_segments
from agent.store import SQLiteStore


@dataclass
class VerifyReport:
    """What a successful verification covered."""

    chains: list[ChainCoverage] = field(default_factory=list)
    unsealed_lines: int = 0

    @property
    def segments(self) -> int:
        return sum(c.segments for c in self.chains)

    @property
    def lines(self) -> int:
        return sum(c.lines for c in self.chains)

    def summary(self) -> str:
        parts = [f"OK: {len(self.chains)} agents, {self.segments} segments, {self.lines} lines"]
        for c in self.chains:
            parts.append(f"{c.agent} [{key_id(c.agent_key)}] seq {c.first_seq}..{c.last_seq}")
        text = "; ".join(parts)
        if self.chains:
            text += ("; no anchor given: a history cut short at its end cannot be ruled out "
                     "(compare last seq with the agent's)")
        return text


def _verify_chains(segments: Iterable[tuple[bytes, bytes, list[bytes], list[bytes] | None]], *,
                   require_genesis: bool, expected_key: bytes | None = None) -> VerifyReport:
    chains: dict[bytes, ChainVerifier] = {}
    for header, signature, entries, hints in segments:
        seg = verify_segment(header, signature, entries, expected_key=expected_key,
                             locators=hints)
        chain = chains.setdefault(seg.agent_key, ChainVerifier(require_genesis=require_genesis))
        chain.feed(seg)
    return VerifyReport(chains=[c.coverage for c in chains.values() if c.coverage is not None])


def verify_store(data_dir: Path) -> VerifyReport:
    """Verify every agent chain in a collector's data directory (opened read-only)."""
    store = SQLiteStore(data_dir, readonly=True)
    try:
        return _verify_chains(_store_segments(store), require_genesis=True)
    finally:
        store.close()


def _store_segments(store: SQLiteStore) -> Iterator[tuple[bytes, bytes, list[bytes], list[bytes]]]:
    import sqlite3

    after = 0
    try:
        with store.reader() as conn:
            while True:
                rows = store.segments_page("", b"", after, 200)
                if not rows:
                    return
                for row in rows:
                    stored = store.segment_entries(conn, row.segment_id)
                    _check_index_columns(row.agent, row.seq, row.header, stored)
                    yield (row.header, row.signature, [r[5] for r in stored],
                           [r[4] for r in stored])
                after = rows[-1].segment_id
    except sqlite3.Error as exc:
        raise StoreError(f"{store.path}: cannot read store: {exc}") from exc


def _check_index_columns(agent: str, seq: int, header_bytes: bytes,
                         stored: list[tuple[int, int, str, str, bytes, bytes]]) -> None:
    """The store's index columns must agree with the signed bytes they index."""
    header = pb.SegmentHeader.FromString(header_bytes)
    if header.seq != seq:
        raise VerificationError(f"stored under seq {seq} but its signed header says {header.seq}",
                                code=ErrorCode.SEQ_MISMATCH, agent=agent, seq=seq)
    for position, (idx, time_ns, category, source, _leaf, data) in enumerate(stored):
        if idx != position:
            raise VerificationError(f"line index {position} is missing (next stored is {idx})",
                                    code=ErrorCode.LINE_GAP, agent=agent, seq=seq, line=position)
        try:
            e = pb.Entry.FromString(data)
        except Exception:
            continue  # verify_segment reports unparseable entries with their index
        path = header.sources[e.source].path if e.source < len(header.sources) else None
        if (e.time_ns, e.category, path) != (time_ns, category, source):
            raise VerificationError("index columns (time/category/source) disagree with the "
                                    "signed entry", code=ErrorCode.INDEX_MISMATCH, agent=agent,
                                    seq=seq, line=idx)


def verify_spool(state_dir: Path, public_key: bytes) -> VerifyReport:
    """Verify an agent's unshipped segments (they may start mid-chain)."""
    def segments() -> Iterator[tuple[bytes, bytes, list[bytes], None]]:
        for _path, payload in read_spool_segments(state_dir):
            seg = pb.Segment.FromString(payload)
            yield seg.header, seg.signature, list(seg.entries), None

    return _verify_chains(segments(), require_genesis=False, expected_key=public_key)


def verify_remote(address: str, agent: str = "", *, pinned_keys: frozenset[bytes] = frozenset(),
                  timeout_secs: float = 600) -> VerifyReport:
    """Download every segment from a collector and verify it here (trusting nothing it says).

    With `pinned_keys`, every chain must be signed by one of them.
    """
    with grpc.insecure_channel(address, options=[
            ("grpc.max_receive_message_length", 256 * 1024 * 1024)]) as channel:
        stub = pb_grpc.QueryStub(channel)

        def segments() -> Iterator[tuple[bytes, bytes, list[bytes], None]]:
            try:
                for stored in stub.Segments(pb.SegmentsRequest(agent=agent),
                                            timeout=timeout_secs):
                    s = stored.segment
                    yield s.header, s.signature, list(s.entries), None
            except grpc.RpcError as exc:
                raise SealtailError(f"collector {address}: {exc.code().name}: {exc.details()}",
                                    code=ErrorCode.COLLECTOR_UNAVAILABLE) from exc

        report = _verify_chains(segments(), require_genesis=True)
    if pinned_keys:
        for c in report.chains:
            if c.agent_key not in pinned_keys:
                raise VerificationError(f"chain signed by key {key_id(c.agent_key)}, which is not "
                                        "one of the given keys", code=ErrorCode.KEY_MISMATCH,
                                        agent=c.agent)
    return report
