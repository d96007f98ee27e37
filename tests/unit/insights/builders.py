"""Small hand-made WindowData for detector tests: one day of baseline, a 6-hour window."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from agent.insights import (
    AgentActivity,
    AuditLine,
    AuthEvent,
    LineRef,
    TemplateStats,
    UserHistory,
    WindowData,
    auth_window,
)

NS = 1_000_000_000
MIN = 60 * NS
HOUR = 60 * MIN
BUCKET = 10 * MIN
BASE = 1_764_547_200 * NS          # 2025-12-01 00:00 UTC
START = BASE + 24 * HOUR           # window 2025-12-02 00:00 .. 06:00
END = START + 6 * HOUR


def ref(i: int, agent: str = "web-1", seq: int = 7) -> LineRef:
    return LineRef(agent, seq, i)


def flat(per_bucket: int, start: int = BASE, end: int = END) -> dict[int, int]:
    return {b: per_bucket for b in range(start, end, BUCKET)}


def template(text: str = "GET /x <*>", *, category: str = "normal", series: dict[int, int]
             | None = None, first_seen: int = BASE, examples: tuple[LineRef, ...] = (),
             tid: str | None = None) -> TemplateStats:
    s = flat(20) if series is None else series
    return TemplateStats(template_id=tid or format(abs(hash(text)) % 2**64, "016x"),
                         template=text, category=category, first_seen_ns=first_seen,
                         total_before=sum(n for b, n in s.items() if b < START), series=s,
                         examples=examples)


def audit(i: int, text: str, *, category: str = "admin_change", tid: str = "a1",
          t: int = START + HOUR) -> AuditLine:
    return AuditLine(ref=ref(i), time_ns=t, category=category, template_id=tid, text=text)


def auth(i: int, outcome: str, user: str, address: str, t: int) -> AuthEvent:
    return AuthEvent(ref=ref(i), time_ns=t, outcome=outcome,  # type: ignore[arg-type]
                     user=user, address=address)


def history(user: str, hours: dict[int, int], addresses: tuple[str, ...]) -> UserHistory:
    return UserHistory(user=user, logins_by_hour=tuple(hours.get(h, 0) for h in range(24)),
                       known_addresses=frozenset(addresses))


def window(**changes: Any) -> WindowData:
    """A quiet, consistent window; pass fields to change. `auth_events=[...]` stands for
    `auth=auth_window([...])`: the attempts reduced as the collector reduces them."""
    events = changes.pop("auth_events", [])
    changes.setdefault("auth", auth_window(events, bucket_ns=changes.get("bucket_ns", BUCKET)))
    base = WindowData(
        window_start_ns=START, window_end_ns=END, baseline_start_ns=BASE, bucket_ns=BUCKET,
        agent_filter=None, category_series={"normal": flat(20)},
        category_counts_by_agent={"web-1": {"normal": 720}},
        templates=[template()], audit_lines=[], audit_lines_total={},
        auth=auth_window([], bucket_ns=BUCKET), user_history={},
        agents=[AgentActivity("web-1", END - 20 * NS, 30 * NS, 700)],
        now_ns=END)
    return replace(base, **changes)
