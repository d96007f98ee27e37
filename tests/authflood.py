"""A store holding a large brute-force attack, written through the real ingest path.

`write_flood_store(dir, failures=200_000, addresses=50_000)` signs and stores, for agent
`flood-1`: a day of baseline logins for alice, then a 24 h window in which `failures` failed
sshd passwords for 5,000 users come from `addresses` addresses (round robin), while one
address (ATTACKER) fails ATTACK_FAILURES times for `deploy` and then gets in, and alice logs
in from home now and then. Used by the summary memory tests and `scripts/bench_summary.py`.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from pathlib import Path

import nacl.signing

from agent.classify import mask, template_id
from agent.records import Label
from tests.chains import PrelabeledChain, store_segments

NS = 10**9
HOUR = 3600 * NS
DAY = 24 * HOUR
WINDOW_START = 1_767_225_600 * NS        # 2026-01-01 00:00 UTC
WINDOW_END = WINDOW_START + DAY
BASELINE_START = WINDOW_START - DAY
ATTACKER = "203.0.113.77"
ATTACK_FAILURES = 147
FLOOD_USERS = 5_000
HOME = "192.0.2.10"
SEGMENT_LINES = 10_000

FAILED = "sshd[{pid}]: Failed password for {user} from {address} port {port} ssh2"
ACCEPTED = "sshd[{pid}]: Accepted password for {user} from {address} port {port} ssh2"


def _label(category: str, line: bytes) -> Label:
    return Label(category, 1, 1.0, template_id(mask(line)))


@dataclass(frozen=True, slots=True)
class Flood:
    failures: int          # all failed attempts in the window (flood + attack)
    addresses: int         # distinct addresses with a failure in the window
    users: int             # distinct users with a failure in the window
    successes: int         # successful attempts in the window


def flood_address(i: int) -> str:
    return str(ipaddress.IPv4Address(0x0A000000 + i))   # 10.0.0.0 + i


def write_flood_store(data_dir: Path, *, failures: int = 200_000,
                      addresses: int = 50_000) -> Flood:
    """Store the attack described in the module docstring; returns its exact totals."""
    chain = PrelabeledChain(nacl.signing.SigningKey(b"\x07" * 32), name="flood-1")
    sample_fail = FAILED.format(pid=1, user="u", address="10.0.0.1", port=1).encode()
    sample_ok = ACCEPTED.format(pid=1, user="u", address="10.0.0.1", port=1).encode()
    fail_label, ok_label = _label("failed_login", sample_fail), _label("login", sample_ok)
    lines: list[tuple[int, bytes, Label]] = []
    # Baseline: alice logs in from home at 09:00 and 14:00 UTC.
    for hour in (9, 14):
        lines.append((BASELINE_START + hour * HOUR, ACCEPTED.format(
            pid=2, user="alice", address=HOME, port=22).encode(), ok_label))
    step = DAY // (failures + 1)
    attack_at = WINDOW_START + 18 * HOUR
    successes = 0
    for i in range(failures):
        t = WINDOW_START + i * step
        lines.append((t, FAILED.format(pid=3, user=f"user{i % FLOOD_USERS}",
                                       address=flood_address(i % addresses),
                                       port=1024 + i % 60000).encode(), fail_label))
        if i % (failures // 20 or 1) == 0:   # alice, 20 times a day, from home
            lines.append((t + 1, ACCEPTED.format(pid=4, user="alice", address=HOME,
                                                 port=22).encode(), ok_label))
            successes += 1
    for k in range(ATTACK_FAILURES):
        lines.append((attack_at + k * NS, FAILED.format(
            pid=5, user="deploy", address=ATTACKER, port=40000 + k).encode(), fail_label))
    lines.append((attack_at + ATTACK_FAILURES * NS, ACCEPTED.format(
        pid=5, user="deploy", address=ATTACKER, port=41000).encode(), ok_label))
    successes += 1
    lines.sort(key=lambda x: x[0])
    segments = [chain.seal(lines[i:i + SEGMENT_LINES])
                for i in range(0, len(lines), SEGMENT_LINES)]
    store_segments(data_dir, segments)
    return Flood(failures=failures + ATTACK_FAILURES, addresses=min(addresses, failures) + 1,
                 users=min(FLOOD_USERS, failures) + 1, successes=successes)
