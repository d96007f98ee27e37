"""Whole-log verification: a collector's store, an agent's spool, a running collector, or one
offline proof bundle.

Every leaf hash is recomputed from stored bytes; stored hashes are never trusted. The
collector-wide tree is rebuilt from the segment headers and compared with the collector's
signed checkpoints and with any anchors (checkpoints held outside the collector): an anchor
larger than the tree is a rollback; one the tree does not extend is a rewritten or forked
history.
"""

from __future__ import annotations

import datetime as dt
import os
import re
import sqlite3
from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import grpc

from agent._pb import sealtail_pb2 as pb
from agent._pb import sealtail_pb2_grpc as pb_grpc
from agent.errors import (
    ConfigError,
    ErrorCode,
    KeyFileError,
    SealtailError,
    StoreError,
    VerificationError,
)
from agent.formats import (
    ChainCoverage,
    ChainVerifier,
    MerkleLog,
    NoteVerifier,
    SignedCheckpoint,
    VerifiedLine,
    key_id,
    leaf_hash,
    open_checkpoint,
    parse_header,
    segment_hash,
    verify_bundle,
    verify_consistency,
    verify_header,
    verify_segment,
)
from agent.spool import read_spool_segments
from agent.store import SQLiteStore, check_segment_rows, stored_line
from agent.tls import PLAINTEXT, ClientTLS, open_channel

ANCHOR_FILE = "anchor.checkpoint"


def printable_name(name: str) -> str:
    """An agent name as one safe line: valid names (config.agent_name_problem) are plain
    ASCII and unchanged; a name stored before names were checked may hold a newline or
    terminal controls, which must not forge report lines."""
    return name if name.isascii() and name.isprintable() else ascii(name)[1:-1]
GRPC_OPTIONS = [("grpc.max_receive_message_length", 256 * 1024 * 1024)]


@dataclass
class LogCoverage:
    """What was checked of the collector-wide log."""

    size: int                      # leaves rebuilt from the segments
    checkpoint: SignedCheckpoint | None = None
    key: NoteVerifier | None = None
    key_pinned: bool = False       # False: the key came from the collector or the store itself
    checkpoints_checked: int = 0
    anchors: list[SignedCheckpoint] = field(default_factory=list)


@dataclass
class VerifyReport:
    """What a successful verification covered."""

    chains: list[ChainCoverage] = field(default_factory=list)
    unsealed_lines: int = 0
    unsealed: list[str] = field(default_factory=list)
    log: LogCoverage | None = None
    equivocations_checked: bool = False  # the store/collector holds no equivocation evidence
    index_checked: int = 0               # lines counted through the query index (0: not done)
    spool: bool = False                  # an agent's spool (may be empty: all acknowledged)

    @property
    def segments(self) -> int:
        return sum(c.segments for c in self.chains)

    @property
    def lines(self) -> int:
        return sum(c.lines for c in self.chains)

    def summary(self) -> str:
        parts = [f"OK: {len(self.chains)} agents, {self.segments} segments, {self.lines} lines"]
        for c in self.chains:
            last = dt.datetime.fromtimestamp(c.last_time_ns / 1e9, dt.UTC).isoformat(
                timespec="seconds") if c.last_time_ns else "-"
            parts.append(f"{printable_name(c.agent)} [{key_id(c.agent_key)}] "
                         f"seq {c.first_seq}..{c.last_seq} "
                         f"(last line {last}, head {c.last_hash.hex()[:16]})")
        if self.spool and not self.chains:
            parts.append("the spool is empty: every sealed segment was acknowledged")
        if self.equivocations_checked:
            parts.append("no equivocations")
        if self.index_checked:
            parts.append(f"query index agrees ({self.index_checked} lines)")
        if self.unsealed:
            parts.append("NOT verified: " + ", ".join(self.unsealed))
        log = self.log
        if log is not None:
            if log.checkpoint is not None:
                cp = log.checkpoint
                parts.append(f"log {cp.origin}: checkpoint size {cp.size} root "
                             f"{cp.root.hex()[:16]} matches the segments")
            if log.checkpoints_checked:
                parts.append(f"{log.checkpoints_checked} stored checkpoints consistent")
            if log.key is not None and not log.key_pinned:
                parts.append(f"collector key {log.key.vkey} NOT pinned (taken from the "
                             "collector or store being verified; pass --collector-key)")
            if log.anchors:
                sizes = ", ".join(str(a.size) for a in log.anchors)
                parts.append(f"anchored: consistent with checkpoint(s) of size {sizes}")
        if self.chains and (log is None or not log.anchors):
            parts.append("no anchor given: a history cut short at its end, or rewritten and "
                         "re-signed, cannot be ruled out (compare last seq and head with the "
                         "agent's, or pass --anchor)")
        return "; ".join(parts)


@dataclass(frozen=True, slots=True)
class _Stored:
    header: bytes
    signature: bytes
    entries: list[bytes]
    locators: list[bytes] | None = None
    stored_key: bytes | None = None   # the agent the store files this segment under
    stored_agent: str | None = None


def _verify_chains(segments: Iterable[_Stored], *, require_genesis: bool,
                   expected_key: bytes | None = None) -> VerifyReport:
    chains: dict[bytes, ChainVerifier] = {}
    for s in segments:
        seg = verify_segment(s.header, s.signature, s.entries, expected_key=expected_key,
                             locators=s.locators)
        if s.stored_key is not None and seg.agent_key != s.stored_key:
            raise VerificationError(
                f"stored as agent {s.stored_agent!r} [{key_id(s.stored_key)}] but signed by "
                f"{seg.agent_name!r} [{key_id(seg.agent_key)}]", code=ErrorCode.KEY_MISMATCH,
                agent=s.stored_agent, seq=seg.seq)
        chain = chains.setdefault(seg.agent_key, ChainVerifier(require_genesis=require_genesis))
        chain.feed(seg)
    return VerifyReport(chains=[c.coverage for c in chains.values() if c.coverage is not None])


# ---------------------------------------------------------------- equivocations

@dataclass(frozen=True, slots=True)
class Equivocation:
    """Two different segments signed by one agent key for the same seq: the one stored and
    the one the collector refused (kept as evidence)."""

    agent: str
    agent_key: bytes
    seq: int
    stored_header: bytes
    stored_signature: bytes
    header: bytes
    signature: bytes
    received_ns: int

    def describe(self) -> str:
        stored = pb.SegmentHeader.FromString(self.stored_header)
        other = pb.SegmentHeader.FromString(self.header)
        return (f"{printable_name(self.agent)} [{key_id(self.agent_key)}] seq {self.seq}: stored "
                f"{segment_hash(self.stored_header).hex()[:16]} (boot {stored.boot_id.hex()[:8]}, "
                f"{stored.count} lines) vs refused {segment_hash(self.header).hex()[:16]} "
                f"(boot {other.boot_id.hex()[:8]}, {other.count} lines)")


def check_equivocations(found: Sequence[Equivocation]) -> None:
    """Fail on the first equivocation, naming agent and seq and how many there are.

    Both headers are checked against the agent key first: two valid signatures over different
    headers for one seq prove the key signed two histories (a forked chain, an agent restarted
    without its state, or a stolen key). The stored chain alone cannot say which history is
    true, so an auditor must not be told the log is OK.
    """
    if not found:
        return
    first = found[0]
    for header, signature, which in ((first.stored_header, first.stored_signature, "stored"),
                                     (first.header, first.signature, "refused")):
        try:
            verify_header(header, signature, expected_key=first.agent_key)
        except VerificationError as exc:
            raise VerificationError(
                f"equivocation record: the {which} header does not verify ({exc.message}); "
                "the store's evidence was altered", code=exc.code, agent=first.agent,
                seq=first.seq) from exc
    more = f" ({len(found)} equivocations in all)" if len(found) > 1 else ""
    raise VerificationError(
        f"equivocation: the agent key signed two different segments for this seq: "
        f"{first.describe()}{more}; list them with `sealtail equivocations`",
        code=ErrorCode.EQUIVOCATION, agent=first.agent, seq=first.seq)


def store_equivocations(store: SQLiteStore, agent: str = "") -> list[Equivocation]:
    return [Equivocation(r.agent, r.agent_key, r.seq, r.stored_header, r.stored_signature,
                         r.header, r.signature, r.received_ns)
            for r in store.equivocations(agent)]


def remote_equivocations(stub: pb_grpc.QueryStub, agent: str, *, timeout: float,
                         metadata: Metadata) -> list[Equivocation]:
    return [Equivocation(r.agent, r.agent_key, r.seq, r.stored_header, r.stored_signature,
                         r.header, r.signature, r.received_ns)
            for r in stub.Equivocations(pb.EquivocationsRequest(agent=agent), timeout=timeout,
                                        metadata=metadata)]


def list_equivocations(address: str, agent: str = "", *, token: str | None = None,
                       timeout_secs: float = 60,
                       tls: ClientTLS = PLAINTEXT) -> list[Equivocation]:
    """The equivocation evidence a running collector holds."""
    with channel(address, tls) as chan:
        try:
            return remote_equivocations(pb_grpc.QueryStub(chan), agent, timeout=timeout_secs,
                                        metadata=auth_metadata(token))
        except grpc.RpcError as exc:
            raise rpc_error(address, exc, tls) from exc


def read_store_equivocations(data_dir: Path, agent: str = "") -> list[Equivocation]:
    """The equivocation evidence in a collector's data directory (read-only)."""
    store = SQLiteStore(data_dir, readonly=True)
    try:
        return store_equivocations(store, agent)
    except sqlite3.Error as exc:
        raise StoreError(f"{store.path}: cannot read store: {exc}") from exc
    finally:
        store.close()


# ---------------------------------------------------------------- anchors and checkpoints

def load_anchors(paths: Sequence[Path]) -> list[bytes]:
    """Checkpoint notes from files, or from agent state directories (STATE/anchor.checkpoint)."""
    notes = []
    for path in paths:
        file = path / ANCHOR_FILE if path.is_dir() else path
        if path.is_dir() and not file.exists():
            raise ConfigError(f"{path}: no {ANCHOR_FILE} in this directory (an agent writes it "
                              "once a collector key is set and a segment is acknowledged)",
                              key="--anchor")
        try:
            notes.append(file.read_bytes())
        except OSError as exc:
            raise ConfigError(f"{file}: cannot read anchor: {exc.strerror}",
                              key="--anchor") from exc
    return notes


def _require_segments(report: VerifyReport, where: str, agent: str = "") -> None:
    """Verifying nothing is not a pass."""
    if report.chains:
        return
    if agent:
        raise VerificationError(f"no segments from agent {agent} in {where}",
                                code=ErrorCode.NO_SEGMENTS, agent=agent)
    raise VerificationError(f"nothing to verify: {where} holds no segments",
                            code=ErrorCode.NO_SEGMENTS)


def _open_anchor(note: bytes, key: NoteVerifier) -> SignedCheckpoint:
    try:
        return open_checkpoint(note, [key])
    except VerificationError as exc:
        raise VerificationError(f"anchor: {exc.message}", code=exc.code) from exc


def check_against_log(tree: MerkleLog, cp: SignedCheckpoint, *, what: str) -> None:
    """A signed checkpoint must describe a prefix of the rebuilt tree."""
    if cp.size > tree.size:
        raise VerificationError(
            f"rollback: have {tree.size} segments < {cp.size} in {what} "
            f"(root {cp.root.hex()[:16]}); the log was cut short", code=ErrorCode.ROLLBACK)
    if tree.root(cp.size) != cp.root:
        raise VerificationError(
            f"{what} (size {cp.size}, root {cp.root.hex()[:16]}) is not a prefix of the log as "
            f"it stands (root at that size {tree.root(cp.size).hex()[:16]}): history was "
            "rewritten or forked", code=ErrorCode.INCONSISTENT_HISTORY)


def _check_anchors(tree: MerkleLog, head: SignedCheckpoint | None, anchors: Sequence[bytes],
                   key: NoteVerifier, *,
                   consistency: Consistency | None = None) -> list[SignedCheckpoint]:
    opened = []
    for note in anchors:
        anchor = _open_anchor(note, key)
        if head is not None and anchor.size > head.size:
            raise VerificationError(
                f"rollback: have {head.size} segments < anchored {anchor.size}; the collector's "
                "log is shorter than a checkpoint it signed earlier", code=ErrorCode.ROLLBACK)
        if consistency is not None and head is not None and 0 < anchor.size < head.size:
            proof = consistency(anchor.size, head.size)
            if not verify_consistency(anchor.size, head.size, proof, anchor.root, head.root):
                raise VerificationError(
                    f"no consistency proof from the anchored checkpoint (size {anchor.size}) "
                    f"to the current one (size {head.size}): history was rewritten or forked",
                    code=ErrorCode.INCONSISTENT_HISTORY)
        check_against_log(tree, anchor, what="the anchored checkpoint")
        opened.append(anchor)
    return opened


class Consistency:
    """Fetches consistency proofs from a collector."""

    def __init__(self, stub: pb_grpc.QueryStub, timeout: float, metadata: Metadata) -> None:
        self._stub = stub
        self._timeout = timeout
        self._metadata = metadata

    def __call__(self, size1: int, size2: int) -> list[bytes]:
        reply = self._stub.ConsistencyProof(pb.ConsistencyRequest(size1=size1, size2=size2),
                                            timeout=self._timeout, metadata=self._metadata)
        return list(reply.proof)


# ---------------------------------------------------------------- a collector's store

def verify_store(data_dir: Path, *, collector_key: NoteVerifier | None = None,
                 anchors: Sequence[bytes] = ()) -> VerifyReport:
    """Verify every agent chain and the collector-wide log in a data directory (read-only).

    Stored checkpoints must verify and describe prefixes of the log rebuilt from the stored
    headers; so must each anchor.
    """
    store = SQLiteStore(data_dir, readonly=True)
    try:
        report = _verify_chains(_store_segments(store), require_genesis=True)
        _require_segments(report, f"store {data_dir}")
        _check_aggregates(store)
        tree = MerkleLog()
        for header in _store_headers(store):
            tree.append(leaf_hash(segment_hash(header)))
        pinned = collector_key is not None
        key = collector_key
        vkey_file = data_dir / "collector.vkey"
        if key is None and vkey_file.exists():
            from agent.keys import load_note_verifier

            key = load_note_verifier(vkey_file)
        log = LogCoverage(size=tree.size, key=key, key_pinned=pinned)
        report.log = log
        rows = store.checkpoints()
        if rows and key is None:
            raise KeyFileError(f"{data_dir}: the store holds checkpoints but there is no "
                               "collector key to check them (pass --collector-key)")
        for row in rows:
            assert key is not None
            cp = open_checkpoint(row.note, [key])
            if (cp.size, cp.root) != (row.size, row.root):
                raise VerificationError(f"stored checkpoint id={row.id}: columns disagree with "
                                        "its signed note", code=ErrorCode.INDEX_MISMATCH)
            check_against_log(tree, cp, what=f"the store's own checkpoint id={row.id}")
            log.checkpoint = cp
            log.checkpoints_checked += 1
        if anchors:
            if key is None:
                raise KeyFileError("an anchor needs the collector key (pass --collector-key)")
            log.anchors = _check_anchors(tree, None, anchors, key)
        check_equivocations(store_equivocations(store))
        report.equivocations_checked = True
        return report
    except sqlite3.Error as exc:
        raise StoreError(f"{store.path}: cannot read store: {exc}") from exc
    finally:
        store.close()


def _check_aggregates(store: SQLiteStore) -> None:
    """The aggregates `sealtail summary` reads must be exactly what each segment's (verified)
    lines give: an edited count or authentication row is named by agent and seq."""
    if store.get_meta("aggregates_version") is None:
        return  # written before aggregates existed and not opened by a collector since
    after = 0
    with store.reader() as conn:
        while True:
            rows = store.segments_page("", b"", after, 200)
            if not rows:
                return
            for row in rows:
                lines = [stored_line(r[0], r[3], pb.Entry.FromString(r[5]))
                         for r in store.segment_entries(conn, row.segment_id)]
                problem = check_segment_rows(conn, row.segment_id, row.agent_id, lines)
                if problem:
                    raise VerificationError(f"aggregates: {problem}",
                                            code=ErrorCode.AGGREGATE_MISMATCH, agent=row.agent,
                                            seq=row.seq)
            after = rows[-1].segment_id


def _store_headers(store: SQLiteStore) -> Iterator[bytes]:
    after = 0
    while True:
        rows = store.segments_page("", b"", after, 1000)
        if not rows:
            return
        yield from (r.header for r in rows)
        after = rows[-1].segment_id


def _store_segments(store: SQLiteStore) -> Iterator[_Stored]:
    after = 0
    try:
        with store.reader() as conn:
            while True:
                rows = store.segments_page("", b"", after, 200)
                if not rows:
                    return
                for row in rows:
                    signed_key = parse_header(row.header, agent=row.agent).agent_key
                    if signed_key != row.agent_key:  # e.g. another host's segment moved here
                        raise VerificationError(
                            f"stored as agent {row.agent!r} [{key_id(row.agent_key)}] but "
                            f"signed by key {key_id(signed_key)}", code=ErrorCode.KEY_MISMATCH,
                            agent=row.agent, seq=row.seq)
                    stored = store.segment_entries(conn, row.segment_id)
                    _check_index_columns(row.agent, row.seq, row.header, stored)
                    yield _Stored(row.header, row.signature, [r[5] for r in stored],
                                  [r[4] for r in stored], row.agent_key, row.agent)
                after = rows[-1].segment_id
    except sqlite3.Error as exc:
        raise StoreError(f"{store.path}: cannot read store: {exc}") from exc


def _check_index_columns(agent: str, seq: int, header_bytes: bytes,
                         stored: list[tuple[int, int, str, str, bytes, bytes]]) -> None:
    """The store's index columns must agree with the signed bytes they index."""
    header = parse_header(header_bytes, agent=agent)
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


# ---------------------------------------------------------------- an agent's spool

def verify_spool(state_dir: Path, public_key: bytes) -> VerifyReport:
    """Verify an agent's unshipped segments (they may start mid-chain), and report lines in
    the tailed files after the last sealed cursor as unsealed (never as verified)."""
    segments = [pb.Segment.FromString(payload) for _path, payload in
                read_spool_segments(state_dir)]
    report = _verify_chains((_Stored(s.header, s.signature, list(s.entries)) for s in segments),
                            require_genesis=False, expected_key=public_key)
    report.spool = True
    cursors: dict[tuple[int, int], tuple[str, int]] = {}
    last_seq: int | None = None
    head_file = state_dir / "head.json"
    if head_file.exists():
        import json

        head = json.loads(head_file.read_text())
        last_seq = int(head["next_seq"]) - 1
        for c in head["cursors"]:
            cursors[(int(c["device"]), int(c["inode"]))] = (str(c["path"]), int(c["offset"]))
    for s in segments:
        h = pb.SegmentHeader.FromString(s.header)
        last_seq = h.seq
        for c in h.sources:
            cursors[(c.device, c.inode)] = (c.path, c.offset)
    for (device, inode), (path, offset) in sorted(cursors.items()):
        lines = _lines_after(Path(path), device, inode, offset)
        if lines:
            report.unsealed_lines += lines
            after = f"seq {last_seq}" if last_seq is not None and last_seq >= 0 else "start"
            report.unsealed.append(f"{lines} lines unsealed after {after} in {path} "
                                   f"(from byte {offset})")
    return report


def _lines_after(path: Path, device: int, inode: int, offset: int) -> int:
    """Lines (counting a last line without newline) after `offset` in the same file."""
    try:
        st = os.stat(path)
        if (st.st_dev, st.st_ino) != (device, inode) or st.st_size <= offset:
            return 0
        with open(path, "rb") as f:
            f.seek(offset)
            rest = f.read()
    except OSError:
        return 0
    return rest.count(b"\n") + (0 if rest.endswith(b"\n") else 1)


# ---------------------------------------------------------------- a running collector

def channel(address: str, tls: ClientTLS = PLAINTEXT) -> grpc.Channel:
    return open_channel(address, tls, list(GRPC_OPTIONS))


Metadata = tuple[tuple[str, str], ...]


def auth_metadata(token: str | None) -> Metadata:
    """Call metadata carrying the query bearer token, if any."""
    return (("authorization", f"Bearer {token}"),) if token else ()


def rpc_error(address: str, exc: grpc.RpcError, tls: ClientTLS = PLAINTEXT) -> SealtailError:
    """A failed call as a SealtailError, with what a TLS failure most likely means."""
    code: grpc.StatusCode = exc.code()
    details = exc.details() or ""
    error = {grpc.StatusCode.UNAUTHENTICATED: ErrorCode.UNAUTHENTICATED,
             grpc.StatusCode.PERMISSION_DENIED: ErrorCode.UNAUTHENTICATED,
             grpc.StatusCode.NOT_FOUND: ErrorCode.NOT_FOUND,
             grpc.StatusCode.INVALID_ARGUMENT: ErrorCode.INVALID_REQUEST,
             grpc.StatusCode.FAILED_PRECONDITION: ErrorCode.INVALID_REQUEST,
             grpc.StatusCode.OUT_OF_RANGE: ErrorCode.INVALID_REQUEST,
             }.get(code, ErrorCode.COLLECTOR_UNAVAILABLE)
    hint = tls.explain(address, details) if code == grpc.StatusCode.UNAVAILABLE else None
    return SealtailError(f"collector {address}: {code.name}: {details}"
                         + (f"\n  {hint}" if hint else ""), code=error)


def verify_remote(address: str, agent: str = "", *, pinned_keys: frozenset[bytes] = frozenset(),
                  collector_key: NoteVerifier | None = None, anchors: Sequence[bytes] = (),
                  token: str | None = None, timeout_secs: float = 600,
                  tls: ClientTLS = PLAINTEXT) -> VerifyReport:
    """Download segments from a collector and verify them here (trusting nothing it says).

    The collector-wide tree is rebuilt from every stored header and must match the
    collector's latest signed checkpoint; each anchor must be consistent with it (checked both
    with the collector's consistency proof and against the rebuilt tree).

    With `pinned_keys`, every chain must be signed by one of them.
    """
    md = auth_metadata(token)
    with channel(address, tls) as chan:
        stub = pb_grpc.QueryStub(chan)
        try:
            reply = stub.GetCheckpoint(pb.CheckpointRequest(), timeout=timeout_secs, metadata=md)
            key = collector_key or NoteVerifier.parse(reply.vkey)
            head = open_checkpoint(reply.checkpoint, [key])
            tree = MerkleLog()
            for stored in stub.Segments(pb.SegmentsRequest(headers_only=True),
                                        timeout=timeout_secs, metadata=md):
                if stored.leaf_index != tree.size:
                    raise VerificationError(
                        f"the collector lists leaf {stored.leaf_index} where {tree.size} was "
                        "due", code=ErrorCode.INCONSISTENT_HISTORY)
                tree.append(leaf_hash(segment_hash(stored.segment.header)))
            check_against_log(tree, head, what="the collector's latest checkpoint")
            log = LogCoverage(size=tree.size, checkpoint=head, key=key,
                              key_pinned=collector_key is not None)
            log.anchors = _check_anchors(tree, head, anchors, key,
                                         consistency=Consistency(stub, timeout_secs, md))

            categories: Counter[str] = Counter()
            leaves = 0

            def segments() -> Iterator[_Stored]:
                nonlocal leaves
                for stored in stub.Segments(pb.SegmentsRequest(agent=agent),
                                            timeout=timeout_secs, metadata=md):
                    s = stored.segment
                    categories.update(_category(e) for e in s.entries)
                    leaves = max(leaves, stored.leaf_index + 1)
                    yield _Stored(s.header, s.signature, list(s.entries))

            report = _verify_chains(segments(), require_genesis=True)
            _require_segments(report, f"collector {address}", agent)
            check_equivocations(remote_equivocations(stub, agent, timeout=timeout_secs,
                                                     metadata=md))
            report.equivocations_checked = True
            _check_query_index(stub, agent, categories, leaves, timeout=timeout_secs,
                               metadata=md)
            report.index_checked = sum(categories.values())
        except grpc.RpcError as exc:
            raise rpc_error(address, exc, tls) from exc
        except ValueError as exc:  # the announced vkey does not parse
            raise VerificationError(f"collector {address} announced an invalid key: {exc}",
                                    code=ErrorCode.MALFORMED_NOTE) from exc
    report.log = log
    if pinned_keys:
        for c in report.chains:
            if c.agent_key not in pinned_keys:
                raise VerificationError(f"chain signed by key {key_id(c.agent_key)}, which is not "
                                        "one of the given keys", code=ErrorCode.KEY_MISMATCH,
                                        agent=c.agent)
    return report


def _category(entry: bytes) -> str:
    try:
        return pb.Entry.FromString(entry).category
    except Exception:
        return ""  # verify_segment names the unparseable entry


_MISMATCH = re.compile(r"^agent=(.*?) segment seq=(\d+) line (\d+): (.*)$", re.S)


def _check_query_index(stub: pb_grpc.QueryStub, agent: str, categories: Counter[str],
                       leaves: int, *, timeout: float, metadata: Metadata) -> None:
    """What the collector's query index answers must be what the verified segments hold:
    the line count (all, and per category) and no line whose index disagrees with its bytes.

    An operator who edits the index (a category, a time) is caught here, online. Only the
    first `leaves` segments are counted: those verified (more may arrive meanwhile)."""
    total = sum(categories.values())
    for category, expected in (("", total), *sorted(categories.items())):
        count, mismatches = 0, []
        for page in stub.Search(pb.SearchRequest(agent=agent, category=category,
                                                 count_only=True, leaves=leaves),
                                timeout=timeout, metadata=metadata):
            mismatches.extend(page.index_mismatches)
            count = page.count
        if mismatches:
            more = f" ({len(mismatches)} lines in all)" if len(mismatches) > 1 else ""
            m = _MISMATCH.match(mismatches[0])
            if m:
                raise VerificationError(
                    f"the collector's query index: {m.group(4)}{more}",
                    code=ErrorCode.INDEX_MISMATCH, agent=m.group(1), seq=int(m.group(2)),
                    line=int(m.group(3)))
            raise VerificationError(f"the collector's query index: {mismatches[0]}{more}",
                                    code=ErrorCode.INDEX_MISMATCH)
        if count != expected:
            what = f"of category {category!r}" if category else "in all"
            raise VerificationError(
                f"the collector's query index answers {count} lines {what}; the verified "
                f"segments hold {expected}", code=ErrorCode.INDEX_MISMATCH,
                agent=agent or None)


# ---------------------------------------------------------------- proof bundles

def fetch_bundle(address: str, agent: str, seq: int, index: int, *, agent_key: bytes = b"",
                 token: str | None = None, timeout_secs: float = 60,
                 tls: ClientTLS = PLAINTEXT) -> bytes:
    """Ask a collector for the proofs of one line; the bundle file's bytes."""
    from agent.formats import ProofBundle

    with channel(address, tls) as chan:
        try:
            r = pb_grpc.QueryStub(chan).InclusionProof(
                pb.InclusionRequest(agent=agent, seq=seq, index=index, agent_key=agent_key),
                timeout=timeout_secs, metadata=auth_metadata(token))
        except grpc.RpcError as exc:
            raise rpc_error(address, exc, tls) from exc
    return ProofBundle(entry=r.entry, index=r.index, header=r.header, signature=r.signature,
                       line_proof=tuple(r.line_proof), leaf_index=r.leaf_index,
                       log_proof=tuple(r.log_proof), checkpoint=r.checkpoint).to_json()


def verify_bundle_file(path: Path, *, collector_key: NoteVerifier,
                       agent_key: bytes) -> VerifiedLine:
    """Check a bundle file offline."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise KeyFileError(f"{path}: cannot read bundle: {exc.strerror}") from exc
    return verify_bundle(data, collector_keys=[collector_key], agent_key=agent_key)
