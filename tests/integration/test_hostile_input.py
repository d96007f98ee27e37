"""Garbage, forgeries and absurd claims on the collector's port: each refused with a clear
status, and the collector keeps serving everyone else."""

from __future__ import annotations

import contextlib
import os
import socket
from pathlib import Path

import grpc
import nacl.signing
import pytest

from agent._pb import sealtail_pb2 as pb
from agent._pb import sealtail_pb2_grpc as pb_grpc
from agent.formats import ZERO_HASH, build_header, encode_entry, sign_header
from agent.keys import load_signing_key
from agent.records import Cursor, FileIdentity, Label, RawLine
from tests.integration.harness import Collector

pytestmark = pytest.mark.integration


def make_segment(key: nacl.signing.SigningKey, *, signer: nacl.signing.SigningKey | None = None,
                 count: int | None = None, lines: int = 3) -> pb.Segment:
    entries = [encode_entry(RawLine(f"line {i}".encode(), i * 7, 1000 + i), 0,
                            Label("normal", 1, 1.0)) for i in range(lines)]
    header_bytes = build_header(
        agent_name="host-a", agent_key=bytes(key.verify_key), boot_id=b"x" * 16, seq=0,
        prev_hash=ZERO_HASH, entries=entries, t_first_ns=1000, t_last_ns=1000 + lines,
        sources=[Cursor("/var/log/x.log", FileIdentity(1, 1, b"\0" * 32, 0), lines * 7)],
        lines_before=0)
    if count is not None:
        header = pb.SegmentHeader.FromString(header_bytes)
        header.count = count
        header_bytes = header.SerializeToString()
    return pb.Segment(header=header_bytes, signature=sign_header(signer or key, header_bytes),
                      entries=entries)


def ship(address: str, *segments: pb.Segment) -> list[pb.Ack]:
    with grpc.insecure_channel(address) as channel:
        return list(pb_grpc.IngestStub(channel).Ship(iter(segments), timeout=10))


def assert_still_serving(collector: Collector) -> None:
    collector.wait_serving(timeout=5)
    assert collector.count() >= 0


def test_random_bytes_on_the_port_do_not_disturb_the_collector(collector: Collector) -> None:
    for payload in (os.urandom(65536), b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n" + os.urandom(4096),
                    b"GET / HTTP/1.1\r\nHost: x\r\n\r\n"):
        with socket.create_connection(("127.0.0.1", collector.port), timeout=5) as s:
            s.sendall(payload)
            s.settimeout(2)
            with contextlib.suppress(TimeoutError, ConnectionResetError):
                s.recv(1024)
    assert_still_serving(collector)
    assert collector.alive()


def test_a_message_that_is_not_a_segment_is_rejected_with_a_status(
        collector: Collector) -> None:
    with grpc.insecure_channel(collector.address) as channel:
        raw = channel.stream_stream("/sealtail.v1.Ingest/Ship",
                                    request_serializer=lambda b: b,
                                    response_deserializer=lambda b: b)
        with pytest.raises(grpc.RpcError) as info:
            list(raw(iter([b"\xff\xff\xff\xff not protobuf"]), timeout=10))
    assert info.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert "not a valid protobuf message" in str(info.value.details())
    assert_still_serving(collector)


def test_a_garbage_header_is_refused_as_malformed(collector: Collector) -> None:
    (ack,) = ship(collector.address, pb.Segment(header=b"\xff" * 40, signature=b"", entries=[]))
    assert ack.status == pb.ACK_REFUSED and ack.code == "malformed_segment"
    assert_still_serving(collector)


def test_a_valid_segment_with_a_wrong_signature_is_refused(
        collector: Collector, agent_key: Path) -> None:
    key = load_signing_key(agent_key)
    forged = make_segment(key, signer=nacl.signing.SigningKey.generate())
    (ack,) = ship(collector.address, forged)
    assert ack.status == pb.ACK_REFUSED and ack.code == "bad_signature"
    assert collector.count() == 0
    (ack,) = ship(collector.address, make_segment(key))  # the genuine one still goes in
    assert ack.status == pb.ACK_STORED
    assert collector.count() == 3


def test_a_header_claiming_a_billion_entries_is_refused(
        collector: Collector, agent_key: Path) -> None:
    key = load_signing_key(agent_key)
    (ack,) = ship(collector.address, make_segment(key, count=10**9))
    assert ack.status == pb.ACK_REFUSED and ack.code == "count_mismatch"
    assert "1000000000" in ack.message
    assert_still_serving(collector)


def test_same_seq_with_different_content_is_refused_as_equivocation(
        collector: Collector, agent_key: Path) -> None:
    key = load_signing_key(agent_key)
    first, second = make_segment(key, lines=3), make_segment(key, lines=4)
    assert ship(collector.address, first)[0].status == pb.ACK_STORED
    assert ship(collector.address, first)[0].status == pb.ACK_DUPLICATE
    ack = ship(collector.address, second)[0]
    assert ack.status == pb.ACK_REFUSED and ack.code == "equivocation"
    assert collector.count() == 3
