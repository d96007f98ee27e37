"""A summary over a window holding a big brute force: exact totals, bounded memory."""

from __future__ import annotations

import json
import tracemalloc
from collections.abc import Iterator
from pathlib import Path

import pytest

from agent._pb import sealtail_pb2 as pb
from agent.collector._summary import build_summary
from agent.insights import Summary, summarize, summary_from_json
from agent.store import SQLiteStore
from tests.authflood import (
    ATTACK_FAILURES,
    ATTACKER,
    WINDOW_END,
    WINDOW_START,
    Flood,
    flood_address,
    write_flood_store,
)

HOUR = 3600 * 10**9


def _open(tmp: Path, failures: int) -> tuple[SQLiteStore, Flood]:
    flood = write_flood_store(tmp, failures=failures, addresses=failures // 4)
    return SQLiteStore(tmp, readonly=True), flood


@pytest.fixture(scope="module")
def big(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[SQLiteStore, Flood]]:
    store, flood = _open(tmp_path_factory.mktemp("flood200k"), 200_000)
    yield store, flood
    store.close()


@pytest.fixture(scope="module")
def small(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[SQLiteStore, Flood]]:
    store, flood = _open(tmp_path_factory.mktemp("flood20k"), 20_000)
    yield store, flood
    store.close()


def summary_of(store: SQLiteStore, **kw: int) -> Summary:
    response = build_summary(store, pb.SummaryRequest(since_ns=WINDOW_START,
                                                      until_ns=WINDOW_END),
                             now_ns=WINDOW_END + HOUR, **kw)
    return summary_from_json(json.loads(response.summary_json))


def test_200k_failures_from_50k_addresses_give_exact_totals(
        big: tuple[SQLiteStore, Flood]) -> None:
    """Every failure is counted, per user and per address, however many there are."""
    store, flood = big
    data = store.window_data(window_start_ns=WINDOW_START, window_end_ns=WINDOW_END,
                             baseline_start_ns=WINDOW_START - 24 * HOUR, bucket_ns=30 * 60 * 10**9)
    auth = data.auth
    assert (auth.by_address.failures, auth.by_address.keys) == (flood.failures, flood.addresses)
    assert (auth.by_user.failures, auth.by_user.keys) == (flood.failures, flood.users)
    assert auth.successes_total == flood.successes == len(auth.successes)
    assert sum(data.category_series["failed_login"].values()) == flood.failures


def test_200k_failures_itemise_the_top_addresses_and_say_how_many_more(
        big: tuple[SQLiteStore, Flood]) -> None:
    """The failed-login table lists 10 addresses with exact counts, the most failed first,
    and a note names how many were not listed out of how many."""
    store, flood = big
    s = summary_of(store)
    top = s.failed_logins_by_address
    assert [(k.key, k.count) for k in top[:2]] == [(ATTACKER, ATTACK_FAILURES),
                                                   (flood_address(0), 4)]
    assert len(top) == 10 and all(len(k.refs) == min(k.count, 10) for k in top)
    assert (f"failed logins: {flood.addresses - 10:,} more addresses not listed "
            f"({flood.addresses:,} addresses with {flood.failures:,} failures in all, "
            "top 10 shown)") in s.notes


def test_200k_failures_still_give_the_one_brute_force_success(
        big: tuple[SQLiteStore, Flood]) -> None:
    """The attacker's success after its 147 failures is found as with every attempt in
    memory, success line first, then the first and last failures of the run."""
    store, _ = big
    s = summary_of(store)
    (found,) = [a for a in s.anomalies if a.kind == "brute_force_success"]
    assert (found.subject, found.score) == (f"deploy from {ATTACKER}", 147.0)
    assert found.detail.endswith(f"after {ATTACK_FAILURES} failures for user deploy and "
                                 f"{ATTACK_FAILURES} failures for address {ATTACKER}")
    assert len(found.refs) == 10 and found.refs[0] != found.refs[1]


def test_a_cap_below_the_keys_with_a_success_is_said_in_the_notes(
        big: tuple[SQLiteStore, Flood]) -> None:
    """Following one user and one address only: the most failed (deploy, the attacker's
    address) are kept and the brute force still found; the keys left (alice, her home
    address) and the successes dropped are counted."""
    store, flood = big
    s = summary_of(store, max_auth_keys=1)
    assert [a.subject for a in s.anomalies if a.kind == "brute_force_success"] == [
        f"deploy from {ATTACKER}"]
    assert any(n.startswith("brute-force successes not judged for 2 user(s)/address(es)")
               for n in s.notes), s.notes
    assert f"{flood.successes - 1:,} of {flood.successes:,} successful logins not judged" \
        in " ".join(s.notes)


def _peak(store: SQLiteStore) -> int:
    tracemalloc.start()
    try:
        summary_of(store)
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def test_summary_peak_memory_does_not_grow_with_the_attempts(
        small: tuple[SQLiteStore, Flood], big: tuple[SQLiteStore, Flood]) -> None:
    """10x the failed attempts (20k -> 200k, 5k -> 50k addresses) leaves a summary's
    Python peak memory about where it was (it grew 10x when attempts were held)."""
    _peak(small[0])  # first-call imports and caches out of the comparison
    ratio = _peak(big[0]) / _peak(small[0])
    assert ratio < 1.5, ratio


def test_the_summary_of_a_flood_agrees_with_the_insights_over_its_window_data(
        small: tuple[SQLiteStore, Flood]) -> None:
    """build_summary is summarize over window_data (nothing else changes the findings)."""
    store, _ = small
    data = store.window_data(window_start_ns=WINDOW_START, window_end_ns=WINDOW_END,
                             baseline_start_ns=WINDOW_START - 7 * 24 * HOUR,
                             bucket_ns=30 * 60 * 10**9, now_ns=WINDOW_END + HOUR)
    assert summarize(data).anomalies == summary_of(store).anomalies
