"""Running the agent as a service: health, metrics, status and config reload, in one place.

`daemon.run_agent` builds one `AgentOps` beside the stages. It owns

* a `ShipWatch` (agent/health.py) sampling the spool and the shipper,
* the HTTP endpoint (agent/admin.py), when ``ops.http_listen`` is set: ``GET /metrics``
  (Prometheus), ``GET /healthz`` (200 or 503 when shipping stalled, one line of reason),
  ``GET /livez`` (200 while the event loop answers: for liveness probes, which should not
  restart the agent because the collector is down), ``GET /status`` (JSON for
  `sealtail status`), ``POST /reload``; its bound address is written to ``STATE/http.address``
  so `sealtail status --state` and `sealtail reload --state` find it,
* reload (SIGHUP or POST /reload): the config is read again through the same load, merge and
  check as at start-up. New or removed globs and ``[tail]`` options apply to the running
  tailer (removed files are read to their end, then closed), ``[classify]`` rules apply to
  every line classified from then on. Offsets, the chain and the spool are untouched.
  An invalid file is refused and the running config stays. Changes to ``[agent]``, ``[seal]``,
  ``[ship]`` and ``[ops]`` need a restart and are reported as such.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import signal
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from agent.admin import AdminServer, Response
from agent.classify import Classifier
from agent.config import AgentConfig
from agent.errors import SealtailError, VerificationError
from agent.formats import peek_checkpoint
from agent.health import Health, ShipWatch
from agent.records import LabeledBatch, LineBatch
from agent.seal import Sealer
from agent.ship import HISTORY_CODES, Shipper, ShipState
from agent.spool import Spool
from agent.tail import Tailer

log = logging.getLogger("sealtail.ops")

HTTP_ADDRESS_FILE = "http.address"
RESTART_SECTIONS = ("agent", "seal", "ship", "ops")


class AgentOps:
    def __init__(self, config: AgentConfig, load_config: Callable[[], AgentConfig] | None,
                 spool: Spool, shipper: Shipper, classifier: Classifier) -> None:
        self.config = config
        self._load_config = load_config
        self._spool = spool
        self._shipper = shipper
        self.watch = ShipWatch(spool, shipper, config.ops.unhealthy_after_secs)
        # Every classifier used since start (metrics sum their counts); all but the last are
        # retired: closed, their model workers stopped and reaped, once no batch uses them.
        self.classifiers: list[Classifier] = [classifier]
        self._in_use: dict[int, int] = {}  # id(classifier) -> batches being classified
        self._retired: set[int] = set()
        self.reloads = {"applied": 0, "refused": 0}
        self._tailer: Tailer | None = None
        self._sealer: Sealer | None = None
        self._server: AdminServer | None = None
        self._started = time.time()

    @property
    def classifier(self) -> Classifier:
        """The classifier new lines go through (replaced by a reload of [classify])."""
        return self.classifiers[-1]

    async def classify(self, batch: LineBatch) -> LabeledBatch:
        """Label a batch with the current classifier; one a reload replaced meanwhile is
        closed once its last batch is done."""
        used = self.classifier
        self._in_use[id(used)] = self._in_use.get(id(used), 0) + 1
        try:
            return await used.classify_async(batch)
        finally:
            self._in_use[id(used)] -= 1
            if used is not self.classifier and not self._in_use[id(used)]:
                await asyncio.to_thread(self._retire, used)

    def _retire_idle(self) -> None:
        for old in self.classifiers[:-1]:
            if not self._in_use.get(id(old)):
                self._retire(old)

    def _retire(self, old: Classifier) -> None:
        if id(old) in self._retired:
            return
        self._retired.add(id(old))
        old.close()  # saves its cache, stops and reaps its model workers
        log.info("replaced classifier closed (its model workers stopped)")

    async def remember_spooled_lines(self) -> None:
        """Line counts of segments left in the spool by an earlier run (for the
        lines-acknowledged counter)."""
        from agent._pb import sealtail_pb2 as pb
        from agent.formats import parse_header

        for seq in self._spool.pending_seqs():
            with contextlib.suppress(SealtailError, ValueError):
                segment = pb.Segment.FromString(await self._spool.read(seq))
                self.watch.remember_lines(seq, parse_header(segment.header).count)

    async def start(self, tailer: Tailer, sealer: Sealer, tg: asyncio.TaskGroup
                    ) -> list[asyncio.Task[None]]:
        """Start sampling, the HTTP endpoint (if configured) and the SIGHUP handler."""
        self._tailer, self._sealer = tailer, sealer
        tasks = [tg.create_task(self.watch.run(), name="ship-watch")]
        loop = asyncio.get_running_loop()
        with contextlib.suppress(NotImplementedError):
            loop.add_signal_handler(signal.SIGHUP, self.reload)
        if self.config.ops.http_listen:
            # Only with the endpoint on: prometheus_client (with the http.server, wsgiref and
            # email modules it imports) is ~3 MiB of an agent's resident memory.
            from agent.metrics import (
                CONTENT_TYPE,
                AgentMetrics,
                AgentStages,
                exposition,
                registry_of,
            )

            registry = registry_of(AgentMetrics(AgentStages(
                tailer, self.classifiers, sealer, self._spool, self._shipper, self.watch,
                lambda: dict(self.reloads), self.health)))

            async def metrics() -> Response:
                return Response(200, exposition(registry), CONTENT_TYPE)

            async def reload() -> Response:
                ok, message = self.reload()
                return Response(200 if ok else 409, (message + "\n").encode())

            self._server = AdminServer(self.config.ops.http_listen, {
                ("GET", "/metrics"): metrics, ("GET", "/healthz"): self._healthz,
                ("GET", "/livez"): self._livez,
                ("GET", "/status"): self._status, ("POST", "/reload"): reload})
            port = await self._server.start()
            host = self.config.ops.http_listen.rpartition(":")[0]
            address = f"{host}:{port}"
            await asyncio.to_thread(_write_address, Path(self.config.agent.state_dir), address)
            # Tests and scripts read this line to learn the port when listening on port 0.
            print(f"sealtail agent http on {address}", flush=True)
            log.info("HTTP endpoint on http://%s (/metrics /healthz /status POST /reload)",
                     address)
        return tasks

    async def close(self) -> None:
        with contextlib.suppress(NotImplementedError, RuntimeError):
            asyncio.get_running_loop().remove_signal_handler(signal.SIGHUP)
        if self._server is not None:
            await self._server.close()
            with contextlib.suppress(OSError):
                (Path(self.config.agent.state_dir) / HTTP_ADDRESS_FILE).unlink()

    # -- reload ------------------------------------------------------------------------------

    def reload(self) -> tuple[bool, str]:
        """Re-read the config; apply what can change while running. Returns (applied, message)."""
        if self._load_config is None:
            return self._refused("this agent was started without a config to re-read")
        try:
            new = self._load_config()
        except SealtailError as exc:
            return self._refused(str(exc))
        old = self.config
        applied = []
        if new.tail != old.tail and self._tailer is not None:
            added = sorted(set(new.tail.paths) - set(old.tail.paths))
            removed = sorted(set(old.tail.paths) - set(new.tail.paths))
            self._tailer.reconfigure(new.tail)
            applied.append(f"tail (globs added: {added or 'none'}, removed: "
                           f"{removed or 'none'})")
        if new.classify != old.classify:
            try:  # a new model file is checked (and its workers started) before the swap
                fresh = Classifier(new.classify, state_dir=Path(old.agent.state_dir))
            except SealtailError as exc:
                return self._refused(str(exc))
            self.classifiers.append(fresh)
            self._retire_idle()  # one still busy with a batch is closed when it is done
            applied.append(f"classify ({len(new.classify.rules)} user rules)")
        later = [name for name in RESTART_SECTIONS if getattr(new, name) != getattr(old, name)]
        # Only what was applied becomes the running config; the rest waits for a restart.
        self.config = AgentConfig(agent=old.agent, tail=new.tail, classify=new.classify,
                                  seal=old.seal, ship=old.ship, ops=old.ops)
        self.reloads["applied"] += 1
        message = "reloaded: " + ("; ".join(applied) if applied else "nothing changed")
        if later:
            message += f"; changed but applied only at restart: {', '.join(later)}"
        log.info("%s", message)
        return True, message

    def _refused(self, why: str) -> tuple[bool, str]:
        self.reloads["refused"] += 1
        message = f"reload refused, the running config stays: {why}"
        log.error("%s", message)
        return False, message

    # -- HTTP handlers -----------------------------------------------------------------------

    async def _livez(self) -> Response:
        # Answered by the event loop itself: a hung loop fails it, a down collector does not.
        return Response(200, b"alive\n")

    def health(self) -> Health:
        """The ship watch's verdict, made unhealthy at once by what no waiting cures: the
        chain head still unknown (nothing is sealed) or a collector that rolled back."""
        h = self.watch.health()
        sh = self._shipper.statistics()
        if sh.awaiting_chain_head or (sh.state == ShipState.REFUSED
                                      and sh.last_code in HISTORY_CODES):
            return Health(False, sh.last_error, h.waiting_segments, h.stalled_secs)
        return h

    async def _healthz(self) -> Response:
        h = self.health()
        return Response(200 if h.healthy else 503,
                        f"{'ok' if h.healthy else 'unhealthy'}: {h.reason}\n".encode())

    async def _status(self) -> Response:
        return Response(200, json.dumps(self.status(), indent=1).encode() + b"\n",
                        "application/json")

    def status(self) -> dict[str, Any]:
        """What `sealtail status` shows: files and offsets, spool, acknowledgements, anchor."""
        files = []
        if self._tailer is not None:
            for c in sorted(self._tailer.cursors(), key=lambda c: c.path):
                size = None
                with contextlib.suppress(OSError):
                    st = os.stat(c.path)
                    if (st.st_dev, st.st_ino) == (c.identity.device, c.identity.inode):
                        size = st.st_size
                sealed = self.watch.sealed_offset(c.identity.device, c.identity.inode)
                files.append({"path": c.path, "inode": c.identity.inode, "offset": c.offset,
                              "sealed_offset": sealed,
                              "size": size})
        sp = self._spool.statistics()
        w = self.watch.statistics()
        sh = self._shipper.statistics()
        h = self.health()
        checkpoint = None
        if self._spool.anchor is not None:
            with contextlib.suppress(VerificationError):
                cp = peek_checkpoint(self._spool.anchor)
                checkpoint = {"origin": cp.origin, "size": cp.size, "root": cp.root.hex()}
        tail = self._tailer.statistics() if self._tailer is not None else None
        return {
            "agent": self.config.agent.name, "pid": os.getpid(),
            "collector": self.config.agent.collector, "state_dir": self.config.agent.state_dir,
            "started_unix": self._started,
            "health": {"healthy": h.healthy, "reason": h.reason,
                       "waiting_segments": h.waiting_segments,
                       "stalled_secs": round(h.stalled_secs, 3)},
            "files": files,
            "tail": {"globs": list(self.config.tail.paths),
                     "files_open": tail.files_open if tail else 0,
                     "files_waiting": tail.files_waiting if tail else 0,
                     "lines_read": tail.lines_read if tail else 0,
                     "rotations": tail.rotations if tail else 0,
                     "truncations": tail.truncations if tail else 0},
            "spool": {"segments": sp.segments, "bytes": sp.bytes, "oldest_seq": sp.oldest_seq,
                      "oldest_age_secs": round(w.oldest_unacknowledged_age_secs, 3),
                      "next_seq": self._spool.head.next_seq},
            # connected: a stream is open and acknowledging (the shipper's own flag is set
            # as soon as a segment is handed to gRPC, before any connection exists)
            "ship": {"connected": sh.connected and sh.state == "shipping",
                     "state": str(sh.state), "segments_sent": sh.segments_sent,
                     "segments_acknowledged": sh.segments_acked,
                     "lines_acknowledged": w.lines_acknowledged,
                     "last_ack_unix": w.last_ack_unix, "reconnects": sh.reconnects,
                     "refusals": sh.refusals, "last_error": sh.last_error},
            "checkpoint": checkpoint,
            "reloads": dict(self.reloads),
        }


def _write_address(state_dir: Path, address: str) -> None:
    from agent.spool import atomic_write

    atomic_write(state_dir / HTTP_ADDRESS_FILE, address.encode() + b"\n")


def agent_pid_problem(pid: int) -> str | None:
    """Why `pid` is not a running sealtail agent (None when it is), from /proc/PID/cmdline:
    `sealtail reload --pid` must not send SIGHUP to an unrelated process (or to init)."""
    try:
        argv = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
    except FileNotFoundError:
        return f"pid {pid}: no such process"
    except OSError as exc:
        return f"pid {pid}: cannot read its command line: {exc.strerror}"
    words = [a.decode(errors="replace") for a in argv if a]
    # `sealtail agent ...` (the console script, maybe run by python) or `python -m agent agent`
    for i, word in enumerate(words[:3]):
        command = words[i + 1:i + 2]
        if os.path.basename(word) == "sealtail" and command == ["agent"]:
            return None
        if word == "-m" and words[i + 1:i + 3] == ["agent", "agent"]:
            return None
    shown = " ".join(words)[:80]
    return f"pid {pid} is not a sealtail agent ({shown!r}); not signalled"

