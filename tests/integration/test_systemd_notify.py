"""sd_notify with a real agent and collector: NOTIFY_SOCKET is a real unix datagram socket."""

from __future__ import annotations

import json
import socket
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.integration.harness import NEW_AGENT, Agent, Collector, fast_agent_config, wait_until

pytestmark = pytest.mark.integration


@pytest.fixture
def notify_socket() -> Iterator[tuple[socket.socket, str]]:
    # A short directory: unix socket paths are limited to 108 bytes.
    with tempfile.TemporaryDirectory(prefix="sdn-", dir="/tmp") as d:
        path = f"{d}/notify"
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        sock.bind(path)
        sock.settimeout(0.2)
        try:
            yield sock, path
        finally:
            sock.close()


def _messages(sock: socket.socket, until: float) -> list[dict[str, str]]:
    out = []
    while time.monotonic() < until:
        try:
            data = sock.recv(4096)
        except TimeoutError:
            continue
        out.append(dict(line.split("=", 1) for line in data.decode().splitlines()))
    return out


def _wait_for(sock: socket.socket, key: str, timeout: float = 30) -> tuple[dict[str, str],
                                                                           list[dict[str, str]]]:
    seen: list[dict[str, str]] = []
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            data = sock.recv(4096)
        except TimeoutError:
            continue
        msg = dict(line.split("=", 1) for line in data.decode().splitlines())
        seen.append(msg)
        if key in msg:
            return msg, seen
    raise AssertionError(f"no {key} within {timeout}s; got {seen}")


def test_agent_sends_ready_once_tailing_and_connected_then_watchdog_pings_then_stopping(
        tmp_path: Path, collector: Collector, agent_key: Path,
        notify_socket: tuple[socket.socket, str]) -> None:
    """READY=1 after the files are open and the collector answers; WATCHDOG=1 every
    WATCHDOG_USEC/2; STOPPING=1 on SIGTERM."""
    sock, path = notify_socket
    logs = tmp_path / "logs"
    logs.mkdir()
    (logs / "app.log").write_text("one\ntwo\n")
    agent = Agent(tmp_path, agent_key, collector.address, [str(logs / "*.log")],
                  config=fast_agent_config(tmp_path / "agent.toml"))
    agent.env = {"NOTIFY_SOCKET": path, "WATCHDOG_USEC": "1000000"}
    agent.start()
    try:
        ready, _ = _wait_for(sock, "READY")
        assert ready["READY"] == "1"
        assert ready["STATUS"] == f"tailing 1 files, connected to {collector.address}"
        pings = [m for m in _messages(sock, time.monotonic() + 2.2) if "WATCHDOG" in m]
        assert len(pings) >= 3  # every 0.5 s
        wait_until(lambda: collector.count() == 2, 30, message="lines stored")
    finally:
        code = agent.stop()
    assert code == 0
    _wait_for(sock, "STOPPING", timeout=5)


def test_agent_is_ready_as_spooling_when_the_collector_is_down(
        tmp_path: Path, agent_key: Path, notify_socket: tuple[socket.socket, str]) -> None:
    """A collector that is down does not hold readiness back: the agent spools."""
    sock, path = notify_socket
    logs = tmp_path / "logs"
    logs.mkdir()
    (logs / "app.log").write_text("one\n")
    agent = Agent(tmp_path, agent_key, "127.0.0.1:9", [str(logs / "*.log")],
                  config=fast_agent_config(tmp_path / "agent.toml", agent=NEW_AGENT))
    agent.env = {"NOTIFY_SOCKET": path}
    agent.start()
    try:
        ready, _ = _wait_for(sock, "READY")
        assert ready["STATUS"] == "tailing 1 files, spooling (collector 127.0.0.1:9 unreachable)"
    finally:
        agent.stop()


def test_collector_sends_ready_when_listening(tmp_path: Path, authorized_keys: Path,
                                              notify_socket: tuple[socket.socket, str]) -> None:
    """The collector is ready once its port is open."""
    sock, path = notify_socket
    c = Collector(tmp_path, authorized_keys)
    c.env = {"NOTIFY_SOCKET": path}
    c.start()
    try:
        ready, _ = _wait_for(sock, "READY", timeout=10)
        assert ready["STATUS"] == f"listening on {c.address}"
    finally:
        c.stop()


def test_json_logs_are_one_object_per_line(tmp_path: Path, collector: Collector,
                                           agent_key: Path) -> None:
    """--log-format json: every stderr line is one JSON object with time, level, logger, msg."""
    logs = tmp_path / "logs"
    logs.mkdir()
    (logs / "app.log").write_text("one\n")
    agent = Agent(tmp_path, agent_key, collector.address, [str(logs / "*.log")],
                  config=fast_agent_config(tmp_path / "agent.toml"),
                  extra_args=("--log-format", "json"))
    agent.start()
    try:
        wait_until(lambda: collector.count() == 1, 30, message="line stored")
    finally:
        agent.stop()
    lines = agent.log().splitlines()
    assert lines
    for line in lines:
        record = json.loads(line)
        assert set(record) >= {"time", "level", "logger", "msg"}
    assert any(json.loads(ln)["msg"].startswith("acknowledged segment seq=0") for ln in lines)
