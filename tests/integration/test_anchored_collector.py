"""Anchored verification against a running collector, and the agent-side cases 10 and 16
(real processes)."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest

from agent._pb import sealtail_pb2 as pb
from agent.formats import segment_hash
from agent.keys import load_signing_key
from tests.chains import ChainWriter
from tests.integration.harness import (
    NEW_AGENT,
    Agent,
    Collector,
    fast_agent_config,
    query_stub,
    run_cli,
    ship,
    wait_until,
)

pytestmark = pytest.mark.integration


def verify_json(collector: Collector, *args: str) -> tuple[int, dict[str, object]]:
    proc = run_cli("verify", "--collector", collector.address, "--collector-key",
                   str(collector.data / "collector.vkey"), "--json", *args, check=False)
    assert proc.returncode in (0, 1), proc.stderr
    return proc.returncode, json.loads(proc.stdout)


def test_cases_11_and_12_rollback_then_fork_on_a_live_collector(
        tmp_path: Path, collector: Collector, agent_key: Path) -> None:
    """The operator cuts S4, S5 from the database and restarts: `verify --anchor` reports a
    rollback. Then S4', S5' continuing from S3 are accepted and signed over: the anchor has
    no consistency proof to the new head."""
    chain = ChainWriter(load_signing_key(agent_key), lines=5)
    acks = ship(collector.address, *(chain.next() for _ in range(5)))
    anchor = tmp_path / "anchor.checkpoint"
    anchor.write_bytes(acks[-1].checkpoint)  # what the agent keeps
    assert verify_json(collector, "--anchor", str(anchor))[0] == 0

    collector.stop()
    conn = sqlite3.connect(collector.data / "sealtail.db", isolation_level=None)
    for (name,) in conn.execute("SELECT name FROM sqlite_master WHERE type='trigger'").fetchall():
        conn.execute(f"DROP TRIGGER {name}")
    conn.execute("DELETE FROM entries WHERE segment_id > 3")
    conn.execute("DELETE FROM segments WHERE id > 3")
    conn.execute("DELETE FROM checkpoints WHERE size > 3")
    conn.close()
    collector.start()

    code, r = verify_json(collector, "--anchor", str(anchor))
    assert (code, r["code"]) == (1, "rollback")
    assert "have 3 segments < anchored 5" in str(r["message"])

    fork = ChainWriter(load_signing_key(agent_key), lines=5, text="nothing to see")
    fork.segments, fork.seq = chain.segments[:3], 3
    fork.prev = segment_hash(chain.segments[2].header)
    fork.lines_total = 15
    acks = ship(collector.address, fork.next(tag="'"), fork.next(tag="'"))
    assert [a.status for a in acks] == [pb.ACK_STORED, pb.ACK_STORED]
    code, r = verify_json(collector, "--anchor", str(anchor))
    assert (code, r["code"]) == (1, "inconsistent_history")
    assert verify_json(collector)[0] == 0, "without the anchor the fork looks fine"


def test_case_10_unsealed_lines_are_reported_and_not_counted(
        tmp_path: Path, agent_key: Path) -> None:
    """Lines written after the agent stopped are reported as unsealed after the last seq."""
    logs = tmp_path / "logs"
    logs.mkdir()
    log = logs / "x.log"
    log.write_bytes(b"".join(b"line %d\n" % i for i in range(50)))
    agent = Agent(tmp_path, agent_key, "127.0.0.1:1", [str(logs / "*.log")],
                  config=fast_agent_config(tmp_path / "a.toml", agent=NEW_AGENT))
    agent.start()
    try:
        wait_until(lambda: list((agent.state / "spool").glob("*.seg")), 30,
                   message="a spooled segment")
    finally:
        agent.kill()  # no chance to seal what comes next
    with open(log, "ab") as f:
        f.write(b"".join(b"late %d\n" % i for i in range(7)) + b"partial")
    proc = run_cli("verify", "--spool", str(agent.state), "--pubkey", f"{agent_key}.pub",
                   "--json")
    r = json.loads(proc.stdout)
    assert r["lines"] == 50 and r["unsealed_lines"] == 8
    assert "NOT verified: 8 lines unsealed after seq 0" in str(r["summary"])


def test_case_16_agent_restarted_without_its_state_is_refused_as_equivocation(
        tmp_path: Path, collector: Collector, agent_key: Path) -> None:
    """A new boot that re-uses seq 0 with other bytes is refused and kept as evidence; the
    stored chain is untouched, and verify fails naming the equivocation (agent, seq 0)."""
    key = load_signing_key(agent_key)
    first = ChainWriter(key, lines=4, boot_id=b"1" * 16)
    ship(collector.address, *(first.next() for _ in range(3)))
    reboot = ChainWriter(key, lines=4, boot_id=b"2" * 16)
    (ack,) = ship(collector.address, reboot.next())
    assert (ack.status, ack.code) == (pb.ACK_REFUSED, "equivocation")
    channel, stub = query_stub(collector.address)
    with channel:
        (evidence,) = list(stub.Equivocations(pb.EquivocationsRequest()))
    stored = pb.SegmentHeader.FromString(evidence.stored_header)
    refused = pb.SegmentHeader.FromString(evidence.header)
    assert (stored.seq, refused.seq) == (0, 0)
    assert (stored.boot_id, refused.boot_id) == (b"1" * 16, b"2" * 16)
    rc, result = verify_json(collector)
    assert (rc, result["code"], result["agent"], result["seq"]) == (1, "equivocation", "host-a", 0)


def test_an_agent_keeps_its_anchor_when_the_collector_rewrote_its_history(
        tmp_path: Path, collector: Collector, authorized_keys: Path, agent_key: Path) -> None:
    """host-b's segment under the agent's anchor is swapped while the collector is stopped:
    the next ack's checkpoint has no valid consistency proof from the anchor, so the agent
    logs inconsistent_history at ERROR, keeps its anchor and the segment, counts it in
    /metrics and `sealtail status` shows it."""
    from tests.integration.harness import edit_store_as_attacker, make_key
    from tests.integration.test_metrics_health import http_address, scrape

    b_key = make_key(tmp_path, "b.key")
    authorized_keys.write_text(authorized_keys.read_text() + Path(f"{b_key}.pub").read_text())
    collector.stop()
    collector.start()
    b = ChainWriter(load_signing_key(b_key), name="host-b", lines=3)
    assert ship(collector.address, b.next())[0].status == pb.ACK_STORED  # leaf 0
    logs = tmp_path / "logs"
    logs.mkdir()
    log = logs / "auth.log"
    log.write_bytes(b"".join(b"accepted %d\n" % i for i in range(5)))
    config = fast_agent_config(tmp_path / "a.toml")
    agent = Agent(tmp_path, agent_key, collector.address, [str(logs / "*.log")], config=config)
    agent.start()
    try:
        wait_until(lambda: collector.count("--agent", "host-a") == 5, 30, message="5 lines")
    finally:
        assert agent.stop() == 0
    anchor_file = agent.state / "anchor.checkpoint"
    anchor = anchor_file.read_bytes()

    collector.stop()
    forged = ChainWriter(load_signing_key(b_key), name="host-b", lines=3,
                         boot_id=b"f" * 16).next()

    def swap_leaf_0(conn: sqlite3.Connection) -> None:
        conn.execute("UPDATE segments SET header = ?, hash = ?, signature = ? WHERE id = 1",
                     (forged.header, segment_hash(forged.header), forged.signature))
        conn.execute("DELETE FROM checkpoints")  # so the collector signs over the new tree

    edit_store_as_attacker(collector.data, swap_leaf_0)
    collector.start()
    with log.open("ab") as f:
        f.write(b"accepted 5\n")
    agent = Agent(tmp_path, agent_key, collector.address, [str(logs / "*.log")], config=config,
                  extra_args=("--http-listen", "127.0.0.1:0"))
    agent.start()
    try:
        metrics = http_address(agent, "agent")
        wait_until(lambda: scrape(metrics).get("sealtail_ship_inconsistent_history_total"), 30,
                   message="an inconsistent_history counted")
        # logged just after the count (the session unwinds first)
        wait_until(lambda: "level=ERROR" in agent.log() and "inconsistent_history"
                   in agent.log(), 15, message="inconsistent_history logged at ERROR")
        status = run_cli("status", "--state", str(agent.state), check=False)
        assert "inconsistent_history" in status.stdout + status.stderr
        assert anchor_file.read_bytes() == anchor, "the anchor must not move"
        assert list((agent.state / "spool").glob("*.seg")), "the segment stays spooled"
    finally:
        agent.stop()
