"""Aggregates at ingest: written with the segment, exactly the stored lines, insert-only."""

from __future__ import annotations

import asyncio
import sqlite3
from collections import Counter
from pathlib import Path

import nacl.signing
import pytest

from agent._pb import sealtail_pb2 as pb
from agent.classify import mask, template_id
from agent.errors import ErrorCode, VerificationError
from agent.store import SQLiteStore
from agent.verify import verify_store
from tests.chains import ChainWriter, LabeledChain, store_segments, verified

MIN = 60 * 10**9
T0 = 1_700_000_000 * 10**9 - (1_700_000_000 * 10**9) % MIN  # a bucket start
FAILED = b"sshd[7]: Failed password for root from 203.0.113.9 port %d ssh2"
ACCEPTED = b"sshd[7]: Accepted password for alice from 198.51.100.4 port %d ssh2"
SUDO = b"sudo:   alice : TTY=pts/0 ; PWD=/home/alice ; USER=root ; COMMAND=/bin/ls"
OTHER = b"kernel: eth0: link up %d"


def key(seed: int = 1) -> nacl.signing.SigningKey:
    return nacl.signing.SigningKey(bytes([seed]) * 32)


def traffic(chain: LabeledChain) -> list[pb.Segment]:
    """Three segments over three minutes: failures, a success, sudo and other lines."""
    return [
        chain.seal([(T0 + i * 10**9, FAILED % i) for i in range(5)] + [(T0 + 5, OTHER % 1)]),
        chain.seal([(T0 + MIN + 1, ACCEPTED % 1), (T0 + MIN + 2, SUDO)]),
        chain.seal([(T0 + 2 * MIN + i, FAILED % (i + 9)) for i in range(3)]),
    ]


def rows(data: Path, sql: str) -> list[tuple[object, ...]]:
    conn = sqlite3.connect(data / SQLiteStore.FILE_NAME)
    try:
        return conn.execute(sql).fetchall()
    finally:
        conn.close()


def test_counts_equal_a_direct_count_of_the_stored_entries(tmp_path: Path) -> None:
    """Summed per (bucket, agent, source, category, template), counts are the stored lines."""
    store_segments(tmp_path, traffic(LabeledChain(key())))
    direct: Counter[tuple[object, ...]] = Counter()
    for source, entry in rows(tmp_path, "SELECT source, entry FROM entries"):
        e = pb.Entry.FromString(entry)  # type: ignore[arg-type]
        direct[(e.time_ns - e.time_ns % MIN, source, e.category, e.template_id)] += 1
    summed = {tuple(r[:4]): r[4] for r in rows(
        tmp_path, "SELECT bucket_ns, source, category, template_id, sum(count) FROM agg_counts"
                  " GROUP BY 1, 2, 3, 4")}
    assert summed == dict(direct)
    assert summed[(T0, "/var/log/auth.log", "failed_login", template_id(mask(FAILED % 0)))] == 5


def test_template_first_seen_and_text_come_from_its_first_line(tmp_path: Path) -> None:
    """A template keeps the time and masked text of the first stored line with its id."""
    store_segments(tmp_path, traffic(LabeledChain(key())))
    tid = template_id(mask(FAILED % 0))
    ((first_seen, category, text),) = rows(
        tmp_path, f"SELECT first_seen_ns, category, text FROM agg_templates"
                  f" WHERE template_id = x'{tid.hex()}'")
    assert (first_seen, category) == (T0, "failed_login")
    assert text == mask(FAILED % 0).decode()


def test_auth_attempts_are_kept_per_line_with_user_and_address(tmp_path: Path) -> None:
    """Each failed_login/login line naming an attempt gives one row; others give none."""
    store_segments(tmp_path, traffic(LabeledChain(key())))
    got = rows(tmp_path, "SELECT outcome, user, address, count(*) FROM agg_auth GROUP BY 1, 2, 3")
    assert sorted(got) == [("failure", "root", "203.0.113.9", 8),
                           ("success", "alice", "198.51.100.4", 1)]


def test_entries_without_template_id_aggregate_under_the_empty_id(tmp_path: Path) -> None:
    """Lines sealed before template ids existed count under b'' with a placeholder text."""
    chain = ChainWriter(key(), lines=4)
    store_segments(tmp_path, [chain.next(), chain.next()])
    assert rows(tmp_path, "SELECT template_id, sum(count) FROM agg_counts GROUP BY 1") == [
        (b"", 8)]
    assert rows(tmp_path, "SELECT text FROM agg_templates") == [("(sealed without a template id)",)]


def test_a_refused_or_duplicate_segment_adds_no_aggregates(tmp_path: Path) -> None:
    """Aggregates are written in the segment's transaction: nothing stored, nothing counted."""
    chain = LabeledChain(key())
    segs = traffic(chain)
    store = SQLiteStore(tmp_path)

    async def feed() -> list[int]:
        return [(await store.append(verified(s))).status for s in (segs[0], segs[2], segs[0])]

    try:
        statuses = asyncio.run(feed())
    finally:
        store.close()
    assert statuses == [pb.ACK_STORED, pb.ACK_REFUSED, pb.ACK_DUPLICATE]
    assert rows(tmp_path, "SELECT sum(count) FROM agg_counts") == [(6,)]
    assert rows(tmp_path, "SELECT count(*) FROM agg_auth") == [(5,)]


@pytest.mark.parametrize("table", ["agg_counts", "agg_templates", "agg_auth"])
@pytest.mark.parametrize("statement", ["UPDATE {} SET segment_id = 9", "DELETE FROM {}"])
def test_aggregate_tables_refuse_update_and_delete(tmp_path: Path, table: str,
                                                   statement: str) -> None:
    """Aggregates are insert-only like the log: the triggers refuse rewriting a count."""
    store_segments(tmp_path, traffic(LabeledChain(key())))
    conn = sqlite3.connect(tmp_path / SQLiteStore.FILE_NAME)
    try:
        with pytest.raises(sqlite3.IntegrityError, match="append-only"):
            conn.execute(statement.format(table))
    finally:
        conn.close()


def make_pre_aggregate_store(data: Path, segments: list[pb.Segment]) -> None:
    """A store as the collector wrote it before aggregates existed: no agg tables, no marker."""
    store_segments(data, segments)
    conn = sqlite3.connect(data / SQLiteStore.FILE_NAME, isolation_level=None)
    for table in ("agg_counts", "agg_templates", "agg_auth"):
        conn.execute(f"DROP TABLE {table}")  # drops its triggers and indexes with it
    conn.execute("DROP INDEX segments_received")
    conn.execute("DELETE FROM meta WHERE key = 'aggregates_version'")
    conn.close()


def test_a_store_older_than_aggregates_is_backfilled_once_at_open(tmp_path: Path) -> None:
    """Opening an older store computes its aggregates once; opening again adds nothing."""
    make_pre_aggregate_store(tmp_path, traffic(LabeledChain(key())))
    store = SQLiteStore(tmp_path)
    store.close()
    assert store.backfilled == 3
    assert rows(tmp_path, "SELECT sum(count) FROM agg_counts") == [(11,)]
    assert rows(tmp_path, "SELECT count(*) FROM agg_auth") == [(9,)]
    again = SQLiteStore(tmp_path)
    again.close()
    assert again.backfilled == 0
    assert rows(tmp_path, "SELECT sum(count) FROM agg_counts") == [(11,)]


def test_a_backfilled_store_keeps_aggregating_new_segments(tmp_path: Path) -> None:
    """After the backfill, later segments add their rows as usual."""
    chain = LabeledChain(key())
    segs = traffic(chain)
    make_pre_aggregate_store(tmp_path, segs[:2])
    store_segments(tmp_path, segs[2:])
    assert rows(tmp_path, "SELECT sum(count) FROM agg_counts") == [(11,)]


def edit_as_attacker(data: Path, sql: str) -> None:
    """Someone holding the file: drop the append-only triggers, then edit."""
    conn = sqlite3.connect(data / SQLiteStore.FILE_NAME, isolation_level=None)
    for (name,) in conn.execute("SELECT name FROM sqlite_master WHERE type='trigger'").fetchall():
        conn.execute(f"DROP TRIGGER {name}")
    conn.execute(sql)
    conn.close()


def test_verify_data_accepts_aggregates_that_match_the_lines(tmp_path: Path) -> None:
    """An untouched store's aggregates are exactly what its verified lines give."""
    store_segments(tmp_path, traffic(LabeledChain(key())))
    assert verify_store(tmp_path).chains[0].lines == 11


@pytest.mark.parametrize("sql", [
    "UPDATE agg_counts SET count = count - 1 WHERE category = 'failed_login'",
    "DELETE FROM agg_counts WHERE category = 'login'",
    "UPDATE agg_auth SET address = '10.9.9.9' WHERE outcome = 'failure'",
    "DELETE FROM agg_auth WHERE outcome = 'success'",
])
def test_verify_data_names_the_segment_whose_aggregates_were_edited(tmp_path: Path,
                                                                    sql: str) -> None:
    """A count or authentication row edited to change what `summary` says is reported,
    naming agent and seq, with the code aggregate_mismatch."""
    store_segments(tmp_path, traffic(LabeledChain(key())))
    edit_as_attacker(tmp_path, sql)
    with pytest.raises(VerificationError) as err:
        verify_store(tmp_path)
    assert err.value.code == ErrorCode.AGGREGATE_MISMATCH
    assert err.value.agent == "host-a" and err.value.seq in (0, 1, 2)
