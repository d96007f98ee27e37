"""Fault injection with real processes. Every test ends the same way: the collector holds
every line written exactly once, and `sealtail verify` passes."""

from __future__ import annotations

import base64
import json
import os
import random
import threading
import time
from collections import Counter
from pathlib import Path

import pytest

from tests.integration.harness import (
    NEW_AGENT,
    Agent,
    Collector,
    env_ci,
    fast_agent_config,
    run_cli,
    wait_until,
)
from tests.netproxy import TcpProxy
from tests.tinyfs import tmpfs

pytestmark = pytest.mark.integration


def make_lines(tag: str, start: int, stop: int, pad: int = 24) -> list[bytes]:
    return [f"{tag} {i:07d} {'x' * pad}".encode() for i in range(start, stop)]


def append(path: Path, items: list[bytes]) -> None:
    with open(path, "ab") as f:
        f.write(b"".join(x + b"\n" for x in items))


def assert_exactly_once_and_verified(collector: Collector, written: list[bytes],
                                     timeout: float = 90) -> None:
    wait_until(lambda: collector.count() >= len(written), timeout,
               message=f"{len(written)} lines stored")
    time.sleep(0.3)  # anything more (a duplicate) would arrive now
    got = Counter(base64.b64decode(e["line_b64"]) for e in collector.entries())
    want = Counter(written)
    missing, extra = want - got, got - want
    assert not missing and not extra, (f"missing {sum(missing.values())}, duplicated or "
                                       f"extra {sum(extra.values())}")
    out = run_cli("verify", "--collector", collector.address).stdout
    assert out.startswith("OK:"), out


def agent_status(agent: Agent) -> dict[str, object]:
    try:
        data: dict[str, object] = json.loads((agent.state / "status.json").read_text())
    except (OSError, ValueError):
        return {}
    return data


def test_agent_killed_at_random_instants_during_a_write_burst_delivers_exactly_once(
        tmp_path: Path, collector: Collector, agent_key: Path) -> None:
    """SIGKILL of the agent at ≥ 20 random instants while a file grows: no line lost or
    duplicated, whatever the kill interrupted (read, seal, fsync, rename, ack, head.json)."""
    logs = tmp_path / "logs"
    logs.mkdir()
    config = fast_agent_config(tmp_path / "agent.toml", seal={"max_segment_lines": 200,
                                                              "max_segment_age_ms": 50})
    agent = Agent(tmp_path, agent_key, collector.address, [str(logs / "*.log")], config=config)
    written: list[bytes] = []
    stop = threading.Event()

    def writer() -> None:
        n = 0
        while not stop.is_set():
            batch = make_lines("kill", n, n + 50)
            append(logs / "burst.log", batch)
            written.extend(batch)
            n += 50
            time.sleep(0.01)

    thread = threading.Thread(target=writer)
    thread.start()
    rng = random.Random(5)
    kills = 25 if env_ci() else 20
    try:
        for _ in range(kills):
            agent.start()
            time.sleep(rng.uniform(0.6, 1.6))  # start-up is ~0.5 s: kills land at work
            agent.kill()
    finally:
        stop.set()
        thread.join()
    agent.start()
    try:
        assert_exactly_once_and_verified(collector, written)
    finally:
        assert agent.stop() == 0, agent.log()[-3000:]
    print(f"\n{kills} kills, {len(written)} lines, exactly once")


def test_collector_killed_during_ingest_loses_and_duplicates_nothing(
        tmp_path: Path, collector: Collector, agent_key: Path) -> None:
    """SIGKILL of the collector while it stores segments (3 times): acknowledged means
    committed, unacknowledged is re-sent and stored once."""
    logs = tmp_path / "logs"
    logs.mkdir()
    agent = Agent(tmp_path, agent_key, collector.address, [str(logs / "*.log")],
                  config=fast_agent_config(tmp_path / "agent.toml",
                                           seal={"max_segment_lines": 100}))
    agent.start()
    written: list[bytes] = []
    try:
        for round_ in range(3):
            batch = make_lines(f"r{round_}", 0, 5000)
            append(logs / "app.log", batch)
            written += batch
            target = len(written) - 4000
            wait_until(lambda t=target: collector.count() > t, 30,  # type: ignore[misc]
                       message="ingest under way")
            collector.kill()
            collector.start()
        assert_exactly_once_and_verified(collector, written)
    finally:
        assert agent.stop() == 0


def settled_lines_read(agent: Agent, quiet_secs: float = 1.5) -> int | None:
    """The agent's lines_read if it has not changed for `quiet_secs`, else None."""
    def lines_read() -> object:
        tail = agent_status(agent).get("tail")
        return tail.get("lines_read") if isinstance(tail, dict) else None

    before = lines_read()
    time.sleep(quiet_secs)
    after = lines_read()
    return after if isinstance(after, int) and after == before else None


def test_collector_down_longer_than_the_spool_holds_stops_reading_then_catches_up(
        tmp_path: Path, collector: Collector, agent_key: Path) -> None:
    """With the spool full the agent stops reading (backpressure, nothing dropped), says so
    in `sealtail status`, and catches up once the collector is back."""
    logs = tmp_path / "logs"
    logs.mkdir()
    config = fast_agent_config(tmp_path / "agent.toml", agent=NEW_AGENT, read_chunk_bytes=4096,
                               seal={"max_segment_lines": 500},
                               spool={"max_segments": 2})
    agent = Agent(tmp_path, agent_key, collector.address, [str(logs / "*.log")], config=config)
    collector.stop()
    written = make_lines("outage", 0, 40_000)
    append(logs / "app.log", written)
    agent.start()
    try:
        wait_until(lambda: agent_status(agent).get("state") == "spool_full", 30,
                   message="agent reports a full spool")
        # The spool fills first; the tailer stops once the two inter-stage queues behind it
        # are full too (2 x QUEUE_BATCHES reads of 4 KiB, about 13k of these lines), which
        # can take a few status intervals on a busy machine. Then reading stays stopped.
        read_before = wait_until(lambda: settled_lines_read(agent), 30,
                                 message="reading stops")
        time.sleep(2)
        status = agent_status(agent)
        assert status["tail"]["lines_read"] == read_before < len(written) / 2  # type: ignore[index]
        assert len(list((agent.state / "spool").glob("*.seg"))) <= 2
        proc = run_cli("status", "--state", str(agent.state), check=False)
        assert proc.returncode == 1 and "spool_full" in proc.stdout
        assert "policy block" in proc.stdout
        collector.start()
        assert_exactly_once_and_verified(collector, written, timeout=120)
        wait_until(lambda: agent_status(agent).get("state") == "ok", 10, message="state ok")
    finally:
        assert agent.stop() == 0


def test_disk_full_on_the_state_dir_stops_reading_and_resumes_by_itself(
        tmp_path: Path, collector: Collector, agent_key: Path) -> None:
    """A 1 MiB filesystem under the spool fills while the collector is down: the agent does
    not crash (nor after a restart), leaves no temp file hogging space, reports disk_full,
    and delivers everything once the collector frees space."""
    logs = tmp_path / "logs"
    logs.mkdir()
    with tmpfs(tmp_path / "small", "1m") as small:
        agent = Agent(tmp_path, agent_key, collector.address, [str(logs / "*.log")],
                      config=fast_agent_config(tmp_path / "agent.toml", agent=NEW_AGENT,
                                               read_chunk_bytes=16384,
                                               seal={"max_segment_lines": 400}),
                      state=small / "state")
        collector.stop()
        written = make_lines("full", 0, 30_000)  # ~1.8 MB of entries: does not fit
        append(logs / "app.log", written)
        agent.start()
        try:
            wait_until(lambda: "disk full" in agent.log(), 30, message="disk full reported")
            wait_until(lambda: agent_status(agent).get("state") == "disk_full"
                       or not os.access(small, os.W_OK), 10, message="status disk_full")
            agent.kill()  # a restart on a full disk must not crash either
            agent.start()
            time.sleep(3)
            assert agent.alive(), agent.log()[-3000:]
            assert "Traceback" not in agent.log()
            tmps = [p for p in (small / "state" / "spool").iterdir() if p.name.endswith(".tmp")]
            assert not tmps or all(p.stat().st_size < 64 * 1024 for p in tmps)
            collector.start()
            assert_exactly_once_and_verified(collector, written, timeout=120)
            assert "space is back" in agent.log()
        finally:
            assert agent.stop() == 0


@pytest.mark.parametrize("damage", ["truncated", "bit_flipped"])
def test_damaged_spool_files_are_quarantined_and_their_lines_read_again(
        tmp_path: Path, collector: Collector, agent_key: Path, damage: str) -> None:
    """A torn (truncated) or bit-flipped segment in the spool: the agent starts, quarantines
    it and what follows it, re-reads those lines from the file and delivers each once."""
    logs = tmp_path / "logs"
    logs.mkdir()
    config = fast_agent_config(tmp_path / "agent.toml", agent=NEW_AGENT, read_chunk_bytes=2048,
                               seal={"max_segment_lines": 100})
    agent = Agent(tmp_path, agent_key, collector.address, [str(logs / "*.log")], config=config)
    collector.stop()
    written = make_lines(damage, 0, 1200)
    append(logs / "app.log", written)
    agent.start()
    wait_until(lambda: agent_status(agent).get("tail", {}).get("lines_read") == 1200  # type: ignore[union-attr]
               and len(list((agent.state / "spool").glob("*.seg"))) >= 5, 30,
               message="five segments spooled")
    assert agent.stop() == 0
    segments = sorted((agent.state / "spool").glob("*.seg"))
    victim = segments[2]
    data = bytearray(victim.read_bytes())
    if damage == "truncated":
        victim.write_bytes(bytes(data[: len(data) // 2]))
    else:
        data[len(data) // 2] ^= 0x10
        victim.write_bytes(bytes(data))
    collector.start()
    agent.start()
    try:
        assert_exactly_once_and_verified(collector, written)
        assert str(victim) in agent.log() and "quarantine" in agent.log()
        assert list((agent.state / "quarantine").glob(f"{victim.name}.*"))
    finally:
        assert agent.stop() == 0


def test_half_open_connection_is_detected_by_keepalive_and_delivery_resumes(
        tmp_path: Path, collector: Collector, agent_key: Path) -> None:
    """A proxy that stops forwarding without closing anything: keepalive notices within
    seconds, the agent reconnects when the path is back, and nothing is lost or repeated."""
    logs = tmp_path / "logs"
    logs.mkdir()
    proxy = TcpProxy(collector.port)
    config = fast_agent_config(tmp_path / "agent.toml",
                               ship={"keepalive_time_ms": 1000, "keepalive_timeout_ms": 1000,
                                     "ack_timeout_secs": 20.0})
    agent = Agent(tmp_path, agent_key, proxy.address, [str(logs / "*.log")], config=config)
    agent.start()
    try:
        written = make_lines("before", 0, 500)
        append(logs / "app.log", written)
        wait_until(lambda: collector.count() == 500, 30, message="first lines stored")
        proxy.freeze()
        frozen_at = time.monotonic()
        during = make_lines("during", 0, 500)
        append(logs / "app.log", during)
        written += during
        wait_until(lambda: "UNAVAILABLE" in agent.log().split("before")[-1]
                   or "unacknowledged after" in agent.log(), 15,
                   message="agent notices the dead connection")
        detected = time.monotonic() - frozen_at
        assert detected < 10, detected
        assert collector.count() == 500
        proxy.thaw()
        assert_exactly_once_and_verified(collector, written)
    finally:
        assert agent.stop() == 0
        proxy.close()
