"""Thresholds of the detectors: one frozen, keyword-only record, validated on construction."""

from __future__ import annotations

import math
from dataclasses import dataclass, fields


@dataclass(frozen=True, slots=True, kw_only=True)
class InsightSettings:
    """Thresholds for `summarize`. Every default is chosen so that steady traffic flags nothing.

    Args:
        brute_force_failures: failures for a user (or from an address) since its last success
            after which a success is reported as a possible brute-force success. 5 is
            fail2ban's default `maxretry` and one below sshd's `MaxAuthTries` (6): a person
            who mistypes rarely fails five times in a row, a guessing script always does.
        rate_threshold: robust z-score (distance from the baseline median in robust standard
            deviations, see `_detect.rate_anomalies`) from which a bucket is a spike or drop.
        rate_min_count: a spike needs at least this many lines in the bucket: 0 -> 2 is not
            a spike.
        rate_min_drop_median: a drop needs a usual (median) count of at least this many:
            a quiet, bursty series is empty now and then (scanners, usually 13-15 tries an
            hour, had an empty hour in 2 of 200 steady 72 h windows at 10).
        rate_min_ratio: a spike must also be this many times the baseline median (and a drop
            at most 1/this of it), so a large but noisy series does not flag small wobbles.
        rate_min_baseline_buckets: a window bucket is compared with baseline buckets at the
            same time of day (+-1 h) after the series first appeared; fewer than this and it
            is not scored (too little to know its normal). 12: hourly buckets over a week
            give 21, 10-minute buckets over 3 days 54.
        rate_settle_secs: a bucket that ended less than this long before now (the data's
            `now_ns`) is not judged for a drop: its last lines may still be on their way.
        rare_template_count: a template seen at most this many times in all (before and in
            the window), not new, may be rare ...
        rare_template_max_chance: ... when the chance of it showing up in a window this
            long, at its past rate, is below this (see `_detect.rare_templates`). 2 %: at
            10 % a typo template seen twice in a week was "rare" in 1 of 50 4 h windows.
        silent_factor: an agent is silent when no segment arrived for more than this many
            times its median gap between segments ...
        silent_min_secs: ... and for at least this long (a chatty agent pausing is not news).
        unusual_hour_min_logins: a user needs this many past logins before an hour can be
            called unusual for them.
        unusual_hour_max_share: a login is at an unusual hour when fewer than this share of
            the user's past logins fall within two hours either side of it.
        top_keys: users/addresses listed in the failed-login tables.
        max_refs: line references kept per item.
        max_anomalies: anomalies kept (highest score first within each kind).
        narrative_model: path of an instruct-capable GGUF model; when set, the narrative is
            generated from the structured summary (in a separate process) and marked so.
        narrative_max_tokens: tokens generated at most for that narrative.
        narrative_timeout_secs: the model worker is stopped after this long (deterministic
            narrative then, with a note).
    """

    brute_force_failures: int = 5
    rate_threshold: float = 6.0
    rate_min_count: int = 10
    rate_min_drop_median: int = 20
    rate_min_ratio: float = 3.0
    rate_min_baseline_buckets: int = 12
    rate_settle_secs: float = 60.0
    rare_template_count: int = 3
    rare_template_max_chance: float = 0.02
    silent_factor: float = 10.0
    silent_min_secs: float = 300.0
    unusual_hour_min_logins: int = 20
    unusual_hour_max_share: float = 0.02
    top_keys: int = 10
    max_refs: int = 10
    max_anomalies: int = 50
    narrative_model: str | None = None
    narrative_max_tokens: int = 160
    narrative_timeout_secs: float = 60.0

    def __post_init__(self) -> None:
        for f in fields(self):
            value = getattr(self, f.name)
            if f.name == "narrative_model":
                if value is not None and (not isinstance(value, str) or not value):
                    raise ValueError("narrative_model: expected a non-empty path or None")
                continue
            if isinstance(value, bool) or not isinstance(value, int | float):
                raise ValueError(f"{f.name}: expected a number, got {value!r}")
            if f.type == "int" and not isinstance(value, int):
                raise ValueError(f"{f.name}: expected an integer, got {value!r}")
            if not math.isfinite(value) or value <= 0:
                raise ValueError(f"{f.name}: must be a positive finite number, got {value!r}")
        if self.rare_template_max_chance >= 1:
            raise ValueError("rare_template_max_chance: must be below 1 (a probability)")
        if self.unusual_hour_max_share >= 1:
            raise ValueError("unusual_hour_max_share: must be below 1 (a share of logins)")
        if self.narrative_max_tokens > 1024:
            raise ValueError("narrative_max_tokens: at most 1024 (half the model context)")
        if self.rate_min_ratio <= 1:
            raise ValueError("rate_min_ratio: must be above 1")
