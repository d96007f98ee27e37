"""An agent that lost its state directory never forks its own chain: it waits for the
collector to say where the chain stands, and a head it adopted survives a restart."""

from __future__ import annotations

import base64
import shutil
import time
from collections import Counter
from pathlib import Path

import pytest

from tests.integration.harness import Agent, Collector, fast_agent_config, run_cli, wait_until

pytestmark = pytest.mark.integration


def write(path: Path, *items: str) -> None:
    with open(path, "ab") as f:
        f.write(b"".join(x.encode() + b"\n" for x in items))


def stored(collector: Collector) -> Counter[bytes]:
    return Counter(base64.b64decode(e["line_b64"]) for e in collector.entries())


def make_agent(tmp_path: Path, key: Path, collector: Collector, **agent: object) -> Agent:
    config = fast_agent_config(tmp_path / "agent.toml", agent=agent)
    return Agent(tmp_path, key, collector.address, [str(tmp_path / "logs" / "*.log")],
                 name="sl-host", config=config)


def test_wiped_state_with_the_collector_down_waits_for_the_chain_head_not_seq_0(
        tmp_path: Path, collector: Collector, agent_key: Path) -> None:
    """State wiped and collector down at start: nothing is sealed until ChainHead answers,
    then the chain continues and the new line is delivered (no equivocation)."""
    (tmp_path / "logs").mkdir()
    log = tmp_path / "logs" / "app.log"
    write(log, "first line")
    agent = make_agent(tmp_path, agent_key, collector)
    agent.start()
    wait_until(lambda: collector.count() == 1, 30, message="seq 0 acknowledged")
    agent.stop()
    shutil.rmtree(agent.state)
    collector.stop()
    agent.start()
    try:
        write(log, "second line")
        wait_until(lambda: "nothing is sealed until it does" in agent.log(), 30,
                   message="the wait is reported")
        time.sleep(1.0)
        assert not list((agent.state / "spool").glob("*.seg"))  # nothing sealed on a guess
        status = run_cli("status", "--state", str(agent.state), "--json", check=False).stdout
        assert "awaiting_chain_head" in status and "true" in status
        collector.start()
        wait_until(lambda: stored(collector)[b"second line"] >= 1, 60,
                   message="the new line delivered")
    finally:
        agent.stop()
    assert "equivocation" not in agent.log()
    assert "starting a new chain at seq 0" not in agent.log()
    run_cli("verify", "--collector", collector.address)


def test_offline_new_chain_starts_at_seq_0_without_the_collector(
        tmp_path: Path, collector: Collector, agent_key: Path) -> None:
    """agent.offline_new_chain = true: a brand-new agent seals at once with the collector
    down, and its lines arrive when the collector returns."""
    (tmp_path / "logs").mkdir()
    write(tmp_path / "logs" / "app.log", "offline line")
    collector.stop()
    agent = make_agent(tmp_path, agent_key, collector, offline_new_chain=True)
    agent.start()
    try:
        wait_until(lambda: list((agent.state / "spool").glob("*.seg")), 60,
                   message="a segment sealed offline")
        collector.start()
        wait_until(lambda: stored(collector)[b"offline line"] == 1, 60, message="delivery")
    finally:
        agent.stop()
    assert "starting a new chain at seq 0" in agent.log()


def test_adopted_head_survives_a_restart_before_any_acknowledgement(
        tmp_path: Path, collector: Collector, agent_key: Path) -> None:
    """State wiped, head adopted from the collector, a segment sealed on it, agent stopped
    before any ack: the restart continues that chain (no quarantine, no equivocation)."""
    (tmp_path / "logs").mkdir()
    log = tmp_path / "logs" / "app.log"
    write(log, "a 0", "a 1", "a 2")
    agent = make_agent(tmp_path, agent_key, collector)
    agent.start()
    wait_until(lambda: collector.count() == 3, 30, message="first lines")
    agent.stop()
    shutil.rmtree(agent.state)
    log.unlink()  # nothing to re-read: the next segment is the first on the adopted head
    # The collector answers ChainHead, then goes away before the next segment is acked.
    agent.start()
    wait_until(lambda: "continuing the chain at seq" in agent.log(), 30, message="adopted")
    collector.stop()
    write(log, "b 0")
    wait_until(lambda: list((agent.state / "spool").glob("*.seg")), 30,
               message="a segment sealed on the adopted head")
    agent.stop()
    agent.start()
    collector.start()
    try:
        wait_until(lambda: stored(collector)[b"b 0"] >= 1, 60, message="b 0 delivered")
    finally:
        agent.stop()
    assert "quarantine" not in agent.log() and "equivocation" not in agent.log()
    run_cli("verify", "--collector", collector.address)


def test_stopping_while_waiting_for_the_chain_head_exits_cleanly_having_sealed_nothing(
        tmp_path: Path, collector: Collector, agent_key: Path) -> None:
    """SIGTERM during the wait: exit 0, nothing spooled, the reason logged."""
    (tmp_path / "logs").mkdir()
    write(tmp_path / "logs" / "app.log", "unread line")
    collector.stop()
    agent = make_agent(tmp_path, agent_key, collector)
    agent.start()
    wait_until(lambda: "nothing is sealed until it does" in agent.log(), 30,
               message="the wait is reported")
    assert agent.stop() == 0
    assert "stopping before the collector said where the chain stands" in agent.log()
    assert not list((agent.state / "spool").glob("*.seg"))
    assert "Traceback" not in agent.log()
