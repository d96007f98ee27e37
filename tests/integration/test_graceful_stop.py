"""SIGTERM: seal what is buffered, ship it within shutdown_grace_secs, exit 0; the next start
continues the same chain."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.integration.harness import Agent, Collector, fast_agent_config, wait_until
from tests.integration.test_faults import (
    agent_status,
    append,
    assert_exactly_once_and_verified,
    make_lines,
)

pytestmark = pytest.mark.integration


def test_sigterm_seals_buffered_lines_ships_them_exits_0_and_the_chain_continues(
        tmp_path: Path, collector: Collector, agent_key: Path) -> None:
    """Lines read but not yet sealed (the segment is young) reach the collector on SIGTERM;
    after a restart the chain goes on from the next seq and verifies."""
    logs = tmp_path / "logs"
    logs.mkdir()
    config = fast_agent_config(tmp_path / "agent.toml",
                               seal={"max_segment_age_ms": 600_000,
                                     "max_segment_lines": 1_000_000})
    agent = Agent(tmp_path, agent_key, collector.address, [str(logs / "*.log")], config=config)
    agent.start()
    written = make_lines("first", 0, 300)
    append(logs / "app.log", written)
    wait_until(lambda: agent_status(agent).get("tail", {}).get("lines_read") == 300,  # type: ignore[union-attr]
               30, message="lines read")
    assert collector.count() == 0, "nothing sealed yet: the segment is young"
    assert agent.stop() == 0
    assert collector.count() == 300
    assert "stopping with 0 segments unacknowledged" not in agent.log()
    assert not list((agent.state / "spool").glob("*.seg"))
    more = make_lines("second", 0, 200)
    append(logs / "app.log", more)
    written += more
    agent.start()
    try:
        wait_until(lambda: "chain continues at seq 1" in agent.log(), 30,
                   message="restart continues the chain")
        assert agent.stop() == 0
        assert_exactly_once_and_verified(collector, written)
    finally:
        agent.stop()
