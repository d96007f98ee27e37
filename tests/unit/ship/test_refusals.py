"""The shipper against a real in-process collector: refusals carry the collector's code;
retryable ones back off normally, permanent ones stop shipping and never hot-loop."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncIterator
from pathlib import Path

import grpc
import nacl.signing
import pytest

from agent.collector import Checkpointer, build_server
from agent.config import ShipConfig
from agent.errors import ErrorCode, StoreError
from agent.formats import VerifiedSegment
from agent.ship import Shipper, ShipState
from agent.spool import Spool
from agent.store import AppendResult, SQLiteStore
from tests.unit.spool.test_spool import PUB, append_chain

FAST = ShipConfig(backoff_initial_ms=50, backoff_max_ms=4000)


class FlakyStore(SQLiteStore):
    """A store whose first `failures` appends fail like a disk I/O error."""

    failures = 0

    async def append(self, seg: VerifiedSegment) -> AppendResult:
        if self.failures > 0:
            self.failures -= 1
            raise StoreError(f"{self.path}: cannot store segment: disk I/O error")
        return await super().append(seg)


@contextlib.asynccontextmanager
async def serving(tmp_path: Path, authorized: frozenset[bytes], failures: int = 0,
                  ) -> AsyncIterator[tuple[str, FlakyStore]]:
    store = FlakyStore(tmp_path / "data")
    store.failures = failures
    checkpoints = Checkpointer.open(store, nacl.signing.SigningKey(bytes([3]) * 32))
    server, port, _ = await build_server("127.0.0.1:0", store, authorized,
                                         max_message_bytes=1 << 24, checkpoints=checkpoints)
    try:
        yield f"127.0.0.1:{port}", store
    finally:
        await server.stop(None)
        store.close()


async def test_transient_store_failure_is_retried_soon_with_its_real_code(
        tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    """store_failed is reported as store_failed (not malformed_segment) and retried with the
    normal backoff, far sooner than backoff_max_ms."""
    caplog.set_level(logging.INFO)
    async with serving(tmp_path, frozenset({PUB}), failures=2) as (address, store):
        spool = Spool.open(tmp_path / "state", PUB)
        await append_chain(spool, 3)
        shipper = Shipper(FAST, address, spool)
        started = time.monotonic()
        task = asyncio.create_task(shipper.run())
        try:
            await asyncio.wait_for(shipper.wait_drained(), 10)
        finally:
            task.cancel()
        assert time.monotonic() - started < FAST.backoff_max_ms / 1000
        assert store.failures == 0
        st = shipper.statistics()
        assert st.refusals >= 1 and st.last_code == ErrorCode.STORE_FAILED
        assert st.state == ShipState.SHIPPING
        assert "malformed_segment" not in caplog.text and "store_failed" in caplog.text


async def test_permanent_refusal_stops_shipping_is_reported_and_never_hot_loops(
        tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    """unknown_key: ERROR log, state refused with the code, one attempt per backoff_max_ms."""
    async with serving(tmp_path, frozenset()) as (address, _):
        spool = Spool.open(tmp_path / "state", PUB)
        await append_chain(spool, 2)
        shipper = Shipper(FAST, address, spool)
        task = asyncio.create_task(shipper.run())
        try:
            await asyncio.sleep(2.0)
        finally:
            task.cancel()
        st = shipper.statistics()
        assert st.state == ShipState.REFUSED and st.last_code == ErrorCode.UNKNOWN_KEY
        assert st.refusals == 1, "retried before backoff_max_ms"
        assert spool.pending_seqs() == [0, 1]
        errors = [r for r in caplog.records if r.levelno == logging.ERROR]
        assert errors and "refused a segment permanently" in errors[0].getMessage()
        assert "unknown_key" in errors[0].getMessage()
        assert "add this agent's .pub key to the collector's authorized_keys" in (
            errors[0].getMessage())


async def test_resource_exhausted_is_a_retryable_overload(tmp_path: Path) -> None:
    """A collector at max_streams answers RESOURCE_EXHAUSTED; the agent backs off and
    reports overloaded, then ships once a stream is free."""
    store = SQLiteStore(tmp_path / "data")
    checkpoints = Checkpointer.open(store, nacl.signing.SigningKey(bytes([3]) * 32))
    server, port, ingest = await build_server(
        "127.0.0.1:0", store, frozenset({PUB}), max_message_bytes=1 << 24,
        checkpoints=checkpoints, max_streams=1)
    try:
        address = f"127.0.0.1:{port}"
        async with grpc.aio.insecure_channel(address) as channel:
            from agent._pb import sealtail_pb2_grpc as pb_grpc

            hog_requests: asyncio.Queue[None] = asyncio.Queue(1)

            async def nothing() -> AsyncIterator[object]:
                await hog_requests.get()
                return
                yield  # pragma: no cover

            hog = pb_grpc.IngestStub(channel).Ship(nothing())
            await asyncio.sleep(0.3)  # the hog holds the only stream
            assert ingest.stats.streams == 1
            spool = Spool.open(tmp_path / "state", PUB)
            await append_chain(spool, 1)
            shipper = Shipper(FAST, address, spool)
            task = asyncio.create_task(shipper.run())
            try:
                await asyncio.sleep(1.0)
                st = shipper.statistics()
                assert st.state == ShipState.BACKOFF and st.last_code == ErrorCode.OVERLOADED
                assert ingest.stats.overloaded >= 1
                await hog_requests.put(None)
                hog.cancel()
                await asyncio.wait_for(shipper.wait_drained(), 10)
            finally:
                task.cancel()
    finally:
        await server.stop(None)
        store.close()
