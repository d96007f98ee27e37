"""window_data: one window read back from the aggregates, consistent with the stored lines."""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import nacl.signing
import pytest

from agent._pb import sealtail_pb2 as pb
from agent.classify import mask, template_id
from agent.insights import AuthEvent, LineRef, WindowData, auth_window, summarize
from agent.store import SQLiteStore
from tests.chains import LabeledChain, store_segments

MIN = 60 * 10**9
HOUR = 60 * MIN
T0 = 1_700_000_000 * 10**9 - (1_700_000_000 * 10**9) % HOUR  # an hour start (22:00 UTC)
FAILED = b"sshd[7]: Failed password for root from 203.0.113.9 port %d ssh2"
ACCEPTED = b"sshd[7]: Accepted password for alice from %s port 22 ssh2"
SUDO = b"sudo:   alice : TTY=pts/0 ; PWD=/home/alice ; USER=root ; COMMAND=/bin/ls %d"
OTHER = b"kernel: eth0: link up %d"


def key(seed: int) -> nacl.signing.SigningKey:
    return nacl.signing.SigningKey(bytes([seed]) * 32)


@pytest.fixture
def store(tmp_path: Path) -> Iterator[SQLiteStore]:
    """Two agents: a baseline hour before T0 with logins, then a window hour with an attack."""
    a, b = LabeledChain(key(1), name="web-1"), LabeledChain(key(2), name="db-1")
    segs = [
        a.seal([(T0 - HOUR + i * MIN, OTHER % i) for i in range(30)]),
        a.seal([(T0 - HOUR + 40 * MIN, ACCEPTED % b"198.51.100.4")]),
        a.seal([(T0 + 5 * MIN + i, FAILED % i) for i in range(60)]),
        a.seal([(T0 + 6 * MIN, ACCEPTED % b"203.0.113.9")]),
        a.seal([(T0 + 7 * MIN + i, SUDO % i) for i in range(5)]),
        b.seal([(T0 + 8 * MIN + i, OTHER % i) for i in range(7)]),
    ]
    store_segments(tmp_path, segs)
    s = SQLiteStore(tmp_path, readonly=True)
    yield s
    s.close()


def window(store: SQLiteStore, **kw: object) -> WindowData:
    args: dict[str, object] = dict(window_start_ns=T0, window_end_ns=T0 + HOUR,
                                   baseline_start_ns=T0 - HOUR, bucket_ns=10 * MIN)
    args.update(kw)
    return store.window_data(**args)  # type: ignore[arg-type]


def direct_counts(store: SQLiteStore, since: int, until: int) -> Counter[str]:
    with store.reader() as conn:
        return Counter(c for (c,) in conn.execute(
            "SELECT category FROM entries WHERE time_ns >= ? AND time_ns < ?", (since, until)))


def in_window(series: dict[int, int]) -> int:
    return sum(n for b, n in series.items() if b >= T0)


def test_category_counts_in_the_window_equal_a_direct_count_of_stored_lines(
        store: SQLiteStore) -> None:
    """Window buckets of every category series sum to the stored lines of the window."""
    data = window(store)
    got = {c: in_window(s) for c, s in data.category_series.items() if in_window(s)}
    assert got == dict(direct_counts(store, T0, T0 + HOUR))
    assert got["failed_login"] == 60


def test_series_cover_the_baseline_too(store: SQLiteStore) -> None:
    """Baseline buckets carry the baseline's lines, bucketed by the requested size."""
    data = window(store)
    baseline = {b: n for b, n in data.category_series["unclassified"].items() if b < T0}
    assert baseline == {T0 - HOUR + k * 10 * MIN: 10 for k in range(3)}


def test_counts_by_agent_are_window_counts_per_agent(store: SQLiteStore) -> None:
    """Each agent's category counts cover the window only."""
    data = window(store)
    assert data.category_counts_by_agent == {
        "web-1": {"failed_login": 60, "login": 1, "admin_change": 5},
        "db-1": {"unclassified": 7}}


def test_agent_filter_keeps_only_that_agents_lines(store: SQLiteStore) -> None:
    """With an agent named, no other agent's lines, events or activity appear."""
    data = window(store, agent="db-1")
    assert set(data.category_series) == {"unclassified"}
    assert data.auth.successes_total == 0 and data.auth.by_address.failures == 0
    assert data.audit_lines == []
    assert data.category_counts_by_agent == {"db-1": {"unclassified": 7}}


def test_templates_carry_first_seen_history_and_example_lines(store: SQLiteStore) -> None:
    """A template's stats: masked text, first-seen time, lines before, first window lines."""
    data = window(store)
    stats = {t.template_id: t for t in data.templates}
    failed = stats[template_id(mask(FAILED % 0)).hex()]
    assert (failed.template, failed.first_seen_ns) == (mask(FAILED % 0).decode(), T0 + 5 * MIN)
    assert failed.category == "failed_login" and failed.total_before == 0
    assert failed.examples == (LineRef("web-1", 2, 0),)
    accepted = stats[template_id(mask(ACCEPTED % b"1.2.3.4")).hex()]
    assert accepted.total_before == 1 and accepted.first_seen_ns == T0 - HOUR + 40 * MIN


def test_audit_lines_are_capped_with_full_totals(store: SQLiteStore) -> None:
    """At most audit_cap lines per category, in time order; totals count them all."""
    data = window(store, audit_cap=2)
    assert data.audit_lines_total == {"admin_change": 5}
    assert [(a.ref, a.category) for a in data.audit_lines] == [
        (LineRef("web-1", 4, 0), "admin_change"), (LineRef("web-1", 4, 1), "admin_change")]
    assert data.audit_lines[0].text == (SUDO % 0).decode()
    assert data.audit_lines[0].template_id == template_id(mask(SUDO % 0)).hex()


def window_attempts(store: SQLiteStore, since: int, until: int) -> list[AuthEvent]:
    """Every attempt of a window, read directly (what the collector no longer holds)."""
    with store.reader() as conn:
        return [AuthEvent(LineRef(name, seq, idx), t, outcome, user, address)
                for t, outcome, user, address, name, seq, idx in conn.execute(
                    "SELECT x.time_ns, x.outcome, x.user, x.address, a.name, s.seq, x.idx"
                    " FROM agg_auth x JOIN segments s ON s.id = x.segment_id JOIN agents a"
                    " ON a.id = x.agent_id WHERE x.time_ns >= ? AND x.time_ns < ?"
                    " ORDER BY x.time_ns, x.segment_id, x.idx", (since, until))]


def test_auth_of_the_window_is_what_auth_window_makes_of_its_attempts(
        store: SQLiteStore) -> None:
    """The store reduces the window's attempts exactly as `auth_window` does over all of
    them (SQL counts and one streamed pass, instead of a list)."""
    data = window(store)
    attempts = window_attempts(store, T0, T0 + HOUR)
    assert len(attempts) == 61
    assert data.auth == auth_window(attempts, bucket_ns=10 * MIN)


def test_auth_of_the_window_points_at_its_lines(store: SQLiteStore) -> None:
    """Failures are counted per user and address with their first lines; the success
    carries the run of failures before it, each ref naming the sealed line."""
    auth = window(store).auth
    assert [(k.key, k.count) for k in auth.by_address.top] == [("203.0.113.9", 60)]
    assert auth.by_user.top[0].refs == tuple(LineRef("web-1", 2, i) for i in range(10))
    (success,) = auth.successes
    assert (success.event.ref, success.event.user) == (LineRef("web-1", 3, 0), "alice")
    assert (success.user_failures, success.address_failures) == (0, 60)
    assert success.address_refs == (*(LineRef("web-1", 2, i) for i in range(10)),
                                    *(LineRef("web-1", 2, i) for i in range(50, 60)))
    with store.reader() as conn:
        (entry,) = conn.execute("SELECT e.entry FROM entries e JOIN segments s ON s.id ="
                                " e.segment_id WHERE s.seq = 3 AND e.idx = 0").fetchone()
    assert pb.Entry.FromString(entry).line == ACCEPTED % b"203.0.113.9"


def test_user_history_holds_logins_before_the_window(store: SQLiteStore) -> None:
    """A user's past successes by UTC hour, the window's own excluded; of the past
    addresses, how many, and which of them the window's logins came from."""
    history = window(store).user_history["alice"]
    hour = (T0 - HOUR + 40 * MIN) // HOUR % 24
    assert history.logins_by_hour == tuple(1 if h == hour else 0 for h in range(24))
    assert history.known_addresses == frozenset() and history.addresses_total == 1


def test_user_history_names_a_past_address_the_window_logs_in_from(tmp_path: Path) -> None:
    """A login in the window from an address the user used before finds it known."""
    a = LabeledChain(key(1), name="web-1")
    store_segments(tmp_path, [a.seal([(T0 - HOUR, ACCEPTED % b"198.51.100.4")]),
                              a.seal([(T0 - HOUR + MIN, ACCEPTED % b"198.51.100.5")]),
                              a.seal([(T0 + MIN, ACCEPTED % b"198.51.100.4")])])
    s = SQLiteStore(tmp_path, readonly=True)
    try:
        history = window(s).user_history["alice"]
    finally:
        s.close()
    assert history.known_addresses == frozenset({"198.51.100.4"})
    assert history.addresses_total == 2


def test_agent_activity_counts_segments_arrived_in_the_window(store: SQLiteStore) -> None:
    """Arrival (ingest) times: each agent's segments within a window ending now."""
    now = time.time_ns()
    data = window(store, window_start_ns=now - HOUR, window_end_ns=now + MIN,
                  baseline_start_ns=now - 2 * HOUR)
    activity = {a.agent: a for a in data.agents}
    assert activity["web-1"].segments_in_window == 5
    assert activity["db-1"].segments_in_window == 1
    assert now - HOUR < activity["web-1"].last_segment_ns <= now
    assert activity["web-1"].last_line == LineRef("web-1", 4, 4)  # 5 sudo lines in seq 4
    only = window(store, window_start_ns=now - HOUR, window_end_ns=now + MIN,
                  baseline_start_ns=now - 2 * HOUR, agent="db-1")
    assert [a.agent for a in only.agents] == ["db-1"]


def test_window_boundaries_are_aligned_to_buckets(store: SQLiteStore) -> None:
    """The start moves back to a bucket boundary, the end forward to a whole minute."""
    data = window(store, window_start_ns=T0 + 3 * MIN, window_end_ns=T0 + 59 * MIN + 1)
    assert (data.window_start_ns, data.window_end_ns) == (T0, T0 + HOUR)


def test_a_bucket_that_is_not_whole_minutes_is_refused(store: SQLiteStore) -> None:
    """Aggregates are per minute: a 90 s bucket cannot be served exactly, so it is refused."""
    with pytest.raises(ValueError, match="multiple of"):
        window(store, bucket_ns=90 * 10**9)


def test_summarize_over_the_window_names_the_brute_force_success(store: SQLiteStore) -> None:
    """The analysis side runs on what the store returns: 60 failures then a success."""
    summary = summarize(window(store))
    assert summary.counts_by_category["failed_login"] == 60
    assert summary.failed_logins_by_address[0].key == "203.0.113.9"
    kinds = {a.kind for a in summary.anomalies}
    assert "brute_force_success" in kinds
