"""The collector's gRPC services: Ingest (segments in, acks out) and Query."""

from __future__ import annotations

import asyncio
import hmac
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import grpc
from grpc_health.v1 import health, health_pb2, health_pb2_grpc

from agent._pb import sealtail_pb2 as pb
from agent._pb import sealtail_pb2_grpc as pb_grpc
from agent.collector._checkpoints import Checkpointer
from agent.errors import ErrorCode, StoreError, VerificationError
from agent.formats import inclusion_proof, key_id, leaf_hashes, parse_header, verify_segment
from agent.store import SearchFilter, SQLiteStore

log = logging.getLogger("sealtail.collector")

PAGE_SIZE = 1000
Context = grpc.aio.ServicerContext[Any, Any]


@dataclass
class IngestStatistics:
    stored: int = 0
    duplicates: int = 0
    refused: dict[str, int] = field(default_factory=dict)


class IngestService(pb_grpc.IngestServicer):  # type: ignore[misc]
    """Accepts segments only from allow-listed keys, verifies, stores, then acknowledges."""

    def __init__(self, store: SQLiteStore, authorized: frozenset[bytes],
                 checkpoints: Checkpointer) -> None:
        self._store = store
        self._checkpoints = checkpoints
        self.authorized = authorized
        self.stats = IngestStatistics()

    def _refuse(self, seq: int, code: ErrorCode, message: str, peer: str) -> pb.Ack:
        self.stats.refused[code] = self.stats.refused.get(code, 0) + 1
        log.warning("refused segment seq=%d from %s: %s (%s)", seq, peer, message, code)
        return pb.Ack(seq=seq, status=pb.ACK_REFUSED, code=code, message=message)

    async def Ship(self, request_iterator: AsyncIterator[pb.Segment],
                   context: Context) -> AsyncIterator[pb.Ack]:
        peer = context.peer()
        async for seg in request_iterator:
            ack = await self._ingest(seg, peer)
            yield ack
            if ack.status == pb.ACK_REFUSED and not ack.retryable:
                return  # the agent must not keep streaming past a refused segment

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


class QueryService(pb_grpc.QueryServicer):  # type: ignore[misc]
    """Read-only access to the store. Nothing here can change stored data."""

    def __init__(self, store: SQLiteStore, checkpoints: Checkpointer) -> None:
        self._store = store
        self._checkpoints = checkpoints

    async def Search(self, request: pb.SearchRequest,
                     context: Context) -> AsyncIterator[pb.SearchResponse]:
        flt = SearchFilter(agent=request.agent, category=request.category,
                           contains=request.contains, since_ns=request.since_ns,
                           until_ns=request.until_ns)
        limit = request.limit or None
        count = 0
        after = (0, -1)
        while limit is None or count < limit:
            rows = await asyncio.to_thread(self._store.search_page, flt, after, PAGE_SIZE)
            if not rows:
                break
            after = (rows[-1].segment_id, rows[-1].index)
            page = pb.SearchResponse()
            for row in rows:
                if flt.contains and flt.contains not in pb.Entry.FromString(row.entry).line:
                    continue
                count += 1
                if not request.count_only:
                    page.results.add(agent=row.agent, agent_key=row.agent_key, seq=row.seq,
                                     index=row.index, source=row.source, entry=row.entry)
                if limit is not None and count >= limit:
                    break
            if page.results:
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
        response = pb.ConsistencyResponse(size2=request.size2)
        if request.size2 == 0:
            try:
                cp = await self._checkpoints.fresh()
            except StoreError as exc:
                await context.abort(grpc.StatusCode.UNAVAILABLE, str(exc))
            response.size2, response.checkpoint = cp.size, cp.note
        tree = self._store.log.size
        if not 0 < request.size1 <= response.size2 <= tree:
            await context.abort(grpc.StatusCode.INVALID_ARGUMENT,
                                f"need 0 < size1 <= size2 <= {tree}, got size1="
                                f"{request.size1} size2={response.size2}")
        response.proof.extend(self._store.log.consistency_proof(request.size1, response.size2))
        return response

    async def Equivocations(self, request: pb.EquivocationsRequest,
                            context: Context) -> AsyncIterator[pb.Equivocation]:
        for r in await asyncio.to_thread(self._store.equivocations, request.agent):
            yield pb.Equivocation(agent=r.agent, agent_key=r.agent_key, seq=r.seq,
                                  stored_header=r.stored_header,
                                  stored_signature=r.stored_signature, header=r.header,
                                  signature=r.signature, received_ns=r.received_ns)


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
        return _deny(handler)


_DENIED = "this collector requires a bearer token for queries (--token-file)"


def _deny(handler: Any) -> Any:
    async def unary(request: Any, context: Context) -> Any:
        await context.abort(grpc.StatusCode.UNAUTHENTICATED, _DENIED)

    async def stream(request: Any, context: Context) -> AsyncIterator[Any]:
        await context.abort(grpc.StatusCode.UNAUTHENTICATED, _DENIED)
        yield  # pragma: no cover - abort raised

    kwargs = {"request_deserializer": handler.request_deserializer,
              "response_serializer": handler.response_serializer}
    if handler.unary_stream is not None:
        return grpc.unary_stream_rpc_method_handler(stream, **kwargs)
    return grpc.unary_unary_rpc_method_handler(unary, **kwargs)


async def build_server(listen: str, store: SQLiteStore, authorized: frozenset[bytes], *,
                       max_message_bytes: int, checkpoints: Checkpointer,
                       query_token: str | None = None,
                       ) -> tuple[grpc.aio.Server, int, IngestService]:
    """Create and start the collector's gRPC server; returns (server, bound port, ingest).

    With `query_token`, Query calls without ``authorization: Bearer <token>`` are refused
    (UNAUTHENTICATED).
    """
    interceptors = [QueryTokenInterceptor(query_token)] if query_token else []
    server = grpc.aio.server(interceptors=interceptors, options=[
        ("grpc.max_receive_message_length", max_message_bytes),
        ("grpc.max_send_message_length", max_message_bytes),
        ("grpc.keepalive_permit_without_calls", 1),
        ("grpc.http2.min_ping_interval_without_data_ms", 10_000),
    ])
    ingest = IngestService(store, authorized, checkpoints)
    pb_grpc.add_IngestServicer_to_server(ingest, server)
    pb_grpc.add_QueryServicer_to_server(QueryService(store, checkpoints), server)
    health_servicer = health.aio.HealthServicer()  # type: ignore[attr-defined]
    health_pb2_grpc.add_HealthServicer_to_server(health_servicer, server)
    port = server.add_insecure_port(listen)
    if port == 0:
        raise OSError(f"cannot listen on {listen}")
    await server.start()
    await health_servicer.set("", health_pb2.HealthCheckResponse.SERVING)
    await health_servicer.set("sealtail.v1.Ingest", health_pb2.HealthCheckResponse.SERVING)
    return server, port, ingest
