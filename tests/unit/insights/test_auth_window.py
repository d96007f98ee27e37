"""auth_window / AuthReducer: a window's attempts reduced in bounded memory, caps counted."""

from __future__ import annotations

from agent.insights import AuthReducer, auth_window, rank_keys
from agent.insights._detect import _coarser
from tests.unit.insights.builders import BUCKET, HOUR, NS, START, auth, ref, window


def test_a_long_run_keeps_its_count_and_only_its_first_and_last_lines():
    """1,000 failures then a success: the run counts 1,000 and keeps 10 lines at each end."""
    events = [auth(i, "failure", "alice", "203.0.113.9", START + i * NS) for i in range(1000)]
    events.append(auth(1000, "success", "alice", "203.0.113.9", START + 1000 * NS))
    (s,) = auth_window(events, bucket_ns=BUCKET).successes
    assert (s.user_failures, s.address_failures) == (1000, 1000)
    assert s.user_refs == (*(ref(i) for i in range(10)), *(ref(i) for i in range(990, 1000)))


def test_successes_over_the_cap_keep_those_after_the_longest_runs():
    """With room for two successes, the two after the most failures are kept (in time
    order) and all three are counted."""
    events = []
    for k, run in enumerate((3, 9, 6)):
        t = START + k * HOUR
        events += [auth(100 * k + i, "failure", f"u{k}", f"10.0.0.{k}", t + i * NS)
                   for i in range(run)]
        events.append(auth(100 * k + 99, "success", f"u{k}", f"10.0.0.{k}", t + 99 * NS))
    a = auth_window(events, bucket_ns=BUCKET, max_keys=2)
    assert [s.event.user for s in a.successes] == ["u1", "u2"]
    assert a.successes_total == 3


def _bob_and_eve():
    events = [auth(i, "failure", "bob", "", START + i * NS) for i in range(7)]
    return [*events, auth(10, "failure", "eve", "", START + 10 * NS),
            auth(11, "success", "eve", "", START + 11 * NS),
            auth(12, "success", "bob", "", START + 12 * NS)]


def test_keys_over_the_cap_are_not_followed_and_are_counted():
    """Two users succeed and one is followed: the most failed (bob), whose success is the
    one kept; the other user is counted in untracked_keys."""
    a = auth_window(_bob_and_eve(), bucket_ns=BUCKET, max_keys=1)
    assert [(s.event.user, s.user_failures) for s in a.successes] == [("bob", 7)]
    assert (a.untracked_keys, a.successes_total) == (1, 2)


def test_a_success_of_a_key_not_followed_has_no_run_rather_than_zero():
    """A kept success whose user was not followed says None (unknown), never 0 failures."""
    events = _bob_and_eve()
    users = rank_keys([("bob", 7, 1), ("eve", 1, 1)], top_keys=10, max_keys=1)
    addresses = rank_keys([], top_keys=10, max_keys=1)
    reducer = AuthReducer(users, addresses, bucket_ns=BUCKET, max_keys=10)
    for e in events:
        reducer.add(e)
    got = {s.event.user: s.user_failures for s in reducer.result().successes}
    assert got == {"eve": None, "bob": 7}


def test_failure_tallies_are_exact_with_few_keys_itemised():
    """Counts and key totals cover every failure; only top_keys keys are itemised."""
    events = [auth(i, "failure", f"u{i % 7}", f"10.0.{i % 50}.1", START + i * NS)
              for i in range(500)]
    a = auth_window(events, bucket_ns=BUCKET, top_keys=3)
    assert (a.by_address.keys, a.by_address.failures, len(a.by_address.top)) == (50, 500, 3)
    assert [(k.key, k.count) for k in a.by_user.top] == [("u0", 72), ("u1", 72), ("u2", 72)]


def test_hour_buckets_keep_the_first_and_last_lines_of_the_hour():
    """Joining 10-minute buckets' ends into hours gives what reducing by hour gives."""
    events = [auth(i, "failure", "root", "10.0.0.1", START + i * 7 * NS) for i in range(2000)]
    data = window(auth_events=events)
    assert _coarser(data, HOUR).auth.bucket_refs == \
        auth_window(events, bucket_ns=HOUR).bucket_refs
