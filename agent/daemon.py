"""Wiring: build each stage, link them with bounded queues, run them in one TaskGroup.

    Tailer ─(lines, ≤64 batches)─► classify ─(labeled, ≤64 batches)─► Sealer ─► Spool ◄─ Shipper

A crashing stage cancels the others and the process exits non-zero (systemd restarts it).
SIGTERM/SIGINT: stop reading, seal what is buffered, give the shipper `shutdown_grace_secs`
to collect acknowledgements, then exit 0. Whatever is unacknowledged stays in the spool.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
from collections.abc import Callable, Coroutine
from pathlib import Path
from typing import Any

from agent.classify import Classifier
from agent.collector import build_server
from agent.config import AgentConfig, CollectorConfig
from agent.keys import generate_key_file, load_authorized_keys, load_signing_key
from agent.records import LabeledBatch, LineBatch
from agent.seal import Sealer
from agent.ship import Shipper
from agent.spool import Spool
from agent.store import SQLiteStore
from agent.tail import Tailer

log = logging.getLogger("sealtail.daemon")

QUEUE_BATCHES = 64  # bound of each inter-stage queue (batches of up to ~1 MiB of lines)
CACHE_SAVE_SECS = 60.0  # how often the classifier's template cache is written to state_dir


def _stop_event() -> asyncio.Event:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    return stop


async def run_agent(config: AgentConfig) -> None:
    """Run the agent until SIGTERM/SIGINT."""
    key = load_signing_key(Path(config.agent.key))
    spool = await asyncio.to_thread(Spool.open, Path(config.agent.state_dir),
                                    bytes(key.verify_key))
    lines: asyncio.Queue[LineBatch] = asyncio.Queue(QUEUE_BATCHES)
    labeled: asyncio.Queue[LabeledBatch | None] = asyncio.Queue(QUEUE_BATCHES)
    # Checks the model file and starts its workers before anything is read: a missing,
    # corrupt or wrong-hash model stops the agent here, with the file named.
    classifier = await asyncio.to_thread(Classifier, config.classify,
                                         state_dir=Path(config.agent.state_dir))
    tailer = Tailer(config.tail, spool.cursors, lines)
    sealer = Sealer(config.seal, key, config.agent.name, spool.head, labeled, spool.append)
    shipper = Shipper(config.ship, config.agent.collector, spool)
    stop = _stop_event()
    log.info("agent %s starting: chain continues at seq %d, %d known files", config.agent.name,
             spool.head.next_seq, len(spool.cursors))

    async def classify_loop() -> None:
        while True:
            batch = await lines.get()
            await labeled.put(await classifier.classify_async(batch))
            lines.task_done()  # lets shutdown wait for the batch in hand (lines.join())

    async def save_cache_loop() -> None:
        while True:  # a crash loses at most this much of the warm cache
            await asyncio.sleep(CACHE_SAVE_SECS)
            await asyncio.to_thread(classifier.save_cache)

    try:
        await _run_pipeline(config, tailer, classifier, classify_loop, save_cache_loop, sealer,
                            shipper, spool, lines, labeled, stop)
    finally:
        await asyncio.to_thread(classifier.close)
        stats = classifier.statistics()
        log.info("classified %d lines: by layer %s, %d fallbacks, %d model worker crashes",
                 stats.lines, stats.by_layer, stats.fallback_lines, stats.worker_crashes)
    log.info("agent stopped")


async def _run_pipeline(config: AgentConfig, tailer: Tailer, classifier: Classifier,
                        classify_loop: Callable[[], Coroutine[Any, Any, None]],
                        save_cache_loop: Callable[[], Coroutine[Any, Any, None]],
                        sealer: Sealer, shipper: Shipper, spool: Spool,
                        lines: asyncio.Queue[LineBatch],
                        labeled: asyncio.Queue[LabeledBatch | None], stop: asyncio.Event) -> None:
    async with asyncio.TaskGroup() as tg:
        tail_task = tg.create_task(tailer.run(), name="tail")
        cache_task = tg.create_task(save_cache_loop(), name="save-cache")
        classify_task = tg.create_task(classify_loop(), name="classify")
        seal_task = tg.create_task(sealer.run(), name="seal")
        ship_task = tg.create_task(shipper.run(), name="ship")
        stopped = tg.create_task(stop.wait(), name="stop-signal")
        await asyncio.wait([stopped, tail_task, seal_task, ship_task],
                           return_when=asyncio.FIRST_COMPLETED)
        log.info("stopping: sealing buffered lines")
        tail_task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await tail_task
        # Classify what the tailer already read, including a batch waiting for the model;
        # cancelling mid-batch would drop it.
        await lines.join()
        classify_task.cancel()
        cache_task.cancel()
        await labeled.put(None)
        await seal_task
        try:
            async with asyncio.timeout(config.ship.shutdown_grace_secs):
                await shipper.wait_drained()
        except TimeoutError:
            log.warning("stopping with %d segments unacknowledged; they stay in the spool",
                        len(spool.pending_seqs()))
        ship_task.cancel()
        stopped.cancel()


async def run_collector(config: CollectorConfig) -> None:
    """Run the collector until SIGTERM/SIGINT."""
    cfg = config.collector
    data_dir = Path(cfg.data_dir)
    authorized = load_authorized_keys(Path(cfg.authorized_keys))
    store = await asyncio.to_thread(SQLiteStore, data_dir)  # creates data_dir (0700)
    key_path = data_dir / "collector.key"
    if not await asyncio.to_thread(key_path.exists):
        generate_key_file(key_path, comment="collector")
        log.info("created the collector's checkpoint key %s", key_path)
    load_signing_key(key_path)
    stop = _stop_event()
    server, port, ingest = await build_server(cfg.listen, store, authorized,
                                              max_message_bytes=cfg.max_message_bytes)
    host = cfg.listen.rpartition(":")[0]
    # Tests and scripts read this line to learn the port when listening on port 0.
    print(f"sealtail collector listening on {host}:{port}", flush=True)
    log.info("collector listening on %s:%d with %d authorized keys", host, port, len(authorized))
    loop = asyncio.get_running_loop()
    with contextlib.suppress(NotImplementedError):
        loop.add_signal_handler(signal.SIGHUP, lambda: _reload_keys(ingest, cfg.authorized_keys))
    try:
        await stop.wait()
    finally:
        await server.stop(grace=2)
        store.close()
        log.info("collector stopped")


def _reload_keys(ingest: object, path: str) -> None:
    from agent.collector import IngestService
    from agent.errors import SealtailError

    assert isinstance(ingest, IngestService)
    try:
        ingest.authorized = load_authorized_keys(Path(path))
        log.info("reloaded %d authorized keys from %s", len(ingest.authorized), path)
    except SealtailError as exc:
        log.error("kept the old authorized keys: %s", exc)
