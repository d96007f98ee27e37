"""The ship stage: stream spooled segments to the collector, delete them when acknowledged."""

from __future__ import annotations

import asyncio
import enum
import logging
import random
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import grpc
import zstandard

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
    split_segment,
    verify_consistency,
    verify_inclusion,
)
from agent.records import ChainHead
from agent.spool import Spool
from agent.tls import PLAINTEXT, ClientTLS, open_aio_channel

log = logging.getLogger("sealtail.ship")

ENCODINGS_KEY = "sealtail-encodings"  # the collector's Ship initial metadata (see proto)
NEGOTIATION_SECS = 5.0
HEAD_REPORT_SECS = 60.0  # how often a still-unanswered ChainHead is logged again

CHANNEL_OPTIONS = [
    ("grpc.keepalive_time_ms", 20_000),
    ("grpc.keepalive_timeout_ms", 10_000),
    ("grpc.keepalive_permit_without_calls", 1),
    ("grpc.max_send_message_length", 64 * 1024 * 1024),
    ("grpc.max_receive_message_length", 16 * 1024 * 1024),
]


def channel_options(config: ShipConfig) -> list[tuple[str, int]]:
    """Keepalive pings so a half-open connection (no FIN, no RST: a vanished peer or NAT
    entry) is noticed within keepalive_time + keepalive_timeout instead of TCP's minutes."""
    return [
        ("grpc.keepalive_time_ms", config.keepalive_time_ms),
        ("grpc.keepalive_timeout_ms", config.keepalive_timeout_ms),
        ("grpc.keepalive_permit_without_calls", 1),
        ("grpc.http2.max_pings_without_data", 0),  # keep pinging while a send is stalled
        ("grpc.http2.min_time_between_pings_ms", config.keepalive_time_ms),
        # Recent gRPC cores time out every ping (keepalive or BDP) with this, not with
        # keepalive_timeout_ms alone: without it a stalled connection waits a minute.
        ("grpc.http2.ping_timeout_ms", config.keepalive_timeout_ms),
        ("grpc.max_send_message_length", 64 * 1024 * 1024),
        ("grpc.max_receive_message_length", 16 * 1024 * 1024),
    ]


# Refusals that may pass on a later try: the collector's store failed, it is overloaded, or
# the chain does not continue yet (an earlier segment is still being retried). Everything
# else (unknown_key, equivocation, malformed_segment, bad_signature, name_taken,
# origin_mismatch, a bad checkpoint in an ack...) cannot pass without an operator: shipping
# stops and is retried only every backoff_max_ms.
# An ack whose checkpoint contradicts the anchor: the collector changed its history.
HISTORY_CODES = frozenset({ErrorCode.INCONSISTENT_HISTORY, ErrorCode.ROLLBACK})
# What an operator should do about a permanent refusal, by its code.
REFUSAL_ADVICE: dict[str, str] = {
    ErrorCode.UNKNOWN_KEY: "add this agent's .pub key to the collector's authorized_keys",
    ErrorCode.NAME_TAKEN: "another key already writes under this agent name: give this "
                          "agent its own agent.name",
    ErrorCode.ORIGIN_MISMATCH: "this key already writes under another agent name: put that "
                               "name back in agent.name",
    ErrorCode.EQUIVOCATION: "the collector holds a different segment with this seq from this "
                            "key: a lost state directory, a copied key, or two agents on one "
                            "key; list them with `sealtail equivocations`",
}
RETRYABLE_CODES = frozenset({ErrorCode.STORE_FAILED, ErrorCode.OVERLOADED, ErrorCode.CHAIN_GAP,
                             ErrorCode.COLLECTOR_UNAVAILABLE})


class ShipState(enum.StrEnum):
    CONNECTING = "connecting"  # opening a stream
    SHIPPING = "shipping"  # a stream is open and acknowledging
    BACKOFF = "backoff"  # the last attempt failed (network, overload, retryable refusal)
    REFUSED = "refused"  # a permanent refusal: waiting backoff_max_ms for an operator fix


@dataclass(frozen=True, slots=True)
class ShipStatistics:
    segments_sent: int
    segments_acked: int
    refusals: int
    reconnects: int
    connected: bool
    last_error: str
    state: ShipState = ShipState.CONNECTING
    last_code: str = ""  # ErrorCode of the last failure ("" when none)
    encoding: str = ""  # of the current stream: "zstd" or "none"
    bytes_sent: int = 0  # Segment messages as sent (compressed when encoding is zstd)
    bytes_uncompressed: int = 0  # the same messages before compression
    history_failures: int = 0  # ack checkpoints not consistent with the anchor (refused)
    anchor_size: int = -1  # tree size of the kept anchor (-1: none yet)
    # The state directory holds no chain head and the collector has not answered ChainHead
    # yet: nothing is sealed until it does (see Shipper.wait_chain_head).
    awaiting_chain_head: bool = False


class Shipper:
    """Keeps one bidirectional stream to the collector; sends every spooled segment in seq
    order, at most `max_in_flight` unacknowledged, and re-sends after a reconnect.

    Failures are split by the code the collector gave: retryable ones (store_failed,
    overloaded, chain_gap, network errors, RESOURCE_EXHAUSTED) reconnect with exponential
    backoff and full jitter; permanent ones (see RETRYABLE_CODES) are logged at ERROR, shown as
    state `refused` in `statistics()`, and retried only every `backoff_max_ms`, in case an
    operator fixes the allow-list: never a hot loop.

    Each ack carries a signed checkpoint of the collector-wide log covering the segment, and
    the segment's inclusion proof in it. With `collector_key`, an ack whose checkpoint does not
    verify, or does not include the segment, is treated as a refusal (the segment stays in the
    spool). The largest checkpoint received is kept as the agent's anchor.
    """

    def __init__(self, config: ShipConfig, address: str, spool: Spool, *,
                 collector_key: NoteVerifier | None = None, tls: ClientTLS = PLAINTEXT) -> None:
        self._config = config
        self._address = address
        self._tls = tls
        self._explained: dict[str, str | None] = {}  # gRPC failure details -> TLS hint
        self._spool = spool
        self._collector_key = collector_key
        self._hashes: dict[int, bytes] = {}  # seq -> segment hash, for segments in flight
        self._anchor: Checkpoint | None = None  # the latest checkpoint kept (state/anchor)
        self._history_failures = 0
        self._stub: pb_grpc.IngestStub | None = None  # of the current session
        if spool.anchor is not None:
            try:
                self._anchor = peek_checkpoint(spool.anchor)
            except VerificationError as exc:
                log.error("%s: unreadable anchor, it will be replaced: %s", spool.anchor_file,
                          exc)
        self._warned_unverified = False
        self._sent = self._acked = self._refusals = self._reconnects = 0
        self._connected = False
        self._last_error = ""
        self._last_code = ""
        self._state = ShipState.CONNECTING
        self._progress = False  # an ack arrived in the current session
        self._encoding = ""
        self._bytes_sent = self._bytes_raw = 0
        self._zstd = zstandard.ZstdCompressor(level=1)
        self._drained = asyncio.Event()
        self._awaiting_head = False
        self._outgoing_error: Exception | None = None  # what ended the request iterator

    def statistics(self) -> ShipStatistics:
        return ShipStatistics(self._sent, self._acked, self._refusals, self._reconnects,
                              self._connected, self._last_error, self._state, self._last_code,
                              self._encoding, self._bytes_sent, self._bytes_raw,
                              self._history_failures,
                              -1 if self._anchor is None else self._anchor.size,
                              self._awaiting_head)

    async def wait_chain_head(self, agent_key: bytes, *,
                              report_every_secs: float = HEAD_REPORT_SECS) -> ChainHead | None:
        """Ask the collector where this key's chain stands until it answers (None: it holds
        nothing from this key), with backoff between tries; never gives up.

        Used when the state directory holds no chain head: guessing seq 0 would fork the
        chain if the state was lost. Logged at ERROR once, then every `report_every_secs`;
        meanwhile `statistics()` shows `awaiting_chain_head` and state backoff.
        """
        loop = asyncio.get_running_loop()
        initial = self._config.backoff_initial_ms / 1000
        cap = max(initial, self._config.backoff_max_ms / 1000)
        delay = initial
        reported_at: float | None = None
        self._awaiting_head = True
        try:
            while True:
                try:
                    return await ask_chain_head(self._address, agent_key, tls=self._tls,
                                                timeout_secs=self._config.ack_timeout_secs)
                except grpc.aio.AioRpcError as exc:
                    hint = await self._explain(exc)
                    why = f"{exc.code().name}: {exc.details()}" + (f" ({hint})" if hint else "")
                self._state = ShipState.BACKOFF
                self._last_code = ErrorCode.COLLECTOR_UNAVAILABLE
                self._last_error = (f"waiting for collector {self._address} to say where this "
                                    f"agent's chain stands (ChainHead): {why}")
                now = loop.time()
                if reported_at is None or now - reported_at >= report_every_secs:
                    log.log(logging.ERROR if reported_at is None else logging.WARNING,
                            "the state directory holds no chain head and collector %s does "
                            "not answer (%s): nothing is sealed until it does (starting at seq "
                            "0 could fork this agent's chain if its state was lost); unread "
                            "lines stay in the files. Retrying; for a brand-new agent that "
                            "must start offline set agent.offline_new_chain = true",
                            self._address, why)
                    reported_at = now
                await asyncio.sleep(random.uniform(delay / 2, delay))
                delay = min(cap, delay * 2)
        finally:
            self._awaiting_head = False
            self._state = ShipState.CONNECTING
            self._last_error = self._last_code = ""

    async def wait_drained(self) -> None:
        """Wait until the spool holds no unacknowledged segment."""
        while self._spool.pending_seqs():
            self._drained.clear()
            await self._drained.wait()

    async def run(self) -> None:
        initial = self._config.backoff_initial_ms / 1000
        cap = self._config.backoff_max_ms / 1000
        delay = initial
        while True:
            permanent = False
            self._progress = False
            self._state = ShipState.CONNECTING
            try:
                await self._session()
            except grpc.aio.AioRpcError as exc:
                self._last_error = f"{exc.code().name}: {exc.details()}"
                hint = await self._explain(exc)
                if hint:
                    self._last_error += f" ({hint})"
                self._last_code = (ErrorCode.OVERLOADED
                                   if exc.code() == grpc.StatusCode.RESOURCE_EXHAUSTED
                                   else ErrorCode.COLLECTOR_UNAVAILABLE)
                log.warning("collector %s: %s; reconnecting", self._address, self._last_error)
            except CollectorUnavailable as exc:
                self._last_error, self._last_code = str(exc), exc.code
                log.warning("collector %s: %s", self._address, exc)
            except CollectorRejected as exc:
                self._refusals += 1
                self._last_error = str(exc)
                self._last_code = exc.code
                permanent = not exc.retryable
                if exc.code in HISTORY_CODES:
                    log.error("collector %s: %s; the anchor stays at size %d and shipping "
                              "stops (segments stay in the spool), retried every %.0f s: "
                              "check the collector with `sealtail verify --anchor %s` (if "
                              "it was replaced on purpose, move that file aside)",
                              self._address, exc,
                              -1 if self._anchor is None else self._anchor.size, cap,
                              self._spool.anchor_file)
                elif permanent:
                    log.error("collector %s refused a segment permanently: %s; shipping "
                              "stops, retried every %.0f s (%s)", self._address, exc, cap,
                              REFUSAL_ADVICE.get(exc.code, "see `sealtail status`"))
                else:
                    log.warning("collector %s refused a segment for now: %s; retrying",
                                self._address, exc)
            finally:
                self._connected = False
            if self._progress:  # the link worked: a new failure starts from the first delay
                delay = initial
            self._state = ShipState.REFUSED if permanent else ShipState.BACKOFF
            # Full jitter: sleep uniformly in [0, delay] so many agents do not reconnect in step.
            # A permanent refusal waits the full cap: retrying it sooner cannot help.
            await asyncio.sleep(cap if permanent else random.uniform(0, delay))
            delay = min(cap, delay * 2)
            self._reconnects += 1

    async def _explain(self, exc: grpc.aio.AioRpcError) -> str | None:
        """What a failed connection means for TLS (worked out once per kind of failure)."""
        details = exc.details() or ""
        if exc.code() != grpc.StatusCode.UNAVAILABLE:
            return None
        if details not in self._explained:
            if len(self._explained) > 64:
                self._explained.clear()
            self._explained[details] = await asyncio.to_thread(self._tls.explain,
                                                               self._address, details)
        return self._explained[details]

    async def _session(self) -> None:
        async with open_aio_channel(self._address, self._tls,
                                    channel_options(self._config)) as channel:
            stub = self._stub = pb_grpc.IngestStub(channel)
            window = asyncio.Semaphore(self._config.max_in_flight)
            in_flight: list[int] = []
            sent_at: dict[int, float] = {}
            encoding: asyncio.Future[str] = asyncio.get_running_loop().create_future()
            call = stub.Ship(self._outgoing(window, in_flight, sent_at, encoding))
            reader = asyncio.ensure_future(self._read_acks(call, window, in_flight, encoding))
            deadline = asyncio.ensure_future(self._ack_deadline(in_flight, sent_at))
            try:
                done, _ = await asyncio.wait({reader, deadline},
                                             return_when=asyncio.FIRST_COMPLETED)
            finally:
                for task in (reader, deadline):
                    task.cancel()
                call.cancel()
                # Let both finish, so neither is read unfinished nor left to log "exception
                # never retrieved"; outcomes are taken from `done` below.
                await asyncio.gather(reader, deadline, return_exceptions=True)
            self._session_outcome(done, reader, deadline)

    def _session_outcome(self, done: set[Any], reader: asyncio.Future[None],
                         deadline: asyncio.Future[int]) -> None:
        """Raise what ended a session: the stream's error, CollectorUnavailable for an ack
        timeout or a stream that ended cancelled (never InvalidStateError on a task that was
        still running, whatever finished first)."""
        if reader in done:
            if reader.cancelled():  # gRPC ends a call cancelled under us with CancelledError
                if self._outgoing_error is not None:  # gRPC cancels the call when the
                    raise self._outgoing_error        # request iterator fails (spool read)
                raise CollectorUnavailable("the stream was cancelled; reconnecting")
            reader.result()  # the stream's own end or error
            return
        if deadline in done and not deadline.cancelled():
            late = deadline.result()
            raise CollectorUnavailable(f"segment seq={late} unacknowledged after "
                                       f"{self._config.ack_timeout_secs:g} s; reconnecting")
        raise CollectorUnavailable("the stream ended; reconnecting")

    async def _read_acks(self, call: Any, window: asyncio.Semaphore, in_flight: list[int],
                         encoding: asyncio.Future[str]) -> None:
        metadata = await call.initial_metadata()
        offered = dict(metadata or ()).get(ENCODINGS_KEY, "")
        if not encoding.done():
            wanted = self._config.compression
            encoding.set_result(wanted if wanted in str(offered).split(",") else "none")
        async for ack in call:
            self._connected = True
            await self._handle_ack(ack, window, in_flight)
            self._progress = True
            self._state = ShipState.SHIPPING

    async def _ack_deadline(self, in_flight: list[int], sent_at: dict[int, float]) -> int:
        """Return the seq of the first segment left unacknowledged past ack_timeout_secs."""
        limit = self._config.ack_timeout_secs
        loop = asyncio.get_running_loop()
        while True:
            await asyncio.sleep(min(1.0, limit / 4))
            if in_flight and loop.time() - sent_at.get(in_flight[0], loop.time()) > limit:
                return in_flight[0]

    async def _outgoing(self, window: asyncio.Semaphore, in_flight: list[int],
                        sent_at: dict[int, float],
                        encoding: asyncio.Future[str]) -> AsyncIterator[pb.Segment]:
        """The segments to send. gRPC swallows an error raised here (it only cancels the
        call), so it is kept for `_session_outcome` to raise."""
        self._outgoing_error = None
        try:
            async for segment in self._segments(window, in_flight, sent_at, encoding):
                yield segment
        except Exception as exc:
            self._outgoing_error = exc
            raise

    async def _segments(self, window: asyncio.Semaphore, in_flight: list[int],
                        sent_at: dict[int, float],
                        encoding: asyncio.Future[str]) -> AsyncIterator[pb.Segment]:
        # The collector says which encodings it reads in its initial metadata; one that never
        # sends it (an older collector) gets plain segments after NEGOTIATION_SECS.
        try:
            async with asyncio.timeout(NEGOTIATION_SECS):
                self._encoding = await asyncio.shield(encoding)
        except TimeoutError:
            self._encoding = "none"
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
                segment = await self._wire_segment(seq)
                in_flight.append(seq)
                sent_at[seq] = asyncio.get_running_loop().time()
                self._sent += 1
                self._connected = True
                yield segment
                next_seq = seq + 1

    async def _wire_segment(self, seq: int) -> pb.Segment:
        """Spooled segment `seq` as sent. A helper of its own so the spool bytes are freed
        before the segment waits in gRPC's queue: only the message sent stays alive."""
        payload = await self._spool.read(seq)
        self._bytes_raw += len(payload)
        # zstd: compress the entries straight from the spool bytes (their exact wire form);
        # parsing and re-serializing them held three more copies of the segment at once.
        parts = split_segment(payload) if self._encoding == "zstd" else None
        if parts is not None:
            header, signature, entries = parts
            segment = pb.Segment(header=header, signature=signature,
                                 entries_zstd=self._zstd.compress(entries))
        else:
            segment = pb.Segment.FromString(payload)
            if self._encoding == "zstd":  # not in SerializeToString's layout: re-serialize
                plain = pb.Segment(entries=segment.entries).SerializeToString()
                segment = pb.Segment(header=segment.header, signature=segment.signature,
                                     entries_zstd=self._zstd.compress(plain))
        self._hashes[seq] = segment_hash(segment.header)
        self._bytes_sent += segment.ByteSize() if self._encoding == "zstd" else len(payload)
        return segment

    async def _handle_ack(self, ack: pb.Ack, window: asyncio.Semaphore,
                          in_flight: list[int]) -> None:
        if ack.seq in in_flight:
            in_flight.remove(ack.seq)
            window.release()
        if ack.status == pb.ACK_REFUSED:
            refused = refusal(ack)
            if refused.code == ErrorCode.CHAIN_GAP:
                await self._check_not_rolled_back(ack.seq)
            raise refused
        anchor = await self._check_checkpoint(ack)
        await self._spool.ack(ack.seq, anchor=anchor)
        self._hashes.pop(ack.seq, None)
        self._acked += 1
        if ack.status == pb.ACK_DUPLICATE:
            log.info("segment seq=%d was already stored (leaf %d)", ack.seq, ack.leaf_index)
        else:
            log.info("acknowledged segment seq=%d (leaf %d)", ack.seq, ack.leaf_index)
        if not self._spool.pending_seqs():
            self._drained.set()

    async def _check_checkpoint(self, ack: pb.Ack) -> bytes | None:
        """The ack's checkpoint if it should become the new anchor; raises if it is bad,
        or if the collector cannot prove it consistent with the anchor kept so far."""
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
        if self._anchor is not None:
            await self._check_consistency(self._anchor, cp, ack.seq)
        if self._anchor is None or cp.size > self._anchor.size:
            self._anchor = cp
            return ack.checkpoint
        return None

    async def _check_consistency(self, anchor: Checkpoint, cp: Checkpoint, seq: int) -> None:
        """Raise CollectorRejected (inconsistent_history / rollback) unless the smaller of the
        two checkpoints is a prefix of the larger, by a proof the collector gives."""
        if anchor.origin != cp.origin:
            self._failed_history()
            raise CollectorRejected(
                f"segment seq={seq}: the ack's checkpoint is of log {cp.origin!r}, the anchor "
                f"of {anchor.origin!r}", code=ErrorCode.ORIGIN_MISMATCH)
        if cp.size == anchor.size:
            if cp.root != anchor.root:
                self._failed_history()
                raise CollectorRejected(
                    f"segment seq={seq}: the ack's checkpoint (size {cp.size}) has another "
                    "root than the anchor of the same size: the collector forked its history",
                    code=ErrorCode.INCONSISTENT_HISTORY)
            return
        small, big = (anchor, cp) if anchor.size < cp.size else (cp, anchor)
        if small.size == 0:
            return  # the empty tree is a prefix of every tree
        assert self._stub is not None
        try:
            reply = await self._stub.LogConsistency(
                pb.ConsistencyRequest(size1=small.size, size2=big.size),
                timeout=self._config.ack_timeout_secs)
        except grpc.aio.AioRpcError as exc:
            if exc.code() != grpc.StatusCode.INVALID_ARGUMENT or big is cp:
                raise  # network trouble: reconnect and ask again
            self._failed_history()
            raise CollectorRejected(
                f"segment seq={seq}: the collector's log is smaller than this agent's anchor "
                f"(size {anchor.size}): it rolled its history back ({exc.details()})",
                code=ErrorCode.ROLLBACK) from exc
        if not verify_consistency(small.size, big.size, list(reply.proof), small.root,
                                  big.root):
            self._failed_history()
            raise CollectorRejected(
                f"segment seq={seq}: no valid consistency proof from checkpoint size "
                f"{small.size} to size {big.size} (anchor size {anchor.size}): the collector's "
                "history was rewritten", code=ErrorCode.INCONSISTENT_HISTORY)

    async def _check_not_rolled_back(self, seq: int) -> None:
        """On a chain_gap refusal: raise CollectorRejected (rollback, permanent) when the
        collector's log is smaller than this agent's anchor, i.e. it was restored from an
        older backup and no longer holds segments it acknowledged. Otherwise the gap is real
        and retried as before (an earlier segment is still on its way)."""
        anchor = self._anchor
        if anchor is None or anchor.size == 0:
            return
        assert self._stub is not None
        try:
            reply = await self._stub.LogConsistency(pb.ConsistencyRequest(size1=1, size2=0),
                                                    timeout=self._config.ack_timeout_secs)
            held = reply.size2
        except grpc.aio.AioRpcError as exc:
            if exc.code() != grpc.StatusCode.INVALID_ARGUMENT:
                return  # cannot tell now: the chain_gap is retried, and this asked again
            held = 0  # an empty log has no size1=1
        if held >= anchor.size:
            return
        self._failed_history()
        raise CollectorRejected(
            f"segment seq={seq}: collector rolled back: it holds {held} segments, our anchor "
            f"has {anchor.size} (it was restored from an older backup or lost data); the "
            "unacknowledged segments stay in the spool", code=ErrorCode.ROLLBACK,
            retryable=False)

    def _failed_history(self) -> None:
        self._history_failures += 1


def refusal(ack: pb.Ack) -> CollectorRejected:
    """The refusal an ack carries, with the collector's code and whether to retry soon."""
    try:
        code = ErrorCode(ack.code)
    except ValueError:  # a code this agent does not know: keep it in the message
        code = ErrorCode.MALFORMED_SEGMENT
        message = f"segment seq={ack.seq}: {ack.message} (collector code {ack.code!r})"
    else:
        message = f"segment seq={ack.seq}: {ack.message}"
    return CollectorRejected(message, code=code,
                             retryable=ack.retryable or code in RETRYABLE_CODES)


async def ask_chain_head(address: str, agent_key: bytes, *, tls: ClientTLS = PLAINTEXT,
                         timeout_secs: float = 10) -> ChainHead | None:
    """One ChainHead call (None: the collector holds nothing from this key); raises
    grpc.aio.AioRpcError when it fails."""
    async with open_aio_channel(address, tls, CHANNEL_OPTIONS) as channel:
        reply = await pb_grpc.IngestStub(channel).ChainHead(
            pb.ChainHeadRequest(agent_key=agent_key), timeout=timeout_secs)
    if not reply.found:
        return None
    return ChainHead(reply.next_seq, reply.last_hash, reply.lines_total)


async def fetch_chain_head(address: str, agent_key: bytes, *, timeout_secs: float | None,
                           tls: ClientTLS = PLAINTEXT) -> ChainHead | None:
    """Ask the collector where this key's chain stands (None: it holds nothing from it).

    Retries with backoff until `timeout_secs` (None: forever); raises CollectorUnavailable
    when the time is up.
    """
    loop = asyncio.get_running_loop()
    deadline = None if timeout_secs is None else loop.time() + timeout_secs
    delay = 0.2
    while True:
        try:
            return await ask_chain_head(address, agent_key, tls=tls)
        except grpc.aio.AioRpcError as exc:
            hint = None
            if exc.code() == grpc.StatusCode.UNAVAILABLE:
                hint = await asyncio.to_thread(tls.explain, address, exc.details() or "")
            if deadline is not None and loop.time() + delay > deadline:
                raise CollectorUnavailable(
                    f"collector {address}: {exc.code().name}: {exc.details()}"
                    + (f" ({hint})" if hint else "")) from exc
            log.warning("asking collector %s for the chain head: %s; retrying", address,
                        hint or exc.code().name)
            await asyncio.sleep(random.uniform(0, delay))
            delay = min(30.0, delay * 2)
