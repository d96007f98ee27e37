"""The collector's gRPC services: Ingest (segments in, acks out) and Query."""

from __future__ import annotations

import asyncio
import hmac
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import grpc
import zstandard
from google.protobuf.message import DecodeError
from grpc_health.v1 import health, health_pb2, health_pb2_grpc

from agent._pb import sealtail_pb2 as pb
from agent._pb import sealtail_pb2_grpc as pb_grpc
from agent.collector._checkpoints import Checkpointer
from agent.collector._summary import (
    DEFAULT_MAX_AUTH_KEYS,
    SummaryArgumentError,
    build_summary,
)
from agent.config import agent_name_problem
from agent.errors import ErrorCode, SealtailError, StoreError, VerificationError
from agent.formats import inclusion_proof, key_id, leaf_hashes, parse_header, verify_segment
from agent.store import SearchFilter, SQLiteStore

log = logging.getLogger("sealtail.collector")

PAGE_SIZE = 1000
MAX_STORED_SEQ = 2**63 - 1  # found by tests/integration/test_fuzz_grpc.py (uint64 on the wire)
ENCODINGS_KEY = "sealtail-encodings"  # Ship initial metadata: encodings the collector reads
Context = grpc.aio.ServicerContext[Any, Any]


@dataclass
class IngestStatistics:
    stored: int = 0
    duplicates: int = 0
    refused: dict[str, int] = field(default_factory=dict)
    overloaded: int = 0  # streams or segments answered RESOURCE_EXHAUSTED
    streams: int = 0  # Ship streams open now
    inflight_bytes: int = 0  # bytes of received segments not yet acknowledged


class IngestService(pb_grpc.IngestServicer):  # type: ignore[misc]
    """Accepts segments only from allow-listed keys, verifies, stores, then acknowledges.

    Load is bounded: at most `max_streams` Ship streams at once and at most
    `max_inflight_bytes` of received, not yet acknowledged segments (one always passes);
    beyond either, the call ends with RESOURCE_EXHAUSTED and the agent backs off.
    `close()` ends every open stream with UNAVAILABLE after its current segment, so a
    stopping collector neither cancels a half-stored segment nor logs a traceback.
    """

    def __init__(self, store: SQLiteStore, authorized: frozenset[bytes],
                 checkpoints: Checkpointer, *, max_streams: int = 1024,
                 max_inflight_bytes: int = 256 * 1024 * 1024,
                 max_inflated_bytes: int = 64 * 1024 * 1024) -> None:
        self._store = store
        self._checkpoints = checkpoints
        self.authorized = authorized
        self.stats = IngestStatistics()
        self._max_streams = max_streams
        self._max_inflight_bytes = max_inflight_bytes
        self._max_inflated = max_inflated_bytes
        self._zstd = zstandard.ZstdDecompressor()
        self._closing = asyncio.Event()

    def close(self) -> None:
        """Ask every Ship stream to end after the segment it is storing."""
        self._closing.set()

    def _refuse(self, seq: int, code: ErrorCode, message: str, peer: str) -> pb.Ack:
        self.stats.refused[code] = self.stats.refused.get(code, 0) + 1
        log.warning("refused segment seq=%d from %s: %s (%s)", seq, peer, message, code)
        return pb.Ack(seq=seq, status=pb.ACK_REFUSED, code=code, message=message)

    async def Ship(self, request_iterator: AsyncIterator[pb.Segment],
                   context: Context) -> AsyncIterator[pb.Ack]:
        peer = context.peer()
        if self._closing.is_set():
            await context.abort(grpc.StatusCode.UNAVAILABLE, "collector is stopping")
        if self.stats.streams >= self._max_streams:
            self.stats.overloaded += 1
            log.warning("refusing a stream from %s: %d streams open (max_streams)", peer,
                        self.stats.streams)
            await context.abort(grpc.StatusCode.RESOURCE_EXHAUSTED,
                                f"collector overloaded: {self.stats.streams} streams open")
        self.stats.streams += 1
        # Negotiation: the agent compresses only what this collector says it can read.
        await context.send_initial_metadata(((ENCODINGS_KEY, "zstd"),))
        closing = asyncio.ensure_future(self._closing.wait())
        received: asyncio.Future[pb.Segment] | None = None
        try:
            requests = aiter(request_iterator)
            while True:
                received = asyncio.ensure_future(anext(requests))
                await asyncio.wait({received, closing}, return_when=asyncio.FIRST_COMPLETED)
                if not received.done():
                    received.cancel()
                    await context.abort(grpc.StatusCode.UNAVAILABLE, "collector is stopping")
                if received.cancelled():  # the call ended under the pending read
                    return
                try:
                    seg = received.result()
                except StopAsyncIteration:
                    return
                if seg.entries_zstd:
                    seg = self._inflate(seg)
                size = seg.ByteSize()
                if (self.stats.inflight_bytes
                        and self.stats.inflight_bytes + size > self._max_inflight_bytes):
                    self.stats.overloaded += 1
                    log.warning("refusing a segment of %d bytes from %s: %d bytes in flight "
                                "(max_inflight_bytes)", size, peer, self.stats.inflight_bytes)
                    await context.abort(grpc.StatusCode.RESOURCE_EXHAUSTED,
                                        f"collector overloaded: {self.stats.inflight_bytes} "
                                        "bytes in flight")
                self.stats.inflight_bytes += size
                try:
                    ack = await self._ingest(seg, peer)
                finally:
                    self.stats.inflight_bytes -= size
                yield ack
                if ack.status == pb.ACK_REFUSED and not ack.retryable:
                    return  # the agent must not keep streaming past a refused segment
        finally:
            closing.cancel()
            if received is not None:
                # The call may end under us (the agent went away) with a read pending or just
                # finished: collect its outcome so nothing is logged as unretrieved.
                received.cancel()
                received.add_done_callback(_retrieve)
            self.stats.streams -= 1

    def _inflate(self, seg: pb.Segment) -> pb.Segment:
        """Restore `entries` from `entries_zstd`, bounded by max_message_bytes (no bombs).

        A frame that does not decompress leaves the segment without entries, so it is
        refused by verification like any other malformed segment.
        """
        out = pb.Segment(header=seg.header, signature=seg.signature)
        try:
            raw = self._zstd.decompress(seg.entries_zstd, max_output_size=self._max_inflated)
            out.entries.extend(pb.Segment.FromString(raw).entries)
        except (zstandard.ZstdError, DecodeError) as exc:
            log.warning("a segment's entries_zstd does not decompress: %s", exc)
        return out

    async def _ingest(self, seg: pb.Segment, peer: str) -> pb.Ack:
        try:
            header = parse_header(seg.header)
        except VerificationError as exc:
            return self._refuse(0, ErrorCode.MALFORMED_SEGMENT, exc.message, peer)
        seq = header.seq
        if header.agent_key not in self.authorized:
            return self._refuse(seq, ErrorCode.UNKNOWN_KEY,
                                f"agent key {key_id(header.agent_key)} ({header.agent_name!r}) "
                                "is not in the collector's authorized keys", peer)
        problem = agent_name_problem(header.agent_name)
        if problem:
            return self._refuse(seq, ErrorCode.BAD_AGENT_NAME, problem, peer)
        try:
            # CPU-bound (hashing every entry): off the event loop.
            verified = await asyncio.to_thread(verify_segment, seg.header, seg.signature,
                                               list(seg.entries))
        except VerificationError as exc:
            return self._refuse(seq, exc.code, exc.message, peer)
        try:
            result = await self._store.append(verified)
            if result.status != pb.ACK_REFUSED:
                # Evidence the collector cannot later deny: a signed tree head covering the
                # segment's leaf, and the path from the leaf to it.
                cp = await self._checkpoints.covering(result.leaf_index + 1)
                path = self._store.log.inclusion_proof(result.leaf_index, cp.size)
        except StoreError as exc:
            log.error("%s", exc)
            return pb.Ack(seq=seq, status=pb.ACK_REFUSED, code=ErrorCode.STORE_FAILED,
                          message="collector could not store the segment", retryable=True)
        if result.status == pb.ACK_REFUSED:
            ack = self._refuse(seq, ErrorCode(result.code), result.message, peer)
            ack.retryable = result.retryable
            return ack
        if result.status == pb.ACK_DUPLICATE:
            self.stats.duplicates += 1
        else:
            self.stats.stored += 1
            log.info("stored %s seq=%d entries=%d leaf=%d", header.agent_name, seq, header.count,
                     result.leaf_index)
        return pb.Ack(seq=seq, status=result.status,  # type: ignore[arg-type]
                      leaf_index=result.leaf_index, checkpoint=cp.note, inclusion=path)

    async def ChainHead(self, request: pb.ChainHeadRequest,
                        context: Context) -> pb.ChainHeadResponse:
        head = await asyncio.to_thread(self._store.chain_head, request.agent_key)
        if head is None:
            return pb.ChainHeadResponse(found=False)
        return pb.ChainHeadResponse(found=True, next_seq=head[0], last_hash=head[1],
                                    lines_total=head[2])

    async def LogConsistency(self, request: pb.ConsistencyRequest,
                             context: Context) -> pb.ConsistencyResponse:
        return await consistency(self._store, self._checkpoints, request, context)


async def consistency(store: SQLiteStore, checkpoints: Checkpointer,
                      request: pb.ConsistencyRequest, context: Context) -> pb.ConsistencyResponse:
    """A consistency proof between two sizes of the log; INVALID_ARGUMENT for sizes the tree
    does not have (an agent whose anchor is larger than the tree sees a rollback)."""
    response = pb.ConsistencyResponse(size2=request.size2)
    if request.size2 == 0:
        try:
            cp = await checkpoints.fresh()
        except StoreError as exc:
            await context.abort(grpc.StatusCode.UNAVAILABLE, str(exc))
        response.size2, response.checkpoint = cp.size, cp.note
    tree = store.log.size
    if not 0 < request.size1 <= response.size2 <= tree:
        await context.abort(grpc.StatusCode.INVALID_ARGUMENT,
                            f"need 0 < size1 <= size2 <= {tree}, got size1="
                            f"{request.size1} size2={response.size2}")
    response.proof.extend(store.log.consistency_proof(request.size1, response.size2))
    return response


def _retrieve(task: asyncio.Future[Any]) -> None:
    if not task.cancelled():
        task.exception()


class QueryService(pb_grpc.QueryServicer):  # type: ignore[misc]
    """Read-only access to the store. Nothing here can change stored data."""

    def __init__(self, store: SQLiteStore, checkpoints: Checkpointer, *,
                 summary_max_auth_keys: int = DEFAULT_MAX_AUTH_KEYS) -> None:
        self._store = store
        self._summary_max_auth_keys = summary_max_auth_keys
        self._checkpoints = checkpoints

    async def Search(self, request: pb.SearchRequest,
                     context: Context) -> AsyncIterator[pb.SearchResponse]:
        flt = SearchFilter(agent=request.agent, category=request.category,
                           contains=request.contains, since_ns=request.since_ns,
                           until_ns=request.until_ns,
                           leaves=min(request.leaves, MAX_STORED_SEQ))  # SQLite: signed 64-bit
        limit = request.limit or None
        count = 0
        after = (0, -1)
        while limit is None or count < limit:
            found = await asyncio.to_thread(self._store.search_page, flt, after, PAGE_SIZE)
            if found.done:
                break
            after = found.after
            page = pb.SearchResponse(index_mismatches=found.mismatches)
            for row in found.rows:
                count += 1
                if not request.count_only:
                    page.results.add(agent=row.agent, agent_key=row.agent_key, seq=row.seq,
                                     index=row.index, source=row.source, entry=row.entry)
                if limit is not None and count >= limit:
                    break
            if page.results or page.index_mismatches:
                yield page
        if request.count_only:
            yield pb.SearchResponse(count=count)

    async def Segments(self, request: pb.SegmentsRequest,
                       context: Context) -> AsyncIterator[pb.StoredSegment]:
        after = 0
        while True:
            rows = await asyncio.to_thread(self._store.segments_page, request.agent,
                                           request.agent_key, after, 100)
            if not rows:
                return
            for row in rows:
                entries: list[bytes] = []
                if not request.headers_only:
                    entries = await asyncio.to_thread(self._store.entries_of, row.segment_id)
                yield pb.StoredSegment(
                    segment=pb.Segment(header=row.header, signature=row.signature,
                                       entries=entries),
                    leaf_index=row.segment_id - 1)
            after = rows[-1].segment_id

    async def Agents(self, request: pb.AgentsRequest,
                     context: Context) -> pb.AgentsResponse:
        rows = await asyncio.to_thread(self._store.agents)
        return pb.AgentsResponse(agents=[
            pb.AgentInfo(name=r.name, key=r.key, segments=r.segments, entries=r.entries,
                         last_seq=max(r.last_seq, 0)) for r in rows])



    async def GetCheckpoint(self, request: pb.CheckpointRequest,
                            context: Context) -> pb.CheckpointResponse:
        try:
            row = await self._checkpoints.fresh()
        except StoreError as exc:
            await context.abort(grpc.StatusCode.UNAVAILABLE, str(exc))
        return pb.CheckpointResponse(checkpoint=row.note, vkey=self._checkpoints.vkey)

    async def InclusionProof(self, request: pb.InclusionRequest,
                             context: Context) -> pb.InclusionResponse:
        if request.seq > MAX_STORED_SEQ:  # SQLite integers are signed 64-bit: none stored
            await context.abort(grpc.StatusCode.NOT_FOUND,
                                f"no segment seq={request.seq} of agent {request.agent!r}")
        rows = await asyncio.to_thread(self._store.find_segments, request.agent,
                                       request.agent_key, request.seq)
        if not rows:
            await context.abort(grpc.StatusCode.NOT_FOUND,
                                f"no segment seq={request.seq} of agent {request.agent!r}")
        if len(rows) > 1:
            keys = ", ".join(key_id(r.agent_key) for r in rows)
            await context.abort(grpc.StatusCode.FAILED_PRECONDITION,
                                f"agent name {request.agent!r} is used by keys {keys}; "
                                "give agent_key")
        row = rows[0]
        entries = await asyncio.to_thread(self._store.entries_of, row.segment_id)
        if request.index >= len(entries):
            await context.abort(grpc.StatusCode.NOT_FOUND,
                                f"segment seq={row.seq} has {len(entries)} lines, no line "
                                f"{request.index}")
        line_proof = await asyncio.to_thread(inclusion_proof, request.index, leaf_hashes(entries))
        leaf_index = row.segment_id - 1
        try:
            cp = await self._checkpoints.covering(leaf_index + 1)
        except StoreError as exc:
            await context.abort(grpc.StatusCode.UNAVAILABLE, str(exc))
        return pb.InclusionResponse(
            entry=entries[request.index], index=request.index, header=row.header,
            signature=row.signature, line_proof=line_proof, leaf_index=leaf_index,
            log_proof=self._store.log.inclusion_proof(leaf_index, cp.size),
            checkpoint=cp.note)

    async def ConsistencyProof(self, request: pb.ConsistencyRequest,
                               context: Context) -> pb.ConsistencyResponse:
        return await consistency(self._store, self._checkpoints, request, context)

    async def Equivocations(self, request: pb.EquivocationsRequest,
                            context: Context) -> AsyncIterator[pb.Equivocation]:
        for r in await asyncio.to_thread(self._store.equivocations, request.agent):
            yield pb.Equivocation(agent=r.agent, agent_key=r.agent_key, seq=r.seq,
                                  stored_header=r.stored_header,
                                  stored_signature=r.stored_signature, header=r.header,
                                  signature=r.signature, received_ns=r.received_ns)

    async def Summary(self, request: pb.SummaryRequest,
                      context: Context) -> pb.SummaryResponse:
        try:
            return await asyncio.to_thread(build_summary, self._store, request,
                                           max_auth_keys=self._summary_max_auth_keys)
        except SummaryArgumentError as exc:
            await context.abort(grpc.StatusCode.INVALID_ARGUMENT, str(exc))
        except StoreError as exc:
            await context.abort(grpc.StatusCode.UNAVAILABLE, str(exc))


if TYPE_CHECKING:
    _Interceptor = grpc.aio.ServerInterceptor[Any, Any]
else:  # not subscriptable at run time
    _Interceptor = grpc.aio.ServerInterceptor


class QueryTokenInterceptor(_Interceptor):
    """Every call to the Query service must carry ``authorization: Bearer <token>``.

    Ingest is authenticated by the agents' signatures and health stays open for probes.
    """

    def __init__(self, token: str) -> None:
        self._expected = f"Bearer {token}".encode()

    async def intercept_service(self, continuation: Callable[[Any], Awaitable[Any]],
                                details: Any) -> Any:
        handler = await continuation(details)
        if handler is None or not details.method.startswith("/sealtail.v1.Query/"):
            return handler
        got = dict(details.invocation_metadata or ()).get("authorization", "")
        if hmac.compare_digest(str(got).encode(), self._expected):
            return handler
        return _deny(handler, _REJECTED if got else _DENIED)


class StrictDecoding(_Interceptor):
    """Requests that are not valid protobuf get INVALID_ARGUMENT naming the message type.

    gRPC's own deserializer failure surfaces as UNKNOWN ("Unexpected DecodeError"), the
    status of a crashed handler; decoding in the handler instead keeps UNKNOWN meaning a bug.
    """

    async def intercept_service(self, continuation: Callable[[Any], Awaitable[Any]],
                                details: Any) -> Any:
        handler = await continuation(details)
        if handler is None or handler.request_deserializer is None:
            return handler
        return _decoding(handler, details.method)


def _decoding(handler: Any, method: str) -> Any:
    parse = handler.request_deserializer

    async def decode(data: bytes, context: Context) -> Any:
        try:
            return parse(data)
        except DecodeError as exc:
            await context.abort(grpc.StatusCode.INVALID_ARGUMENT,
                                f"{method}: the request is not a valid protobuf message: {exc}")

    async def unary_unary(data: bytes, context: Context) -> Any:
        return await handler.unary_unary(await decode(data, context), context)

    async def unary_stream(data: bytes, context: Context) -> AsyncIterator[Any]:
        async for reply in handler.unary_stream(await decode(data, context), context):
            yield reply

    async def stream_stream(frames: AsyncIterator[bytes], context: Context) -> AsyncIterator[Any]:
        async def decoded() -> AsyncIterator[Any]:
            async for data in frames:
                yield await decode(data, context)

        async for reply in handler.stream_stream(decoded(), context):
            yield reply

    kwargs = {"request_deserializer": None, "response_serializer": handler.response_serializer}
    if handler.unary_unary is not None:
        return grpc.unary_unary_rpc_method_handler(unary_unary, **kwargs)
    if handler.unary_stream is not None:
        return grpc.unary_stream_rpc_method_handler(unary_stream, **kwargs)
    if handler.stream_stream is not None:
        return grpc.stream_stream_rpc_method_handler(stream_stream, **kwargs)
    return handler  # stream-unary: none in these services


_DENIED = "this collector requires a bearer token for queries (--token-file)"
_REJECTED = ("the query token was rejected: it is not the one in the collector's "
             "query_token_file (check --token-file)")


def _deny(handler: Any, why: str) -> Any:
    async def unary(request: Any, context: Context) -> Any:
        await context.abort(grpc.StatusCode.UNAUTHENTICATED, why)

    async def stream(request: Any, context: Context) -> AsyncIterator[Any]:
        await context.abort(grpc.StatusCode.UNAUTHENTICATED, why)
        yield  # pragma: no cover - abort raised

    kwargs = {"request_deserializer": handler.request_deserializer,
              "response_serializer": handler.response_serializer}
    if handler.unary_stream is not None:
        return grpc.unary_stream_rpc_method_handler(stream, **kwargs)
    return grpc.unary_unary_rpc_method_handler(unary, **kwargs)


async def build_server(listen: str, store: SQLiteStore, authorized: frozenset[bytes], *,
                       max_message_bytes: int, checkpoints: Checkpointer,
                       query_token: str | None = None, max_streams: int = 1024,
                       max_inflight_bytes: int = 256 * 1024 * 1024,
                       summary_max_auth_keys: int = DEFAULT_MAX_AUTH_KEYS,
                       credentials: grpc.ServerCredentials | None = None,
                       ) -> tuple[grpc.aio.Server, int, IngestService]:
    """Create and start the collector's gRPC server; returns (server, bound port, ingest).

    With `query_token`, Query calls without ``authorization: Bearer <token>`` are refused
    (UNAUTHENTICATED). With `credentials` (`agent.tls.server_credentials`) the port speaks
    only TLS, and requires client certificates if they say so: Ingest, Query and Health share
    the port, so a client-certificate requirement covers all three.
    Raises SealtailError (listen_failed) when `listen` cannot be bound, including when
    another process already listens there.
    """
    interceptors: list[_Interceptor] = [QueryTokenInterceptor(query_token)] if query_token else []
    interceptors.append(StrictDecoding())
    server = grpc.aio.server(interceptors=interceptors, options=[
        # gRPC sets SO_REUSEPORT by default: a second collector would then bind the same
        # port and silently take half of the connections. One port, one collector.
        ("grpc.so_reuseport", 0),
        ("grpc.max_receive_message_length", max_message_bytes),
        ("grpc.max_send_message_length", max_message_bytes),
        ("grpc.keepalive_permit_without_calls", 1),
        # Agents ping every few seconds to notice half-open connections (ship.keepalive_*).
        ("grpc.http2.min_ping_interval_without_data_ms", 1_000),
        ("grpc.http2.max_ping_strikes", 0),
    ])
    ingest = IngestService(store, authorized, checkpoints, max_streams=max_streams,
                           max_inflight_bytes=max_inflight_bytes,
                           max_inflated_bytes=max_message_bytes)
    pb_grpc.add_IngestServicer_to_server(ingest, server)
    pb_grpc.add_QueryServicer_to_server(
        QueryService(store, checkpoints, summary_max_auth_keys=summary_max_auth_keys), server)
    health_servicer = health.aio.HealthServicer()  # type: ignore[attr-defined]
    health_pb2_grpc.add_HealthServicer_to_server(health_servicer, server)
    try:
        port = (server.add_insecure_port(listen) if credentials is None
                else server.add_secure_port(listen, credentials))
    except RuntimeError:  # grpc's only signal: "Failed to bind to address"
        port = 0
    if port == 0:
        raise SealtailError(f"cannot listen on {listen}: the address is in use by another "
                            "process or not available here", code=ErrorCode.LISTEN_FAILED)
    await server.start()
    await health_servicer.set("", health_pb2.HealthCheckResponse.SERVING)
    await health_servicer.set("sealtail.v1.Ingest", health_pb2.HealthCheckResponse.SERVING)
    return server, port, ingest
