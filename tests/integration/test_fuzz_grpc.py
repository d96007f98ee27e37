"""Hypothesis fuzzing of the gRPC messages themselves, sent as raw bytes to a real collector
over a real channel: Ship stream frames (random, and mutated valid segments), ChainHead,
LogConsistency and every Query RPC (random bytes, mutated valid requests, and requests with
random field values over each field's whole range).

Invariants: the process never crashes and no handler fails unexpectedly (gRPC's UNKNOWN is a
Python exception escaping a handler); nothing invalid is stored (an accepted segment parses
to the very segment already stored); afterwards the collector still serves a valid agent.
Example counts stay modest in normal runs (CI=true runs more).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

import grpc
import nacl.signing
import pytest
import zstandard
from google.protobuf.descriptor import FieldDescriptor
from google.protobuf.message import DecodeError, Message
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from agent._pb import sealtail_pb2 as pb
from agent.keys import format_public_key
from tests.chains import ChainWriter
from tests.integration.harness import Collector, ship

pytestmark = pytest.mark.integration

EXAMPLES = 150 if os.environ.get("CI") == "true" else 40
FUZZ = settings(max_examples=EXAMPLES, deadline=None,
                suppress_health_check=[HealthCheck.too_slow,
                                       HealthCheck.function_scoped_fixture])
KEY = nacl.signing.SigningKey(bytes([9]) * 32)
CHAIN = ChainWriter(KEY, name="fuzz", lines=4)
STORED = CHAIN.next()  # seq 0, stored before fuzzing: mutations of it must never pass
ZSTD = pb.Segment(header=STORED.header, signature=STORED.signature,
                  entries_zstd=zstandard.ZstdCompressor().compress(
                      pb.Segment(entries=STORED.entries).SerializeToString()))

# What a caller may be told; UNKNOWN would mean a handler raised (INTERNAL: gRPC's own).
EXPECTED = {grpc.StatusCode.INVALID_ARGUMENT, grpc.StatusCode.NOT_FOUND,
            grpc.StatusCode.FAILED_PRECONDITION, grpc.StatusCode.RESOURCE_EXHAUSTED}

UNARY: dict[str, Message] = {
    "/sealtail.v1.Ingest/ChainHead": pb.ChainHeadRequest(agent_key=bytes(KEY.verify_key)),
    "/sealtail.v1.Ingest/LogConsistency": pb.ConsistencyRequest(size1=1, size2=0),
    "/sealtail.v1.Query/Agents": pb.AgentsRequest(),
    "/sealtail.v1.Query/GetCheckpoint": pb.CheckpointRequest(),
    "/sealtail.v1.Query/InclusionProof": pb.InclusionRequest(agent="fuzz", seq=0, index=1),
    "/sealtail.v1.Query/ConsistencyProof": pb.ConsistencyRequest(size1=1, size2=1),
}
STREAMING: dict[str, Message] = {
    "/sealtail.v1.Query/Search": pb.SearchRequest(agent="fuzz", contains=b"line", limit=3),
    "/sealtail.v1.Query/Segments": pb.SegmentsRequest(agent="fuzz", headers_only=True),
    "/sealtail.v1.Query/Equivocations": pb.EquivocationsRequest(agent="fuzz"),
}
METHODS = {**UNARY, **STREAMING}


@pytest.fixture(scope="module")
def target(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Collector, grpc.Channel]]:
    work = tmp_path_factory.mktemp("fuzz-grpc")
    keys = work / "authorized_keys"
    keys.write_text(format_public_key(bytes(KEY.verify_key), "fuzz") + "\n")
    collector = Collector(work, keys)
    collector.start()
    try:
        assert ship(collector.address, STORED)[0].status == pb.ACK_STORED
        with grpc.insecure_channel(collector.address) as channel:
            yield collector, channel
        assert collector.alive(), collector.log()
        # Still serving a valid agent after everything above.
        (ack,) = ship(collector.address, CHAIN.next())
        assert ack.status == pb.ACK_STORED and ack.leaf_index == 1, ack
    finally:
        collector.stop()


@st.composite
def mutated(draw: st.DrawFn, data: bytes) -> bytes:
    """`data` with 1–4 byte flips, insertions, deletions or a truncation."""
    out = bytearray(data)
    for _ in range(draw(st.integers(1, 4))):
        op = draw(st.sampled_from(["flip", "insert", "delete", "truncate"]))
        i = draw(st.integers(0, max(len(out) - 1, 0)))
        if op == "flip" and out:
            out[i] ^= draw(st.integers(1, 255))
        elif op == "insert":
            out.insert(i, draw(st.integers(0, 255)))
        elif op == "delete" and out:
            del out[i]
        elif op == "truncate":
            del out[i:]
    return bytes(out)


def _values(field: FieldDescriptor) -> st.SearchStrategy[Any]:
    t = field.type
    if t == FieldDescriptor.TYPE_BOOL:
        return st.booleans()
    if t == FieldDescriptor.TYPE_STRING:
        return st.text(max_size=40)
    if t == FieldDescriptor.TYPE_BYTES:
        return st.binary(max_size=64)
    # Small values reach real rows; the edges reach what SQLite and Python ints disagree on.
    if t in (FieldDescriptor.TYPE_UINT64, FieldDescriptor.TYPE_FIXED64):
        return st.one_of(st.integers(0, 8), st.sampled_from([2**31, 2**32, 2**63 - 1, 2**63,
                                                             2**64 - 1]),
                         st.integers(0, 2**64 - 1))
    if t in (FieldDescriptor.TYPE_UINT32, FieldDescriptor.TYPE_FIXED32):
        return st.one_of(st.integers(0, 8), st.just(2**32 - 1), st.integers(0, 2**32 - 1))
    if t in (FieldDescriptor.TYPE_INT64, FieldDescriptor.TYPE_SINT64,
             FieldDescriptor.TYPE_SFIXED64):
        return st.one_of(st.integers(-2, 8), st.sampled_from([-2**63, 2**63 - 1]),
                         st.integers(-2**63, 2**63 - 1))
    if t in (FieldDescriptor.TYPE_INT32, FieldDescriptor.TYPE_SINT32,
             FieldDescriptor.TYPE_SFIXED32, FieldDescriptor.TYPE_ENUM):
        return st.integers(-2**31, 2**31 - 1)
    raise AssertionError(f"no strategy for field {field.full_name}")


@st.composite
def random_fields(draw: st.DrawFn, template: Message) -> bytes:
    """A request of `template`'s type with each field set to a random value of its type."""
    msg = type(template)()
    for field in msg.DESCRIPTOR.fields:
        if draw(st.booleans()):
            setattr(msg, field.name, draw(_values(field)))
    return msg.SerializeToString()


def request_bytes(method: str) -> st.SearchStrategy[bytes]:
    return st.one_of(st.binary(max_size=256), mutated(METHODS[method].SerializeToString()))


def call(channel: grpc.Channel, method: str, data: bytes) -> None:
    """One raw call; fails the test on UNKNOWN or any status a caller should never see."""
    try:
        if method in STREAMING:
            for _ in channel.unary_stream(method)(data, timeout=10):
                pass
        else:
            channel.unary_unary(method)(data, timeout=10)
    except grpc.RpcError as exc:
        assert exc.code() in EXPECTED, f"{method} {data!r}: {exc.code()} {exc.details()}"


@pytest.mark.parametrize("method", sorted(METHODS))
def test_random_and_mutated_request_bytes_never_break_an_rpc(
        target: tuple[Collector, grpc.Channel], method: str) -> None:
    """Each unary and server-streaming RPC answers any bytes with a result or a clean
    error status (INVALID_ARGUMENT for what is not protobuf); the process stays up."""
    collector, channel = target

    @FUZZ
    @given(request_bytes(method))
    def run(data: bytes) -> None:
        call(channel, method, data)

    run()
    assert collector.alive(), collector.log()


@pytest.mark.parametrize("method", sorted(METHODS))
def test_requests_with_any_field_values_never_break_an_rpc(
        target: tuple[Collector, grpc.Channel], method: str) -> None:
    """Well-formed requests with every field anywhere in its range (2^64-1 seqs, negative
    times, odd names) get a result or a clean error status."""
    collector, channel = target

    @FUZZ
    @given(random_fields(METHODS[method]))
    def run(data: bytes) -> None:
        call(channel, method, data)

    run()
    assert collector.alive(), collector.log()


def ship_raw(channel: grpc.Channel, frames: list[bytes]) -> list[pb.Ack]:
    stream = channel.stream_stream("/sealtail.v1.Ingest/Ship",
                                   response_deserializer=pb.Ack.FromString)
    try:
        return list(stream(iter(frames), timeout=20))
    except grpc.RpcError as exc:
        assert exc.code() in EXPECTED, f"Ship: {exc.code()} {exc.details()}"
        return []


def same_segment(data: bytes, original: pb.Segment) -> bool:
    """Whether `data` parses to `original`'s header, signature and entries (or its zstd)."""
    try:
        seg = pb.Segment.FromString(data)
    except DecodeError:
        return False
    return (seg.header, seg.signature, list(seg.entries), seg.entries_zstd) == (
        original.header, original.signature, list(original.entries), original.entries_zstd)


@FUZZ
@given(st.lists(st.binary(max_size=512), min_size=1, max_size=4))
def test_random_ship_frames_are_never_stored(
        target: tuple[Collector, grpc.Channel], frames: list[bytes]) -> None:
    """Random bytes as Segment frames: refused acks or a clean error, never stored."""
    _, channel = target
    for ack in ship_raw(channel, frames):
        assert ack.status == pb.ACK_REFUSED, ack


@FUZZ
@given(st.sampled_from([STORED, ZSTD]).flatmap(
    lambda seg: st.tuples(st.just(seg), mutated(seg.SerializeToString()))))
def test_mutated_valid_segments_are_refused_unless_unchanged(
        target: tuple[Collector, grpc.Channel], case: tuple[pb.Segment, bytes]) -> None:
    """A mutated copy of a stored segment is refused, unless it still parses to the same
    segment (then it is a duplicate of what is stored, not something new)."""
    _, channel = target
    original, data = case
    for ack in ship_raw(channel, [data]):
        if same_segment(data, original):
            assert ack.status == pb.ACK_DUPLICATE, ack
        else:
            assert ack.status != pb.ACK_STORED, ack
