"""The collector's own life: one process per port and per store, a clean stop."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.integration.harness import Agent, Collector, fast_agent_config, run_cli, wait_until

pytestmark = pytest.mark.integration


def test_second_collector_on_a_used_port_fails_naming_the_address(
        tmp_path: Path, collector: Collector, authorized_keys: Path) -> None:
    """gRPC's default SO_REUSEPORT is off: a second collector cannot share a listening port."""
    proc = run_cli("collector", "--listen", collector.address, "--data",
                   str(tmp_path / "other-data"), "--authorized-keys", str(authorized_keys),
                   check=False, timeout=30)
    assert proc.returncode == 1
    assert f"cannot listen on {collector.address}" in proc.stderr
    assert "listen_failed" in proc.stderr
    assert "Traceback" not in proc.stderr
    assert not (tmp_path / "other-data").exists(), "no data dir, store or key before the bind"


def test_second_collector_on_the_same_data_dir_fails_naming_the_directory(
        collector: Collector, authorized_keys: Path) -> None:
    """An exclusive lock on DATA/collector.lock: two collectors never share one store."""
    proc = run_cli("collector", "--listen", "127.0.0.1:0", "--data", str(collector.data),
                   "--authorized-keys", str(authorized_keys), check=False, timeout=30)
    assert proc.returncode == 1
    assert f"data directory {collector.data} is in use by another collector" in proc.stderr
    assert f"pid {collector.proc.pid if collector.proc else ''}" in proc.stderr
    assert "Traceback" not in proc.stderr


def test_killed_collector_leaves_no_stale_lock(collector: Collector) -> None:
    """The lock dies with the process: a collector restarted after SIGKILL starts."""
    collector.kill()
    collector.start()
    assert collector.count() == 0


def test_sigterm_while_an_agent_streams_stops_cleanly_without_traceback(
        tmp_path: Path, collector: Collector, agent_key: Path) -> None:
    """SIGTERM with an open Ship stream: exit 0, no CancelledError traceback in the log."""
    logs = tmp_path / "logs"
    logs.mkdir()
    (logs / "app.log").write_bytes(b"".join(b"line %d\n" % i for i in range(200)))
    agent = Agent(tmp_path, agent_key, collector.address, [str(logs / "*.log")],
                  config=fast_agent_config(tmp_path / "agent.toml"))
    agent.start()
    try:
        wait_until(lambda: collector.count() == 200, 30, message="lines stored")
        assert collector.stop() == 0
        log = collector.log()
        assert "Traceback" not in log and "CancelledError" not in log, log
        assert "collector stopped" in log
    finally:
        agent.stop()
