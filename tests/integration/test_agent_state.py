"""Agent state under kills and damage (TAILING-CASES 19, 20, 21, 29, 31): the agent always
starts, says what it found, and delivers every line at least once — exactly once where the
state allows it — with a chain that verifies."""

from __future__ import annotations

import base64
import json
import random
import shutil
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.integration.harness import Agent, Collector, fast_agent_config, run_cli, wait_until

pytestmark = pytest.mark.integration


def lines(tag: str, start: int, stop: int) -> list[bytes]:
    return [f"{tag} {i:07d}".encode() for i in range(start, stop)]


def write(path: Path, items: list[bytes]) -> None:
    with open(path, "ab") as f:
        f.write(b"".join(x + b"\n" for x in items))


def stored(collector: Collector) -> Counter[bytes]:
    return Counter(base64.b64decode(e["line_b64"]) for e in collector.entries())


def start_agent(tmp_path: Path, key: Path, collector: Collector, **tail: object) -> Agent:
    agent = Agent(tmp_path, key, collector.address, [str(tmp_path / "logs" / "*.log")],
                  config=fast_agent_config(tmp_path / "agent.toml",
                                           seal={"max_segment_lines": 100}, **tail))
    agent.start()
    return agent


def test_case_19_kill_while_the_collector_is_down_loses_nothing(
        tmp_path: Path, collector: Collector, agent_key: Path) -> None:
    (tmp_path / "logs").mkdir()
    collector.stop()
    agent = start_agent(tmp_path, agent_key, collector)
    written = lines("x", 0, 100)
    write(tmp_path / "logs" / "app.log", written)
    time.sleep(1.5)
    agent.kill()
    collector.start()
    agent.start()
    try:
        wait_until(lambda: collector.count() >= 100, 30, message="100 lines")
        time.sleep(0.5)
        assert stored(collector) == Counter(written)
    finally:
        agent.stop()


def test_case_20_head_file_is_always_old_or_new_when_killed_mid_write(tmp_path: Path) -> None:
    """SIGKILL at random instants of repeated head writes never leaves an unparsable file."""
    script = (
        "import json, sys\n"
        "from pathlib import Path\n"
        "from agent.spool import atomic_write\n"
        "p = Path(sys.argv[1]); i = 0\n"
        "while True:\n"
        "    i += 1\n"
        "    atomic_write(p, json.dumps({'n': i, 'pad': 'x' * 20000}).encode())\n")
    head = tmp_path / "head.json"
    head.write_text(json.dumps({"n": 0}))
    rng = random.Random(20)
    for _ in range(40):
        proc = subprocess.Popen([sys.executable, "-c", script, str(head)])
        time.sleep(rng.uniform(0.2, 0.5))  # past interpreter start-up, into the write loop
        proc.kill()
        proc.wait()
        assert json.loads(head.read_text())["n"] >= 0
    assert json.loads(head.read_text())["n"] > 0


@pytest.mark.parametrize("damage", ["half", "nuls"])
def test_case_21_corrupt_head_file_agent_starts_reports_and_continues_the_chain(
        tmp_path: Path, collector: Collector, agent_key: Path, damage: str) -> None:
    (tmp_path / "logs").mkdir()
    log = tmp_path / "logs" / "app.log"
    write(log, lines("a", 0, 50))
    agent = start_agent(tmp_path, agent_key, collector)
    wait_until(lambda: collector.count() == 50, 30, message="first lines")
    wait_until(lambda: not list((agent.state / "spool").glob("*.seg")), 30,
               message="spool drained")
    assert agent.stop() == 0
    head = agent.state / "head.json"
    head.write_bytes(head.read_bytes()[:20] if damage == "half" else b"\0" * 4096)
    write(log, lines("b", 0, 10))
    agent.start()
    try:
        wait_until(lambda: stored(collector)[b"b 0000009"] == 1, 30, message="new lines")
        assert "head.json" in agent.log() and "continuing the chain" in agent.log()
    finally:
        agent.stop()
    got = stored(collector)
    assert all(got[x] >= 1 for x in lines("a", 0, 50) + lines("b", 0, 10))  # at least once
    run_cli("verify", "--collector", collector.address)  # one unbroken chain


def test_wiped_state_directory_continues_the_chain_from_the_collector(
        tmp_path: Path, collector: Collector, agent_key: Path) -> None:
    """An operator deletes the state dir: no equivocation at seq 0, the chain goes on."""
    (tmp_path / "logs").mkdir()
    write(tmp_path / "logs" / "app.log", lines("a", 0, 20))
    agent = start_agent(tmp_path, agent_key, collector)
    wait_until(lambda: collector.count() == 20, 30, message="first lines")
    agent.stop()
    shutil.rmtree(agent.state)
    write(tmp_path / "logs" / "app.log", lines("b", 0, 5))
    agent.start()
    try:
        wait_until(lambda: stored(collector)[b"b 0000004"] == 1, 30, message="new lines")
    finally:
        agent.stop()
    assert "equivocation" not in agent.log()
    run_cli("verify", "--collector", collector.address)


def test_case_31_one_corrupt_spooled_segment_is_quarantined_and_its_lines_reread(
        tmp_path: Path, collector: Collector, agent_key: Path) -> None:
    (tmp_path / "logs").mkdir()
    conf = {"read_chunk_bytes": 2000}
    agent = start_agent(tmp_path, agent_key, collector, **conf)
    # A first start seals nothing before the collector says where the chain stands.
    wait_until(lambda: (agent.state / "head.json").exists(), 30, message="chain head known")
    collector.stop()
    written = lines("c", 0, 2000)
    write(tmp_path / "logs" / "app.log", written)
    wait_until(lambda: len(list((agent.state / "spool").glob("*.seg"))) >= 5, 30,
               message="several spooled segments")
    time.sleep(1)
    agent.stop()
    segments = sorted((agent.state / "spool").glob("*.seg"))
    victim = segments[len(segments) // 2]
    data = bytearray(victim.read_bytes())
    data[len(data) // 2] ^= 0xFF
    victim.write_bytes(bytes(data))
    collector.start()
    agent.start()
    try:
        wait_until(lambda: collector.count() >= 2000, 30, message="all lines")
        time.sleep(0.5)
        assert str(victim) in agent.log() and "checksum mismatch" in agent.log()
        assert stored(collector) == Counter(written)
    finally:
        agent.stop()
    assert list((agent.state / "quarantine").glob(f"{victim.name}.*"))
    run_cli("verify", "--collector", collector.address)


def test_saved_cursors_do_not_grow_with_rotated_and_deleted_files(
        tmp_path: Path, collector: Collector, agent_key: Path) -> None:
    """head.json keeps cursors of live files only: each rotated generation, once read to its
    end and deleted, leaves it (it used to keep one cursor per file ever seen)."""
    logs = tmp_path / "logs"
    logs.mkdir()
    agent = start_agent(tmp_path, agent_key, collector, rotate_wait_secs=0.2)
    log = logs / "app.log"
    written: list[bytes] = []

    def at_least(n: int) -> Callable[[], bool]:
        return lambda: collector.count() >= n

    try:
        for generation in range(6):
            batch = lines(f"g{generation}", 0, 20)
            write(log, batch)
            written += batch
            wait_until(at_least(len(written)), 30, message="lines shipped")
            rotated = logs / "app.log.1"
            log.rename(rotated)
            time.sleep(0.5)  # rotate_wait: the agent drains and closes it
            rotated.unlink()
        write(log, lines("last", 0, 5))
        written += lines("last", 0, 5)

        def saved_cursors() -> int:
            head = agent.state / "head.json"
            return len(json.loads(head.read_text())["cursors"]) if head.exists() else -1

        wait_until(lambda: collector.count() >= len(written) and saved_cursors() == 1, 30,
                   message="only the live file's cursor in head.json")
        assert stored(collector) == Counter(written)
    finally:
        agent.stop()
