"""The Summary request's window: defaults, bucket choice and refusals naming the field."""

from __future__ import annotations

import pytest

from agent._pb import sealtail_pb2 as pb
from agent.collector._summary import (
    SummaryArgumentError,
    choose_bucket_ns,
    summary_window,
)

MIN = 60 * 10**9
HOUR = 60 * MIN
DAY = 24 * HOUR
NOW = 1_800_000_000 * 10**9


def test_an_empty_request_is_the_last_24_hours_against_7_days_in_hour_buckets() -> None:
    """Defaults: until now, since 24 h before, a 7-day baseline, 30-minute buckets."""
    w = summary_window(pb.SummaryRequest(), NOW)
    assert (w.since_ns, w.until_ns, w.baseline_start_ns) == (NOW - DAY, NOW, NOW - 8 * DAY)
    assert w.bucket_ns == 30 * MIN


@pytest.mark.parametrize(("window", "bucket"), [
    (10 * MIN, MIN), (HOUR, 5 * MIN), (DAY, 30 * MIN), (7 * DAY, 6 * HOUR), (90 * DAY, DAY)])
def test_the_bucket_is_the_smallest_standard_step_giving_at_most_48(window: int,
                                                                    bucket: int) -> None:
    """Charts and baselines get up to 48 buckets per window, in standard sizes."""
    assert choose_bucket_ns(window) == bucket


@pytest.mark.parametrize(("request_", "field"), [
    (pb.SummaryRequest(since_ns=NOW, until_ns=NOW - 1), "since_ns"),
    (pb.SummaryRequest(bucket_ns=90 * 10**9), "bucket_ns"),
    (pb.SummaryRequest(baseline_ns=-1), "baseline_ns"),
    (pb.SummaryRequest(baseline_ns=91 * DAY), "baseline_ns"),
])
def test_an_unservable_window_is_refused_naming_the_field(request_: pb.SummaryRequest,
                                                          field: str) -> None:
    """A reversed window, a bucket of partial minutes or a baseline out of range is refused."""
    with pytest.raises(SummaryArgumentError, match=field):
        summary_window(request_, NOW)
