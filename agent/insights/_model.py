"""The typed objects of the insights stage: what the collector's aggregates hand to the
detectors (`WindowData`) and what the detectors hand to reports (`Summary`).

Two halves are built separately: the collector side (aggregates kept at ingest, read back
for a window) fills `WindowData`; the analysis side (`agent.insights.summarize`) turns it
into a `Summary` and renders it as text, JSON or HTML. Neither reaches into the other.

Every claim in a `Summary` carries `LineRef`s: (agent, seq, index) of sealed lines, which
`sealtail prove` turns into offline proofs.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

# Bucket start (Unix ns, a multiple of WindowData.bucket_ns) -> count. Missing buckets are 0.
Series = dict[int, int]


@dataclass(frozen=True, slots=True)
class LineRef:
    """One sealed line: the agent's name, the segment's seq and the entry's index in it."""

    agent: str
    seq: int
    index: int


@dataclass(frozen=True, slots=True)
class TemplateStats:
    """One template (stable id = hash of the masked text) as seen up to the window's end."""

    template_id: str          # hex
    template: str             # masked text, for display ("Failed password for <*> from <IP>")
    category: str
    first_seen_ns: int        # first time any agent sent a line of this template
    total_before: int         # lines of this template before the window (all agents)
    series: Series            # per-bucket counts over baseline + window
    examples: tuple[LineRef, ...] = ()  # a few lines in the window (first ones)


@dataclass(frozen=True, slots=True)
class AuditLine:
    """A line people come to an audit log for (admin_change, security_alert), in the window."""

    ref: LineRef
    time_ns: int
    category: str
    template_id: str
    text: str                 # the line, decoded with replacement, possibly shortened


AuthOutcome = Literal["failure", "success"]


@dataclass(frozen=True, slots=True)
class AuthEvent:
    """An authentication attempt extracted from a line (user and address when the line has
    them; empty string when it does not)."""

    ref: LineRef
    time_ns: int
    outcome: AuthOutcome
    user: str
    address: str


@dataclass(frozen=True, slots=True)
class UserHistory:
    """What was known about a user's successful logins before the window.

    The collector puts in `known_addresses` only the past addresses that the window's logins
    of the user came from (all the detectors ask about), and the number of all of them in
    `addresses_total`; None there means `known_addresses` is all of them.
    """

    user: str
    logins_by_hour: tuple[int, ...]     # 24 counts, UTC hour of day
    known_addresses: frozenset[str]
    addresses_total: int | None = None


@dataclass(frozen=True, slots=True)
class CountedKey:
    """A user or address with its failure count and some of the lines behind it."""

    key: str
    count: int
    refs: tuple[LineRef, ...]


@dataclass(frozen=True, slots=True)
class FailureTally:
    """Failed attempts of the window per user (or per source address): exact totals, and the
    keys with the most failures itemised."""

    top: tuple[CountedKey, ...] = ()  # most failures first, then by key; capped (see keys)
    keys: int = 0                     # distinct users (addresses) with a failure, all of them
    failures: int = 0                 # failures naming a user (an address), all of them


@dataclass(frozen=True, slots=True)
class SuccessAfter:
    """A successful attempt and the failures before it in the window, for its user and for
    its address, since that key's previous success. A count is None when that key's
    failures were not followed (more keys with a success than the collector follows)."""

    event: AuthEvent
    user_failures: int | None = 0
    address_failures: int | None = 0
    user_refs: tuple[LineRef, ...] = ()      # first and last lines of the user's run
    address_refs: tuple[LineRef, ...] = ()   # first and last lines of the address's run


@dataclass(frozen=True, slots=True)
class AuthWindow:
    """The window's authentication attempts, reduced to what the detectors need. Its size
    is bounded by caps, not by the number of attempts (a brute force of millions of lines
    must not be held in memory); totals are exact, and what was capped is counted."""

    by_user: FailureTally = FailureTally()
    by_address: FailureTally = FailureTally()
    successes: tuple[SuccessAfter, ...] = ()  # time order; capped (see successes_total)
    successes_total: int = 0
    untracked_keys: int = 0   # users/addresses with a success whose failures were not followed
    # (outcome, bucket start) -> the first and last lines of that outcome in the bucket
    bucket_refs: dict[tuple[str, int], tuple[LineRef, ...]] = field(default_factory=dict)
    max_refs: int = 10        # lines kept at each end of a run or bucket


@dataclass(frozen=True, slots=True)
class AgentActivity:
    """When an agent's segments arrived (ingest time at the collector)."""

    agent: str
    last_segment_ns: int
    median_gap_ns: int        # median gap between consecutive segments over the baseline
    segments_in_window: int
    last_line: LineRef | None = None  # the last line of its last segment, when known


@dataclass(frozen=True, slots=True)
class WindowData:
    """Everything the detectors need for one window, read from the collector's aggregates.

    `baseline_start_ns <= window_start_ns < window_end_ns`; series cover both the baseline
    and the window, bucketed by `bucket_ns`.
    """

    window_start_ns: int
    window_end_ns: int
    baseline_start_ns: int
    bucket_ns: int
    agent_filter: str | None
    category_series: dict[str, Series]          # category -> counts (all selected agents)
    category_counts_by_agent: dict[str, dict[str, int]]  # agent -> category -> window count
    templates: list[TemplateStats]              # templates with lines in baseline or window
    audit_lines: list[AuditLine]                # capped; see audit_lines_total
    audit_lines_total: dict[str, int]           # category -> count in the window
    auth: AuthWindow                            # the window's attempts, reduced (bounded)
    user_history: dict[str, UserHistory]        # user -> history before the window
    agents: list[AgentActivity]
    now_ns: int = 0                             # when the data was read


AnomalyKind = Literal[
    "brute_force_success",
    "first_login_from_address",
    "unusual_hour_login",
    "new_template",
    "rare_template",
    "rate_spike",
    "rate_drop",
    "silent_agent",
]


@dataclass(frozen=True, slots=True)
class Anomaly:
    kind: AnomalyKind
    subject: str              # what is anomalous: a template, category, user, address, agent
    score: float              # larger = more unusual; comparable within a kind
    detail: str               # one readable sentence with the figures behind the score
    time_ns: int              # when (bucket start, or the event's time)
    refs: tuple[LineRef, ...] = ()


@dataclass(frozen=True, slots=True)
class AuditGroup:
    category: str
    template_id: str
    template: str
    count: int
    refs: tuple[LineRef, ...]  # first lines (capped)
    lines: tuple[AuditLine, ...] = ()  # the first lines themselves, for display (capped)


@dataclass(frozen=True, slots=True)
class Summary:
    window_start_ns: int
    window_end_ns: int
    agent_filter: str | None
    total_lines: int
    counts_by_category: dict[str, int]
    counts_by_agent: dict[str, dict[str, int]]
    category_timeline: dict[str, Series]        # window buckets only, for charts
    bucket_ns: int
    audit: list[AuditGroup]
    failed_logins_by_user: list[CountedKey]
    failed_logins_by_address: list[CountedKey]
    anomalies: list[Anomaly]
    narrative: str = ""
    narrative_generated: bool = False           # True when a configured LLM wrote it
    notes: list[str] = field(default_factory=list)  # what could not be computed, and why
