"""Reading one window back from the aggregates: the `WindowData` the detectors work on.

Everything here is read from the aggregate tables (and, for the capped audit trail, from the
entries' (category, time) index); nothing scans all stored lines. The window's start is
moved back to a bucket boundary and its end forward to a whole minute (the aggregates'
resolution), so every count, list and series covers exactly the same lines.
"""

from __future__ import annotations

import itertools
import json
import sqlite3
import statistics
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence

from agent._pb import sealtail_pb2 as pb
from agent.insights import (
    AgentActivity,
    AuditLine,
    AuthEvent,
    AuthReducer,
    AuthWindow,
    LineRef,
    Series,
    TemplateStats,
    UserHistory,
    WindowData,
    rank_keys,
)
from agent.store._aggregates import BUCKET_NS

AUDIT_CATEGORIES = ("admin_change", "security_alert")
AUDIT_TEXT_CHARS = 500
EXAMPLES_PER_TEMPLATE = 3
HOUR_NS = 3600 * 10**9
_CHUNK = 500


def _floor(ns: int, step: int) -> int:
    return ns - ns % step


def _ceil(ns: int, step: int) -> int:
    return -(-ns // step) * step


def _chunks(items: Sequence[object], n: int = _CHUNK) -> Iterable[Sequence[object]]:
    for i in range(0, len(items), n):
        yield items[i:i + n]


class WindowReader:
    """Reads one window over a read-only connection (see `SQLiteStore.window_data`)."""

    def __init__(self, conn: sqlite3.Connection, *, agent: str | None) -> None:
        self._conn = conn
        self._agent = agent
        self._names: dict[int, str] = {}
        rows = conn.execute("SELECT id, name FROM agents" + (" WHERE name = ?" if agent else ""),
                            (agent,) if agent else ()).fetchall()
        self._names = {int(i): str(n) for i, n in rows}
        self._segments: dict[int, tuple[str, int]] = {}

    def _agent_sql(self, column: str) -> str:
        """A filter on `column` (an agent id) when an agent was asked for."""
        if self._agent is None:
            return ""
        ids = ",".join(str(i) for i in self._names) or "NULL"
        return f" AND {column} IN ({ids})"

    def _refs(self, pairs: Iterable[tuple[int, int]]) -> dict[tuple[int, int], LineRef]:
        pairs = list(pairs)
        missing = sorted({s for s, _ in pairs} - self._segments.keys())
        for chunk in _chunks(missing):
            marks = ",".join("?" * len(chunk))
            for sid, name, seq in self._conn.execute(
                    f"SELECT s.id, a.name, s.seq FROM segments s JOIN agents a ON a.id = "
                    f"s.agent_id WHERE s.id IN ({marks})", list(chunk)):
                self._segments[int(sid)] = (str(name), int(seq))
        return {(s, i): LineRef(self._segments[s][0], self._segments[s][1], i)
                for s, i in pairs}

    def read(self, *, window_start_ns: int, window_end_ns: int, baseline_start_ns: int,
             bucket_ns: int, audit_cap: int, now_ns: int, auth_top_keys: int = 10,
             auth_max_keys: int = 1000, auth_max_refs: int = 10) -> WindowData:
        if bucket_ns <= 0 or bucket_ns % BUCKET_NS:
            raise ValueError(f"bucket_ns: must be a positive multiple of {BUCKET_NS} "
                             f"(the aggregates' minute), got {bucket_ns}")
        start = _floor(window_start_ns, bucket_ns)
        end = max(_ceil(window_end_ns, BUCKET_NS), start + BUCKET_NS)
        base = min(_floor(baseline_start_ns, bucket_ns), start)
        conn = self._conn
        agent_filter = self._agent_sql("agent_id")

        category_series: dict[str, Series] = defaultdict(lambda: defaultdict(int))
        by_agent: dict[str, Counter[str]] = defaultdict(Counter)
        template_series: dict[bytes, Series] = defaultdict(lambda: defaultdict(int))
        template_categories: dict[bytes, Counter[str]] = defaultdict(Counter)
        for bucket, agent_id, category, tid, n in conn.execute(
                "SELECT bucket_ns, agent_id, category, template_id, sum(count) FROM agg_counts"
                f" WHERE bucket_ns >= ? AND bucket_ns < ?{agent_filter} GROUP BY 1, 2, 3, 4",
                (base, end)):
            b = _floor(bucket, bucket_ns)
            category_series[category][b] += n
            template_series[tid][b] += n
            template_categories[tid][category] += n
            if b >= start:
                by_agent[self._names[agent_id]][category] += n

        tids = list(template_series)
        info: dict[bytes, tuple[int, str]] = {}
        before: dict[bytes, int] = {}
        for chunk in _chunks(tids):
            marks = ",".join("?" * len(chunk))
            for tid, first_seen, text in conn.execute(
                    "SELECT template_id, first_seen_ns, text FROM agg_templates"
                    f" WHERE template_id IN ({marks})", list(chunk)):
                info[tid] = (first_seen, text)
            for tid, n in conn.execute(
                    "SELECT template_id, sum(count) FROM agg_counts"
                    f" WHERE template_id IN ({marks}) AND bucket_ns < ? GROUP BY 1",
                    [*chunk, start]):
                before[tid] = n
        example_rows = conn.execute(
            "SELECT template_id, segment_id, first_idx FROM (SELECT template_id, segment_id,"
            " first_idx, row_number() OVER (PARTITION BY template_id ORDER BY segment_id,"
            " first_idx) AS rn FROM agg_counts"
            f" WHERE bucket_ns >= ? AND bucket_ns < ?{agent_filter}) WHERE rn <= ?",
            (start, end, EXAMPLES_PER_TEMPLATE)).fetchall()
        refs = self._refs((s, i) for _, s, i in example_rows)
        examples: dict[bytes, list[LineRef]] = defaultdict(list)
        for tid, s, i in example_rows:
            examples[tid].append(refs[(s, i)])
        templates = []
        for tid in tids:
            first_seen, text = info.get(tid, (min(template_series[tid]), ""))
            templates.append(TemplateStats(
                template_id=tid.hex(), template=text,
                category=template_categories[tid].most_common(1)[0][0],
                first_seen_ns=first_seen, total_before=before.get(tid, 0),
                series=dict(template_series[tid]), examples=tuple(examples.get(tid, ()))))

        audit_lines, audit_total = self._audit(start, end, audit_cap)
        auth = self._auth(start, end, bucket_ns, top_keys=auth_top_keys,
                          max_keys=auth_max_keys, max_refs=auth_max_refs)
        return WindowData(
            window_start_ns=start, window_end_ns=end, baseline_start_ns=base,
            bucket_ns=bucket_ns, agent_filter=self._agent,
            category_series={c: dict(s) for c, s in category_series.items()},
            category_counts_by_agent={a: dict(c) for a, c in by_agent.items()},
            templates=templates, audit_lines=audit_lines, audit_lines_total=audit_total,
            auth=auth, user_history=self._history(auth, start),
            agents=self._activity(base, start, end), now_ns=now_ns)

    def _audit(self, start: int, end: int, cap: int) -> tuple[list[AuditLine], dict[str, int]]:
        # The segments holding audit lines in the window come from the aggregates (exact:
        # the window is minute-aligned), their lines from the entries' (category, segment)
        # index: no index on entry time is kept for this, which would cost every insert.
        lines: list[AuditLine] = []
        totals: dict[str, int] = {}
        for category in AUDIT_CATEGORIES:
            per_segment = self._conn.execute(
                "SELECT segment_id, sum(count) FROM agg_counts WHERE category = ? AND"
                f" bucket_ns >= ? AND bucket_ns < ?{self._agent_sql('agent_id')} GROUP BY 1",
                (category, start, end)).fetchall()
            total = sum(n for _, n in per_segment)
            if not total:
                continue
            totals[category] = int(total)
            rows: list[tuple[int, int, int, bytes]] = []
            for chunk in _chunks(sorted(s for s, _ in per_segment)):
                marks = ",".join("?" * len(chunk))
                rows += self._conn.execute(
                    "SELECT time_ns, segment_id, idx, entry FROM entries WHERE category = ? AND"
                    f" segment_id IN ({marks}) AND time_ns >= ? AND time_ns < ?"
                    " ORDER BY time_ns, segment_id, idx LIMIT ?",
                    [category, *chunk, start, end, cap]).fetchall()
            rows = sorted(rows, key=lambda r: r[:3])[:cap]
            refs = self._refs((s, i) for _, s, i, _ in rows)
            for _, s, i, data in rows:
                e = pb.Entry.FromString(data)
                lines.append(AuditLine(
                    ref=refs[(s, i)], time_ns=e.time_ns, category=category,
                    template_id=e.template_id.hex(),
                    text=e.line[:AUDIT_TEXT_CHARS * 4].decode("utf-8", "replace")[
                        :AUDIT_TEXT_CHARS]))
        lines.sort(key=lambda x: (x.time_ns, x.ref.agent, x.ref.seq, x.ref.index))
        return lines, totals

    def _auth(self, start: int, end: int, bucket_ns: int, *, top_keys: int, max_keys: int,
              max_refs: int) -> AuthWindow:
        # Never a list of the window's attempts (a brute force can make it millions long):
        # per-key counts come from GROUP BYs, read one row at a time into bounded rankings,
        # then one ordered pass streams the attempts through the bounded AuthReducer.
        window = f" time_ns >= ? AND time_ns < ?{self._agent_sql('agent_id')}"
        rankings = {}
        for column in ("user", "address"):
            rows = self._conn.execute(
                f"SELECT {column}, sum(outcome = 'failure'), sum(outcome = 'success')"
                f" FROM agg_auth WHERE{window} AND {column} != '' GROUP BY {column}",
                (start, end))
            rankings[column] = rank_keys(((str(k), int(f), int(n)) for k, f, n in rows),
                                         top_keys=top_keys, max_keys=max_keys)
        reducer = AuthReducer(rankings["user"], rankings["address"], bucket_ns=bucket_ns,
                              max_keys=max_keys, max_refs=max_refs)
        names = self._names
        for t, outcome, user, address, agent_id, seq, idx in self._conn.execute(
                "SELECT x.time_ns, x.outcome, x.user, x.address, x.agent_id, s.seq, x.idx"
                " FROM agg_auth x JOIN segments s ON s.id = x.segment_id WHERE x.time_ns >= ?"
                f" AND x.time_ns < ?{self._agent_sql('x.agent_id')}"
                " ORDER BY x.time_ns, x.segment_id, x.idx", (start, end)):
            reducer.add(AuthEvent(ref=LineRef(names[agent_id], seq, idx), time_ns=t,
                                  outcome=outcome, user=user, address=address))
        return reducer.result()

    def _history(self, auth: AuthWindow, start: int) -> dict[str, UserHistory]:
        """Past logins of the users with a (kept) success in the window: hours counted in
        SQL, and of their past addresses only those the window's logins came from."""
        wanted: dict[str, set[str]] = defaultdict(set)
        for s in auth.successes:
            if s.event.user:
                wanted[s.event.user].add(s.event.address)
        past = ("FROM agg_auth WHERE outcome = 'success' AND user = ? AND time_ns < ?"
                + self._agent_sql("agent_id"))
        history = {}
        for user in sorted(wanted):
            hours = [0] * 24
            for h, n in self._conn.execute(f"SELECT time_ns / ? % 24, count(*) {past}"
                                           " GROUP BY 1", (HOUR_NS, user, start)):
                hours[int(h)] = int(n)
            (total,) = self._conn.execute(f"SELECT count(DISTINCT address) {past}"
                                          " AND address != ''", (user, start)).fetchone()
            known = {str(a) for (a,) in self._conn.execute(
                f"SELECT DISTINCT address {past} AND address IN"
                " (SELECT value FROM json_each(?))",
                (user, start, json.dumps(sorted(a for a in wanted[user] if a))))}
            history[user] = UserHistory(user, tuple(hours), frozenset(known),
                                        addresses_total=int(total))
        return history

    def _activity(self, base: int, start: int, end: int) -> list[AgentActivity]:
        out = []
        for agent_id, name in sorted(self._names.items(), key=lambda kv: (kv[1], kv[0])):
            times = [t for (t,) in self._conn.execute(
                "SELECT received_ns FROM segments WHERE agent_id = ? AND received_ns >= ?"
                " AND received_ns < ? ORDER BY received_ns", (agent_id, base, end))]
            row = self._conn.execute(
                "SELECT received_ns, seq, count FROM segments WHERE agent_id = ? AND"
                " received_ns < ? ORDER BY received_ns DESC, seq DESC LIMIT 1",
                (agent_id, end)).fetchone()
            if row is None:
                continue  # nothing from this agent up to the window's end
            last, seq, count = row
            gaps = [b - a for a, b in itertools.pairwise(times)
                    if a < start]  # gaps that begin in the baseline
            out.append(AgentActivity(
                agent=name, last_segment_ns=int(last),
                median_gap_ns=int(statistics.median(gaps)) if gaps else 0,
                segments_in_window=sum(1 for t in times if t >= start),
                last_line=LineRef(name, int(seq), int(count) - 1) if count else None))
        return out
