"""ShipWatch: the health rule and the derived counters, with an injected clock."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, cast

from agent.health import ShipWatch


@dataclass
class FakeSpoolStats:
    full: bool
    disk_full: bool
    oldest_age_secs: float


@dataclass
class FakeSpool:
    pending: list[int] = field(default_factory=list)
    full: bool = False
    disk_full: bool = False
    oldest_age_secs: float = 0.0  # what the real spool takes from the segment file's mtime

    def pending_seqs(self) -> list[int]:
        return list(self.pending)

    def statistics(self) -> FakeSpoolStats:
        return FakeSpoolStats(self.full, self.disk_full, self.oldest_age_secs)


@dataclass
class FakeShipStats:
    segments_acked: int
    last_error: str = ""


@dataclass
class FakeShipper:
    acked: int = 0
    last_error: str = ""

    def statistics(self) -> FakeShipStats:
        return FakeShipStats(self.acked, self.last_error)


class Clock:
    def __init__(self) -> None:
        self.t = 1000.0

    def __call__(self) -> float:
        return self.t


def _watch(limit: float = 10.0) -> tuple[ShipWatch, FakeSpool, FakeShipper, Clock]:
    spool, shipper, clock = FakeSpool(), FakeShipper(), Clock()
    watch = ShipWatch(cast(Any, spool), cast(Any, shipper), limit, monotonic=clock,
                      wall=lambda: 1.7e9)
    return watch, spool, shipper, clock


def test_idle_agent_is_healthy_however_long_nothing_ships() -> None:
    """Nothing waiting is never a stall."""
    watch, _, _, clock = _watch()
    clock.t += 3600
    assert watch.health().healthy


def test_waiting_longer_than_the_limit_without_an_ack_is_unhealthy() -> None:
    """A segment older than the limit and no acknowledgement meanwhile: unhealthy."""
    watch, spool, shipper, clock = _watch()
    watch.sample()
    spool.pending = [0]
    watch.sample()
    clock.t += 9
    assert watch.health().healthy
    clock.t += 2
    shipper.last_error = "UNAVAILABLE: connection refused"
    h = watch.health()
    assert not h.healthy and h.waiting_segments == 1
    assert h.reason.endswith("UNAVAILABLE: connection refused")


def test_a_busy_agent_whose_acks_keep_coming_is_healthy() -> None:
    """Segments are always waiting, but acknowledgements keep arriving."""
    watch, spool, shipper, clock = _watch()
    for seq in range(30):
        spool.pending = [seq, seq + 1]
        watch.sample()
        clock.t += 1
        shipper.acked += 1
    assert watch.health().healthy


def test_acknowledged_lines_are_counted_when_their_segment_leaves_the_spool() -> None:
    """Line counts of sealed segments move to the acknowledged total once acked."""
    watch, spool, _, clock = _watch()
    watch.remember_lines(0, 7)
    watch.remember_lines(1, 5)
    spool.pending = [0, 1]
    watch.sample()
    clock.t += 4
    spool.pending = [1]
    stats = watch.statistics()
    assert stats.lines_acknowledged == 7
    assert stats.oldest_unacknowledged_age_secs == 4


def test_a_full_disk_is_unhealthy_at_once_and_says_reading_stopped() -> None:
    """Disk full: lines wait unsealed in memory, whatever the spool holds."""
    watch, spool, _, _ = _watch()
    spool.disk_full = True
    h = watch.health()
    assert not h.healthy and "disk is full: reading stopped" in h.reason


def test_a_spool_full_longer_than_the_limit_is_unhealthy() -> None:
    """Spool full (reading stopped) is tolerated up to the limit, then unhealthy."""
    watch, spool, shipper, clock = _watch()
    spool.pending, spool.full = [0, 1], True
    watch.sample()
    clock.t += 9
    assert watch.health().healthy
    clock.t += 2
    shipper.acked += 1  # even with some acks: reading has stayed stopped
    h = watch.health()
    assert not h.healthy and h.reason.startswith("spool full for 11 s")


def test_a_segment_older_than_the_restart_still_makes_the_agent_unhealthy() -> None:
    """The age comes from the spool (the segment file), not from when this process first saw
    it: a restarted agent with a 26-minute-old segment and no ack is unhealthy at once."""
    watch, spool, _, _ = _watch(limit=300)
    spool.pending, spool.oldest_age_secs = [4], 26 * 60.0
    h = watch.health()
    assert not h.healthy and h.stalled_secs >= 26 * 60
    assert watch.statistics().oldest_unacknowledged_age_secs == 26 * 60
