"""The whole path with real processes: tail → seal → spool → ship → collector → query/verify."""

from __future__ import annotations

import base64
import os
import random
import threading
import time
from collections import Counter
from pathlib import Path

import pytest

from tests.conftest import shared_path
from tests.integration.harness import (
    Agent,
    Collector,
    fast_agent_config,
    make_key,
    run_cli,
    wait_until,
)

pytestmark = pytest.mark.integration


def unique_line(tag: str, n: int, rng: random.Random) -> bytes:
    """Distinct lines, some with invalid UTF-8 or CRLF, to check byte-exact delivery."""
    body = f"{tag} n={n:06d} user={rng.choice(['alice', 'bob'])} Failed password for x".encode()
    if n % 97 == 0:
        body += b" bad-utf8=\xff\xfe\xc3"
    if n % 89 == 0:
        body += b"\r"
    return body


def stored_lines(collector: Collector) -> Counter[bytes]:
    return Counter(base64.b64decode(e["line_b64"]) for e in collector.entries())


def assert_exactly_once(collector: Collector, written: list[bytes]) -> None:
    got = stored_lines(collector)
    want = Counter(written)
    missing = want - got
    extra = got - want
    assert not missing and not extra, (f"missing {sum(missing.values())}, "
                                       f"duplicated/extra {sum(extra.values())}")


def test_two_files_with_rename_rotation_arrive_exactly_once_and_verify(
        tmp_path: Path, collector: Collector, agent_key: Path) -> None:
    """2 000 lines in two files, one rotated by rename half-way: each stored once, byte for
    byte, and the chain verifies online and offline."""
    logs = tmp_path / "logs"
    logs.mkdir()
    rng = random.Random(1)
    agent = Agent(tmp_path, agent_key, collector.address, [str(logs / "*.log")],
                  config=fast_agent_config(tmp_path / "agent.toml"))
    agent.start()
    written: list[bytes] = []
    try:
        with open(logs / "a.log", "ab") as a, open(logs / "b.log", "ab") as b:
            for n in range(500):
                for f, tag in ((a, "a"), (b, "b")):
                    line = unique_line(tag, n, rng)
                    f.write(line + b"\n")
                    written.append(line)
                if n % 50 == 0:
                    a.flush()
                    b.flush()
                    time.sleep(0.05)
        # The agent must have seen a.log before it is renamed out of its globs: a file
        # nobody ever saw under a watched name cannot be known.
        wait_until(lambda: collector.count() >= 100, 30, message="agent tailing a.log")
        # logrotate's default: rename, then the application creates a new file.
        os.rename(logs / "a.log", logs / "a.log.1")
        with open(logs / "a.log.1", "ab") as late:  # the app still writes the old file briefly
            for n in range(500, 520):
                line = unique_line("a-late", n, rng)
                late.write(line + b"\n")
                written.append(line)
        with open(logs / "a.log", "ab") as a, open(logs / "b.log", "ab") as b:
            for n in range(520, 1010):
                for f, tag in ((a, "a2"), (b, "b")):
                    line = unique_line(tag, n, rng)
                    f.write(line + b"\n")
                    written.append(line)
        assert len(written) == 2000
        wait_until(lambda: collector.count() >= len(written), 60, message="all lines stored")
        assert collector.count() == len(written)
        assert_exactly_once(collector, written)
    finally:
        assert agent.stop() == 0, agent.log()
    out = run_cli("verify", "--collector", collector.address).stdout
    assert out.startswith("OK: 1 agents") and f"{len(written)} lines" in out
    collector.stop()
    out = run_cli("verify", "--data", str(collector.data)).stdout
    assert out.startswith("OK: 1 agents") and f"{len(written)} lines" in out


def test_agent_killed_mid_burst_then_restarted_delivers_exactly_once(
        tmp_path: Path, collector: Collector, agent_key: Path) -> None:
    """SIGKILL of the agent during a burst loses nothing and duplicates nothing."""
    logs = tmp_path / "logs"
    logs.mkdir()
    config = fast_agent_config(tmp_path / "agent.toml")
    agent = Agent(tmp_path, agent_key, collector.address, [str(logs / "*.log")], config=config)
    agent.start()
    rng = random.Random(2)
    written: list[bytes] = []
    done = threading.Event()

    def writer() -> None:
        with open(logs / "burst.log", "ab", buffering=0) as f:
            for n in range(6000):
                line = unique_line("burst", n, rng)
                f.write(line + b"\n")
                written.append(line)
                if n % 200 == 0:
                    time.sleep(0.02)
        done.set()

    thread = threading.Thread(target=writer)
    thread.start()
    wait_until(lambda: collector.count() > 500, 30, message="some lines stored before the kill")
    agent.kill()
    thread.join()
    assert done.is_set()
    agent.start()
    try:
        wait_until(lambda: collector.count() >= len(written), 60, message="all lines stored")
        time.sleep(0.5)
        assert collector.count() == len(written)
        assert_exactly_once(collector, written)
    finally:
        agent.stop()
    run_cli("verify", "--collector", collector.address)


def test_collector_down_for_a_while_then_everything_arrives(
        tmp_path: Path, collector: Collector, agent_key: Path) -> None:
    """Lines written while the collector is stopped wait in the spool and arrive later."""
    logs = tmp_path / "logs"
    logs.mkdir()
    agent = Agent(tmp_path, agent_key, collector.address, [str(logs / "*.log")],
                  config=fast_agent_config(tmp_path / "agent.toml"))
    agent.start()
    rng = random.Random(3)
    written = [unique_line("before", n, rng) for n in range(300)]
    (logs / "app.log").write_bytes(b"".join(x + b"\n" for x in written))
    try:
        wait_until(lambda: collector.count() == 300, 30, message="first lines stored")
        collector.stop()
        during = [unique_line("during", n, rng) for n in range(700)]
        with open(logs / "app.log", "ab") as f:
            f.write(b"".join(x + b"\n" for x in during))
        written += during
        wait_until(lambda: list((agent.state / "spool").glob("*.seg")), 30,
                   message="segments spooled while the collector is down")
        time.sleep(1.5)  # a few failed reconnects
        collector.start()  # same port, same data
        wait_until(lambda: collector.count() >= len(written), 60, message="spool drained")
        assert_exactly_once(collector, written)
        wait_until(lambda: not list((agent.state / "spool").glob("*.seg")), 30,
                   message="acknowledged segments removed from the spool")
    finally:
        agent.stop()


def test_unauthorized_agent_is_refused_and_nothing_is_stored(
        tmp_path: Path, collector: Collector) -> None:
    """A key not in the allow-list: refused, nothing stored, a clear error in the agent log."""
    stranger = make_key(tmp_path, "stranger.key")
    logs = tmp_path / "logs"
    logs.mkdir()
    (logs / "app.log").write_bytes(b"hello from a stranger\n" * 10)
    agent = Agent(tmp_path, stranger, collector.address, [str(logs / "*.log")], name="stranger",
                  config=fast_agent_config(tmp_path / "agent.toml"))
    agent.start()
    try:
        wait_until(lambda: "not in the collector's authorized keys" in agent.log(), 30,
                   message="refusal logged by the agent")
        assert "unknown_key" in agent.log()
    finally:
        agent.stop()
    assert collector.count() == 0
    assert list((agent.state / "spool").glob("*.seg")), "refused segments stay in the spool"


def _lines_of(path: Path) -> list[bytes]:
    parts = path.read_bytes().split(b"\n")
    if parts and parts[-1] == b"":
        parts.pop()
    return parts


def test_real_logs_openssh_and_auth_are_stored_exactly_once_and_verify(
        tmp_path: Path, collector: Collector, agent_key: Path) -> None:
    """Loghub OpenSSH (CRLF, no final newline) and a real auth.log arrive exactly once."""
    sources = [shared_path("data/loghub/OpenSSH/OpenSSH_2k.log"),
               shared_path("data/auth/elastic_auth_dev.log")]
    logs = tmp_path / "logs"
    logs.mkdir()
    written: list[bytes] = []
    for src in sources:
        (logs / src.name).write_bytes(src.read_bytes())
        written += _lines_of(src)
    agent = Agent(tmp_path, agent_key, collector.address, [str(logs / "*.log")],
                  config=fast_agent_config(tmp_path / "agent.toml"))
    started = time.monotonic()
    agent.start()
    try:
        wait_until(lambda: collector.count() >= len(written), 90, message="all lines stored")
        elapsed = time.monotonic() - started
        assert collector.count() == len(written)
        assert_exactly_once(collector, written)
        partial = [e for e in collector.entries() if "partial" in e["flags"]]
        assert [e["source"] for e in partial] == [str(logs / "OpenSSH_2k.log")]
        print(f"\n{len(written)} real lines stored in {elapsed:.1f}s (includes start-up and the "
              "1 s partial-line idle time)")
    finally:
        agent.stop()
    run_cli("verify", "--collector", collector.address)
