"""The ship stage: stream spooled segments to the collector, delete them when acknowledged."""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import AsyncIterator
from dataclasses import dataclass

import grpc

from agent._pb import sealtail_pb2 as pb
from agent._pb import sealtail_pb2_grpc as pb_grpc
from agent.config import ShipConfig
from agent.errors import CollectorRejected, CollectorUnavailable, ErrorCode, VerificationError
from agent.formats import (
    Checkpoint,
    NoteVerifier,
    leaf_hash,
    open_checkpoint,
    peek_checkpoint,
    segment_hash,
    verify_inclusion,
)
from agent.records import ChainHead
from agent.spool import Spool

log = logging.getLogger("sealtail.ship")

# gRPC keepalive so a half-open connection is noticed instead of waiting forever.
CHANNEL_OPTIONS = [
    ("grpc.keepalive_time_ms", 20_000),
    ("grpc.keepalive_timeout_ms", 10_000),
    ("grpc.keepalive_permit_without_calls", 1),
    ("grpc.max_send_message_length", 64 * 1024 * 1024),
    ("grpc.max_receive_message_length", 16 * 1024 * 1024),
]


@dataclass(frozen=True, slots=True)
class ShipStatistics:
    segments_sent: int
    segments_acked: int
    refusals: int
    reconnects: int
    connected: bool
    last_error: str


class Shipper:
    """Keeps one bidirectional stream to the collector; sends every spooled segment in seq
    order, at most `max_in_flight` unacknowledged, and re-sends after a reconnect.

    Refusals are logged loudly; the connection is then retried with the largest backoff, so a
    refused agent never hammers the collector.

    Each ack carries a signed checkpoint of the collector-wide log covering the segment, and
    the segment's inclusion proof in it. With `collector_key`, an ack whose checkpoint does not
    verify, or does not include the segment, is treated as a refusal (the segment stays in the
    spool). The largest checkpoint received is kept as the agent's anchor.
    """

    def __init__(self, config: ShipConfig, address: str, spool: Spool, *,
                 collector_key: NoteVerifier | None = None) -> None:
        self._config = config
        self._address = address
        self._spool = spool
        self._collector_key = collector_key
        self._hashes: dict[int, bytes] = {}  # seq -> segment hash, for segments in flight
        self._anchor_size = -1
        if spool.anchor is not None:
            try:
                self._anchor_size = peek_checkpoint(spool.anchor).size
            except VerificationError as exc:
                log.error("%s: unreadable anchor, it will be replaced: %s", spool.anchor_file,
                          exc)
        self._warned_unverified = False
        self._sent = self._acked = self._refusals = self._reconnects = 0
        self._connected = False
        self._last_error = ""
        self._drained = asyncio.Event()

    def statistics(self) -> ShipStatistics:
        return ShipStatistics(self._sent, self._acked, self._refusals, self._reconnects,
                              self._connected, self._last_error)

    async def wait_drained(self) -> None:
        """Wait until the spool holds no unacknowledged segment."""
        while self._spool.pending_seqs():
            self._drained.clear()
            await self._drained.wait()

    async def run(self) -> None:
        delay = self._config.backoff_initial_ms / 1000
        cap = self._config.backoff_max_ms / 1000
        while True:
            refused = False
            try:
                await self._session()
                delay = self._config.backoff_initial_ms / 1000
            except grpc.aio.AioRpcError as exc:
                self._last_error = f"{exc.code().name}: {exc.details()}"
                log.warning("collector %s: %s; reconnecting", self._address, self._last_error)
            except CollectorRejected as exc:
                self._refusals += 1
                self._last_error = str(exc)
                log.error("collector %s refused a segment: %s", self._address, exc)
                refused = True
            finally:
                self._connected = False
            # Full jitter: sleep uniformly in [0, delay] so many agents do not reconnect in step.
            # A refusal waits the full cap: retrying it sooner cannot help.
            await asyncio.sleep(cap if refused else random.uniform(0, delay))
            delay = min(cap, delay * 2)
            self._reconnects += 1

    async def _session(self) -> None:
        async with grpc.aio.insecure_channel(self._address, options=CHANNEL_OPTIONS) as channel:
            stub = pb_grpc.IngestStub(channel)
            window = asyncio.Semaphore(self._config.max_in_flight)
            in_flight: list[int] = []
            call = stub.Ship(self._outgoing(window, in_flight))
            async for ack in call:
                self._connected = True
                await self._handle_ack(ack, window, in_flight)

    async def _outgoing(self, window: asyncio.Semaphore,
                        in_flight: list[int]) -> AsyncIterator[pb.Segment]:
        next_seq: int | None = None
        while True:
            seen = self._spool.appended  # read before listing: no append can slip between
            pending = [s for s in self._spool.pending_seqs() if next_seq is None or s >= next_seq]
            if not pending:
                await self._spool.wait_for_segment(seen)
                continue
            for seq in pending:
                await window.acquire()
                if seq not in self._spool.pending_seqs():  # acknowledged meanwhile
                    window.release()
                    continue
                payload = await self._spool.read(seq)
                segment = pb.Segment.FromString(payload)
                self._hashes[seq] = segment_hash(segment.header)
                in_flight.append(seq)
                self._sent += 1
                self._connected = True
                yield segment
                next_seq = seq + 1

    async def _handle_ack(self, ack: pb.Ack, window: asyncio.Semaphore,
                          in_flight: list[int]) -> None:
        if ack.seq in in_flight:
            in_flight.remove(ack.seq)
            window.release()
        if ack.status == pb.ACK_REFUSED:
            raise CollectorRejected(f"segment seq={ack.seq}: {ack.message} ({ack.code})")
        anchor = self._check_checkpoint(ack)
        await self._spool.ack(ack.seq, anchor=anchor)
        self._hashes.pop(ack.seq, None)
        self._acked += 1
        if ack.status == pb.ACK_DUPLICATE:
            log.info("segment seq=%d was already stored (leaf %d)", ack.seq, ack.leaf_index)
        else:
            log.info("acknowledged segment seq=%d (leaf %d)", ack.seq, ack.leaf_index)
        if not self._spool.pending_seqs():
            self._drained.set()

    def _check_checkpoint(self, ack: pb.Ack) -> bytes | None:
        """The ack's checkpoint if it should become the new anchor; raises if it is bad."""
        if not ack.checkpoint:
            raise CollectorRejected(f"segment seq={ack.seq}: the ack carries no checkpoint",
                                    code=ErrorCode.MALFORMED_CHECKPOINT)
        cp: Checkpoint
        try:
            if self._collector_key is None:
                if not self._warned_unverified:
                    log.warning("no collector key configured (agent.collector_key): keeping "
                                "checkpoints from %s without verifying their signature",
                                self._address)
                    self._warned_unverified = True
                cp = peek_checkpoint(ack.checkpoint)
            else:
                cp = open_checkpoint(ack.checkpoint, [self._collector_key],
                                     origin=self._collector_key.name).checkpoint
        except VerificationError as exc:
            raise CollectorRejected(f"segment seq={ack.seq}: the ack's checkpoint: {exc}",
                                    code=exc.code) from exc
        seg_hash = self._hashes.get(ack.seq)
        if seg_hash is not None and not verify_inclusion(
                ack.leaf_index, cp.size, leaf_hash(seg_hash), list(ack.inclusion), cp.root):
            raise CollectorRejected(f"segment seq={ack.seq}: not included at leaf "
                                    f"{ack.leaf_index} of the acknowledged checkpoint",
                                    code=ErrorCode.BAD_PROOF)
        if cp.size > self._anchor_size:
            self._anchor_size = cp.size
            return ack.checkpoint
        return None


async def fetch_chain_head(address: str, agent_key: bytes, *,
                           timeout_secs: float | None) -> ChainHead | None:
    """Ask the collector where this key's chain stands (None: it holds nothing from it).

    Retries with backoff until `timeout_secs` (None: forever); raises CollectorUnavailable
    when the time is up.
    """
    loop = asyncio.get_running_loop()
    deadline = None if timeout_secs is None else loop.time() + timeout_secs
    delay = 0.2
    while True:
        try:
            async with grpc.aio.insecure_channel(address, options=CHANNEL_OPTIONS) as channel:
                reply = await pb_grpc.IngestStub(channel).ChainHead(
                    pb.ChainHeadRequest(agent_key=agent_key), timeout=10)
            if not reply.found:
                return None
            return ChainHead(reply.next_seq, reply.last_hash, reply.lines_total)
        except grpc.aio.AioRpcError as exc:
            if deadline is not None and loop.time() + delay > deadline:
                raise CollectorUnavailable(
                    f"collector {address}: {exc.code().name}: {exc.details()}") from exc
            log.warning("asking collector %s for the chain head: %s; retrying", address,
                        exc.code().name)
            await asyncio.sleep(random.uniform(0, delay))
            delay = min(30.0, delay * 2)
