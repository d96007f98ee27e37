"""zstd on the wire: negotiated per stream, leaf bytes unchanged, hostile frames refused."""

from __future__ import annotations

import asyncio
import dataclasses
from pathlib import Path

import grpc
import pytest

from agent._pb import sealtail_pb2 as pb
from agent._pb import sealtail_pb2_grpc as pb_grpc
from agent.ship import Shipper
from agent.spool import Spool
from tests.unit.ship.test_refusals import FAST, serving
from tests.unit.spool.test_spool import PUB, append_chain


@pytest.mark.parametrize("compression", ["zstd", "zstd-parsed", "none"])
async def test_segments_travel_compressed_when_both_sides_agree_and_store_identically(
        tmp_path: Path, compression: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """With zstd the bytes sent shrink; either way the stored entries are the spooled ones.
    zstd-parsed: the fallback for a spool payload split_segment declines (parse, re-encode)."""
    if compression == "zstd-parsed":
        monkeypatch.setattr("agent.ship._shipper.split_segment", lambda payload: None)
        compression = "zstd"
    async with serving(tmp_path, frozenset({PUB})) as (address, store):
        spool = Spool.open(tmp_path / "state", PUB)
        segs = await append_chain(spool, 3)
        shipper = Shipper(dataclasses.replace(FAST, compression=compression), address, spool)
        task = asyncio.create_task(shipper.run())
        try:
            await asyncio.wait_for(shipper.wait_drained(), 10)
        finally:
            task.cancel()
        st = shipper.statistics()
        assert st.encoding == compression
        if compression == "zstd":
            assert st.bytes_sent < st.bytes_uncompressed
        else:
            assert st.bytes_sent == st.bytes_uncompressed
        stored = [e for i in range(1, 4) for e in store.entries_of(i)]
        assert stored == [e for s in segs for e in s.entries]


async def test_a_garbage_zstd_frame_is_refused_not_a_crash(tmp_path: Path) -> None:
    """entries_zstd that does not decompress: the segment is refused, the stream survives."""
    async with serving(tmp_path, frozenset({PUB})) as (address, _):
        spool = Spool.open(tmp_path / "state", PUB)
        (seg,) = await append_chain(spool, 1)
        bad = pb.Segment(header=seg.header, signature=seg.signature,
                         entries_zstd=b"\x28\xb5\x2f\xfd" + b"\xff" * 64)
        async with grpc.aio.insecure_channel(address) as channel:
            acks = [a async for a in pb_grpc.IngestStub(channel).Ship(iter([bad]))]
        assert len(acks) == 1 and acks[0].status == pb.ACK_REFUSED
