"""The detectors: pure functions over a `WindowData`, each returning what it found.

Anomaly detectors return `(anomalies, notes)`: notes say what could not be judged and why
(not enough history, a sparse series), so a report never reads "nothing unusual" when the
truth is "nothing could be checked".
"""

from __future__ import annotations

import dataclasses
import math
import statistics
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from agent.insights._model import (
    Anomaly,
    AnomalyKind,
    AuditGroup,
    AuditLine,
    AuthEvent,
    CountedKey,
    LineRef,
    Series,
    TemplateStats,
    WindowData,
)
from agent.insights._settings import InsightSettings
from agent.insights._timefmt import DAY_NS, HOUR_NS, NS, fmt_duration, fmt_time, utc_hour

Findings = tuple[list[Anomaly], list[str]]

AUDIT_CATEGORIES = ("security_alert", "admin_change")
AUTH_OUTCOME = {"failed_login": "failure", "login": "success"}
NEAR_HOURS = 2  # a login's own hour +- this many count as "near" it


# --- buckets ------------------------------------------------------------------------------

def _floor(ns: int, step: int) -> int:
    return ns - ns % step


def window_buckets(data: WindowData) -> list[int]:
    """Starts of the buckets that overlap the window (the first may begin before it)."""
    step = data.bucket_ns
    return list(range(_floor(data.window_start_ns, step), data.window_end_ns, step))


def baseline_buckets(data: WindowData) -> list[int]:
    """Starts of the whole buckets between the baseline's start and the window's first."""
    step = data.bucket_ns
    first = _floor(data.baseline_start_ns + step - 1, step)
    return list(range(first, _floor(data.window_start_ns, step), step))


def window_count(series: Series, data: WindowData) -> int:
    return sum(series.get(b, 0) for b in window_buckets(data))


def window_series(series: Series, data: WindowData) -> Series:
    """The non-zero window buckets of `series` (what the charts draw)."""
    return {b: series[b] for b in window_buckets(data) if series.get(b, 0)}


# --- audit trail and counts ---------------------------------------------------------------

def counts_by_category(data: WindowData) -> dict[str, int]:
    counts = {cat: window_count(s, data) for cat, s in sorted(data.category_series.items())}
    return {cat: n for cat, n in counts.items() if n}


def audit_groups(data: WindowData, settings: InsightSettings) -> list[AuditGroup]:
    """Every admin_change and security_alert line of the window, grouped by template.

    The count of a group is its template's exact window count when the template is known
    (the collector caps `audit_lines`), else the number of lines handed over. Security alerts
    come first, then admin changes; larger groups first within each.
    """
    by_id = {t.template_id: t for t in data.templates}
    lines: dict[tuple[str, str], list[AuditLine]] = defaultdict(list)
    for line in sorted(data.audit_lines, key=lambda x: (x.time_ns, x.ref.agent, x.ref.seq,
                                                         x.ref.index)):
        if line.category in AUDIT_CATEGORIES:
            lines[(line.category, line.template_id)].append(line)
    refs = {k: [ln.ref for ln in v] for k, v in lines.items()}
    # Templates of those categories with lines in the window but none handed over (capped).
    for t in data.templates:
        if t.category in AUDIT_CATEGORIES and window_count(t.series, data):
            refs.setdefault((t.category, t.template_id), list(t.examples))
    groups = []
    for (category, tid), group_refs in refs.items():
        stats = by_id.get(tid)
        shown = lines.get((category, tid), [])
        n = len(group_refs)
        count = max(window_count(stats.series, data), n) if stats else n
        template = stats.template if stats else (shown[0].text if shown else "")
        groups.append(AuditGroup(category=category, template_id=tid, template=template,
                                 count=count, refs=tuple(group_refs[: settings.max_refs]),
                                 lines=tuple(shown[: settings.max_refs])))
    groups.sort(key=lambda g: (AUDIT_CATEGORIES.index(g.category), -g.count, g.template_id))
    return groups


def _successes(data: WindowData) -> list[AuthEvent]:
    return [s.event for s in data.auth.successes]


def failed_logins(data: WindowData, settings: InsightSettings, by: str) -> list[CountedKey]:
    """Failed authentication attempts per user (`by="user"`) or address (`by="address"`),
    most first; events without that field are not counted. Counts are exact; the keys are
    the top `settings.top_keys` (the collector itemises no more, see `failed_login_notes`)."""
    if by not in ("user", "address"):
        raise ValueError(f"by: expected 'user' or 'address', got {by!r}")
    tally = data.auth.by_user if by == "user" else data.auth.by_address
    return [CountedKey(key=k.key, count=k.count, refs=k.refs[: settings.max_refs])
            for k in tally.top[: settings.top_keys]]


def failed_login_notes(data: WindowData, settings: InsightSettings) -> list[str]:
    """How many users/addresses with failures the failed-login tables leave out."""
    notes = []
    for word, tally in (("users", data.auth.by_user), ("addresses", data.auth.by_address)):
        listed = min(len(tally.top), settings.top_keys)
        if tally.keys > listed:
            notes.append(f"failed logins: {tally.keys - listed:,} more {word} not listed "
                         f"({tally.keys:,} {word} with {tally.failures:,} failures in all, "
                         f"top {listed} shown)")
    return notes


# --- authentication anomalies ---------------------------------------------------------------

def _keep_ends(refs: Sequence[LineRef], n: int) -> tuple[LineRef, ...]:
    """The first and last lines of a run, `n` at most: where it began and what it led to."""
    if len(refs) <= n:
        return tuple(refs)
    head = n // 2
    return (*refs[:head], *refs[len(refs) - (n - head):])


def brute_force_successes(data: WindowData, settings: InsightSettings) -> Findings:
    """A success for a user, or from an address, after `brute_force_failures` or more
    failures for it since its previous success (within the window).

    One anomaly per successful event; its subject names the user and/or address whose run
    of failures reached the threshold, the score is the longer run, and the refs are the
    success line first, then the first and last failures of the run.

    Not flagged: a success whose only run is the user's, from an address the user logged in
    from before the window, where that address itself had fewer failures than the threshold.
    Internet-facing accounts (root, ubuntu) are guessed at from elsewhere all day; their
    owner logging in from home is not the guesser succeeding. Such successes are counted in
    a note.
    """
    found = []
    owners = 0
    for s in data.auth.successes:
        e = s.event
        runs = [(("user", e.user), s.user_failures, s.user_refs),
                (("address", e.address), s.address_failures, s.address_refs)]
        hits = [(k, n, refs) for k, n, refs in runs
                if k[1] and n is not None and n >= settings.brute_force_failures]
        history = data.user_history.get(e.user)
        if hits and [k for k, _, _ in hits] == [("user", e.user)] and history and \
                e.address in history.known_addresses:
            owners += 1
            hits = []
        if hits:
            _, longest, longest_refs = max(hits, key=lambda h: h[1])
            parts = [f"{n} failures for {kind} {name}" for (kind, name), n, _ in hits]
            who = e.user or "?"
            subject = f"{who} from {e.address}" if e.address else who
            found.append(Anomaly(
                kind="brute_force_success", subject=subject, score=float(longest),
                detail=f"login succeeded for {who}"
                       + (f" from {e.address}" if e.address else "")
                       + f" at {fmt_time(e.time_ns)} after " + " and ".join(parts),
                time_ns=e.time_ns,
                refs=(e.ref, *_keep_ends(longest_refs, settings.max_refs - 1))))
    notes = ([f"{owners} success(es) of accounts under attack from elsewhere not flagged: "
              "they came from the user's known addresses"] if owners else [])
    if data.auth.untracked_keys:
        notes.append(f"brute-force successes not judged for {data.auth.untracked_keys:,} "
                     "user(s)/address(es) with a success in the window: more than the "
                     "collector follows (summary_max_auth_keys; those with the most failures "
                     "were followed)")
    return found, notes


def success_notes(data: WindowData, settings: InsightSettings) -> list[str]:
    """Successful logins the collector did not hand over (over its cap)."""
    left = data.auth.successes_total - len(data.auth.successes)
    if left <= 0:
        return []
    return [f"{left:,} of {data.auth.successes_total:,} successful logins not judged for "
            "first address and usual hours: more than the collector keeps "
            "(summary_max_auth_keys); those after the longest failure runs were kept"]


def first_logins_from_address(data: WindowData, settings: InsightSettings) -> Findings:
    """The first successful login of a user from an address not in the user's history.

    Users with no history at all are reported too ("first login seen"), but only when the
    store knows some user's past logins: on a fresh store everything would be "first".
    Score: 1 + the user's past logins (a new address of a long-known user weighs more).
    """
    if not any(sum(h.logins_by_hour) for h in data.user_history.values()):
        return [], ["first logins from an address not judged: no login history before "
                    "the window"]
    seen: set[tuple[str, str]] = set()
    found = []
    for e in _successes(data):
        if not e.user or not e.address:
            continue
        if (e.user, e.address) in seen:
            continue
        seen.add((e.user, e.address))
        history = data.user_history.get(e.user)
        past = sum(history.logins_by_hour) if history else 0
        if history and e.address in history.known_addresses:
            continue
        n_known = 0
        if history:
            n_known = (len(history.known_addresses) if history.addresses_total is None
                       else history.addresses_total)
        known = (f"{n_known} known address{'' if n_known == 1 else 'es'}, {past} past logins"
                 if history else "first login seen for this user")
        found.append(Anomaly(
            kind="first_login_from_address", subject=f"{e.user} from {e.address}",
            score=float(1 + past),
            detail=f"first login of {e.user} from {e.address} at {fmt_time(e.time_ns)} "
                   f"({known})",
            time_ns=e.time_ns, refs=(e.ref,)))
    return found, []


def unusual_hour_logins(data: WindowData, settings: InsightSettings) -> Findings:
    """Successful logins at an hour the user does not usually log in at.

    Rule: only for users with at least `unusual_hour_min_logins` past logins; a login at
    UTC hour h is unusual when fewer than `unusual_hour_max_share` of those logins fell in
    hours h-2 .. h+2 (two hours either side absorb a late evening or an early start: with a
    week of history, a user's edge hours are thinly sampled). One anomaly per user and hour;
    score = past logins / (logins near that hour + 1).
    """
    found: dict[tuple[str, int], Anomaly] = {}
    refs: dict[tuple[str, int], list[LineRef]] = defaultdict(list)
    too_short = set()
    for e in _successes(data):
        if not e.user:
            continue
        history = data.user_history.get(e.user)
        hours = history.logins_by_hour if history and len(history.logins_by_hour) == 24 else ()
        total = sum(hours)
        if total < settings.unusual_hour_min_logins:
            too_short.add(e.user)
            continue
        h = utc_hour(e.time_ns)
        near = sum(hours[(h + k) % 24] for k in range(-NEAR_HOURS, NEAR_HOURS + 1))
        if near >= settings.unusual_hour_max_share * total:
            continue
        key = (e.user, h)
        refs[key].append(e.ref)
        if key not in found:
            found[key] = Anomaly(
                kind="unusual_hour_login", subject=f"{e.user} at {h:02d}h UTC",
                score=total / (near + 1),
                detail=f"{e.user} logged in at {fmt_time(e.time_ns)}; {near} of {total} past "
                       f"logins were between {(h - NEAR_HOURS) % 24:02d}:00 and "
                       f"{(h + NEAR_HOURS + 1) % 24:02d}:00 UTC",
                time_ns=e.time_ns)
    out = [_with_refs(a, refs[k], settings) for k, a in found.items()]
    notes = ([f"usual hours not judged for {len(too_short)} user(s) with fewer than "
              f"{settings.unusual_hour_min_logins} past logins"] if too_short else [])
    return out, notes


def _with_refs(a: Anomaly, refs: Sequence[LineRef], settings: InsightSettings) -> Anomaly:
    return Anomaly(kind=a.kind, subject=a.subject, score=a.score, detail=a.detail,
                   time_ns=a.time_ns, refs=tuple(refs[: settings.max_refs]))


# --- templates -----------------------------------------------------------------------------

def _has_history(data: WindowData) -> bool:
    return any(t.total_before > 0 for t in data.templates)


def new_templates(data: WindowData, settings: InsightSettings) -> Findings:
    """Templates first seen inside the window (never before it, by any agent).

    Not judged when no template at all predates the window (a fresh store, or a window
    that covers all history): every template would be "new". Score: lines in the window.
    """
    if not _has_history(data):
        return [], ["new templates not judged: no history before the window"]
    found = []
    for t in data.templates:
        n = window_count(t.series, data)
        # No line before the window counts as new even if the first sighting is recorded a
        # little earlier (an ingest time ahead of the lines' own times, a rounded bucket).
        if not (data.window_start_ns <= t.first_seen_ns < data.window_end_ns
                or (t.total_before == 0 and n and t.first_seen_ns < data.window_end_ns)):
            continue
        found.append(Anomaly(
            kind="new_template", subject=t.template, score=float(max(n, 1)),
            detail=f"new {t.category} template first seen at {fmt_time(t.first_seen_ns)}; "
                   f"{n} line(s) in the window",
            time_ns=t.first_seen_ns, refs=t.examples[: settings.max_refs]))
    return found, []


def rare_templates(data: WindowData, settings: InsightSettings) -> Findings:
    """Templates seen before, but at most `rare_template_count` times in all, with lines in
    the window, that were unlikely to show up in a window this long.

    The chance is Poisson at the template's past rate: 1 - exp(-r * window length), with r =
    lines before the window / time from its first sighting to the window. Seen twice in the
    week before a 24 h window, a template has a 25 % chance to be in it: a week-old typo
    template is not news; seen once in three months, 1 %: it is. Rare when that chance is
    below `rare_template_max_chance` (2 %). A steadily rare template stops being a candidate
    after `rare_template_count` lines, so it can be flagged a couple of times in its life
    at most. Score: -log10(chance).
    """
    found = []
    span = data.window_end_ns - data.window_start_ns
    for t in data.templates:
        if t.first_seen_ns >= data.window_start_ns or t.total_before == 0:
            continue  # new, reported as such
        n = window_count(t.series, data)
        total = t.total_before + n
        if not n or total > settings.rare_template_count:
            continue
        age = max(data.window_start_ns - t.first_seen_ns, 1)
        chance = -math.expm1(-t.total_before * span / age)
        if chance >= settings.rare_template_max_chance:
            continue
        found.append(Anomaly(
            kind="rare_template", subject=t.template,
            score=round(-math.log10(max(chance, 1e-12)), 3),
            detail=f"{t.category} template seen {total} time(s) in all since "
                   f"{fmt_time(t.first_seen_ns)}, {n} in the window (a "
                   f"{chance:.1%} chance at its past rate)",
            time_ns=t.first_seen_ns, refs=t.examples[: settings.max_refs]))
    return found, []


# --- rates ---------------------------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class Baseline:
    median: float     # of the counts, for the figures shown
    center: float     # median of the transformed counts
    sigma_up: float   # robust spread above the center (transformed), at least 1
    sigma_down: float  # robust spread below it
    buckets: int


def anscombe(count: float) -> float:
    """2 sqrt(x + 3/8): makes Poisson counts roughly normal with variance 1 at any rate."""
    return 2.0 * math.sqrt(count + 0.375)


_Z90 = 1.2816  # the 90th percentile of the standard normal


def _quantile(sorted_values: Sequence[float], q: float) -> float:
    return sorted_values[min(len(sorted_values) - 1, int(q * len(sorted_values)))]


def robust_baseline(values: Sequence[int]) -> Baseline:
    """Median and robust spread of the Anscombe-transformed bucket counts.

    The spread on each side is the largest of 1.4826 x MAD, the distance from the median to
    the 90th (or 10th) percentile / 1.2816, and 1. The MAD alone is 0 for a mostly-empty
    series; the tail term keeps a bursty one (scanners arriving in clumps) from calling its
    usual clumps spikes, and ignores up to 10 % of odd buckets; 1 is the Poisson noise."""
    t = sorted(anscombe(v) for v in values)
    center = statistics.median(t)
    mad = 1.4826 * statistics.median(abs(v - center) for v in t)
    up = (_quantile(t, 0.9) - center) / _Z90
    down = (center - _quantile(t, 0.1)) / _Z90
    return Baseline(median=float(statistics.median(values)), center=center,
                    sigma_up=max(mad, up, 1.0), sigma_down=max(mad, down, 1.0),
                    buckets=len(values))


def robust_score(count: int, base: Baseline) -> float:
    """Robust z-score of a bucket count: (anscombe(count) - center) / the spread on its
    side; positive above the usual, negative below."""
    d = anscombe(count) - base.center
    return d / (base.sigma_up if d >= 0 else base.sigma_down)


class _References:
    """Which baseline buckets a window bucket is compared with.

    With 3 days of baseline or more and buckets of an hour or less, the same time of day:
    baseline buckets whose UTC hour is within one of the window bucket's hour (traffic has
    a daily rhythm, and 14:00 must not be judged against 03:00). Otherwise all of them.
    """

    def __init__(self, data: WindowData) -> None:
        self.base = baseline_buckets(data)
        span = len(self.base) * data.bucket_ns
        self.seasonal = span >= 3 * DAY_NS and data.bucket_ns <= HOUR_NS
        self.by_hour: dict[int, list[int]] = defaultdict(list)
        if self.seasonal:
            for b in self.base:
                h = utc_hour(b)
                for k in (h - 1, h, h + 1):
                    self.by_hour[k % 24].append(b)

    def key(self, bucket: int) -> int:
        return utc_hour(bucket) if self.seasonal else -1

    def buckets(self, key: int) -> list[int]:
        return self.by_hour[key] if self.seasonal else self.base


def _rate_anomalies_at(data: WindowData, settings: InsightSettings) -> Findings:
    """Spikes and drops of each template's and each category's rate against its own baseline.

    Method: per window bucket, a robust z-score against the median and robust spread of the
    same series' baseline buckets (at the same time of day when the baseline spans 3+ days,
    see `_References`), computed on Anscombe-transformed counts (2 sqrt(x + 3/8)); the
    spread is the largest of 1.4826 x MAD, the 10/90 % tails and 1 (`robust_baseline`).
    Median/MAD rather than mean/stddev or EWMA because the baseline itself holds bursts
    (yesterday's attack would inflate a mean and an EWMA for hours) and the median ignores
    up to half of it being odd. The transform because counts are Poisson-like: their noise
    grows with the rate, so a raw z-score either misses a busy template falling to zero or
    flags a quiet one doubling; after it, noise is about 1 at every rate.

    Guards: a spike needs >= `rate_min_count` lines and >= `rate_min_ratio` x the median;
    a drop a median >= `rate_min_drop_median`, a bucket inside the window that ended at least
    `rate_settle_secs` before now, and a count <= median / `rate_min_ratio`. Only baseline
    buckets after a series first appears count, and a series with fewer than
    `rate_min_baseline_buckets` of them is not scored. New templates are left to
    `new_templates`. One anomaly per series and direction: its highest-scoring bucket, with
    the number of buckets flagged.
    """
    refs = _References(data)
    win = window_buckets(data)
    win_start = win[0] if win else data.window_start_ns
    # A drop is judged only in buckets that are over, and over long enough for their lines
    # to have arrived (agents flush, spools drain): the last, filling bucket is always low.
    settled = data.window_end_ns
    if data.now_ns:
        settled = min(settled, data.now_ns - int(settings.rate_settle_secs * NS))
    if not refs.base:
        return [], ["rates not judged: no baseline before the window"]
    data_start = min((b for s in data.category_series.values() for b in s if s[b]),
                     default=data.window_start_ns)
    found: list[Anomaly] = []
    sparse = 0
    by_category: dict[str, list[TemplateStats]] = defaultdict(list)
    for t in data.templates:
        by_category[t.category].append(t)
    category_of = {t.template: t.category for t in data.templates}

    def in_bucket(b: int, *, template_id: str | None, category: str) -> list[LineRef]:
        """Lines of the spike's own bucket, where the window data has them: audit lines (by
        template or category) and authentication attempts (by category)."""
        if b < 0:
            return []
        end = b + data.bucket_ns
        out = [ln.ref for ln in data.audit_lines if b <= ln.time_ns < end
               and (ln.template_id == template_id if template_id else ln.category == category)]
        if not out and template_id is None and category in AUTH_OUTCOME:
            out = list(data.auth.bucket_refs.get((AUTH_OUTCOME[category], b), ()))
        return list(_keep_ends(out, settings.max_refs))

    def judge(name: str, series: Series, since: int,
              examples: Callable[[int], tuple[list[LineRef], bool]]) -> None:
        nonlocal sparse
        # Cheap exit for the many quiet series: a spike needs a window bucket of at least
        # rate_min_count lines, a drop a reference median of rate_min_drop_median, so at
        # least half of rate_min_baseline_buckets baseline buckets that high.
        busy = sum(1 for b, n in series.items() if n >= settings.rate_min_drop_median
                   and since <= b < win_start)
        if busy * 2 < settings.rate_min_baseline_buckets and not any(
                series.get(b, 0) >= settings.rate_min_count for b in win):
            return
        cache: dict[int, Baseline | None] = {}
        spikes: list[tuple[float, int, int, Baseline]] = []
        drops: list[tuple[float, int, int, Baseline]] = []
        for b in win:
            key = refs.key(b)
            if key not in cache:
                ref = [series.get(r, 0) for r in refs.buckets(key) if r >= since]
                cache[key] = (robust_baseline(ref)
                              if len(ref) >= settings.rate_min_baseline_buckets else None)
            base = cache[key]
            if base is None:
                continue
            x = series.get(b, 0)
            z = robust_score(x, base)
            if (z >= settings.rate_threshold and x >= settings.rate_min_count
                    and x >= settings.rate_min_ratio * max(base.median, 1.0)):
                spikes.append((z, b, x, base))
            elif (-z >= settings.rate_threshold and base.median >= settings.rate_min_drop_median
                  and x * settings.rate_min_ratio <= base.median
                  and b + data.bucket_ns <= settled):
                drops.append((-z, b, x, base))
        if all(v is None for v in cache.values()):
            sparse += 1
        directions: tuple[tuple[AnomalyKind, list[tuple[float, int, int, Baseline]], str], ...]
        directions = (("rate_spike", spikes, "up"), ("rate_drop", drops, "down"))
        for kind, hits, word in directions:
            if not hits:
                continue
            score, b, x, base = max(hits, key=lambda h: h[0])
            lines, exact = examples(b) if kind == "rate_spike" else examples(-1)
            where = ("lines from that bucket" if exact else
                     "lines: examples from the window" if lines else "")
            found.append(Anomaly(
                kind=kind, subject=name,
                score=round(score, 3),
                detail=f"{x} lines in the {fmt_duration(data.bucket_ns)} from {fmt_time(b)}, "
                       f"{word} from a usual {base.median:g} (robust z {score:.1f}); "
                       f"{len(hits)} of {len(win)} window buckets flagged"
                       + (f"; {where}" if where else ""),
                time_ns=b, refs=tuple(lines[: settings.max_refs])))

    for t in data.templates:
        if t.first_seen_ns >= data.window_start_ns:
            continue
        since = max(_floor(t.first_seen_ns, data.bucket_ns), data_start)
        def own_examples(b: int, t: TemplateStats = t) -> tuple[list[LineRef], bool]:
            inside = in_bucket(b, template_id=t.template_id, category=t.category)
            return (inside, True) if inside else (list(t.examples), False)
        judge(t.template, t.series, since, own_examples)
    # A category moving because one of its templates moved says nothing new: keep the
    # template's anomaly (it is more precise) and drop the category's for that bucket.
    explained = {(category_of[a.subject], a.kind, a.time_ns) for a in found
                 if a.subject in category_of}
    for category, series in sorted(data.category_series.items()):
        def top_examples(b: int, cat: str = category) -> tuple[list[LineRef], bool]:
            inside = in_bucket(b, template_id=None, category=cat)
            if inside:
                return inside, True
            ts = by_category.get(cat, [])
            best = max(ts, key=lambda t: t.series.get(b, 0), default=None)
            return (list(best.examples) if best else []), False
        before = len(found)
        judge(f"category {category}", series, data_start, top_examples)
        found[before:] = [a for a in found[before:]
                          if (category, a.kind, a.time_ns) not in explained]
    notes = ([f"rates not judged for {sparse} sparse series (fewer than "
              f"{settings.rate_min_baseline_buckets} baseline buckets)"] if sparse else [])
    return found, notes


def _coarser(data: WindowData, step: int) -> WindowData:
    """The same data in buckets of `step` (a multiple of data.bucket_ns)."""
    def re(series: Series) -> Series:
        out: Series = {}
        for b, n in series.items():
            k = b - b % step
            out[k] = out.get(k, 0) + n
        return out
    # A coarse bucket's first and last lines are among its fine buckets' first and last.
    joined: dict[tuple[str, int], list[LineRef]] = defaultdict(list)
    for (outcome, b), refs in sorted(data.auth.bucket_refs.items(), key=lambda kv: kv[0][1]):
        joined[(outcome, b - b % step)].extend(refs)
    n = data.auth.max_refs
    bucket_refs = {k: tuple(v) if len(v) <= 2 * n else (*v[:n], *v[-n:])
                   for k, v in joined.items()}
    return dataclasses.replace(
        data, bucket_ns=step,
        auth=dataclasses.replace(data.auth, bucket_refs=bucket_refs),
        category_series={c: re(sr) for c, sr in data.category_series.items()},
        templates=[dataclasses.replace(t, series=re(t.series)) for t in data.templates])


def rate_anomalies(data: WindowData, settings: InsightSettings) -> Findings:
    """Rate spikes and drops at the data's bucket size and, for buckets under an hour, at
    one hour too (see `_rate_anomalies_at` for the method).

    An hour of 10-minute buckets each a little low is one clear drop at the hour scale
    (the API stopping for an hour was found in 75 % of random placements bucket by bucket);
    a one-bucket burst is clearest at its own scale. Per series and direction the higher
    score of the two is kept.
    """
    found, notes = _rate_anomalies_at(data, settings)
    if data.bucket_ns < HOUR_NS and HOUR_NS % data.bucket_ns == 0 and \
            data.window_end_ns - data.window_start_ns >= 2 * HOUR_NS:
        coarse, _ = _rate_anomalies_at(_coarser(data, HOUR_NS), settings)
        best: dict[tuple[str, str], Anomaly] = {(a.kind, a.subject): a for a in found}
        for a in coarse:
            key = (a.kind, a.subject)
            if key not in best or a.score > best[key].score:
                best[key] = a
        found = list(best.values())
    return found, notes


# --- agents --------------------------------------------------------------------------------

def silent_agents(data: WindowData, settings: InsightSettings) -> Findings:
    """Agents with no segment for longer than `silent_factor` x their median gap (and at
    least `silent_min_secs`), measured at the window's end (or now, if earlier).
    Score: the silence in median gaps."""
    at = min(data.window_end_ns, data.now_ns) if data.now_ns else data.window_end_ns
    found, unknown = [], []
    for a in data.agents:
        if a.median_gap_ns <= 0 or a.last_segment_ns <= 0:
            unknown.append(a.agent)
            continue
        silence = at - a.last_segment_ns
        if silence > settings.silent_factor * a.median_gap_ns and \
                silence >= settings.silent_min_secs * NS:
            found.append(Anomaly(
                kind="silent_agent", subject=a.agent, score=round(silence / a.median_gap_ns, 3),
                detail=f"no segment from {a.agent} for {fmt_duration(silence)} since "
                       f"{fmt_time(a.last_segment_ns)} (usually one every "
                       f"{fmt_duration(a.median_gap_ns)})"
                       + ("; line: the last one received" if a.last_line else ""),
                time_ns=a.last_segment_ns, refs=(a.last_line,) if a.last_line else ()))
    notes = ([f"silence not judged for {len(unknown)} agent(s) without a segment history: "
              + ", ".join(sorted(unknown))] if unknown else [])
    return found, notes
