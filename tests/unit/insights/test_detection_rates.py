"""How often each injected anomaly is found when it lands at a random time, over many
seeds (printed; SEALTAIL_DETECT_SEEDS=N for more). The single-case tests in
test_synthetic_traffic.py pin each detector; this one says how reliable it is."""

from __future__ import annotations

import os
import random
from collections.abc import Callable

from agent.insights import Summary, summarize
from tests.unit.insights.traffic import MIN, Traffic

Inject = Callable[[Traffic, random.Random], int | None]


def _at(t: Traffic, r: random.Random, first_h: int, last_h: int) -> int:
    return t.window_start + r.randrange(first_h * 60, last_h * 60) * MIN


def _found(kind: str, bucket: int | None, s: Summary) -> bool:
    return any(a.kind == kind and (bucket is None or a.time_ns == bucket)
               for a in s.anomalies)


# name -> (inject, kind found, least share of seeds that must find it)
CASES: dict[str, tuple[Inject, str, float]] = {
    "20x spike of the busy template, any hour": (
        lambda t, r: t.spike("GET /api/orders <*> <*>", factor=20, at_ns=_at(t, r, 0, 23)),
        "rate_spike", 1.0),
    "20x spike of a ~1-a-bucket template, 08-20 h": (
        lambda t, r: t.spike("upstream timeout after <*> ms", factor=20,
                             at_ns=_at(t, r, 8, 20)), "rate_spike", 0.8),
    "20x spike of a ~1-a-bucket template, any hour": (
        lambda t, r: t.spike("upstream timeout after <*> ms", factor=20,
                             at_ns=_at(t, r, 0, 23)), "rate_spike", 0.0),
    "busy template stops for 1 h, 09-20 h": (
        lambda t, r: t.stop("GET /api/orders <*> <*>", at_ns=_at(t, r, 9, 20), hours=1),
        "rate_drop", 0.8),
    "new template, 1-19 lines, any hour": (
        lambda t, r: t.new_template("kernel: oops <*>", "error", at_ns=_at(t, r, 0, 23),
                                    count=r.randrange(1, 20)), "new_template", 1.0),
    "agent silent for 30 min to 3 h": (
        lambda t, r: t.silence(r.choice(["web-1", "web-2", "db-1"]),
                               hours=r.choice([0.5, 1, 3])), "silent_agent", 1.0),
    "success after 50 failures, any hour": (
        lambda t, r: t.brute_force("bob", "198.18.0.7", failures=50, at_ns=_at(t, r, 0, 23)),
        "brute_force_success", 1.0),
    "first login from a new address, usual hours": (
        lambda t, r: t.login("erin", "100.64.9.9", at_ns=_at(t, r, 9, 18)),
        "first_login_from_address", 1.0),
    "login 4+ h outside the user's hours": (
        lambda t, r: t.login("dave", "192.0.2.50", at_ns=_at(t, r, 18, 23)),
        "unusual_hour_login", 1.0),
}


def test_injected_anomalies_are_found_at_random_times(capsys):
    """Each kind of injected anomaly is found in at least its share of seeds."""
    seeds = int(os.environ.get("SEALTAIL_DETECT_SEEDS", "8"))
    rates = {}
    for name, (inject, kind, _) in CASES.items():
        hits = 0
        for seed in range(seeds):
            t = Traffic(5000 + seed)
            result = inject(t, random.Random(seed))
            bucket = result if kind == "rate_spike" else None
            hits += _found(kind, bucket, summarize(t.build()))
        rates[name] = hits / seeds
    with capsys.disabled():
        print(f"\ndetection over {seeds} seeds: "
              + "; ".join(f"{n} {r:.0%}" for n, r in rates.items()))
    assert {n: r for n, r in rates.items() if r < CASES[n][2]} == {}
