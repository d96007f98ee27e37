"""The SQLite store: append-only tables of segments and entries.

Every write runs on one dedicated thread (SQLite allows one writer; the event loop never
blocks on it). Reads open their own connections. Triggers refuse UPDATE and DELETE on every
log table; no code path here issues either.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import os
import sqlite3
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from agent._pb import sealtail_pb2 as pb
from agent.errors import ErrorCode, StoreError
from agent.formats import MerkleLog, VerifiedSegment, leaf_hash, line_locator, segment_hash
from agent.insights import WindowData
from agent.store._aggregates import (
    AGG_SCHEMA,
    AGG_TABLES,
    AGGREGATES_VERSION,
    Aggregator,
    StoredLine,
)
from agent.store._window import WindowReader

SCHEMA_VERSION = 1
LOG_TABLES = ("agents", "segments", "entries", "equivocations", "checkpoints", *AGG_TABLES)

SCHEMA = """
CREATE TABLE IF NOT EXISTS meta(key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS agents(
    id INTEGER PRIMARY KEY,
    key BLOB NOT NULL UNIQUE,
    name TEXT NOT NULL,
    first_seen_ns INTEGER NOT NULL
);
-- segments.id - 1 is the segment's leaf index in the collector-wide log (ids are never reused:
-- nothing is ever deleted).
CREATE TABLE IF NOT EXISTS segments(
    id INTEGER PRIMARY KEY,
    agent_id INTEGER NOT NULL REFERENCES agents(id),
    seq INTEGER NOT NULL,
    hash BLOB NOT NULL,
    header BLOB NOT NULL,
    signature BLOB NOT NULL,
    count INTEGER NOT NULL,
    t_first_ns INTEGER NOT NULL,
    t_last_ns INTEGER NOT NULL,
    received_ns INTEGER NOT NULL,
    UNIQUE(agent_id, seq)
);
-- entry holds the exact leaf bytes; the other columns are an index over them, re-checked by
-- `sealtail verify --data`. locator = line_locator(idx, leaf hash): it only helps name the
-- first altered, moved or removed line after the signed root has failed; it is never trusted.
CREATE TABLE IF NOT EXISTS entries(
    segment_id INTEGER NOT NULL REFERENCES segments(id),
    idx INTEGER NOT NULL,
    time_ns INTEGER NOT NULL,
    category TEXT NOT NULL,
    source TEXT NOT NULL,
    locator BLOB NOT NULL,
    entry BLOB NOT NULL,
    PRIMARY KEY(segment_id, idx)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS entries_time ON entries(time_ns);
CREATE INDEX IF NOT EXISTS entries_category ON entries(category, segment_id);
CREATE TABLE IF NOT EXISTS equivocations(
    id INTEGER PRIMARY KEY,
    agent_id INTEGER NOT NULL REFERENCES agents(id),
    seq INTEGER NOT NULL,
    stored_hash BLOB NOT NULL,
    header BLOB NOT NULL,
    signature BLOB NOT NULL,
    received_ns INTEGER NOT NULL
);
-- Every checkpoint the collector signed, in signing order: evidence it cannot later deny.
-- note = the exact signed C2SP note bytes; size/root repeat its body for lookups.
CREATE TABLE IF NOT EXISTS checkpoints(
    id INTEGER PRIMARY KEY,
    size INTEGER NOT NULL,
    root BLOB NOT NULL,
    note BLOB NOT NULL,
    signed_ns INTEGER NOT NULL
);
"""

SCHEMA += AGG_SCHEMA

TRIGGERS = "".join(
    f"""
CREATE TRIGGER IF NOT EXISTS {table}_no_update BEFORE UPDATE ON {table}
BEGIN SELECT RAISE(ABORT, 'sealtail store is append-only: UPDATE on {table} refused'); END;
CREATE TRIGGER IF NOT EXISTS {table}_no_delete BEFORE DELETE ON {table}
BEGIN SELECT RAISE(ABORT, 'sealtail store is append-only: DELETE on {table} refused'); END;
"""
    for table in LOG_TABLES
)


@dataclass(frozen=True, slots=True)
class AppendResult:
    status: int                # pb.AckStatus
    leaf_index: int = 0
    code: str = ""
    message: str = ""
    retryable: bool = False


@dataclass(frozen=True, slots=True)
class SearchFilter:
    agent: str = ""
    category: str = ""
    contains: bytes = b""
    since_ns: int = 0
    until_ns: int = 0
    leaves: int = 0    # only segments with leaf index < leaves (0 = all)


    def covers(self, header: pb.SegmentHeader) -> bool:
        """Whether a segment may hold matches, from its signed header."""
        return not ((self.agent and header.agent_name != self.agent)
                    or (self.since_ns and header.t_last_ns < self.since_ns)
                    or (self.until_ns and header.t_first_ns >= self.until_ns))

    def matches(self, entry: pb.Entry, agent: str) -> bool:
        """Whether a line matches, from its signed entry and its segment's signed agent name."""
        return not ((self.agent and agent != self.agent)
                    or (self.category and entry.category != self.category)
                    or (self.since_ns and entry.time_ns < self.since_ns)
                    or (self.until_ns and entry.time_ns >= self.until_ns)
                    or (self.contains and self.contains not in entry.line))


SEARCH_SEGMENTS = 64   # segments looked at per search page
HEADER_CACHE = 8192    # parsed segment headers kept for searches


@dataclass(frozen=True, slots=True)
class EntryRow:
    segment_id: int
    agent: str
    agent_key: bytes
    seq: int
    index: int
    source: str
    entry: bytes


@dataclass(frozen=True, slots=True)
class SearchPage:
    rows: list[EntryRow]        # the matches, by their signed bytes
    mismatches: list[str]       # lines whose index columns disagree with their signed bytes
    after: tuple[int, int]      # where the next page starts
    done: bool


def _mismatch(header: pb.SegmentHeader, idx: int, entry: pb.Entry, path: str, time_ns: int,
              category: str, source: str, agent: str) -> str:
    wrong = [f"{what} {column!r} (signed: {signed!r})" for what, column, signed in (
        ("time_ns", time_ns, entry.time_ns), ("category", category, entry.category),
        ("source", source, path), ("agent", agent, header.agent_name)) if column != signed]
    return (f"agent={header.agent_name} segment seq={header.seq} line {idx}: index column"
            f"{'s' if len(wrong) > 1 else ''} {', '.join(wrong) or 'agent key'} disagree"
            f"{'' if len(wrong) > 1 else 's'} with the signed entry")


@dataclass(frozen=True, slots=True)
class SegmentRow:
    segment_id: int
    agent_id: int
    agent: str
    agent_key: bytes
    seq: int
    hash: bytes
    header: bytes
    signature: bytes
    count: int
    t_first_ns: int
    t_last_ns: int


@dataclass(frozen=True, slots=True)
class EquivocationRow:
    agent: str
    agent_key: bytes
    seq: int
    stored_header: bytes
    stored_signature: bytes
    header: bytes
    signature: bytes
    received_ns: int


@dataclass(frozen=True, slots=True)
class CheckpointRow:
    id: int
    size: int
    root: bytes
    note: bytes
    signed_ns: int


@dataclass(frozen=True, slots=True)
class AgentRow:
    id: int
    name: str
    key: bytes
    segments: int
    entries: int
    last_seq: int


def _connect(path: Path, *, readonly: bool) -> sqlite3.Connection:
    uri = f"file:{path}?mode={'ro' if readonly else 'rwc'}"
    conn = sqlite3.connect(uri, uri=True, isolation_level=None, check_same_thread=False)
    conn.execute("PRAGMA busy_timeout = 10000")
    if readonly:
        try:
            conn.execute("SELECT 1 FROM sqlite_master LIMIT 1").fetchall()
        except sqlite3.OperationalError:
            # A copy on read-only media: WAL needs a writable -shm beside the file. Read it
            # as immutable (nobody is writing a copy), which needs no lock or -shm.
            conn.close()
            conn = sqlite3.connect(f"file:{path}?mode=ro&immutable=1", uri=True,
                                   isolation_level=None, check_same_thread=False)
    return conn


class SQLiteStore:
    """Append-only store in `<data_dir>/sealtail.db` (WAL).

    A writable store also keeps the collector-wide Merkle tree in memory (`log`): leaf i is
    the hash of the segment with id i + 1, rebuilt at open by re-hashing every stored header.
    """

    FILE_NAME = "sealtail.db"

    def __init__(self, data_dir: Path, *, readonly: bool = False) -> None:
        self.path = data_dir / self.FILE_NAME
        self._readonly = readonly
        self.backfilled = 0  # segments given aggregates at open (a store older than them)
        self._header_cache: dict[int, pb.SegmentHeader] = {}  # segment id -> parsed header
        if readonly and not self.path.exists():
            raise StoreError(f"{self.path}: no store here")
        try:
            if not readonly:
                data_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
                old = os.umask(0o077)  # the db, -wal and -shm files: owner only
                try:
                    self._writer_conn = _connect(self.path, readonly=False)
                    self._writer_conn.execute("PRAGMA journal_mode = WAL")
                    # FULL: a commit is on disk before we acknowledge the segment.
                    self._writer_conn.execute("PRAGMA synchronous = FULL")
                    self._writer_conn.executescript(SCHEMA + TRIGGERS)
                    self._writer_conn.execute(
                        "INSERT OR IGNORE INTO meta VALUES ('schema_version', ?)",
                        (str(SCHEMA_VERSION),))
                finally:
                    os.umask(old)
            self._aggregator = Aggregator()
            self.log = MerkleLog() if readonly else self._load_log()
            if not readonly:
                self.backfilled = self._backfill_aggregates()
        except sqlite3.Error as exc:
            raise StoreError(f"{self.path}: cannot open store: {exc}") from exc
        self._writer = concurrent.futures.ThreadPoolExecutor(1, thread_name_prefix="sqlite-writer")

    def _backfill_aggregates(self) -> int:
        """A store written before aggregates existed gets them once, in one transaction."""
        conn = self._writer_conn
        if conn.execute("SELECT 1 FROM meta WHERE key = 'aggregates_version'").fetchone():
            return 0
        conn.execute("BEGIN IMMEDIATE")
        try:
            done = self._aggregator.backfill(conn)
            conn.execute("INSERT INTO meta VALUES ('aggregates_version', ?)",
                         (AGGREGATES_VERSION,))
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        conn.execute("COMMIT")
        return done

    def _load_log(self) -> MerkleLog:
        log = MerkleLog()
        for sid, header in self._writer_conn.execute("SELECT id, header FROM segments ORDER BY id"):
            if sid != log.size + 1:
                raise StoreError(f"{self.path}: segment ids jump from {log.size} to {sid}; the "
                                 "collector-wide log has a hole (run `sealtail verify --data`)")
            log.append(leaf_hash(segment_hash(header)))
        return log

    def close(self) -> None:
        self._writer.shutdown(wait=True)
        if not self._readonly:
            self._writer_conn.close()

    @contextlib.contextmanager
    def reader(self) -> Iterator[sqlite3.Connection]:
        conn = _connect(self.path, readonly=True)
        try:
            yield conn
        finally:
            conn.close()

    # -- writing ----------------------------------------------------------------------------

    async def append(self, seg: VerifiedSegment) -> AppendResult:
        """Store a verified segment if it continues its agent's chain (on the writer thread)."""
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._writer, self._append_sync, seg)

    def _append_sync(self, seg: VerifiedSegment) -> AppendResult:
        conn = self._writer_conn
        h = seg.header
        now = time.time_ns()
        try:
            conn.execute("BEGIN IMMEDIATE")
            try:
                result, templates = self._append_in_txn(conn, seg, h, now)
            except BaseException:
                conn.execute("ROLLBACK")
                raise
            conn.execute("COMMIT")
            self._aggregator.remember(templates)
            if result.status == pb.ACK_STORED:
                # Only after COMMIT: the in-memory tree never holds a leaf the file lacks.
                index = self.log.append(leaf_hash(seg.segment_hash))
                assert index == result.leaf_index, (index, result.leaf_index)
            return result
        except sqlite3.Error as exc:
            raise StoreError(f"{self.path}: cannot store segment seq={h.seq}: {exc}") from exc

    def _append_in_txn(self, conn: sqlite3.Connection, seg: VerifiedSegment,
                       h: pb.SegmentHeader, now: int) -> tuple[AppendResult, list[bytes]]:
        """(result, template ids the aggregates may have added) inside the transaction."""
        row = conn.execute("SELECT id, name FROM agents WHERE key = ?",
                           (h.agent_key,)).fetchone()
        if row is not None and row[1] != h.agent_name:
            # One key, one name: a key writing as another host (or a shared key) is refused.
            return (AppendResult(pb.ACK_REFUSED, code=ErrorCode.ORIGIN_MISMATCH,
                                 message=f"this key writes as agent {row[1]!r}, not "
                                         f"{h.agent_name!r}"), [])
        if row is None:
            other = conn.execute("SELECT 1 FROM agents WHERE name = ? AND key != ?",
                                 (h.agent_name, h.agent_key)).fetchone()
            if other is not None:
                return (AppendResult(pb.ACK_REFUSED, code=ErrorCode.NAME_TAKEN,
                                     message=f"agent name {h.agent_name!r} belongs to another "
                                             "key; a key may not write as another agent"), [])
            if h.seq != 0:
                return (AppendResult(pb.ACK_REFUSED, code=ErrorCode.CHAIN_GAP,
                                     message=f"first segment from this agent has seq {h.seq}; "
                                             f"the collector has none of 0..{h.seq - 1}"), [])
            agent_id = conn.execute("INSERT INTO agents(key, name, first_seen_ns) VALUES (?,?,?)",
                                    (h.agent_key, h.agent_name, now)).lastrowid
            last = None
        else:
            agent_id = row[0]
            last = conn.execute(
                "SELECT seq, hash, id FROM segments WHERE agent_id = ? ORDER BY seq DESC LIMIT 1",
                (agent_id,)).fetchone()
        if last is not None and h.seq <= last[0]:
            stored = conn.execute("SELECT hash, id FROM segments WHERE agent_id = ? AND seq = ?",
                                  (agent_id, h.seq)).fetchone()
            if stored is not None and stored[0] == seg.segment_hash:
                return (AppendResult(pb.ACK_DUPLICATE, leaf_index=stored[1] - 1), [])
            conn.execute("INSERT INTO equivocations(agent_id, seq, stored_hash, header, signature,"
                         " received_ns) VALUES (?,?,?,?,?,?)",
                         (agent_id, h.seq, stored[0] if stored else b"", seg.header_bytes,
                          seg.signature, now))
            return (AppendResult(pb.ACK_REFUSED, code=ErrorCode.EQUIVOCATION,
                                 message=f"seq {h.seq} is already stored with a different hash; "
                                         "both versions are kept as evidence"), [])
        expected_seq = 0 if last is None else last[0] + 1
        if h.seq != expected_seq:
            return (AppendResult(pb.ACK_REFUSED, code=ErrorCode.CHAIN_GAP,
                                 message=f"seq {h.seq} does not follow the stored seq "
                                         f"{expected_seq - 1}"), [])
        if last is not None and h.prev_hash != last[1]:
            return (AppendResult(pb.ACK_REFUSED, code=ErrorCode.CHAIN_BROKEN,
                                 message=f"prev_hash does not match stored seq {last[0]}"), [])
        cur = conn.execute(
            "INSERT INTO segments(agent_id, seq, hash, header, signature, count, t_first_ns,"
            " t_last_ns, received_ns) VALUES (?,?,?,?,?,?,?,?,?)",
            (agent_id, h.seq, seg.segment_hash, seg.header_bytes, seg.signature, h.count,
             h.t_first_ns, h.t_last_ns, now))
        segment_id = cur.lastrowid
        assert segment_id is not None
        paths = [s.path for s in h.sources]
        rows = []
        lines: list[StoredLine] = []
        for i, (data, leaf) in enumerate(zip(seg.entries, seg.leaf_hashes, strict=True)):
            e = pb.Entry.FromString(data)
            t, category, path = e.time_ns, e.category, paths[e.source]
            rows.append((segment_id, i, t, category, path, line_locator(i, leaf), data))
            lines.append((i, path, t, category, e.template_id, e))
        conn.executemany("INSERT INTO entries VALUES (?,?,?,?,?,?,?)", rows)
        assert agent_id is not None
        templates = self._aggregator.add_segment(conn, segment_id, agent_id, lines)
        return AppendResult(pb.ACK_STORED, leaf_index=segment_id - 1), templates

    async def add_checkpoint(self, size: int, root: bytes, note: bytes) -> CheckpointRow:
        """Record a signed checkpoint durably (on the writer thread)."""
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._writer, self._add_checkpoint_sync, size, root,
                                          note)

    def _add_checkpoint_sync(self, size: int, root: bytes, note: bytes) -> CheckpointRow:
        now = time.time_ns()
        try:
            cur = self._writer_conn.execute(
                "INSERT INTO checkpoints(size, root, note, signed_ns) VALUES (?,?,?,?)",
                (size, root, note, now))
        except sqlite3.Error as exc:
            raise StoreError(f"{self.path}: cannot store checkpoint: {exc}") from exc
        assert cur.lastrowid is not None
        return CheckpointRow(cur.lastrowid, size, root, note, now)

    def get_meta(self, key: str) -> str | None:
        with self.reader() as conn:
            row = conn.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return None if row is None else str(row[0])

    def set_meta_once(self, key: str, value: str) -> str:
        """Set `key` unless it is already set; returns the stored value."""
        self._writer_conn.execute("INSERT OR IGNORE INTO meta VALUES (?, ?)", (key, value))
        stored = self.get_meta(key)
        assert stored is not None
        return stored

    # -- reading ----------------------------------------------------------------------------

    def latest_checkpoint(self) -> CheckpointRow | None:
        with self.reader() as conn:
            row = conn.execute("SELECT id, size, root, note, signed_ns FROM checkpoints"
                               " ORDER BY id DESC LIMIT 1").fetchone()
        return None if row is None else CheckpointRow(*row)

    def checkpoints(self) -> list[CheckpointRow]:
        """Every stored checkpoint in signing order."""
        with self.reader() as conn:
            return [CheckpointRow(*r) for r in conn.execute(
                "SELECT id, size, root, note, signed_ns FROM checkpoints ORDER BY id")]

    def checkpoint_at_least(self, size: int) -> CheckpointRow | None:
        """The first stored checkpoint whose tree has at least `size` leaves."""
        with self.reader() as conn:
            row = conn.execute("SELECT id, size, root, note, signed_ns FROM checkpoints"
                               " WHERE size >= ? ORDER BY id LIMIT 1", (size,)).fetchone()
        return None if row is None else CheckpointRow(*row)

    def search_page(self, flt: SearchFilter, after: tuple[int, int],
                    page_size: int) -> SearchPage:
        """Up to `page_size` entries matching `flt`, after (segment_id, idx), in log order.

        Lines are matched on their signed bytes (entry and segment header), never on the
        index columns: SQL only narrows with tests that are true of every matching line's
        bytes (the category and the text appear in the entry, the agent name in the header),
        and segments are skipped on their signed time span. A candidate whose columns
        disagree with its bytes is named in `mismatches` (and kept or dropped by its bytes).
        """
        where = ["(e.segment_id > ? OR (e.segment_id = ? AND e.idx > ?))"]
        args: list[object] = [after[0], after[0], after[1]]
        if flt.category:
            where.append("instr(e.entry, ?) > 0")
            args.append(flt.category.encode())
        if flt.contains:
            where.append("instr(e.entry, ?) > 0")
            args.append(flt.contains)
        segments, last = self._search_segments(flt, max(after[0], 1))
        if not segments:
            return SearchPage([], [], after, done=True)
        sql = ("SELECT e.segment_id, e.idx, e.time_ns, e.category, e.source, e.entry, a.name,"
               " a.key FROM entries e JOIN segments s ON s.id = e.segment_id"
               " JOIN agents a ON a.id = s.agent_id"
               f" WHERE {' AND '.join(where)} AND e.segment_id IN"
               f" ({','.join('?' * len(segments))}) ORDER BY e.segment_id, e.idx LIMIT ?")
        args += [*segments, page_size]
        with self.reader() as conn:
            candidates = conn.execute(sql, args).fetchall()
        rows: list[EntryRow] = []
        mismatches: list[str] = []
        for segment_id, idx, time_ns, category, source, data, name, key in candidates:
            header = segments[segment_id]
            entry = pb.Entry.FromString(data)
            path = (header.sources[entry.source].path
                    if entry.source < len(header.sources) else "")
            if ((entry.time_ns, entry.category, path, header.agent_name, header.agent_key)
                    != (time_ns, category, source, name, key)):
                mismatches.append(_mismatch(header, idx, entry, path, time_ns, category,
                                            source, name))
            if flt.matches(entry, header.agent_name):
                rows.append(EntryRow(segment_id, header.agent_name, header.agent_key,
                                     header.seq, idx, path, data))
        if len(candidates) == page_size:
            return SearchPage(rows, mismatches, (candidates[-1][0], candidates[-1][1]),
                              done=False)
        return SearchPage(rows, mismatches, (last + 1, -1), done=False)

    def _search_segments(self, flt: SearchFilter,
                         from_id: int) -> tuple[dict[int, pb.SegmentHeader], int]:
        """The next segments (id >= `from_id`) whose signed header may hold a match (agent
        name and time span read from the header bytes), and the last segment id looked at."""
        out: dict[int, pb.SegmentHeader] = {}
        last = 0
        while True:
            where, args = ["s.id >= ?"], [from_id]
            if flt.leaves:
                where.append("s.id <= ?")  # leaf index = id - 1
                args.append(flt.leaves)
            if flt.agent:
                where.append("instr(s.header, ?) > 0")
                args.append(flt.agent.encode())  # type: ignore[arg-type]
            sql = (f"SELECT s.id, s.header FROM segments s WHERE {' AND '.join(where)}"
                   " ORDER BY s.id LIMIT ?")
            with self.reader() as conn:
                rows = conn.execute(sql, [*args, SEARCH_SEGMENTS]).fetchall()
            if not rows:
                return out, last
            for segment_id, data in rows:
                last = segment_id
                header = self._header_cache.get(segment_id)
                if header is None:
                    header = pb.SegmentHeader.FromString(data)
                    if len(self._header_cache) >= HEADER_CACHE:
                        self._header_cache.clear()
                    self._header_cache[segment_id] = header
                if flt.covers(header):
                    out[segment_id] = header
            if out:
                return out, last
            from_id = last + 1

    def segments_page(self, agent: str, agent_key: bytes, after_id: int,
                      page_size: int) -> list[SegmentRow]:
        """Stored segments in (agent, seq) order, `after_id` being the last segments.id seen."""
        where, args = ["s.id > ?"], [after_id]
        if agent:
            where.append("a.name = ?")
            args.append(agent)  # type: ignore[arg-type]
        if agent_key:
            where.append("a.key = ?")
            args.append(agent_key)  # type: ignore[arg-type]
        sql = ("SELECT s.id, a.id, a.name, a.key, s.seq, s.hash, s.header, s.signature, s.count,"
               " s.t_first_ns, s.t_last_ns FROM segments s JOIN agents a ON a.id = s.agent_id"
               f" WHERE {' AND '.join(where)} ORDER BY s.id LIMIT ?")
        with self.reader() as conn:
            return [SegmentRow(*r) for r in conn.execute(sql, [*args, page_size])]

    def segment_entries(self, conn: sqlite3.Connection,
                        segment_id: int) -> list[tuple[int, int, str, str, bytes, bytes]]:
        """(idx, time_ns, category, source, locator, entry) of one segment, by idx."""
        return list(conn.execute(
            "SELECT idx, time_ns, category, source, locator, entry FROM entries"
            " WHERE segment_id = ? ORDER BY idx", (segment_id,)))

    def entries_of(self, segment_id: int) -> list[bytes]:
        with self.reader() as conn:
            return [r[5] for r in self.segment_entries(conn, segment_id)]

    def agents(self) -> list[AgentRow]:
        sql = ("SELECT a.id, a.name, a.key, count(s.id), coalesce(sum(s.count), 0),"
               " coalesce(max(s.seq), -1) FROM agents a LEFT JOIN segments s ON s.agent_id = a.id"
               " GROUP BY a.id ORDER BY a.name, a.id")
        with self.reader() as conn:
            return [AgentRow(*r) for r in conn.execute(sql)]

    def chain_head(self, agent_key: bytes) -> tuple[int, bytes, int] | None:
        """(next seq, hash of the last segment, lines stored) for an agent key, or None."""
        with self.reader() as conn:
            row = conn.execute(
                "SELECT s.seq, s.hash, s.header FROM segments s JOIN agents a ON a.id = s.agent_id"
                " WHERE a.key = ? ORDER BY s.seq DESC LIMIT 1", (agent_key,)).fetchone()
        if row is None:
            return None
        header = pb.SegmentHeader.FromString(row[2])
        return row[0] + 1, row[1], header.lines_before + header.count

    def find_segments(self, agent: str, agent_key: bytes, seq: int) -> list[SegmentRow]:
        """The stored segment(s) `seq` of agent name `agent` (one per key using that name)."""
        where, args = ["a.name = ?", "s.seq = ?"], [agent, seq]
        if agent_key:
            where.append("a.key = ?")
            args.append(agent_key)
        sql = ("SELECT s.id, a.id, a.name, a.key, s.seq, s.hash, s.header, s.signature, s.count,"
               " s.t_first_ns, s.t_last_ns FROM segments s JOIN agents a ON a.id = s.agent_id"
               f" WHERE {' AND '.join(where)} ORDER BY s.id")
        with self.reader() as conn:
            return [SegmentRow(*r) for r in conn.execute(sql, args)]

    def equivocations(self, agent: str = "") -> list[EquivocationRow]:
        """Every refused conflicting segment, with the stored version beside it."""
        sql = ("SELECT a.name, a.key, q.seq, coalesce(s.header, x''), coalesce(s.signature, x''),"
               " q.header, q.signature, q.received_ns FROM equivocations q"
               " JOIN agents a ON a.id = q.agent_id"
               " LEFT JOIN segments s ON s.agent_id = q.agent_id AND s.seq = q.seq"
               + (" WHERE a.name = ?" if agent else "") + " ORDER BY q.id")
        with self.reader() as conn:
            return [EquivocationRow(*r) for r in conn.execute(sql, (agent,) if agent else ())]

    def window_data(self, *, window_start_ns: int, window_end_ns: int, baseline_start_ns: int,
                    bucket_ns: int, agent: str | None = None, audit_cap: int = 200,
                    now_ns: int | None = None, auth_top_keys: int = 10,
                    auth_max_keys: int = 1000, auth_max_refs: int = 10) -> WindowData:
        """What the insights detectors need for one window, read from the aggregates.

        The window start moves back to a multiple of `bucket_ns` (a multiple of a minute), its
        end forward to a whole minute; series cover baseline and window. `agent`: only that
        agent's lines and segments. Audit lines are capped at `audit_cap` per category
        (`audit_lines_total` has the full counts).

        Authentication attempts are never all held (`WindowData.auth`, an `AuthWindow`):
        failure counts per user and address are exact, `auth_top_keys` of each are itemised
        with `auth_max_refs` lines; the failure runs of at most `auth_max_keys` users and
        addresses with a success are followed (the most failed first) and at most that many
        successes kept; what is left out is counted. Memory does not grow with the attempts.

        Raises:
            ValueError: a bucket that is not a positive multiple of a minute, or
                window_end_ns <= window_start_ns.
            StoreError: the store cannot be read.
        """
        if window_end_ns <= window_start_ns:
            raise ValueError(f"window: end {window_end_ns} is not after start {window_start_ns}")
        try:
            with self.reader() as conn:
                conn.execute("BEGIN")  # one snapshot for every query of the window
                return WindowReader(conn, agent=agent).read(
                    window_start_ns=window_start_ns, window_end_ns=window_end_ns,
                    baseline_start_ns=baseline_start_ns, bucket_ns=bucket_ns,
                    audit_cap=audit_cap,
                    now_ns=time.time_ns() if now_ns is None else now_ns,
                    auth_top_keys=auth_top_keys, auth_max_keys=auth_max_keys,
                    auth_max_refs=auth_max_refs)
        except sqlite3.Error as exc:
            raise StoreError(f"{self.path}: cannot read the window's aggregates: {exc}") from exc

    def equivocation_count(self) -> int:
        with self.reader() as conn:
            return int(conn.execute("SELECT count(*) FROM equivocations").fetchone()[0])
