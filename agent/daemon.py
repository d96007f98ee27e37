"""Wiring: build each stage, link them with bounded queues, run them in one TaskGroup.

    Tailer ─(lines, ≤64 batches)─► classify ─(labeled, ≤64 batches)─► Sealer ─► Spool ◄─ Shipper

Backpressure: a full spool (spool.max_bytes / max_segments) makes `Spool.append` wait, so the
sealer stops taking batches, both queues fill and the tailer stops reading; cursors wait.

A crashing stage cancels the others and the process exits non-zero (systemd restarts it).
SIGTERM/SIGINT: stop reading, seal what is buffered, give the shipper `shutdown_grace_secs`
to collect acknowledgements, then exit 0. Whatever is unacknowledged stays in the spool.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import faulthandler
import logging
import os
import signal
import sys
from collections import Counter
from collections.abc import Callable, Coroutine
from pathlib import Path
from typing import TYPE_CHECKING, Any

import grpc
import nacl.signing

from agent import sdnotify
from agent.admin import AdminServer, Response
from agent.classify import Classifier
from agent.config import AgentConfig, CollectorConfig, is_loopback
from agent.errors import CollectorUnavailable, SealtailError
from agent.keys import (
    generate_key_file,
    load_authorized_keys,
    load_note_verifier,
    load_signing_key,
)
from agent.ops import AgentOps
from agent.records import ChainHead, LabeledBatch, LineBatch
from agent.seal import Sealer
from agent.ship import Shipper, fetch_chain_head
from agent.spool import Spool, lock_state_dir
from agent.status import STATUS_FILE, STATUS_INTERVAL_SECS, AgentStatus, write_status
from agent.tail import Tailer
from agent.tls import ClientTLS, client_tls, open_aio_channel, server_credentials

if TYPE_CHECKING:
    # The collector's side is imported by run_collector only: an agent process never loads
    # the store, the collector or the insights behind them (~1.6 MiB of its resident memory).
    from agent.collector import Checkpointer
    from agent.store import SQLiteStore

log = logging.getLogger("sealtail.daemon")

# Bound of each inter-stage queue, in batches. A batch holds at most tail.read_chunk_bytes of
# lines (one read of one file), so the two queues hold at most 2 × 64 × read_chunk_bytes
# (32 MiB of line bytes at the defaults, about twice that as Python objects; far less with
# lines arriving as they are written). The sealer holds one open segment (≤
# seal.max_segment_bytes + one batch) and the shipper reads at most ship.max_in_flight
# segments from the spool. Nothing else buffers lines: memory is bounded. Smaller reads and
# segments mean fewer bytes in flight at once: at 10k lines/s, 256 KiB reads and 512 KiB
# segments peaked ~7 MiB below 1 MiB of each (scripts/measure_agent.py).
QUEUE_BATCHES = 64
# READY=1 waits this long for the collector; after that the agent is ready as "spooling".
READY_CONNECT_WAIT_SECS = 3.0
CACHE_SAVE_SECS = 60.0  # how often the classifier's template cache is written to state_dir


def _stop_event() -> asyncio.Event:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    loop.add_signal_handler(signal.SIGUSR1, _dump_stacks)
    return stop


def _dump_stacks() -> None:
    """SIGUSR1: write every task's and thread's stack to stderr (for a process that seems
    stuck), then carry on."""
    faulthandler.dump_traceback(all_threads=True)
    for task in asyncio.all_tasks():
        with contextlib.suppress(Exception):  # a frame's source may be gone
            task.print_stack(file=sys.stderr)
    sys.stderr.flush()


async def run_agent(config: AgentConfig,
                    load_config: Callable[[], AgentConfig] | None = None) -> None:
    """Run the agent until SIGTERM/SIGINT. SIGHUP (or POST /reload) calls `load_config` and
    applies the new [tail] and [classify] tables (see agent/ops.py)."""
    # SIGHUP's default action ends the process: until reload is wired up, ignore it loudly.
    with contextlib.suppress(NotImplementedError):
        asyncio.get_running_loop().add_signal_handler(signal.SIGHUP, lambda: log.warning(
            "SIGHUP during start-up ignored: send it again once the agent is ready"))
    key = load_signing_key(Path(config.agent.key))
    tls = client_tls(config.agent.tls, file="", prefix="agent.tls")
    if not tls.config.on and not is_loopback(config.agent.collector):
        log.warning("PLAINTEXT: shipping to %s without TLS: lines cross the network in clear "
                    "(their signatures still show any change); set [agent.tls]",
                    config.agent.collector)
    warn_http_exposed(config.ops.http_listen, "/metrics, /status and POST /reload")
    # Before the spool is opened: a second agent on the same state directory, or one that
    # cannot be written, stops here with one line naming it.
    lock_fd = await asyncio.to_thread(lock_state_dir, Path(config.agent.state_dir))
    try:
        await _run_agent_locked(config, load_config, key, tls)
    finally:
        os.close(lock_fd)


async def _run_agent_locked(config: AgentConfig,
                            load_config: Callable[[], AgentConfig] | None,
                            key: nacl.signing.SigningKey, tls: ClientTLS) -> None:
    spool = await asyncio.to_thread(Spool.open, Path(config.agent.state_dir),
                                    bytes(key.verify_key), config.spool)
    lines: asyncio.Queue[LineBatch] = asyncio.Queue(QUEUE_BATCHES)
    labeled: asyncio.Queue[LabeledBatch | None] = asyncio.Queue(QUEUE_BATCHES)
    # Checks the model file and starts its workers before anything is read: a missing,
    # corrupt or wrong-hash model stops the agent here, with the file named.
    classifier = await asyncio.to_thread(Classifier, config.classify,
                                         state_dir=Path(config.agent.state_dir))
    tailer = Tailer(config.tail, spool.cursors, lines, first_start=spool.fresh,
                    cursor_keeper=spool, stopped_after_ns=spool.last_record_wall_ns)
    collector_key = None
    if config.agent.collector_key:
        collector_key = load_note_verifier(Path(config.agent.collector_key))
    shipper = Shipper(config.ship, config.agent.collector, spool, collector_key=collector_key,
                      tls=tls)
    ops = AgentOps(config, load_config, spool, shipper, classifier)
    await ops.remember_spooled_lines()
    sealer = Sealer(config.seal, key, config.agent.name, spool.head, labeled,
                    ops.watch.on_sealed(spool.append))
    stop = _stop_event()
    head_known = asyncio.Event()
    if spool.fresh or spool.head_lost:
        log.info("agent %s starting: chain continues once collector %s says where it stands "
                 "(no chain head in %s)", config.agent.name, config.agent.collector,
                 config.agent.state_dir)
    else:
        head_known.set()
        log.info("agent %s starting: chain continues at seq %d, %d known files",
                 config.agent.name, spool.head.next_seq, len(spool.cursors))

    async def recover_head() -> None:
        if not head_known.is_set():
            await _recover_chain_head(config, spool, shipper, bytes(key.verify_key), tls)
            tailer.set_first_start(spool.fresh)
            sealer.continue_from(spool.head)
            head_known.set()

    status_path = Path(config.agent.state_dir) / STATUS_FILE

    def status_of() -> AgentStatus:
        return AgentStatus.build(config.agent.name, spool=spool.statistics(),
                                 ship=shipper.statistics(), seal=sealer.statistics(),
                                 tail=tailer.statistics())

    async def classify_loop() -> None:
        while True:
            batch = await lines.get()
            # ops.classify: a reload of [classify] may swap the classifier between batches
            await labeled.put(await ops.classify(batch))
            lines.task_done()  # lets shutdown wait for the batch in hand (lines.join())

    async def save_cache_loop() -> None:
        while True:  # a crash loses at most this much of the warm cache
            await asyncio.sleep(CACHE_SAVE_SECS)
            await asyncio.to_thread(ops.classifier.save_cache)

    try:
        await _run_pipeline(config, tailer, ops, classify_loop, save_cache_loop,
                            lambda: _status_loop(status_path, status_of), sealer,
                            shipper, spool, lines, labeled, stop, tls, recover_head,
                            head_known)
    except* SealtailError as group:
        # A stage failed on purpose-made error (a spool write that is not a full disk, ...):
        # end with that one error, not a traceback of every cancelled stage; systemd restarts.
        raise _first_leaf(group) from None
    finally:
        for used in ops.classifiers:  # the current one and any a reload replaced
            await asyncio.to_thread(used.close)
        every = [used.statistics() for used in ops.classifiers]  # across reloads
        by_layer: Counter[int] = Counter()
        for st in every:
            by_layer.update(st.by_layer)
        log.info("classified %d lines: by layer %s, %d fallbacks, %d model worker crashes",
                 sum(st.lines for st in every), layer_names(dict(by_layer)),
                 sum(st.fallback_lines for st in every), sum(st.worker_crashes for st in every))
        # On a crash the process exits and the OS closes the endpoint; a stale
        # STATE/http.address only makes `sealtail status` fall back to the state directory.
        await ops.close()
    log.info("agent stopped")


def layer_names(by_layer: dict[int, int]) -> dict[str, int]:
    """Counts by classifier layer, keyed by the layer's name ("rules", "model", ...) as
    `sealtail query --json` shows it, rather than its wire number."""
    from agent._pb import sealtail_pb2 as pb

    out = {}
    for layer, count in sorted(by_layer.items()):
        try:
            name = pb.Layer.Name(layer).removeprefix("LAYER_").lower()
        except ValueError:
            name = str(layer)
        out[name] = count
    return out


def _first_leaf(group: BaseExceptionGroup[SealtailError]) -> SealtailError:
    first = group.exceptions[0]
    return _first_leaf(first) if isinstance(first, BaseExceptionGroup) else first


async def _run_pipeline(config: AgentConfig, tailer: Tailer, ops: AgentOps,
                        classify_loop: Callable[[], Coroutine[Any, Any, None]],
                        save_cache_loop: Callable[[], Coroutine[Any, Any, None]],
                        status_loop: Callable[[], Coroutine[Any, Any, None]],
                        sealer: Sealer, shipper: Shipper, spool: Spool,
                        lines: asyncio.Queue[LineBatch],
                        labeled: asyncio.Queue[LabeledBatch | None], stop: asyncio.Event,
                        tls: ClientTLS, recover_head: Callable[[], Coroutine[Any, Any, None]],
                        head_known: asyncio.Event) -> None:
    async def after_head(run: Callable[[], Coroutine[Any, Any, None]]) -> None:
        await head_known.wait()  # nothing is read, sealed or shipped on a guessed chain head
        await run()

    async with asyncio.TaskGroup() as tg:
        head_task = tg.create_task(recover_head(), name="chain-head")
        tail_task = tg.create_task(after_head(tailer.run), name="tail")
        cache_task = tg.create_task(save_cache_loop(), name="save-cache")
        classify_task = tg.create_task(classify_loop(), name="classify")
        seal_task = tg.create_task(after_head(sealer.run), name="seal")
        ship_task = tg.create_task(after_head(shipper.run), name="ship")
        status_task = tg.create_task(status_loop(), name="status")
        stopped = tg.create_task(stop.wait(), name="stop-signal")
        ops_tasks = [tg.create_task(_announce_ready(tailer, config.agent.collector, tls,
                                                    head_known), name="ready")]
        ops_tasks += await ops.start(tailer, sealer, tg)
        watchdog = sdnotify.watchdog_interval_secs()
        if watchdog:
            ops_tasks.append(tg.create_task(sdnotify.watchdog_loop(watchdog),
                                            name="watchdog"))
        await asyncio.wait([stopped, tail_task, seal_task, ship_task],
                           return_when=asyncio.FIRST_COMPLETED)
        sdnotify.notify("STOPPING=1")
        for task in ops_tasks:
            task.cancel()
        if not head_known.is_set():
            log.warning("stopping before the collector said where the chain stands: nothing "
                        "was sealed; the files are read at the next start")
            stopped.cancel()
            for waiting in (head_task, tail_task, classify_task, cache_task, seal_task,
                            ship_task, status_task):
                waiting.cancel()
            return
        log.info("stopping: sealing buffered lines")
        tail_task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await tail_task
        # One bound for sealing and shipping: with a full spool the sealer may never get
        # room. Lines not sealed by then are read again at the next start (cursors only
        # move with durable segments), so cutting this short loses nothing.
        try:
            async with asyncio.timeout(config.ship.shutdown_grace_secs):
                # Classify what the tailer already read, including a batch waiting for the
                # model; cancelling mid-batch would drop it.
                await lines.join()
                await labeled.put(None)
                await seal_task
                await shipper.wait_drained()
        except TimeoutError:
            if not seal_task.done():
                log.warning("stopping before buffered lines could be sealed (spool full or "
                            "disk full); they are read again at the next start")
            log.warning("stopping with %d segments unacknowledged; they stay in the spool",
                        len(spool.pending_seqs()))
        stopped.cancel()
        for task in (classify_task, cache_task, seal_task, ship_task, status_task):
            task.cancel()


async def _announce_ready(tailer: Tailer, address: str, tls: ClientTLS,
                          head_known: asyncio.Event) -> None:
    """READY=1 once the files are being tailed and the collector answers, or after
    READY_CONNECT_WAIT_SECS without it: then the agent is ready as spooling (it ships when the
    collector comes back). An agent still waiting for the collector's ChainHead answer is
    ready as "waiting" (systemd would otherwise kill it at TimeoutStartSec and restart it
    into the same wait)."""
    with contextlib.suppress(TimeoutError):
        # Longer than a first start's question to the collector (FRESH_STATE_ASK_SECS), so an
        # agent.offline_new_chain agent is ready as spooling, never as waiting.
        async with asyncio.timeout(READY_CONNECT_WAIT_SECS + FRESH_STATE_ASK_SECS):
            await head_known.wait()
    if not head_known.is_set():
        status = f"waiting for collector {address} to say where the chain stands"
        sdnotify.notify("READY=1", f"STATUS={status}")
        log.info("ready: %s", status)
        return
    await tailer.wait_scanned()
    connected = False
    async with open_aio_channel(address, tls) as channel:
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(READY_CONNECT_WAIT_SECS):
                await channel.channel_ready()
                connected = True
    stats = tailer.statistics()
    waiting = f" ({stats.files_waiting} waiting for a slot)" if stats.files_waiting else ""
    status = (f"tailing {stats.files_open} files{waiting}, "
              + (f"connected to {address}" if connected
                 else f"spooling (collector {address} unreachable)"))
    sdnotify.notify("READY=1", f"STATUS={status}")
    log.info("ready: %s", status)


async def _status_loop(path: Path, status_of: Callable[[], AgentStatus]) -> None:
    """Refresh STATE/status.json every STATUS_INTERVAL_SECS for `sealtail status`."""
    try:
        while True:
            try:
                await asyncio.to_thread(write_status, path, status_of())
            except OSError as exc:  # a full disk: the log reports it
                log.debug("status.failed %s: %s", path, exc.strerror)
            await asyncio.sleep(STATUS_INTERVAL_SECS)
    finally:
        with contextlib.suppress(OSError):  # the last word: what stays unacknowledged
            write_status(path, dataclasses.replace(status_of(), running=False))


# With agent.offline_new_chain, a first start asks the collector this long, then starts at 0.
FRESH_STATE_ASK_SECS = 5.0


async def _recover_chain_head(config: AgentConfig, spool: Spool, shipper: Shipper,
                              agent_key: bytes, tls: ClientTLS) -> None:
    """Declared policy when the chain head is unknown (no state, or it was corrupt): continue
    the chain where the collector has it, and wait for its answer however long it takes. An
    empty state directory cannot tell "first start ever" from "state lost", and starting at
    seq 0 after a loss forks the chain (refused as equivocation, for good). Only
    agent.offline_new_chain allows seq 0 without an answer. Files without a cursor are read
    from the beginning, so their lines may be delivered twice, never lost. The head adopted
    is written to head.json before anything is sealed on top of it."""
    address = config.agent.collector
    head: ChainHead | None
    if spool.fresh and config.agent.offline_new_chain:
        try:
            head = await fetch_chain_head(address, agent_key, timeout_secs=FRESH_STATE_ASK_SECS,
                                          tls=tls)
        except CollectorUnavailable:
            log.warning("collector %s not reachable at first start; agent.offline_new_chain "
                        "= true: starting a new chain at seq 0", address)
            head = None
    else:
        head = await shipper.wait_chain_head(agent_key)
    if head is None:
        if spool.head_lost:
            log.warning("chain head lost and the collector holds nothing from this key; "
                        "starting at seq 0")
        await asyncio.to_thread(spool.adopt_head, ChainHead.genesis())
        return
    log.error("agent state %s: continuing the chain at seq %d as the collector holds it; files "
              "without a saved cursor are read from the beginning (lines may repeat)",
              "was lost" if spool.fresh else "was corrupt", head.next_seq)
    await asyncio.to_thread(spool.adopt_head, head)
    spool.fresh = False


async def run_collector(config: CollectorConfig) -> None:
    """Run the collector until SIGTERM/SIGINT."""
    from agent.collector import lock_data_dir
    from agent.store import SQLiteStore

    cfg = config.collector
    data_dir = Path(cfg.data_dir)
    authorized = load_authorized_keys(Path(cfg.authorized_keys))
    # Before anything is opened: a missing or mismatched certificate stops the start, named.
    credentials = server_credentials(cfg.tls, file="")
    _warn_exposed(config)
    # Before the store is opened: a second collector on the same directory stops here.
    lock_fd = await asyncio.to_thread(lock_data_dir, data_dir)
    store = await asyncio.to_thread(SQLiteStore, data_dir)
    try:
        await _serve_collector(config, store, data_dir, authorized, credentials)
    finally:
        store.close()
        os.close(lock_fd)
        log.info("collector stopped")


def _warn_exposed(config: CollectorConfig) -> None:
    """Loud start-up warnings for what is reachable from other hosts without protection."""
    cfg = config.collector
    if not cfg.tls.on and not is_loopback(cfg.listen):  # allowed only by allow_plaintext
        log.warning("PLAINTEXT: collector.listen %s is reachable from other hosts without TLS "
                    "(collector.allow_plaintext = true): lines, queries and tokens cross the "
                    "network in clear; set [collector.tls]", cfg.listen)
    if cfg.tls.on and not cfg.tls.require_client_cert and not cfg.query_token_file:
        log.warning("queries are open to anyone who reaches %s: set "
                    "collector.query_token_file or collector.tls.require_client_cert",
                    cfg.listen)
    warn_http_exposed(config.ops.http_listen, "/metrics")


def warn_http_exposed(http_listen: str, paths: str) -> None:
    if http_listen and not is_loopback(http_listen):
        log.warning("ops.http_listen %s is reachable from other hosts: %s answers anyone "
                    "who can connect, in clear (no TLS, no authentication)", http_listen, paths)


async def _serve_collector(config: CollectorConfig, store: SQLiteStore, data_dir: Path,
                           authorized: frozenset[bytes],
                           credentials: grpc.ServerCredentials | None) -> None:
    from agent.collector import Checkpointer, build_server

    cfg = config.collector
    key_path = data_dir / "collector.key"
    if not await asyncio.to_thread(key_path.exists):
        generate_key_file(key_path, comment="collector")
        log.info("created the collector's checkpoint key %s", key_path)
    checkpoints = await asyncio.to_thread(Checkpointer.open, store, load_signing_key(key_path),
                                          cfg.origin)
    # The verifier key agents and auditors pin (also printed by `sealtail collector-key`).
    await asyncio.to_thread((data_dir / "collector.vkey").write_text, checkpoints.vkey + "\n")
    query_token = None
    if cfg.query_token_file:
        query_token = await asyncio.to_thread(_read_token, Path(cfg.query_token_file))
    stop = _stop_event()
    server, port, ingest = await build_server(
        cfg.listen, store, authorized, max_message_bytes=cfg.max_message_bytes,
        checkpoints=checkpoints, query_token=query_token, max_streams=cfg.max_streams,
        max_inflight_bytes=cfg.max_inflight_bytes,
        summary_max_auth_keys=cfg.summary_max_auth_keys, credentials=credentials)
    host = cfg.listen.rpartition(":")[0]
    # Tests and scripts read this line to learn the port when listening on port 0.
    print(f"sealtail collector listening on {host}:{port}", flush=True)
    security = ("plaintext" if credentials is None else "TLS, client certificates required"
                if cfg.tls.require_client_cert else "TLS")
    log.info("collector listening on %s:%d (%s) with %d authorized keys", host, port, security,
             len(authorized))
    loop = asyncio.get_running_loop()
    with contextlib.suppress(NotImplementedError):
        loop.add_signal_handler(signal.SIGHUP, lambda: _reload_keys(ingest, cfg.authorized_keys))
    admin = await _collector_http(config, ingest, store, checkpoints)
    sdnotify.notify("READY=1", f"STATUS=listening on {host}:{port}")
    try:
        async with asyncio.TaskGroup() as tg:
            periodic = tg.create_task(checkpoints.run(cfg.checkpoint_interval_secs),
                                      name="checkpoints")
            watchdog = sdnotify.watchdog_interval_secs()
            pinger = (tg.create_task(sdnotify.watchdog_loop(watchdog), name="watchdog")
                      if watchdog else None)
            await stop.wait()
            sdnotify.notify("STOPPING=1")
            log.info("stopping: finishing the segments being stored")
            periodic.cancel()
            if pinger is not None:
                pinger.cancel()
    finally:
        if admin is not None:
            await admin.close()
        ingest.close()  # open streams end with UNAVAILABLE after their current segment
        await server.stop(grace=2)


async def _collector_http(config: CollectorConfig, ingest: object, store: SQLiteStore,
                          checkpoints: Checkpointer) -> AdminServer | None:
    """GET /metrics when ops.http_listen is set (health stays the standard gRPC service)."""
    from agent.metrics import CONTENT_TYPE, CollectorMetrics, exposition, registry_of

    if not config.ops.http_listen:
        return None
    registry = registry_of(CollectorMetrics(ingest, store, checkpoints))

    async def metrics() -> Response:
        return Response(200, exposition(registry), CONTENT_TYPE)

    admin = AdminServer(config.ops.http_listen, {("GET", "/metrics"): metrics})
    port = await admin.start()
    address = f"{config.ops.http_listen.rpartition(':')[0]}:{port}"
    print(f"sealtail collector http on {address}", flush=True)
    log.info("HTTP endpoint on http://%s (/metrics)", address)
    return admin


def _read_token(path: Path) -> str:
    from agent.errors import ConfigError

    try:
        token = path.read_text().strip()
    except OSError as exc:
        raise ConfigError(f"cannot read: {exc.strerror}", file=str(path),
                          key="collector.query_token_file") from exc
    if not token:
        raise ConfigError("the token file is empty", file=str(path),
                          key="collector.query_token_file")
    return token


def _reload_keys(ingest: object, path: str) -> None:
    from agent.collector import IngestService
    from agent.errors import SealtailError

    assert isinstance(ingest, IngestService)
    try:
        ingest.authorized = load_authorized_keys(Path(path))
        log.info("reloaded %d authorized keys from %s", len(ingest.authorized), path)
    except SealtailError as exc:
        log.error("kept the old authorized keys: %s", exc)
