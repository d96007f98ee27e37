"""The agent's state directory: one agent per directory, and a directory that cannot be
written (at start or later) ends the agent with one line naming it, never a traceback."""

from __future__ import annotations

import base64
import shutil
from pathlib import Path

import pytest

from tests.integration.harness import Agent, Collector, fast_agent_config, wait_until

pytestmark = pytest.mark.integration


def make_agent(tmp_path: Path, key: Path, collector: Collector, name: str,
               state: Path | None = None) -> Agent:
    return Agent(tmp_path, key, collector.address, [str(tmp_path / "logs" / "*.log")],
                 name=name, state=state, config=fast_agent_config(tmp_path / "agent.toml"))


def write(path: Path, *items: str) -> None:
    with open(path, "ab") as f:
        f.write(b"".join(x.encode() + b"\n" for x in items))


def stored(collector: Collector) -> list[bytes]:
    return [base64.b64decode(e["line_b64"]) for e in collector.entries()]


def test_a_second_agent_on_the_same_state_directory_is_refused_and_the_first_keeps_shipping(
        tmp_path: Path, collector: Collector, agent_key: Path) -> None:
    """The second process exits non-zero naming the directory and the first's pid; lines
    appended afterwards are still delivered by the first."""
    (tmp_path / "logs").mkdir()
    log = tmp_path / "logs" / "app.log"
    write(log, "before")
    first = make_agent(tmp_path, agent_key, collector, "host-a")
    first.start()
    try:
        wait_until(lambda: b"before" in stored(collector), 30, message="first line")
        second = make_agent(tmp_path, agent_key, collector, "host-b", state=first.state)
        second.start()
        assert second.wait(30) != 0
        assert first.proc is not None
        assert (f"state directory {first.state} is in use by pid {first.proc.pid}"
                in second.log())
        assert "Traceback" not in second.log()
        write(log, "after")
        wait_until(lambda: b"after" in stored(collector), 30, message="line after the refusal")
        assert first.alive()
    finally:
        first.stop()
    assert "Traceback" not in first.log()


def test_a_read_only_state_directory_stops_the_start_with_one_line(
        tmp_path: Path, collector: Collector, agent_key: Path, read_only_dir: Path) -> None:
    """Exit non-zero, the directory named, no traceback."""
    (tmp_path / "logs").mkdir()
    agent = make_agent(tmp_path, agent_key, collector, "host-a", state=read_only_dir / "state")
    agent.start()
    assert agent.wait(30) != 0
    assert str(read_only_dir) in agent.log() and "read-only" in agent.log()
    assert "Traceback" not in agent.log() and "ExceptionGroup" not in agent.log()


def test_a_spool_write_failing_at_run_time_ends_the_agent_with_one_line(
        tmp_path: Path, collector: Collector, agent_key: Path) -> None:
    """A spool that becomes unwritable (here: its directory replaced by a file) ends the
    process non-zero with the SpoolError, not a traceback of every stage."""
    (tmp_path / "logs").mkdir()
    log = tmp_path / "logs" / "app.log"
    agent = make_agent(tmp_path, agent_key, collector, "host-a")
    agent.start()
    wait_until(lambda: (agent.state / "head.json").exists(), 30, message="chain head known")
    shutil.rmtree(agent.state / "spool")
    (agent.state / "spool").write_text("not a directory\n")
    write(log, "a line that cannot be spooled")
    assert agent.wait(60) != 0
    text = agent.log()
    assert "cannot write segment seq=0" in text and str(agent.state / "spool") in text
    assert "Traceback" not in text and "ExceptionGroup" not in text
