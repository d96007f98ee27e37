"""`summarize`: run every detector over one window and assemble the `Summary`."""

from __future__ import annotations

import dataclasses
import logging

from agent.errors import ModelError
from agent.insights import _detect as d
from agent.insights._model import Anomaly, AnomalyKind, Summary, WindowData
from agent.insights._narrative import (
    deterministic_narrative,
    generated_narrative,
    unsupported_numbers,
)
from agent.insights._settings import InsightSettings

log = logging.getLogger("sealtail.insights")

# The order anomalies are listed in: what needs a person now first.
KIND_ORDER: tuple[AnomalyKind, ...] = (
    "brute_force_success", "silent_agent", "first_login_from_address", "unusual_hour_login",
    "new_template", "rate_spike", "rate_drop", "rare_template",
)

DETECTORS = (
    d.brute_force_successes, d.silent_agents, d.first_logins_from_address,
    d.unusual_hour_logins, d.new_templates, d.rate_anomalies, d.rare_templates,
)


def _check(data: WindowData) -> None:
    if not isinstance(data, WindowData):
        raise TypeError(f"summarize: expected WindowData, got {type(data).__name__}")
    if data.bucket_ns <= 0:
        raise ValueError(f"WindowData.bucket_ns: must be positive, got {data.bucket_ns}")
    if not data.baseline_start_ns <= data.window_start_ns < data.window_end_ns:
        raise ValueError("WindowData: expected baseline_start_ns <= window_start_ns < "
                         f"window_end_ns, got {data.baseline_start_ns}, "
                         f"{data.window_start_ns}, {data.window_end_ns}")


def _rank(anomalies: list[Anomaly]) -> list[Anomaly]:
    return sorted(anomalies, key=lambda a: (KIND_ORDER.index(a.kind), -a.score, a.time_ns,
                                            a.subject))


def summarize(data: WindowData, *, settings: InsightSettings | None = None) -> Summary:
    """Highlights and anomalies of one window, each with the sealed lines behind it.

    Args:
        data: the window, as read from the collector's aggregates.
        settings: thresholds; `InsightSettings()` when None.

    Returns:
        A `Summary`: counts per category and agent, the category timeline, the audit trail
        grouped by template, failed logins by user and address, anomalies (most urgent kind
        first, highest score first within a kind) and a narrative. The narrative is
        deterministic unless `settings.narrative_model` is set; if that model fails, the
        deterministic one is used and `notes` says why.

    Raises:
        TypeError, ValueError: `data` is not a consistent WindowData.
    """
    _check(data)
    s = settings or InsightSettings()
    notes: list[str] = []
    anomalies: list[Anomaly] = []
    for detector in DETECTORS:
        found, why = detector(data, s)
        anomalies += found
        notes += why
    notes += d.success_notes(data, s) + d.failed_login_notes(data, s)
    anomalies = _rank(anomalies)
    if len(anomalies) > s.max_anomalies:
        notes.append(f"{len(anomalies) - s.max_anomalies} more anomalies not listed "
                     f"(max_anomalies={s.max_anomalies})")
        anomalies = anomalies[: s.max_anomalies]
    counts = d.counts_by_category(data)
    summary = Summary(
        window_start_ns=data.window_start_ns, window_end_ns=data.window_end_ns,
        agent_filter=data.agent_filter, total_lines=sum(counts.values()),
        counts_by_category=counts,
        counts_by_agent={a: {c: n for c, n in sorted(cats.items()) if n}
                         for a, cats in sorted(data.category_counts_by_agent.items())},
        category_timeline={c: d.window_series(sr, data)
                           for c, sr in sorted(data.category_series.items())
                           if d.window_count(sr, data)},
        bucket_ns=data.bucket_ns,
        audit=d.audit_groups(data, s),
        failed_logins_by_user=d.failed_logins(data, s, "user"),
        failed_logins_by_address=d.failed_logins(data, s, "address"),
        anomalies=anomalies,
        notes=notes,
    )
    narrative, generated = deterministic_narrative(summary), False
    if s.narrative_model:
        try:
            narrative, generated = generated_narrative(summary, s), True
            invented = unsupported_numbers(narrative, summary)
            if invented:
                notes.append("the generated narrative has figures not in the summary: "
                             + ", ".join(invented[:10]))
        except ModelError as exc:
            log.warning("narrative.failed model=%s error=%s", s.narrative_model, exc)
            notes.append(f"narrative model not used: {exc.message}")
    return dataclasses.replace(summary, narrative=narrative, narrative_generated=generated,
                               notes=notes)
