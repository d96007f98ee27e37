"""Access control: the allow-list (reloaded on SIGHUP), one name per key, query tokens."""

from __future__ import annotations

import signal
from pathlib import Path

import grpc
import pytest

from agent._pb import sealtail_pb2 as pb
from agent.keys import load_signing_key
from tests.chains import ChainWriter
from tests.integration.harness import Collector, make_key, query_stub, run_cli, ship, wait_until

pytestmark = pytest.mark.integration


def test_a_revoked_key_can_no_longer_write_and_its_past_segments_still_verify(
        tmp_path: Path, collector: Collector, authorized_keys: Path, agent_key: Path) -> None:
    """SIGHUP reloads the allow-list without a restart."""
    b_key = make_key(tmp_path, "b.key")
    authorized_keys.write_text(Path(f"{agent_key}.pub").read_text()
                               + Path(f"{b_key}.pub").read_text())
    assert collector.proc is not None
    collector.proc.send_signal(signal.SIGHUP)
    wait_until(lambda: "reloaded 2 authorized keys" in collector.log(), 10, message="reload")
    b = ChainWriter(load_signing_key(b_key), name="host-b", lines=3)
    assert [a.status for a in ship(collector.address, b.next(), b.next())] == [pb.ACK_STORED] * 2

    authorized_keys.write_text(Path(f"{agent_key}.pub").read_text())  # revoke host-b
    collector.proc.send_signal(signal.SIGHUP)
    wait_until(lambda: "reloaded 1 authorized keys" in collector.log(), 10, message="reload")
    (ack,) = ship(collector.address, b.next())
    assert (ack.status, ack.code) == (pb.ACK_REFUSED, "unknown_key")
    out = run_cli("verify", "--collector", collector.address).stdout
    assert out.startswith("OK: 1 agents, 2 segments, 6 lines") and "host-b" in out


def test_a_key_cannot_write_as_another_agents_name(
        tmp_path: Path, collector: Collector, authorized_keys: Path, agent_key: Path) -> None:
    """host-a's name belongs to host-a's key: another allowed key is refused (name_taken),
    and host-a's key cannot switch to another name (origin_mismatch)."""
    c_key = make_key(tmp_path, "c.key")
    authorized_keys.write_text(authorized_keys.read_text() + Path(f"{c_key}.pub").read_text())
    assert collector.proc is not None
    collector.proc.send_signal(signal.SIGHUP)
    wait_until(lambda: "reloaded 2 authorized keys" in collector.log(), 10, message="reload")
    a = ChainWriter(load_signing_key(agent_key), name="host-a", lines=2)
    assert ship(collector.address, a.next())[0].status == pb.ACK_STORED
    impostor = ChainWriter(load_signing_key(c_key), name="host-a", lines=2)
    (ack,) = ship(collector.address, impostor.next())
    assert (ack.status, ack.code) == (pb.ACK_REFUSED, "name_taken")
    renamed = ChainWriter(load_signing_key(agent_key), name="host-z", lines=2)
    renamed.seq, renamed.prev, renamed.lines_total = a.seq, a.prev, a.lines_total
    (ack,) = ship(collector.address, renamed.next())
    assert (ack.status, ack.code) == (pb.ACK_REFUSED, "origin_mismatch")
    assert collector.count() == 2


def test_queries_without_the_required_token_are_refused(
        tmp_path: Path, authorized_keys: Path, agent_key: Path) -> None:
    """With collector.query_token_file, every Query RPC needs the bearer token; ingest and
    health do not."""
    token = tmp_path / "query.token"
    token.write_text("s3cret-token\n")
    wrong = tmp_path / "wrong.token"
    wrong.write_text("guess\n")
    collector = Collector(tmp_path, authorized_keys, extra_args=("--query-token-file",
                                                                 str(token)))
    collector.start()  # waits for health: open without a token
    try:
        chain = ChainWriter(load_signing_key(agent_key), lines=3)
        assert ship(collector.address, chain.next())[0].status == pb.ACK_STORED
        for args in ((), ("--token-file", str(wrong))):
            proc = run_cli("query", "--collector", collector.address, "--count", *args,
                           check=False)
            assert proc.returncode == 1 and "UNAUTHENTICATED" in proc.stderr
        proc = run_cli("verify", "--collector", collector.address, check=False)
        assert proc.returncode != 0 and "UNAUTHENTICATED" in proc.stderr
        channel, stub = query_stub(collector.address)
        with channel, pytest.raises(grpc.RpcError) as info:
            list(stub.Equivocations(pb.EquivocationsRequest()))
        assert info.value.code() == grpc.StatusCode.UNAUTHENTICATED
        ok = run_cli("query", "--collector", collector.address, "--count", "--token-file",
                     str(token))
        assert ok.stdout.strip() == "3"
        run_cli("verify", "--collector", collector.address, "--token-file", str(token))
    finally:
        collector.stop()
