"""Proofs over gRPC and the CLI: prove → bundle → verify offline; consistency between
checkpoints; equivocation evidence (real collector process)."""

from __future__ import annotations

import base64
import json
from pathlib import Path

import grpc
import pytest

from agent._pb import sealtail_pb2 as pb
from agent.formats import open_checkpoint, verify_consistency
from agent.keys import load_note_verifier, load_signing_key
from tests.chains import ChainWriter
from tests.integration.harness import Collector, query_stub, run_cli, ship

pytestmark = pytest.mark.integration


def test_prove_writes_a_bundle_that_verifies_offline_and_fails_when_altered(
        tmp_path: Path, collector: Collector, agent_key: Path) -> None:
    """Line → segment root → signed checkpoint, checked with no server; a flipped proof bit
    fails with bad_proof naming agent and seq."""
    chain = ChainWriter(load_signing_key(agent_key), lines=9)
    acks = ship(collector.address, *(chain.next() for _ in range(4)))
    assert [a.status for a in acks] == [pb.ACK_STORED] * 4
    vkey = collector.data / "collector.vkey"
    out = tmp_path / "line.proof.json"
    run_cli("prove", "--collector", collector.address, "--agent", "host-a", "--seq", "2",
            "--index", "7", "--collector-key", str(vkey), "--out", str(out))
    collector.stop()  # offline from here on
    ok = run_cli("verify", "--bundle", str(out), "--collector-key", str(vkey), "--agent-key",
                 f"{agent_key}.pub").stdout
    assert ok.startswith("OK: line 7 of host-a") and "seq 2" in ok and "leaf 2" in ok
    bundle = json.loads(out.read_text())
    raw = bytearray(base64.b64decode(bundle["log_proof"][0]))
    raw[0] ^= 1
    bundle["log_proof"][0] = base64.b64encode(bytes(raw)).decode()
    out.write_text(json.dumps(bundle))
    proc = run_cli("verify", "--bundle", str(out), "--collector-key", str(vkey), "--agent-key",
                   f"{agent_key}.pub", "--json", check=False)
    assert proc.returncode == 1
    result = json.loads(proc.stdout)
    assert (result["code"], result["agent"], result["seq"]) == ("bad_proof", "host-a", 2)


def test_checkpoints_over_grpc_are_consistent_and_bad_requests_are_refused(
        collector: Collector, agent_key: Path) -> None:
    """GetCheckpoint signs on demand; ConsistencyProof joins an old checkpoint to the new."""
    chain = ChainWriter(load_signing_key(agent_key), lines=2)
    verifier = load_note_verifier(collector.data / "collector.vkey")
    channel, stub = query_stub(collector.address)
    with channel:
        ship(collector.address, *(chain.next() for _ in range(3)))
        old = open_checkpoint(stub.GetCheckpoint(pb.CheckpointRequest()).checkpoint, [verifier])
        ship(collector.address, *(chain.next() for _ in range(5)))
        reply = stub.GetCheckpoint(pb.CheckpointRequest())
        assert reply.vkey == verifier.vkey
        new = open_checkpoint(reply.checkpoint, [verifier])
        assert (old.size, new.size) == (3, 8)
        proof = stub.ConsistencyProof(pb.ConsistencyRequest(size1=3)).proof
        assert verify_consistency(3, 8, list(proof), old.root, new.root)
        for size1, size2 in ((0, 8), (9, 9), (3, 100)):
            with pytest.raises(grpc.RpcError) as info:
                stub.ConsistencyProof(pb.ConsistencyRequest(size1=size1, size2=size2))
            assert info.value.code() == grpc.StatusCode.INVALID_ARGUMENT
        with pytest.raises(grpc.RpcError) as info:
            stub.InclusionProof(pb.InclusionRequest(agent="host-a", seq=99, index=0))
        assert info.value.code() == grpc.StatusCode.NOT_FOUND


def test_case_13_replays_are_idempotent_and_conflicts_are_kept_as_evidence(
        collector: Collector, agent_key: Path) -> None:
    """Re-shipping S3 after S5 is a duplicate (head and tree do not move); the same seq with
    other bytes is refused as equivocation and both signed headers are served as evidence
    (tests/integration/test_equivocations.py: what verify and the CLI say about it)."""
    key = load_signing_key(agent_key)
    chain = ChainWriter(key, lines=3)
    ship(collector.address, *(chain.next() for _ in range(5)))
    channel, stub = query_stub(collector.address)
    with channel:
        size = open_checkpoint(stub.GetCheckpoint(pb.CheckpointRequest()).checkpoint,
                               [load_note_verifier(collector.data / "collector.vkey")]).size
        (dup,) = ship(collector.address, chain.segments[2])
        assert dup.status == pb.ACK_DUPLICATE and dup.leaf_index == 2
        fork = ChainWriter(key, lines=3, text="forged")
        forged = [fork.next() for _ in range(3)][2]
        (refused,) = ship(collector.address, forged)
        assert (refused.status, refused.code) == (pb.ACK_REFUSED, "equivocation")
        reply = stub.GetCheckpoint(pb.CheckpointRequest())
        assert open_checkpoint(reply.checkpoint, [load_note_verifier(
            collector.data / "collector.vkey")]).size == size, "a replay never moves the head"
        (evidence,) = list(stub.Equivocations(pb.EquivocationsRequest(agent="host-a")))
    assert evidence.seq == 2
    assert evidence.stored_header == chain.segments[2].header
    assert evidence.stored_signature == chain.segments[2].signature
    assert evidence.header == forged.header and evidence.signature == forged.signature
