"""Aggregates kept at ingest: what `sealtail summary` reads instead of the lines.

Written by the store in the same transaction as the segment they come from, so they are
exactly the stored lines, computed from that segment alone (never by rescanning the store).
Like the log tables they are insert-only, refused UPDATE and DELETE by triggers:

- `agg_counts`: one row per (segment, 1-minute bucket of Entry.time_ns, source path,
  category, template id) with the line count and the first line's index. Sums over rows give
  counts per bucket x agent x source x category x template; a row is attributable to one
  segment, so it can be re-derived and checked from that segment's signed lines.
- `agg_templates`: one row per template id, inserted by the first stored segment holding it:
  first-seen time (that line's Entry.time_ns), where it was, its category then, and a
  display text (the mask of that first line, decoded with replacement). Entries sealed
  before template ids existed aggregate under the empty id.
- `agg_auth`: one row per line that records an authentication attempt
  (`agent.insights.auth_attempt`): time, outcome, user, address. Failed logins per user and
  address, and each user's login history (hours, known addresses), are read from it.

Insert-only per-segment rows rather than mutable per-bucket counters: an UPDATE-refusing
trigger then covers them like every other table (no code path can rewrite a count), each
row points at the segment it summarises, and a write never touches rows another segment
wrote. No uniqueness is enforced on (segment, ...): rows left behind by someone who deleted
segments from the file (which `verify` reports) must not stop the collector storing the
segments that follow. The cost is one row per key per segment rather than per bucket; a
segment holds up to 10,000 lines, so rows stay far fewer than lines.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable
from dataclasses import dataclass

from agent._pb import sealtail_pb2 as pb
from agent.classify import mask
from agent.insights import AUTH_CATEGORIES, parse_attempt

AGGREGATES_VERSION = "1"
BUCKET_NS = 60 * 1_000_000_000  # counts are kept per minute of the signed Entry.time_ns
TEMPLATE_TEXT_CHARS = 512
NO_TEMPLATE_TEXT = "(sealed without a template id)"
AGG_TABLES = ("agg_counts", "agg_templates", "agg_auth")

AGG_SCHEMA = """
CREATE TABLE IF NOT EXISTS agg_counts(
    segment_id INTEGER NOT NULL REFERENCES segments(id),
    agent_id INTEGER NOT NULL REFERENCES agents(id),
    bucket_ns INTEGER NOT NULL,
    source TEXT NOT NULL,
    category TEXT NOT NULL,
    template_id BLOB NOT NULL,
    count INTEGER NOT NULL,
    first_idx INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS agg_counts_segment ON agg_counts(segment_id);
CREATE INDEX IF NOT EXISTS agg_counts_bucket ON agg_counts(bucket_ns);
CREATE INDEX IF NOT EXISTS agg_counts_template ON agg_counts(template_id, bucket_ns);
CREATE TABLE IF NOT EXISTS agg_templates(
    template_id BLOB PRIMARY KEY,
    first_seen_ns INTEGER NOT NULL,
    segment_id INTEGER NOT NULL REFERENCES segments(id),
    idx INTEGER NOT NULL,
    category TEXT NOT NULL,
    text TEXT NOT NULL
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS agg_auth(
    segment_id INTEGER NOT NULL REFERENCES segments(id),
    idx INTEGER NOT NULL,
    agent_id INTEGER NOT NULL REFERENCES agents(id),
    time_ns INTEGER NOT NULL,
    outcome TEXT NOT NULL,
    user TEXT NOT NULL,
    address TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS agg_auth_time ON agg_auth(time_ns);
CREATE INDEX IF NOT EXISTS agg_auth_user ON agg_auth(outcome, user, time_ns);
CREATE INDEX IF NOT EXISTS segments_received ON segments(agent_id, received_ns);
"""


# One stored entry as the aggregates need it: (index, source path, time_ns, category,
# template id, the parsed entry). A plain tuple: the writer builds one per stored line.
StoredLine = tuple[int, str, int, str, bytes, pb.Entry]


def stored_line(idx: int, source: str, entry: pb.Entry) -> StoredLine:
    return (idx, source, entry.time_ns, entry.category, entry.template_id, entry)


def bucket_of(time_ns: int) -> int:
    return time_ns - time_ns % BUCKET_NS


def template_text(template_id: bytes, line: bytes) -> str:
    if not template_id:
        return NO_TEMPLATE_TEXT
    return mask(line).decode("utf-8", "replace")[:TEMPLATE_TEXT_CHARS]


CountRow = tuple[int, int, int, str, str, bytes, int, int]
AuthRow = tuple[int, int, int, int, str, str, str]
First = tuple[int, int, str, bytes]  # time_ns, idx, category, line


@dataclass(frozen=True, slots=True)
class SegmentRows:
    """The aggregate rows one segment gives (what is inserted, and what `verify` expects)."""

    counts: list[CountRow]
    firsts: dict[bytes, First]   # template id -> its first line in the segment
    auth: list[AuthRow]


def segment_rows(segment_id: int, agent_id: int, lines: Iterable[StoredLine],
                 known: frozenset[bytes] | set[bytes] = frozenset()) -> SegmentRows:
    """Pure: the agg_counts and agg_auth rows of one segment's lines, and the first line of
    each template id not in `known`."""
    counts: dict[tuple[int, str, str, bytes], list[int]] = {}
    firsts: dict[bytes, First] = {}
    auth: list[AuthRow] = []
    for idx, source, t, category, tid, e in lines:
        key = (t - t % BUCKET_NS, source, category, tid)
        slot = counts.get(key)
        if slot is None:
            counts[key] = [1, idx]
        else:
            slot[0] += 1
        if tid not in known:
            first = firsts.get(tid)
            if first is None or t < first[0]:
                firsts[tid] = (t, idx, category, e.line)
        if category in AUTH_CATEGORIES:
            attempt = parse_attempt(e.line)
            if attempt is not None:
                auth.append((segment_id, idx, agent_id, t, attempt.outcome, attempt.user,
                             attempt.address))
    rows = [(segment_id, agent_id, bucket, source, category, tid, n, first)
            for (bucket, source, category, tid), (n, first) in counts.items()]
    return SegmentRows(rows, firsts, auth)


def check_segment_rows(conn: sqlite3.Connection, segment_id: int, agent_id: int,
                       lines: Iterable[StoredLine]) -> str:
    """'' when the stored agg_counts and agg_auth rows of a segment are exactly what its
    lines give; otherwise what differs (for `verify --data`)."""
    want = segment_rows(segment_id, agent_id, lines)
    have_counts = sorted(conn.execute(
        "SELECT segment_id, agent_id, bucket_ns, source, category, template_id, count,"
        " first_idx FROM agg_counts WHERE segment_id = ?", (segment_id,)))
    if have_counts != sorted(want.counts):
        return (f"count rows disagree with the lines ({sum(r[6] for r in have_counts)} "
                f"counted, {sum(r[6] for r in want.counts)} lines)")
    have_auth = sorted(conn.execute(
        "SELECT segment_id, idx, agent_id, time_ns, outcome, user, address FROM agg_auth"
        " WHERE segment_id = ?", (segment_id,)))
    if have_auth != sorted(want.auth):
        return (f"authentication rows disagree with the lines ({len(have_auth)} stored, "
                f"{len(want.auth)} expected)")
    return ""


class Aggregator:
    """Writes one segment's aggregate rows (called inside the store's write transaction)."""

    def __init__(self, max_known_templates: int = 100_000) -> None:
        # Template ids this process already inserted: skips masking their first line again.
        self._known: set[bytes] = set()
        self._max_known = max_known_templates

    def add_segment(self, conn: sqlite3.Connection, segment_id: int, agent_id: int,
                    lines: Iterable[StoredLine]) -> list[bytes]:
        """Insert the segment's rows; returns the template ids it may have added (pass them
        to `remember` once the transaction has committed)."""
        rows = segment_rows(segment_id, agent_id, lines, self._known)
        conn.executemany("INSERT INTO agg_counts VALUES (?,?,?,?,?,?,?,?)", rows.counts)
        if rows.firsts:
            conn.executemany(
                "INSERT OR IGNORE INTO agg_templates VALUES (?,?,?,?,?,?)",
                [(tid, t, segment_id, idx, category, template_text(tid, text))
                 for tid, (t, idx, category, text) in rows.firsts.items()])
        if rows.auth:
            conn.executemany("INSERT INTO agg_auth VALUES (?,?,?,?,?,?,?)", rows.auth)
        return list(rows.firsts)

    def remember(self, template_ids: Iterable[bytes]) -> None:
        """Called after COMMIT: these ids are in agg_templates for good."""
        if len(self._known) > self._max_known:
            self._known.clear()
        self._known.update(template_ids)

    def backfill(self, conn: sqlite3.Connection) -> int:
        """Aggregate every stored segment that has no aggregate rows yet; returns how many.

        Runs once, at open, for a store written before aggregates existed (inside the
        caller's transaction)."""
        done = 0
        rows = conn.execute(
            "SELECT s.id, s.agent_id FROM segments s WHERE NOT EXISTS"
            " (SELECT 1 FROM agg_counts c WHERE c.segment_id = s.id) ORDER BY s.id").fetchall()
        for segment_id, agent_id in rows:
            lines = [stored_line(idx, source, pb.Entry.FromString(entry)) for idx, source, entry
                     in conn.execute("SELECT idx, source, entry FROM entries WHERE segment_id = ?"
                                     " ORDER BY idx", (segment_id,))]
            self.add_segment(conn, segment_id, agent_id, lines)
            done += 1
        return done
