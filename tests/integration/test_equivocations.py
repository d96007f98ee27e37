"""Equivocations (one agent key, one seq, two different signed segments) are what an auditor
must hear about: `sealtail verify` fails on them and `sealtail equivocations` lists them with
both signed headers (real collector process)."""

from __future__ import annotations

import base64
import json
from pathlib import Path

import pytest

from agent._pb import sealtail_pb2 as pb
from agent.formats import segment_hash, verify_header
from agent.keys import load_signing_key
from tests.chains import ChainWriter
from tests.integration.harness import Collector, run_cli, ship

pytestmark = pytest.mark.integration


def forked(collector: Collector, agent_key: Path) -> tuple[pb.Segment, pb.Segment]:
    """Four segments stored, then another seq 2 signed by the same key: (stored, refused)."""
    key = load_signing_key(agent_key)
    chain = ChainWriter(key, lines=3)
    ship(collector.address, *(chain.next() for _ in range(4)))
    fork = ChainWriter(key, lines=3, text="forged")
    forged = [fork.next() for _ in range(3)][2]
    (ack,) = ship(collector.address, forged)
    assert (ack.status, ack.code) == (pb.ACK_REFUSED, "equivocation")
    return chain.segments[2], forged


def test_verify_collector_fails_on_an_equivocation_naming_agent_and_seq(
        collector: Collector, agent_key: Path) -> None:
    """The stored chain verifies, but the key signed two seq 2s: exit 1, code equivocation."""
    forked(collector, agent_key)
    proc = run_cli("verify", "--collector", collector.address, "--json", check=False)
    assert proc.returncode == 1, proc.stdout + proc.stderr
    result = json.loads(proc.stdout)
    assert (result["ok"], result["code"], result["agent"], result["seq"]) == (
        False, "equivocation", "host-a", 2)
    text = run_cli("verify", "--collector", collector.address, check=False)
    assert text.returncode == 1 and "FAILED: agent=host-a segment seq=2: equivocation" in (
        text.stderr)


def test_verify_data_fails_on_an_equivocation_naming_agent_and_seq(
        collector: Collector, agent_key: Path) -> None:
    """The offline check of the data directory says the same as the online one."""
    forked(collector, agent_key)
    collector.stop()
    proc = run_cli("verify", "--data", str(collector.data), "--json", check=False)
    assert proc.returncode == 1, proc.stdout + proc.stderr
    result = json.loads(proc.stdout)
    assert (result["code"], result["agent"], result["seq"]) == ("equivocation", "host-a", 2)


def test_equivocations_command_lists_both_signed_headers(
        collector: Collector, agent_key: Path) -> None:
    """Each listed equivocation carries the stored and the refused header with their
    signatures, both verifiable with the agent key; exit 1 while there is any."""
    stored, refused = forked(collector, agent_key)
    proc = run_cli("equivocations", "--collector", collector.address, "--json", check=False)
    assert proc.returncode == 1
    (listed,) = [json.loads(line) for line in proc.stdout.splitlines()]
    assert (listed["agent"], listed["seq"]) == ("host-a", 2)
    for which, segment in (("stored", stored), ("refused", refused)):
        header = base64.b64decode(listed[which]["header_b64"])
        signature = base64.b64decode(listed[which]["signature_b64"])
        assert (header, signature) == (segment.header, segment.signature)
        assert listed[which]["hash"] == segment_hash(header).hex()
        verify_header(header, signature, expected_key=base64.b64decode(listed["agent_key"]))
    text = run_cli("equivocations", "--collector", collector.address, check=False).stdout
    assert text.startswith("EQUIVOCATION host-a [") and "seq 2" in text
    assert segment_hash(stored.header).hex() in text and segment_hash(refused.header).hex() in text


def test_equivocations_command_says_none_and_exits_0_on_a_clean_collector(
        collector: Collector, agent_key: Path) -> None:
    """No evidence held: one line saying so, exit 0 (also read from the data directory)."""
    ship(collector.address, ChainWriter(load_signing_key(agent_key), lines=2).next())
    assert run_cli("equivocations", "--collector", collector.address).stdout == (
        "no equivocations\n")
    collector.stop()
    assert run_cli("equivocations", "--data", str(collector.data)).stdout == "no equivocations\n"
