"""Short human forms of times and durations, shared by the detectors' details and renderers."""

from __future__ import annotations

import datetime as dt

NS = 1_000_000_000
HOUR_NS = 3600 * NS
DAY_NS = 24 * HOUR_NS


def fmt_time(ns: int) -> str:
    """UTC, to the second: 2026-12-04 08:44:07Z."""
    return dt.datetime.fromtimestamp(ns / NS, dt.UTC).strftime("%Y-%m-%d %H:%M:%SZ")


def fmt_duration(ns: int) -> str:
    """Two units at most: 45 s, 12 min 5 s, 3 h 20 min, 2 d 4 h."""
    secs = max(0, round(ns / NS))
    if secs < 60:
        return f"{secs} s"
    mins, secs = divmod(secs, 60)
    if mins < 60:
        return f"{mins} min {secs} s" if secs else f"{mins} min"
    hours, mins = divmod(mins, 60)
    if hours < 24:
        return f"{hours} h {mins} min" if mins else f"{hours} h"
    days, hours = divmod(hours, 24)
    return f"{days} d {hours} h" if hours else f"{days} d"


def utc_hour(ns: int) -> int:
    return (ns // HOUR_NS) % 24
