"""Acks carry signed checkpoints; the agent keeps the latest as its anchor (real processes)."""

from __future__ import annotations

from pathlib import Path

import nacl.signing
import pytest

from agent.formats import NoteSigner, open_checkpoint
from agent.keys import load_note_verifier
from tests.integration.harness import Agent, Collector, fast_agent_config, run_cli, wait_until

pytestmark = pytest.mark.integration


def run_agent_until_stored(tmp_path: Path, collector: Collector, agent_key: Path, lines: int,
                           *extra: str) -> Agent:
    logs = tmp_path / "logs"
    logs.mkdir(exist_ok=True)
    (logs / "app.log").write_bytes(b"".join(b"line %d\n" % i for i in range(lines)))
    agent = Agent(tmp_path, agent_key, collector.address, [str(logs / "*.log")],
                  config=fast_agent_config(tmp_path / "agent.toml"), extra_args=extra)
    agent.start()
    try:
        wait_until(lambda: collector.count() >= lines, 30, message="lines stored")
    finally:
        agent.stop()
    return agent


def test_agent_keeps_a_verified_anchor_covering_its_segments(
        tmp_path: Path, collector: Collector, agent_key: Path) -> None:
    """With the collector key pinned, the stored anchor is a checkpoint signed by that key
    that covers every acknowledged segment."""
    vkey_file = collector.data / "collector.vkey"
    printed = run_cli("collector-key", "--data", str(collector.data)).stdout.strip()
    assert printed == vkey_file.read_text().strip() and printed.startswith("sealtail/")
    agent = run_agent_until_stored(tmp_path, collector, agent_key, 40,
                                   "--collector-key", str(vkey_file))
    verifier = load_note_verifier(vkey_file)
    anchor = open_checkpoint((agent.state / "anchor.checkpoint").read_bytes(), [verifier],
                             origin=verifier.name)
    assert anchor.size == len({e["seq"] for e in collector.entries()})
    assert "without verifying" not in agent.log()


def test_agent_without_a_collector_key_stores_the_anchor_and_warns(
        tmp_path: Path, collector: Collector, agent_key: Path) -> None:
    """No pinned key: the checkpoint is still kept (to verify later), with a warning."""
    agent = run_agent_until_stored(tmp_path, collector, agent_key, 10)
    assert (agent.state / "anchor.checkpoint").exists()
    assert "no collector key configured" in agent.log()


def test_an_ack_signed_by_another_key_is_not_accepted_and_segments_stay_spooled(
        tmp_path: Path, collector: Collector, agent_key: Path) -> None:
    """The agent treats an ack whose checkpoint its pinned key did not sign as a refusal."""
    impostor = NoteSigner(load_note_verifier(collector.data / "collector.vkey").name,
                          nacl.signing.SigningKey.generate())
    wrong = tmp_path / "wrong.vkey"
    wrong.write_text(impostor.verifier.vkey + "\n")
    logs = tmp_path / "logs"
    logs.mkdir()
    (logs / "app.log").write_bytes(b"hello\n" * 5)
    agent = Agent(tmp_path, agent_key, collector.address, [str(logs / "*.log")],
                  config=fast_agent_config(tmp_path / "agent.toml"),
                  extra_args=("--collector-key", str(wrong)))
    agent.start()
    try:
        wait_until(lambda: "unknown_signer" in agent.log(), 30, message="refusal logged")
    finally:
        agent.stop()
    assert list((agent.state / "spool").glob("*.seg")), "unconfirmed segments stay spooled"
    assert not (agent.state / "anchor.checkpoint").exists()
