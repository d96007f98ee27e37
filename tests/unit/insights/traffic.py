"""Synthetic steady traffic as `WindowData`, with anomalies injected on demand.

Several days of baseline plus a window, 10-minute buckets. Each (agent, template) pair emits a
Poisson count per bucket whose rate follows a daily rhythm (quiet at night UTC, busiest mid
afternoon), a per-day level (±10 %) and per-bucket overdispersion (gamma noise), as real
services do. Users log in during their own working hours from one or two home addresses and
mistype a password now and then; internet scanners fail against invented users from many
addresses, and never succeed. Agents send a segment about every 30 s.

    t = Traffic(seed=3)
    t.spike("GET /api/orders <*> <*>", factor=20)
    data = t.build()
"""

from __future__ import annotations

import hashlib
import math
import random
from collections import defaultdict
from dataclasses import dataclass

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
DAY = 24 * HOUR
BUCKET = 10 * MIN
EPOCH = 1_764_547_200 * NS  # 2025-12-01 00:00 UTC

AGENTS = ("web-1", "web-2", "db-1")
ACCEPTED = "Accepted password for <*> from <IP> port <*> ssh2"
FAILED = "Failed password for <*> from <IP> port <*> ssh2"
INVALID = "Failed password for invalid user <*> from <IP> port <*> ssh2"

# (template, category, lines per bucket at the daily peak, agents)
STEADY: tuple[tuple[str, str, float, tuple[str, ...]], ...] = (
    ("GET /api/orders <*> <*>", "normal", 40.0, ("web-1", "web-2")),
    ("GET /healthz 200", "normal", 20.0, AGENTS),
    ("Started Session <*> of user <*>.", "normal", 4.0, AGENTS),
    ("checkpoint complete: wrote <*> buffers", "normal", 6.0, ("db-1",)),
    ("upstream timeout after <*> ms", "error", 1.5, ("web-1", "web-2")),
    ("[UFW BLOCK] IN=eth0 SRC=<IP> DST=<IP> PROTO=TCP DPT=<*>", "security_alert", 3.0, AGENTS),
    ("sudo: <*> : TTY=pts/0 ; PWD=<*> ; USER=root ; COMMAND=<*>", "admin_change", 0.6,
     AGENTS),
    ("pam_unix(sshd:session): session closed for user <*>", "login", 1.0, AGENTS),
)

# user -> (first and last usual UTC hour, home addresses)
USERS = {
    "alice": ((7, 16), ("198.51.100.4",)),
    "bob": ((9, 18), ("198.51.100.7", "192.0.2.33")),
    "carol": ((12, 21), ("198.51.100.9",)),
    "dave": ((6, 14), ("192.0.2.50",)),
    "erin": ((8, 19), ("198.51.100.12", "192.0.2.61")),
}
SCANNED_USERS = ("admin", "test", "oracle", "ubuntu", "git", "postgres")


def template_id(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def rhythm(t_ns: int) -> float:
    """Share of the daily peak at time t: 0.3 at 02:00 UTC, 1.0 at 14:00 UTC."""
    hour = (t_ns % DAY) / HOUR
    return 0.3 + 0.7 * (0.5 - 0.5 * math.cos(2 * math.pi * (hour - 2) / 24))


@dataclass
class _Line:
    time_ns: int
    agent: str
    template: str
    category: str


class Traffic:
    """Steady traffic from `baseline_days` before the window to its end; inject, then build."""

    def __init__(self, seed: int, *, baseline_days: int = 7, window_hours: int = 24,
                 end_offset_hours: int = 0, bucket_minutes: int = 10) -> None:
        self.rng = random.Random(seed)
        self.bucket = bucket_minutes * MIN
        self.scale = self.bucket / BUCKET  # rates below are per 10 minutes
        self.window_end = EPOCH + (baseline_days * 24 + window_hours + end_offset_hours) * HOUR
        self.window_start = self.window_end - window_hours * HOUR
        self.baseline_start = self.window_start - baseline_days * DAY
        self.categories = {t: c for t, c, _, _ in STEADY}
        self.categories.update({ACCEPTED: "login", FAILED: "failed_login",
                                INVALID: "failed_login"})
        self.first_seen: dict[str, int] = {}
        # (agent, template) -> bucket -> count
        self.counts: dict[tuple[str, str], dict[int, int]] = defaultdict(dict)
        self.auth: list[tuple[int, str, str, str, str]] = []  # time, agent, outcome, user, addr
        self.last_segment = {a: self.window_end - self.rng.randrange(1, 45) * NS
                             for a in AGENTS}
        self.silent_since: dict[str, int] = {}
        self._steady()

    # --- the steady part ----------------------------------------------------------------

    def buckets(self) -> range:
        return range(self.baseline_start, self.window_end, self.bucket)

    def _poisson(self, lam: float) -> int:
        if lam <= 0:
            return 0
        if lam > 50:  # normal approximation: fast, and exact enough at these rates
            return max(0, round(self.rng.gauss(lam, math.sqrt(lam))))
        threshold, k, p = math.exp(-lam), 0, 1.0
        while True:
            p *= self.rng.random()
            if p <= threshold:
                return k
            k += 1

    def _steady(self) -> None:
        day_level = {d: math.exp(self.rng.gauss(0, 0.1)) for d in range(-1, 40)}
        for text, _, peak, agents in STEADY:
            self.first_seen[text] = self.baseline_start + self.rng.randrange(0, 60) * NS
            for agent in agents:
                share = 1.0 / len(agents)
                for b in self.buckets():
                    level = day_level[(b - EPOCH) // DAY]
                    lam = (peak * self.scale * share * rhythm(b) * level
                           * self.rng.gammavariate(20, 1 / 20))
                    n = self._poisson(lam)
                    if n:
                        self.counts[(agent, text)][b] = n
        for user, ((first, last), homes) in USERS.items():
            day = self.baseline_start - self.baseline_start % DAY
            while day < self.window_end:
                for _ in range(self._poisson(6)):
                    t = day + self.rng.randrange(first * HOUR, (last + 1) * HOUR)
                    if not self.baseline_start <= t < self.window_end:
                        continue
                    agent = self.rng.choice(AGENTS)
                    home = self.rng.choice(homes)
                    if self.rng.random() < 0.05:  # a typo first
                        self._auth(t - 20 * NS, agent, "failure", user, home)
                    self._auth(t, agent, "success", user, home)
                day += DAY
        for b in self.buckets():  # scanners: a few tries each, from many addresses
            for _ in range(self._poisson(1.2 * self.scale * rhythm(b))):
                addr = f"203.0.113.{self.rng.randrange(1, 255)}"
                agent = self.rng.choice(AGENTS)
                user = self.rng.choice(SCANNED_USERS)
                for k in range(self.rng.randrange(1, 4)):
                    self._auth(b + self.rng.randrange(0, 500) * NS + k * NS, agent, "failure",
                               user, addr, invalid=True)
        self.first_seen[ACCEPTED] = self.first_seen[FAILED] = self.first_seen[INVALID] = \
            self.baseline_start + 61 * NS

    def _auth(self, t: int, agent: str, outcome: str, user: str, addr: str,
              invalid: bool = False) -> None:
        self.auth.append((t, agent, outcome, user, addr))
        text = ACCEPTED if outcome == "success" else INVALID if invalid else FAILED
        b = t - t % self.bucket
        c = self.counts[(agent, text)]
        c[b] = c.get(b, 0) + 1

    # --- injections ---------------------------------------------------------------------

    def new_template(self, text: str, category: str, *, at_ns: int, count: int,
                     agent: str = "web-1") -> None:
        """A template never seen before appears at `at_ns` with `count` lines over an hour."""
        self.categories[text] = category
        self.first_seen[text] = at_ns
        for i in range(count):
            t = at_ns + i * (HOUR // max(count, 1))
            b = t - t % self.bucket
            c = self.counts[(agent, text)]
            c[b] = c.get(b, 0) + 1

    def rare(self, text: str, category: str, *, first_seen_days: int, at_ns: int,
             agent: str = "db-1") -> None:
        """A template seen once `first_seen_days` before the window, and once at `at_ns`."""
        self.categories[text] = category
        first = self.window_start - first_seen_days * DAY
        self.first_seen[text] = first
        for t in (first, at_ns):
            self.counts[(agent, text)][t - t % self.bucket] = 1

    def spike(self, text: str, *, factor: float, at_ns: int | None = None) -> int:
        """One bucket of `text` at `factor` x its expected rate; returns the bucket."""
        at = at_ns if at_ns is not None else self.window_start + 14 * HOUR
        b = at - at % self.bucket
        peak = next(p for t, _, p, _ in STEADY if t == text)
        agents = [a for a, t in self.counts if t == text]
        for a in agents:
            self.counts[(a, text)][b] = round(factor * peak * self.scale * rhythm(b) / len(agents))
        return b

    def stop(self, text: str, *, at_ns: int, hours: float) -> None:
        """`text` is not logged by any agent for `hours` from `at_ns`."""
        for (_, t), series in self.counts.items():
            if t == text:
                for b in [b for b in series if at_ns <= b < at_ns + hours * HOUR]:
                    del series[b]

    def silence(self, agent: str, *, hours: float) -> None:
        """`agent` sends nothing for the last `hours` of the window."""
        since = self.window_end - int(hours * HOUR)
        self.last_segment[agent] = since
        self.silent_since[agent] = since
        for (a, _), series in self.counts.items():
            if a == agent:
                for b in [b for b in series if b >= since - since % self.bucket]:
                    del series[b]
        self.auth = [e for e in self.auth if not (e[1] == agent and e[0] >= since)]

    def brute_force(self, user: str, address: str, *, failures: int, at_ns: int) -> None:
        """`failures` failed passwords for `user` from `address`, one a second, then a
        success."""
        for i in range(failures):
            self._auth(at_ns + i * NS, "web-1", "failure", user, address)
        self._auth(at_ns + failures * NS, "web-1", "success", user, address)

    def login(self, user: str, address: str, *, at_ns: int) -> None:
        self._auth(at_ns, "web-2", "success", user, address)

    # --- the WindowData -----------------------------------------------------------------

    def build(self) -> WindowData:
        ws, we = self.window_start, self.window_end
        refs_seen: dict[tuple[str, int], int] = defaultdict(int)

        def ref(agent: str, t: int) -> LineRef:
            seq = (t - self.baseline_start) // (30 * NS)  # one segment per 30 s
            refs_seen[(agent, seq)] += 1
            return LineRef(agent, seq, refs_seen[(agent, seq)] - 1)

        series: dict[str, dict[int, int]] = defaultdict(dict)
        category_series: dict[str, dict[int, int]] = defaultdict(dict)
        by_agent: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
        for (agent, text), counts in self.counts.items():
            cat = self.categories[text]
            for b, n in counts.items():
                series[text][b] = series[text].get(b, 0) + n
                category_series[cat][b] = category_series[cat].get(b, 0) + n
                if ws <= b < we:
                    by_agent[agent][cat] += n
        auth_events, history_hours, history_addr = [], defaultdict(lambda: [0] * 24), \
            defaultdict(set)
        for t, agent, outcome, user, addr in sorted(self.auth):
            if t < ws:
                if outcome == "success":
                    history_hours[user][(t // HOUR) % 24] += 1
                    history_addr[user].add(addr)
                continue
            r = ref(agent, t)
            auth_events.append(AuthEvent(ref=r, time_ns=t, outcome=outcome,  # type: ignore[arg-type]
                                         user=user, address=addr))
        audit_lines, audit_total = [], defaultdict(int)
        examples: dict[str, list[LineRef]] = defaultdict(list)
        for ev in auth_events:
            text = ACCEPTED if ev.outcome == "success" else FAILED
            if len(examples[text]) < 5:
                examples[text].append(ev.ref)
        for (agent, text), counts in sorted(self.counts.items()):
            cat = self.categories[text]
            for b in sorted(counts):
                if not ws <= b < we or text in (ACCEPTED, FAILED, INVALID):
                    continue
                for k in range(counts[b]):
                    t = b + (k * self.bucket) // max(counts[b], 1)
                    r = ref(agent, t)
                    if len(examples[text]) < 5:
                        examples[text].append(r)
                    if cat in ("admin_change", "security_alert"):
                        audit_total[cat] += 1
                        if len(audit_lines) < 2000:
                            audit_lines.append(AuditLine(
                                ref=r, time_ns=t, category=cat, template_id=template_id(text),
                                text=text.replace("<*>", "x").replace("<IP>", "10.0.0.1")))
        templates = [
            TemplateStats(template_id=template_id(text), template=text,
                          category=self.categories[text], first_seen_ns=self.first_seen[text],
                          total_before=sum(n for b, n in s.items() if b < ws), series=s,
                          examples=tuple(examples[text]))
            for text, s in sorted(series.items())]
        agents = []
        for a in AGENTS:
            agents.append(AgentActivity(
                agent=a, last_segment_ns=self.last_segment[a], median_gap_ns=30 * NS,
                segments_in_window=int((min(self.last_segment[a], we) - ws) // (30 * NS))))
        return WindowData(
            window_start_ns=ws, window_end_ns=we, baseline_start_ns=self.baseline_start,
            bucket_ns=self.bucket, agent_filter=None,
            category_series=dict(category_series),
            category_counts_by_agent={a: dict(c) for a, c in by_agent.items()},
            templates=templates, audit_lines=audit_lines, audit_lines_total=dict(audit_total),
            auth=auth_window(auth_events, bucket_ns=self.bucket),
            user_history={u: UserHistory(user=u, logins_by_hour=tuple(h),
                                         known_addresses=frozenset(history_addr[u]))
                          for u, h in history_hours.items()},
            agents=agents, now_ns=we)
