"""Reducing a window's authentication attempts to an `AuthWindow` in bounded memory.

Anyone who can send log lines can make a window hold millions of failed logins, so the
attempts are never held: they are counted per key (`rank_keys`, fed by the collector from
SQL `GROUP BY`s), then streamed once in time order through `AuthReducer`, which keeps a
fixed amount per followed key:

- the first `max_refs` lines of each itemised user/address (the failed-login tables);
- for each user/address that has a success in the window (at most `max_keys` of them, those
  with the most failures first), the length of its current run of failures and the first
  and last `max_refs` lines of it (brute-force successes);
- the first and last `max_refs` lines of each outcome per bucket (rate spikes' examples);
- at most `max_keys` successful attempts, those after the longest runs first.

Everything capped is counted, for the summary's notes. `auth_window` does both steps over a
list of events (tests, small windows); the collector does the same from its store
(`agent.store`), and a test checks that the two agree.
"""

from __future__ import annotations

import heapq
from collections import Counter, deque
from collections.abc import Iterable, Sequence

from agent.insights._model import (
    AuthEvent,
    AuthWindow,
    CountedKey,
    FailureTally,
    LineRef,
    SuccessAfter,
)

DEFAULT_MAX_KEYS = 1000
KEY_FIELDS = ("user", "address")


def _field(e: AuthEvent, name: str) -> str:
    return e.user if name == "user" else e.address


class _Ends:
    """The first and last `n` items of a sequence seen one at a time, and its length."""

    __slots__ = ("count", "head", "tail")

    def __init__(self, n: int) -> None:
        self.count = 0
        self.head: list[LineRef] = []
        self.tail: deque[LineRef] = deque(maxlen=n)

    def add(self, ref: LineRef, n: int) -> None:
        self.count += 1
        if len(self.head) < n:
            self.head.append(ref)
        else:
            self.tail.append(ref)

    def refs(self) -> tuple[LineRef, ...]:
        return (*self.head, *self.tail)


class KeyRanking:
    """Which keys of one field (user or address) are itemised and which are followed."""

    def __init__(self, tally: FailureTally, followed: frozenset[str], untracked: int) -> None:
        self.tally = tally              # refs still empty: the stream fills them
        self.followed = followed        # keys with a success whose failure runs are followed
        self.untracked = untracked      # keys with a success, not followed (over max_keys)


def rank_keys(rows: Iterable[tuple[str, int, int]], *, top_keys: int,
              max_keys: int) -> KeyRanking:
    """Rank one field's keys from (key, failures, successes) rows, one per distinct
    non-empty key, in any order; keeps O(top_keys + max_keys) of them."""
    top: list[_Rank] = []
    followed: list[_Rank] = []
    keys = failures_total = with_success = 0
    for key, failures, successes in rows:
        if failures:
            keys += 1
            failures_total += failures
            _push(top, failures, key, top_keys)
        if successes:
            with_success += 1
            _push(followed, failures, key, max_keys)
    ranked = sorted(top, key=lambda r: (-r.count, r.key))
    tally = FailureTally(top=tuple(CountedKey(r.key, r.count, ()) for r in ranked), keys=keys,
                         failures=failures_total)
    return KeyRanking(tally, frozenset(r.key for r in followed), with_success - len(followed))


class _Rank:
    """A (count, key) in a bounded min-heap: the lowest ranked (fewest, then the largest
    key) on top, so that the heap keeps the most counted, ties by the smallest key."""

    __slots__ = ("count", "key")

    def __init__(self, count: int, key: str) -> None:
        self.count, self.key = count, key

    def __lt__(self, other: _Rank) -> bool:
        return (self.count, other.key) < (other.count, self.key)


def _push(heap: list[_Rank], count: int, key: str, n: int) -> None:
    if n <= 0:
        return
    entry = _Rank(count, key)
    if len(heap) < n:
        heapq.heappush(heap, entry)
    elif heap[0] < entry:
        heapq.heapreplace(heap, entry)


class AuthReducer:
    """Streams a window's attempts, in time order, into an `AuthWindow` (see the module
    docstring for what it keeps)."""

    def __init__(self, users: KeyRanking, addresses: KeyRanking, *, bucket_ns: int,
                 max_keys: int = DEFAULT_MAX_KEYS, max_refs: int = 10) -> None:
        self._rankings = {"user": users, "address": addresses}
        self._bucket_ns = bucket_ns
        self._max_keys = max_keys
        self._n = max_refs
        self._top: dict[tuple[str, str], list[LineRef]] = {
            (f, k.key): [] for f, r in self._rankings.items() for k in r.tally.top}
        self._runs: dict[tuple[str, str], _Ends] = {
            (f, k): _Ends(max_refs) for f, r in self._rankings.items() for k in r.followed}
        self._buckets: dict[tuple[str, int], _Ends] = {}
        # min-heap of (longest run, -order, success): the weakest kept success on top
        self._successes: list[tuple[int, int, SuccessAfter]] = []
        self._seen = 0
        self._order = 0

    def add(self, e: AuthEvent) -> None:
        self._order += 1
        b = e.time_ns - e.time_ns % self._bucket_ns
        ends = self._buckets.get((e.outcome, b))
        if ends is None:
            ends = self._buckets[(e.outcome, b)] = _Ends(self._n)
        ends.add(e.ref, self._n)
        if e.outcome == "failure":
            for f in KEY_FIELDS:
                key = (f, _field(e, f))
                if not key[1]:
                    continue
                refs = self._top.get(key)
                if refs is not None and len(refs) < self._n:
                    refs.append(e.ref)
                run = self._runs.get(key)
                if run is not None:
                    run.add(e.ref, self._n)
            return
        self._seen += 1
        runs = {f: self._runs.get((f, _field(e, f))) for f in KEY_FIELDS if _field(e, f)}
        user, address = runs.get("user"), runs.get("address")
        success = SuccessAfter(
            event=e,
            user_failures=(user.count if user else None) if e.user else 0,
            address_failures=(address.count if address else None) if e.address else 0,
            user_refs=user.refs() if user else (),
            address_refs=address.refs() if address else ())
        longest = max((r.count for r in runs.values() if r), default=0)
        entry = (longest, -self._order, success)
        if len(self._successes) < self._max_keys:
            heapq.heappush(self._successes, entry)
        elif self._successes[0][:2] < entry[:2]:
            heapq.heapreplace(self._successes, entry)
        for f, run in runs.items():
            if run is not None:
                self._runs[(f, _field(e, f))] = _Ends(self._n)  # a success ends the run

    def result(self) -> AuthWindow:
        u, a = self._rankings["user"], self._rankings["address"]

        def tally(r: KeyRanking, f: str) -> FailureTally:
            return FailureTally(
                top=tuple(CountedKey(k.key, k.count, tuple(self._top[(f, k.key)]))
                          for k in r.tally.top),
                keys=r.tally.keys, failures=r.tally.failures)

        kept = sorted(self._successes, key=lambda x: -x[1])
        return AuthWindow(
            by_user=tally(u, "user"), by_address=tally(a, "address"),
            successes=tuple(s for _, _, s in kept), successes_total=self._seen,
            untracked_keys=u.untracked + a.untracked,
            bucket_refs={k: v.refs() for k, v in sorted(self._buckets.items(),
                                                        key=lambda kv: (kv[0][1], kv[0][0]))},
            max_refs=self._n)


def auth_window(events: Sequence[AuthEvent], *, bucket_ns: int, top_keys: int = 10,
                max_keys: int = DEFAULT_MAX_KEYS, max_refs: int = 10) -> AuthWindow:
    """The `AuthWindow` of a list of attempts (sorted by time here, ties kept in order).

    Args:
        events: the window's attempts.
        bucket_ns: the window's bucket size (for the per-bucket example lines).
        top_keys: users and addresses itemised in the failed-login tallies.
        max_keys: users/addresses with a success whose failure runs are followed, and
            successes kept.
        max_refs: lines kept at each end of a run or a bucket, and per itemised key.
    """
    ordered = sorted(events, key=lambda e: e.time_ns)
    rankings = {}
    for f in KEY_FIELDS:
        failures: Counter[str] = Counter()
        successes: Counter[str] = Counter()
        for e in ordered:
            key = _field(e, f)
            if key:
                (failures if e.outcome == "failure" else successes)[key] += 1
        rankings[f] = rank_keys(((k, failures[k], successes[k])
                                 for k in failures.keys() | successes.keys()),
                                top_keys=top_keys, max_keys=max_keys)
    reducer = AuthReducer(rankings["user"], rankings["address"], bucket_ns=bucket_ns,
                          max_keys=max_keys, max_refs=max_refs)
    for e in ordered:
        reducer.add(e)
    return reducer.result()
