"""The Summary query: window arguments, aggregates -> `summarize` -> versioned JSON."""

from __future__ import annotations

import json
import time
from dataclasses import dataclass

from agent._pb import sealtail_pb2 as pb
from agent.insights import SUMMARY_FORMAT, InsightSettings, summarize, summary_to_json
from agent.store import SQLiteStore

MINUTE_NS = 60 * 10**9
DEFAULT_WINDOW_NS = 24 * 60 * MINUTE_NS
DEFAULT_BASELINE_NS = 7 * DEFAULT_WINDOW_NS
MAX_BASELINE_NS = 90 * DEFAULT_WINDOW_NS
# Users/addresses whose failure runs a summary follows, and successes it keeps (config:
# collector.summary_max_auth_keys): what bounds a summary's memory under a brute force.
DEFAULT_MAX_AUTH_KEYS = 1000
# Bucket sizes chosen for a window: the smallest giving at most ~48 buckets in the window.
BUCKET_STEPS_NS = tuple(m * MINUTE_NS for m in (1, 5, 10, 15, 30, 60, 120, 180, 360, 720, 1440))
TARGET_BUCKETS = 48


class SummaryArgumentError(ValueError):
    """A SummaryRequest whose window cannot be served (the message says which field)."""


@dataclass(frozen=True, slots=True)
class SummaryWindow:
    since_ns: int
    until_ns: int
    baseline_start_ns: int
    bucket_ns: int


def choose_bucket_ns(window_ns: int) -> int:
    """The smallest standard bucket that cuts the window into at most 48 buckets."""
    for step in BUCKET_STEPS_NS:
        if window_ns <= step * TARGET_BUCKETS:
            return step
    return BUCKET_STEPS_NS[-1]


def summary_window(request: pb.SummaryRequest, now_ns: int) -> SummaryWindow:
    """The window a request asks for, defaults filled in, checked."""
    until = request.until_ns or now_ns
    since = request.since_ns or until - DEFAULT_WINDOW_NS
    if since >= until:
        raise SummaryArgumentError(f"since_ns ({since}) must be before until_ns ({until})")
    baseline = request.baseline_ns or DEFAULT_BASELINE_NS
    if not 0 < baseline <= MAX_BASELINE_NS:
        raise SummaryArgumentError(f"baseline_ns: must be in (0, 90 days], got {baseline}")
    bucket = request.bucket_ns or choose_bucket_ns(until - since)
    if bucket <= 0 or bucket % MINUTE_NS:
        raise SummaryArgumentError(f"bucket_ns: must be a positive multiple of one minute "
                                   f"({MINUTE_NS}), got {bucket}")
    return SummaryWindow(since, until, since - baseline, bucket)


def build_summary(store: SQLiteStore, request: pb.SummaryRequest,
                  now_ns: int | None = None, *,
                  max_auth_keys: int = DEFAULT_MAX_AUTH_KEYS) -> pb.SummaryResponse:
    """Read the window from the aggregates, run the detectors, answer with the JSON.

    `max_auth_keys` bounds the memory one summary takes, however many authentication
    attempts the window holds (see `SQLiteStore.window_data`)."""
    now = time.time_ns() if now_ns is None else now_ns
    w = summary_window(request, now)
    settings = InsightSettings()
    data = store.window_data(window_start_ns=w.since_ns, window_end_ns=w.until_ns,
                             baseline_start_ns=w.baseline_start_ns, bucket_ns=w.bucket_ns,
                             agent=request.agent or None, now_ns=now,
                             auth_top_keys=settings.top_keys, auth_max_keys=max_auth_keys,
                             auth_max_refs=settings.max_refs)
    summary = summarize(data, settings=settings)
    return pb.SummaryResponse(format=SUMMARY_FORMAT,
                              summary_json=json.dumps(summary_to_json(summary),
                                                      ensure_ascii=False))
