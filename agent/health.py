"""Is the agent shipping? Progress of the spool → collector leg, sampled from the outside.

`ShipWatch` needs nothing from the stages but their public state (`Spool.pending_seqs`,
`Shipper.statistics`): it samples them every `SAMPLE_SECS` and on every request, and keeps

* when each waiting segment was first seen (→ the oldest unacknowledged age),
* how many lines each sealed segment holds (→ lines acknowledged, counted when its seq leaves
  the spool),
* when shipping last made progress: an acknowledgement, or a moment with nothing waiting.

Health rule: **unhealthy** when

* reading has stopped because the spool's disk is full (lines then wait unsealed in memory),
* the spool has been full (reading stopped, waiting for acknowledgements) for longer than
  `ops.unhealthy_after_secs`, or
* the oldest waiting segment has waited longer than `ops.unhealthy_after_secs` and no
  acknowledgement came in that time (collector down, refusing, or the shipper stuck).

The age of a waiting segment is the spool's (its file's mtime after a restart), and no
acknowledgement is assumed before start: an agent that keeps restarting still turns
unhealthy. An idle agent with nothing to ship is healthy.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from agent.records import SealedSegment
from agent.ship import Shipper
from agent.spool import Spool

SAMPLE_SECS = 0.5


@dataclass(frozen=True, slots=True)
class Health:
    healthy: bool
    reason: str                 # one line, for people and probe logs
    waiting_segments: int
    stalled_secs: float         # how long segments have waited without progress (0 if none)


@dataclass(frozen=True, slots=True)
class WatchStatistics:
    lines_acknowledged: int
    oldest_unacknowledged_age_secs: float
    last_ack_unix: float | None  # wall-clock time of the last acknowledgement seen


class ShipWatch:
    def __init__(self, spool: Spool, shipper: Shipper, unhealthy_after_secs: float, *,
                 monotonic: Callable[[], float] = time.monotonic,
                 wall: Callable[[], float] = time.time) -> None:
        self._spool = spool
        self._shipper = shipper
        self.unhealthy_after_secs = unhealthy_after_secs
        self._monotonic = monotonic
        self._wall = wall
        self._first_seen: dict[int, float] = {}
        self._lines: dict[int, int] = {}  # seq -> lines, for segments sealed while running
        self._lines_acked = 0
        self._acked = shipper.statistics().segments_acked
        # No acknowledgement is known before start: a segment found in the spool has waited,
        # without progress, for as long as its file is old.
        self._progress_at = -float("inf")
        self._full_since: float | None = None  # when the spool was first seen full
        # Where each file's lines are sealed (in a durable segment) up to: the spool's cursors
        # at start, then each sealed segment's. Lines past it wait in memory.
        self._sealed: dict[tuple[int, int], int] = {
            key: c.offset for key, c in getattr(spool, "cursors", {}).items()}
        self._last_ack_unix: float | None = None

    def on_sealed(self, sink: Callable[[SealedSegment], Awaitable[None]]
                  ) -> Callable[[SealedSegment], Awaitable[None]]:
        """Wrap the sealer's sink to learn each segment's line count."""
        async def record(seg: SealedSegment) -> None:
            await sink(seg)
            self._lines[seg.seq] = len(seg.entries)
            for c in seg.cursors:
                self._sealed[(c.identity.device, c.identity.inode)] = c.offset
        return record

    def sealed_offset(self, device: int, inode: int) -> int | None:
        """The offset a file's lines are sealed through (None: nothing sealed from it yet)."""
        return self._sealed.get((device, inode))

    def remember_lines(self, seq: int, lines: int) -> None:
        """Line count of a segment found in the spool at start."""
        self._lines[seq] = lines

    def sample(self) -> None:
        now = self._monotonic()
        pending = set(self._spool.pending_seqs())
        for seq in pending:
            self._first_seen.setdefault(seq, now)
        for seq in [s for s in self._first_seen if s not in pending]:
            del self._first_seen[seq]
        for seq in [s for s in self._lines if s not in pending]:
            self._lines_acked += self._lines.pop(seq)
        acked = self._shipper.statistics().segments_acked
        if acked != self._acked:
            self._acked = acked
            self._last_ack_unix = self._wall()
            self._progress_at = now
        elif not pending:
            self._progress_at = now
        if self._spool.statistics().full:
            if self._full_since is None:
                self._full_since = now
        else:
            self._full_since = None

    def _oldest_age(self, now: float) -> float:
        """How long the oldest waiting segment has waited: the longer of what this process saw
        and what the spool says (its file's mtime, across restarts)."""
        seen = now - min(self._first_seen.values(), default=now)
        return max(seen, self._spool.statistics().oldest_age_secs if self._first_seen else 0.0)

    async def run(self) -> None:
        while True:
            self.sample()
            await asyncio.sleep(SAMPLE_SECS)

    def statistics(self) -> WatchStatistics:
        self.sample()
        now = self._monotonic()
        return WatchStatistics(self._lines_acked, self._oldest_age(now), self._last_ack_unix)

    def health(self) -> Health:
        self.sample()
        waiting = len(self._first_seen)
        now = self._monotonic()
        spool = self._spool.statistics()
        if spool.disk_full:
            return Health(False, "the spool's disk is full: reading stopped, lines wait "
                                 "unsealed in memory (free space on the state directory's "
                                 "filesystem)", waiting, self._oldest_age(now))
        if self._full_since is not None and now - self._full_since > self.unhealthy_after_secs:
            full_for = now - self._full_since
            last = self._shipper.statistics().last_error or "no acknowledgement"
            return Health(False, f"spool full for {full_for:.0f} s (limit "
                                 f"{self.unhealthy_after_secs:g} s): reading stopped until the "
                                 f"collector acknowledges: {last}", waiting, full_for)
        if not waiting:
            return Health(True, "nothing waiting to ship", 0, 0.0)
        # Both: the oldest segment has waited that long, and no acknowledgement came meanwhile
        # (a busy agent always has segments waiting, but its acks keep coming).
        stalled = min(now - self._progress_at, self._oldest_age(now))
        if stalled > self.unhealthy_after_secs:
            last = self._shipper.statistics().last_error or "no acknowledgement"
            return Health(False, f"{waiting} segments waiting, nothing acknowledged for "
                                 f"{stalled:.0f} s (limit {self.unhealthy_after_secs:g} s): "
                                 f"{last}", waiting, stalled)
        return Health(True, f"shipping: {waiting} segments in flight or waiting", waiting,
                      stalled)
