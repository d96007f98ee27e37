"""Injected anomalies in a week of steady synthetic traffic are each found; the same traffic
without injections flags nothing (the false-positive count is printed)."""

from __future__ import annotations

import collections
import os

import pytest

from agent.insights import Summary, summarize
from tests.unit.insights.traffic import HOUR, MIN, STEADY, Traffic

SEEDS = (1, 2, 3)


def kinds(summary: Summary, kind: str) -> list[str]:
    return [a.subject for a in summary.anomalies if a.kind == kind]


@pytest.mark.parametrize("seed", SEEDS)
def test_steady_traffic_has_a_daily_rhythm_and_every_category(seed):
    """The generator is what the other tests claim: busy afternoons, quiet nights, all six
    categories, several agents and users."""
    t = Traffic(seed)
    data = t.build()
    api = next(s.series for s in data.templates if s.template == STEADY[0][0])
    day = t.window_start
    afternoon = sum(api.get(day + 14 * HOUR + k * 10 * MIN, 0) for k in range(6))
    night = sum(api.get(day + 2 * HOUR + k * 10 * MIN, 0) for k in range(6))
    assert afternoon > 2 * night
    assert set(data.category_series) == {"normal", "error", "security_alert",
                                         "admin_change", "login", "failed_login"}
    assert len(data.agents) == 3 and len(data.user_history) == 5
    assert summarize(data).total_lines > 5000


@pytest.mark.parametrize("seed", SEEDS)
def test_a_template_that_suddenly_appears_is_flagged_new(seed):
    """A never-seen template appearing mid-window is reported as new, with its lines."""
    t = Traffic(seed)
    t.new_template("kernel: EXT4-fs error (device <*>): <*>", "error",
                   at_ns=t.window_start + 5 * HOUR, count=12)
    s = summarize(t.build())
    assert kinds(s, "new_template") == ["kernel: EXT4-fs error (device <*>): <*>"]
    assert next(a for a in s.anomalies if a.kind == "new_template").refs


@pytest.mark.parametrize("seed", SEEDS)
def test_a_template_seen_once_months_ago_is_flagged_rare(seed):
    """A template last (and first) seen 90 days ago, back in the window: rare."""
    t = Traffic(seed)
    t.rare("mdadm: DegradedArray event on <*>", "error", first_seen_days=90,
           at_ns=t.window_start + 7 * HOUR)
    assert kinds(summarize(t.build()), "rare_template") == [
        "mdadm: DegradedArray event on <*>"]


@pytest.mark.parametrize("seed", SEEDS)
def test_a_twenty_fold_spike_is_flagged_at_its_bucket(seed):
    """20x a busy template's rate for one bucket is a rate spike at that bucket."""
    t = Traffic(seed)
    bucket = t.spike("GET /api/orders <*> <*>", factor=20)
    s = summarize(t.build())
    spikes = [a for a in s.anomalies if a.kind == "rate_spike"]
    assert [(a.subject, a.time_ns) for a in spikes] == [("GET /api/orders <*> <*>", bucket)]
    assert spikes[0].score > 20


@pytest.mark.parametrize("seed", SEEDS)
def test_a_twenty_fold_spike_of_a_quiet_template_is_flagged(seed):
    """20x the daytime rate of a template of ~1.5 lines a bucket is found as well."""
    t = Traffic(seed)
    t.spike("upstream timeout after <*> ms", factor=20, at_ns=t.window_start + 13 * HOUR)
    assert kinds(summarize(t.build()), "rate_spike") == ["upstream timeout after <*> ms"]


@pytest.mark.parametrize("seed", SEEDS)
def test_a_busy_template_stopping_for_two_hours_is_a_drop(seed):
    """The API stops answering from 13:00 to 15:00: a rate drop of its template."""
    t = Traffic(seed)
    t.stop("GET /api/orders <*> <*>", at_ns=t.window_start + 13 * HOUR, hours=2)
    s = summarize(t.build())
    assert "GET /api/orders <*> <*>" in kinds(s, "rate_drop")


@pytest.mark.parametrize("seed", SEEDS)
def test_a_silent_agent_is_flagged(seed):
    """An agent that stops sending for the last 3 hours is reported silent."""
    t = Traffic(seed)
    t.silence("db-1", hours=3)
    s = summarize(t.build())
    assert kinds(s, "silent_agent") == ["db-1"]


@pytest.mark.parametrize("seed", SEEDS)
def test_a_success_after_50_failures_is_flagged_as_brute_force(seed):
    """50 failed passwords for alice from one address, then a success: a brute-force
    success naming both, with the success line first."""
    t = Traffic(seed)
    t.brute_force("alice", "198.18.0.66", failures=50, at_ns=t.window_start + 10 * HOUR)
    data = t.build()
    s = summarize(data)
    found = [a for a in s.anomalies if a.kind == "brute_force_success"]
    assert [(a.subject, a.score) for a in found] == [("alice from 198.18.0.66", 50.0)]
    success = next(s.event for s in data.auth.successes if s.event.address == "198.18.0.66")
    assert found[0].refs[0] == success.ref
    assert (s.failed_logins_by_address[0].key, s.failed_logins_by_address[0].count) == (
        "198.18.0.66", 50)


@pytest.mark.parametrize("seed", SEEDS)
def test_a_first_login_from_a_new_address_is_flagged(seed):
    """bob logging in at his usual hour from an address he never used: flagged once."""
    t = Traffic(seed)
    t.login("bob", "100.64.1.1", at_ns=t.window_start + 14 * HOUR)
    s = summarize(t.build())
    assert kinds(s, "first_login_from_address") == ["bob from 100.64.1.1"]
    assert kinds(s, "unusual_hour_login") == []


@pytest.mark.parametrize("seed", SEEDS)
def test_a_login_at_an_unusual_hour_is_flagged(seed):
    """carol (usually 12-21 UTC) logging in at 05 UTC from her home address: flagged."""
    t = Traffic(seed)
    t.login("carol", "198.51.100.9", at_ns=t.window_start + 5 * HOUR)
    s = summarize(t.build())
    assert kinds(s, "unusual_hour_login") == ["carol at 05h UTC"]
    assert kinds(s, "first_login_from_address") == []


@pytest.mark.parametrize("bucket_minutes, window_hours, default_windows", [
    (10, 24, 30), (1, 2, 4), (5, 4, 4), (30, 24, 4), (60, 24, 4), (10, 72, 4)])
def test_steady_traffic_flags_no_anomaly_over_many_windows(capsys, bucket_minutes,
                                                          window_hours, default_windows):
    """The same steady traffic, no injection: no anomaly in any window, from 1-minute to
    1-hour buckets (the CLI picks one to suit the window). The count is printed;
    SEALTAIL_FP_WINDOWS=N runs N windows of each."""
    windows = int(os.environ.get("SEALTAIL_FP_WINDOWS", default_windows))
    flagged: collections.Counter[str] = collections.Counter()
    lines = 0
    for seed in range(windows):
        # Different seeds and window ends (all hours of the day) over a week of baseline.
        t = Traffic(1000 + seed, bucket_minutes=bucket_minutes, window_hours=window_hours,
                    end_offset_hours=(seed * 7) % 24)
        s = summarize(t.build())
        lines += s.total_lines
        flagged.update(a.kind for a in s.anomalies)
    with capsys.disabled():
        print(f"\nfalse positives: {sum(flagged.values())} anomalies in {windows} steady "
              f"{window_hours} h windows of {bucket_minutes}-min buckets ({lines:,} lines, "
              f"7-day baselines) {dict(flagged)}")
    assert not flagged


@pytest.mark.parametrize("bucket_minutes", [1, 60])
def test_a_twenty_fold_spike_is_found_at_other_bucket_sizes(bucket_minutes):
    """A 20x bucket of the busy template is found with 1-minute and 1-hour buckets."""
    t = Traffic(4, bucket_minutes=bucket_minutes, window_hours=24)
    bucket = t.spike("GET /api/orders <*> <*>", factor=20)
    spikes = [(a.subject, a.time_ns) for a in summarize(t.build()).anomalies
              if a.kind == "rate_spike"]
    assert spikes == [("GET /api/orders <*> <*>", bucket)]
