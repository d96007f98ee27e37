"""Each detector on small hand-made windows: what it flags, and what it must not."""

from __future__ import annotations

import pytest

from agent.insights import AgentActivity, InsightSettings
from agent.insights._detect import (
    audit_groups,
    brute_force_successes,
    counts_by_category,
    failed_logins,
    first_logins_from_address,
    new_templates,
    rare_templates,
    rate_anomalies,
    robust_baseline,
    robust_score,
    silent_agents,
    unusual_hour_logins,
)
from tests.unit.insights.builders import (
    BASE,
    BUCKET,
    END,
    HOUR,
    NS,
    START,
    audit,
    auth,
    flat,
    history,
    ref,
    template,
    window,
)

S = InsightSettings()


def test_counts_by_category_sum_only_window_buckets():
    """Category counts are the window's buckets, not the baseline's."""
    data = window(category_series={"normal": flat(20), "error": {BASE: 5, START: 2}})
    assert counts_by_category(data) == {"error": 2, "normal": 36 * 20}


def test_audit_lines_are_grouped_by_template_security_alerts_first():
    """admin_change and security_alert lines group by template; alerts list before changes."""
    lines = [audit(1, "useradd x", tid="u"), audit(2, "useradd y", tid="u"),
             audit(3, "POSSIBLE BREAK-IN", category="security_alert", tid="b"),
             audit(4, "GET /", category="normal", tid="n")]
    groups = audit_groups(window(audit_lines=lines, templates=[]), S)
    assert [(g.category, g.template_id, g.count) for g in groups] == [
        ("security_alert", "b", 1), ("admin_change", "u", 2)]
    assert groups[1].refs == (ref(1), ref(2))
    assert [ln.text for ln in groups[1].lines] == ["useradd x", "useradd y"]


def test_audit_group_count_is_the_template_count_when_lines_are_capped():
    """The collector caps audit lines; the group's count still comes from the template."""
    t = template("useradd <*>", category="admin_change", tid="u", series={START: 40})
    groups = audit_groups(window(audit_lines=[audit(1, "useradd x", tid="u")],
                                 templates=[t]), S)
    assert groups[0].count == 40 and groups[0].template == "useradd <*>"


def test_failed_logins_rank_users_and_addresses_with_their_lines():
    """Failures are counted per user and per address, most first, with their refs."""
    events = [auth(i, "failure", "root", f"10.0.0.{i % 2}", START + i * NS) for i in range(5)]
    events += [auth(9, "failure", "bob", "10.0.0.9", START + 9 * NS),
               auth(10, "success", "root", "10.0.0.1", START + 10 * NS)]
    data = window(auth_events=events)
    users = failed_logins(data, S, "user")
    assert [(k.key, k.count) for k in users] == [("root", 5), ("bob", 1)]
    assert users[0].refs == tuple(ref(i) for i in range(5))
    assert [(k.key, k.count) for k in failed_logins(data, S, "address")] == [
        ("10.0.0.0", 3), ("10.0.0.1", 2), ("10.0.0.9", 1)]


def _attack(failures: int, user: str = "alice", address: str = "203.0.113.9"):
    events = [auth(i, "failure", user, address, START + i * NS) for i in range(failures)]
    return [*events, auth(failures, "success", user, address, START + failures * NS)]


def test_success_after_50_failures_is_a_brute_force_success():
    """A success after 50 failures for the user and address is flagged, success line first."""
    found, _ = brute_force_successes(window(auth_events=_attack(50)), S)
    assert len(found) == 1
    a = found[0]
    assert (a.kind, a.subject, a.score) == ("brute_force_success",
                                             "alice from 203.0.113.9", 50.0)
    assert a.refs[0] == ref(50) and ref(0) in a.refs and ref(49) in a.refs
    assert len(a.refs) == S.max_refs


def test_success_after_fewer_failures_than_the_threshold_is_not_flagged():
    """Four mistyped passwords then a success is a person, not a brute force."""
    found, _ = brute_force_successes(window(auth_events=_attack(4)), S)
    assert found == []


def test_a_success_resets_the_failure_run():
    """Failures before an earlier success do not count towards a later one."""
    events = _attack(4) + [auth(20 + i, "failure", "alice", "203.0.113.9",
                                START + (20 + i) * NS) for i in range(4)]
    events.append(auth(30, "success", "alice", "203.0.113.9", START + 30 * NS))
    found, _ = brute_force_successes(window(auth_events=events), S)
    assert found == []


def test_address_spraying_many_users_then_succeeding_is_flagged_by_address():
    """One address failing for many users, then succeeding for one: flagged by address."""
    events = [auth(i, "failure", f"u{i}", "198.51.100.1", START + i * NS) for i in range(8)]
    events.append(auth(8, "success", "carol", "198.51.100.1", START + 8 * NS))
    found, _ = brute_force_successes(window(auth_events=events), S)
    assert [a.subject for a in found] == ["carol from 198.51.100.1"]
    assert "8 failures for address 198.51.100.1" in found[0].detail


def test_owner_logging_in_from_home_while_the_account_is_guessed_elsewhere_is_not_flagged():
    """root guessed at 30 times from other addresses, then root's usual address logs in:
    not a brute-force success (noted); the same success from a new address is."""
    hist = {"root": history("root", {9: 30}, ("192.0.2.1",))}
    events = [auth(i, "failure", "root", f"203.0.113.{i}", START + i * NS) for i in range(30)]
    home = [*events, auth(30, "success", "root", "192.0.2.1", START + 30 * NS)]
    found, notes = brute_force_successes(window(auth_events=home, user_history=hist), S)
    assert found == [] and "1 success(es)" in notes[0]
    away = [*events, auth(30, "success", "root", "100.64.0.1", START + 30 * NS)]
    found, _ = brute_force_successes(window(auth_events=away, user_history=hist), S)
    assert [a.subject for a in found] == ["root from 100.64.0.1"]


def test_first_login_from_an_unknown_address_is_flagged_once():
    """A known user's first login from a new address is flagged, once per address."""
    hist = {"bob": history("bob", {9: 30}, ("192.0.2.1",))}
    events = [auth(1, "success", "bob", "192.0.2.1", START + HOUR),
              auth(2, "success", "bob", "100.64.0.1", START + 2 * HOUR),
              auth(3, "success", "bob", "100.64.0.1", START + 3 * HOUR)]
    found, _ = first_logins_from_address(window(auth_events=events, user_history=hist), S)
    assert [(a.subject, a.refs) for a in found] == [("bob from 100.64.0.1", (ref(2),))]


def test_first_logins_are_not_judged_without_any_login_history():
    """On a store with no past logins every login would be "first": none flagged, a note."""
    events = [auth(1, "success", "bob", "100.64.0.1", START + HOUR)]
    found, notes = first_logins_from_address(window(auth_events=events), S)
    assert found == [] and "no login history" in notes[0]


def test_login_far_from_the_users_usual_hours_is_flagged():
    """30 past logins at 09-11 UTC; a login at 03 UTC is unusual, one at 12 UTC is not."""
    hist = {"dave": history("dave", {9: 10, 10: 10, 11: 10}, ("192.0.2.1",))}
    events = [auth(1, "success", "dave", "192.0.2.1", START + 3 * HOUR),
              auth(2, "success", "dave", "192.0.2.1", START + 12 * HOUR)]
    found, _ = unusual_hour_logins(window(auth_events=events, user_history=hist,
                                          window_end_ns=START + 13 * HOUR), S)
    assert [(a.subject, a.refs) for a in found] == [("dave at 03h UTC", (ref(1),))]


def test_usual_hours_are_not_judged_with_too_little_history():
    """A user with 5 past logins has no "usual hours" yet."""
    hist = {"dave": history("dave", {9: 5}, ("192.0.2.1",))}
    events = [auth(1, "success", "dave", "192.0.2.1", START + 3 * HOUR)]
    found, notes = unusual_hour_logins(window(auth_events=events, user_history=hist), S)
    assert found == [] and "fewer than 20 past logins" in notes[0]


def test_template_first_seen_in_the_window_is_new():
    """A template whose first sighting is inside the window is flagged with its lines."""
    new = template("segfault at <*>", category="error", first_seen=START + HOUR,
                   series={START + HOUR: 3}, examples=(ref(1),))
    found, _ = new_templates(window(templates=[template(), new]), S)
    assert [(a.subject, a.score, a.refs) for a in found] == [("segfault at <*>", 3.0,
                                                               (ref(1),))]


def test_template_with_no_line_before_the_window_is_new_whatever_its_first_seen_time():
    """A first sighting recorded just before the window, with no line before it, is new,
    and not "rare" with a zero chance."""
    t = template("oom-killer: <*>", category="error", first_seen=START - 30 * NS,
                 series={START + HOUR: 2})
    data = window(templates=[template(), t])
    assert [a.subject for a in new_templates(data, S)[0]] == ["oom-killer: <*>"]
    assert rare_templates(data, S)[0] == []


def test_new_templates_are_not_judged_without_history():
    """When nothing predates the window, "new" means nothing: no anomaly, a note."""
    only = template("x", first_seen=START, series={START: 1})
    found, notes = new_templates(window(templates=[only]), S)
    assert found == [] and notes


def test_template_seen_three_times_in_three_months_is_rare():
    """A template seen twice in the 90 days before a 6 h window, and once in it, is rare
    (0.6 % chance); one seen 4 times is not (count), nor one seen twice in the day before
    (its rate)."""
    old = BASE - 89 * 24 * HOUR
    rare = template("disk <*> failing", category="error", series={BASE: 2, START: 1},
                    first_seen=old)
    common = template("fan <*> slow", category="error", series={BASE: 3, START: 1},
                      first_seen=old)
    recent = template("cert <*> expires", category="error", series={BASE: 2, START: 1})
    found, _ = rare_templates(window(templates=[rare, common, recent]), S)
    assert [a.subject for a in found] == ["disk <*> failing"]
    assert "0.6% chance" in found[0].detail and found[0].score > 2


def test_robust_baseline_ignores_a_burst_in_the_baseline():
    """A 1000-line burst in 2 of 100 baseline buckets does not move the median."""
    base = robust_baseline([20] * 98 + [1000, 1000])
    assert base.median == 20 and base.sigma_up == base.sigma_down == 1.0


def test_robust_baseline_widens_for_a_bursty_series():
    """A mostly-empty series with regular clumps of 5-8 is judged by its clumps, not by a
    MAD of 0: 20 lines is not a spike there, though it is for a flat 0."""
    bursty = robust_baseline([0] * 80 + [5, 6, 7, 8] * 5)
    flat_zero = robust_baseline([0] * 100)
    assert robust_score(20, bursty) < S.rate_threshold < robust_score(20, flat_zero)


def test_twenty_fold_rate_is_a_spike_with_its_bucket():
    """20 lines a bucket rising to 400 in one bucket: a rate spike at that bucket."""
    series = flat(20)
    series[START + 2 * HOUR] = 400
    data = window(templates=[template(series=series, examples=(ref(3),))],
                  category_series={"normal": series})
    found, _ = rate_anomalies(data, S)
    assert [(a.kind, a.subject, a.time_ns) for a in found] == [
        ("rate_spike", "GET /x <*>", START + 2 * HOUR)]
    assert found[0].score > 30 and found[0].refs == (ref(3),)


def test_zero_to_two_is_not_a_spike():
    """A quiet series going from 0 to 2 lines is below the low-count guard."""
    series = {START + HOUR: 2}
    data = window(templates=[template(series=series)], category_series={"normal": series})
    assert rate_anomalies(data, S)[0] == []


def test_a_busy_template_falling_to_zero_is_a_drop():
    """40 lines a bucket, then none for two hours: a rate drop, clearest by the hour."""
    series = {b: n for b, n in flat(40).items() if not START + HOUR <= b < START + 3 * HOUR}
    data = window(templates=[template(series=series)], category_series={"normal": series})
    found, _ = rate_anomalies(data, S)
    assert [(a.kind, a.subject) for a in found] == [("rate_drop", "GET /x <*>")]
    assert "0 lines in the 1 h" in found[0].detail and "2 of 6 window buckets" in found[0].detail


def test_a_partial_last_bucket_is_not_a_drop():
    """The window's last bucket, still filling, is never judged as a drop."""
    series = flat(40)
    series.pop(END - BUCKET)
    data = window(templates=[template(series=series)], category_series={"normal": series},
                  window_end_ns=END - BUCKET // 2)
    assert rate_anomalies(data, S)[0] == []


def test_a_series_with_too_little_baseline_is_not_scored():
    """A template first seen an hour before the window has no baseline to judge it by."""
    series = {b: 20 for b in range(START - HOUR, END, BUCKET)}
    series[START + HOUR] = 400
    data = window(templates=[template(series=series, first_seen=START - HOUR)],
                  category_series={"normal": flat(20)})
    found, notes = rate_anomalies(data, S)
    assert found == [] and "1 sparse series" in notes[0]


def test_a_category_spike_explained_by_one_template_is_reported_once():
    """The template's spike is kept; its category's spike at the same bucket is not."""
    series = flat(20)
    series[START + 2 * HOUR] = 400
    data = window(templates=[template(series=series)], category_series={"normal": series})
    assert len(rate_anomalies(data, S)[0]) == 1


def test_agent_silent_for_far_longer_than_its_usual_gap_is_flagged():
    """An agent sending every 30 s, silent for 2 h, is flagged; one silent 2 min is not."""
    agents = [AgentActivity("web-1", END - 2 * HOUR, 30 * NS, 500),
              AgentActivity("web-2", END - 120 * NS, 30 * NS, 700)]
    found, _ = silent_agents(window(agents=agents), S)
    assert [(a.subject, a.score) for a in found] == [("web-1", 240.0)]


def test_a_silent_agent_points_at_the_last_line_it_sent():
    """When the collector knows the agent's last line, the anomaly carries it."""
    agents = [AgentActivity("web-1", END - 2 * HOUR, 30 * NS, 500, last_line=ref(9, seq=41))]
    (found,), _ = silent_agents(window(agents=agents), S)
    assert found.refs == (ref(9, seq=41),)


def test_agent_without_a_gap_history_is_noted_not_flagged():
    """An agent with a single segment has no usual gap: noted, not flagged."""
    found, notes = silent_agents(window(agents=[AgentActivity("new", END - HOUR, 0, 1)]), S)
    assert found == [] and "new" in notes[0]


@pytest.mark.parametrize("bad", [{"brute_force_failures": 0}, {"rate_threshold": -1.0},
                                 {"top_keys": 2.5}, {"unusual_hour_max_share": 1.5},
                                 {"narrative_model": ""}, {"rate_min_ratio": 1.0}])
def test_settings_reject_values_that_make_no_sense(bad):
    """Thresholds are validated on construction, the message names the field."""
    with pytest.raises(ValueError, match=next(iter(bad))):
        InsightSettings(**bad)


def test_a_bucket_that_just_ended_is_not_a_drop():
    """Lines of a bucket that ended seconds ago may still be in flight: no drop yet."""
    series = flat(40)
    series.pop(END - BUCKET)
    data = window(templates=[template(series=series)], category_series={"normal": series},
                  now_ns=END + 5 * NS)
    assert rate_anomalies(data, S)[0] == []
    later = window(templates=[template(series=series)], category_series={"normal": series},
                   now_ns=END + 2 * HOUR)
    assert [a.kind for a in rate_anomalies(later, S)[0]] == ["rate_drop"]


def test_a_spike_of_audit_lines_points_at_lines_of_its_own_bucket():
    """A security_alert template spiking at bucket B lists lines from B, and says so."""
    spike_at = START + 2 * HOUR
    series = flat(20)
    series[spike_at] = 400
    lines = [audit(100 + i, "UFW BLOCK", category="security_alert", tid="ufw",
                   t=spike_at + i * NS) for i in range(3)]
    lines.append(audit(1, "UFW BLOCK", category="security_alert", tid="ufw", t=START))
    t = template("[UFW BLOCK] <*>", category="security_alert", series=series, tid="ufw",
                 examples=(ref(1),))
    data = window(templates=[t], audit_lines=lines,
                  category_series={"security_alert": series})
    (spike,), _ = rate_anomalies(data, S)
    assert spike.refs == (ref(100), ref(101), ref(102))
    assert spike.detail.endswith("lines from that bucket")


def test_a_spike_without_lines_of_its_bucket_says_its_lines_are_examples():
    """When only the template's first lines are known, the detail says they are examples."""
    series = flat(20)
    series[START + 2 * HOUR] = 400
    data = window(templates=[template(series=series, examples=(ref(3),))],
                  category_series={"normal": series})
    (spike,), _ = rate_anomalies(data, S)
    assert spike.detail.endswith("lines: examples from the window")
