"""Which model to run, checked at start-up, and the worker processes that run it.

Each worker is a `python -m agent.classify._worker` child with one model instance, fed by one
thread of this process: the thread blocks on the pipe, never the event loop. The thread sends
what is queued, up to MAX_BATCH templates, in one request (one pipe round trip and one wake-up
per batch; the worker evaluates them in prefix-sharing order). A worker that dies (segfault,
abort, kill) is restarted and counted; the templates of that batch are then asked one at a
time, so one that kills the worker is retried once on a fresh worker and, if that dies too,
answered with None (the caller falls back to rules) without failing the others.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import queue
import subprocess
import sys
import threading
import time
from concurrent.futures import Future
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from agent.classify._gguf import read_gguf
from agent.classify._wire import ANSWER, COUNT, MAX_BATCH, REQUEST
from agent.errors import ModelError

log = logging.getLogger("sealtail.classify")

MODEL_DIR = Path(__file__).resolve().parent / "model"
START_TIMEOUT_SECS = 30.0

Answer = tuple[int, float] | None  # (label index, confidence), None when the worker failed


@dataclass(frozen=True, slots=True)
class ModelSpec:
    """A model file, the hash it must have, its prompt and its labels (one per category)."""

    path: Path
    sha256: str
    prompt: str
    labels: tuple[str, ...]
    categories: tuple[str, ...]
    # whether the Classifier checks answers against the line's words (_rules.EVIDENCE)
    check_answers: bool = False

    def fingerprint(self) -> str:
        """Changes whenever a cached decision of this model could change."""
        text = json.dumps([self.sha256, self.prompt, self.labels, self.categories, "mask-v3",
                           "evidence-v3" if self.check_answers else ""])
        return hashlib.sha256(text.encode()).hexdigest()


def shipped_spec() -> ModelSpec:
    """The model inside the package, described by its manifest."""
    manifest_path = MODEL_DIR / "manifest.json"
    try:
        manifest = json.loads(manifest_path.read_text())
        return ModelSpec(MODEL_DIR / manifest["file"], manifest["sha256"], manifest["prompt"],
                         tuple(manifest["labels"]), tuple(manifest["categories"]),
                         bool(manifest.get("check_answers", True)))
    except (OSError, ValueError, KeyError) as exc:
        raise ModelError(f"{manifest_path}: cannot read the shipped model's manifest: {exc}"
                         ) from exc


def check_model(spec: ModelSpec) -> None:
    """Fail at start-up, naming the file, when it is missing, of the wrong hash, or malformed."""
    try:
        digest = hashlib.sha256(spec.path.read_bytes()).hexdigest()
    except OSError as exc:
        raise ModelError(f"{spec.path}: cannot read the model file: {exc.strerror}") from exc
    if spec.sha256 and digest != spec.sha256.lower():
        raise ModelError(f"{spec.path}: SHA-256 is {digest}, expected {spec.sha256} "
                         "(corrupt or replaced model file)")
    read_gguf(spec.path)


class _Worker:
    def __init__(self, spec: ModelSpec, reuse_prefix: bool = True) -> None:
        arg = json.dumps({"path": str(spec.path), "prompt": spec.prompt,
                          "labels": list(spec.labels), "reuse": reuse_prefix})
        self.proc = subprocess.Popen([sys.executable, "-m", "agent.classify._worker", arg],
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE)
        assert self.proc.stdin is not None and self.proc.stdout is not None
        self.stdin: IO[bytes] = self.proc.stdin
        self.stdout: IO[bytes] = self.proc.stdout
        line = self.stdout.readline().decode(errors="replace").strip()
        if not line.startswith("READY"):
            self.kill()
            raise ModelError(line.removeprefix("ERROR ") if line else
                             f"{spec.path}: model worker exited at start-up "
                             f"(status {self.proc.returncode})")

    @property
    def pid(self) -> int:
        return self.proc.pid

    def ask(self, templates: list[bytes]) -> list[tuple[int, float]]:
        """One round trip for up to MAX_BATCH templates; OSError or EOFError when the process
        is gone."""
        parts = [COUNT.pack(len(templates))]
        for template in templates:
            parts.append(REQUEST.pack(len(template)))
            parts.append(template)
        self.stdin.write(b"".join(parts))
        self.stdin.flush()
        size = ANSWER.size * len(templates)
        data = self.stdout.read(size)
        if len(data) != size:
            raise EOFError("model worker closed its output")
        return [(int(i), float(c)) for i, c in ANSWER.iter_unpack(data)]

    def kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait()
        for stream in (self.proc.stdin, self.proc.stdout):
            if stream is not None:
                # Closing flushes what a dead worker never read: EPIPE, which must not escape.
                with contextlib.suppress(OSError):
                    stream.close()

    def stop(self, timeout: float = 5.0) -> None:
        try:
            self.stdin.close()  # EOF: the worker returns 0
            self.proc.wait(timeout)
        except (OSError, subprocess.TimeoutExpired):
            pass
        self.kill()


class WorkerPool:
    """`workers` model processes behind one bounded queue of templates."""

    def __init__(self, spec: ModelSpec, workers: int = 1, max_queued: int = 10_000,
                 *, reuse_prefix: bool = True) -> None:
        self.spec = spec
        self._reuse = reuse_prefix
        self._queue: queue.Queue[tuple[bytes, Future[Answer]] | None] = queue.Queue(max_queued)
        self._threads: list[threading.Thread] = []
        self._workers: list[_Worker | None] = []
        self._lock = threading.Lock()
        self.crashes = self.restarts = self.answered = self.failed = 0
        for _ in range(workers):  # started here so a bad model fails the agent's start-up
            self._workers.append(_Worker(spec, reuse_prefix))
        for i in range(workers):
            t = threading.Thread(target=self._run, args=(i,), name=f"model-worker-{i}",
                                 daemon=True)
            t.start()
            self._threads.append(t)

    def pids(self) -> list[int]:
        return [w.pid for w in self._workers if w is not None]

    def submit(self, template: bytes) -> Future[Answer] | None:
        """Queue `template`; None when the queue is full (the caller falls back)."""
        fut: Future[Answer] = Future()
        try:
            self._queue.put_nowait((template, fut))
        except queue.Full:
            return None
        return fut

    def queued(self) -> int:
        return self._queue.qsize()

    def _restart(self, i: int) -> _Worker | None:
        old = self._workers[i]
        if old is not None:
            old.kill()
        self._workers[i] = None
        try:
            worker = _Worker(self.spec, self._reuse)
        except (ModelError, OSError) as exc:
            log.error("model worker %d could not restart: %s", i, exc)
            time.sleep(1.0)  # the file went bad under us: retry slowly, callers fall back
            return None
        with self._lock:
            self.restarts += 1
        self._workers[i] = worker
        log.warning("model worker %d restarted as pid %d", i, worker.pid)
        return worker

    def _died(self, i: int, worker: _Worker, what: str) -> None:
        status = worker.proc.poll()
        with self._lock:
            self.crashes += 1
        log.error("model worker %d (pid %d) died (status %s) on %s", i, worker.pid, status, what)
        self._restart(i)

    def _ask_one(self, i: int, template: bytes) -> Answer:
        for _attempt in range(2):  # the second try runs on a fresh worker
            worker = self._workers[i] or self._restart(i)
            if worker is None:
                return None
            try:
                return worker.ask([template])[0]
            except (OSError, EOFError, ValueError):
                self._died(i, worker, f"a {len(template)}-byte template")
        return None

    def _ask(self, i: int, templates: list[bytes]) -> list[Answer]:
        worker = self._workers[i] or self._restart(i)
        if worker is None:
            return [None] * len(templates)
        try:
            return list(worker.ask(templates))
        except (OSError, EOFError, ValueError):
            self._died(i, worker, f"a batch of {len(templates)} templates")
        # One at a time now: a template that kills the worker must not fail the others.
        return [self._ask_one(i, t) for t in templates]

    def _take_batch(self) -> tuple[list[tuple[bytes, Future[Answer]]], bool]:
        """The next queued items (waiting for the first), up to MAX_BATCH; and whether the
        stop sentinel was taken."""
        item = self._queue.get()
        if item is None:
            return [], True
        items = [item]
        while len(items) < MAX_BATCH:
            try:
                item = self._queue.get_nowait()
            except queue.Empty:
                break
            if item is None:
                return items, True
            items.append(item)
        return items, False

    def _run(self, i: int) -> None:
        stop = False
        while not stop:
            items, stop = self._take_batch()
            items = [(t, fut) for t, fut in items if fut.set_running_or_notify_cancel()]
            if not items:
                continue
            try:
                answers = self._ask(i, [t for t, _ in items])
            except Exception:  # a bug here must not leave callers waiting forever
                log.exception("model worker %d: unexpected failure", i)
                answers = [None] * len(items)
            with self._lock:
                failed = sum(1 for a in answers if a is None)
                self.failed += failed
                self.answered += len(answers) - failed
            for (_, fut), answer in zip(items, answers, strict=True):
                fut.set_result(answer)

    def close(self) -> None:
        """Stop the threads and the worker processes (queued templates are dropped)."""
        while True:
            try:
                item = self._queue.get_nowait()
            except queue.Empty:
                break
            if item is not None:
                item[1].cancel()
        for _ in self._threads:
            self._queue.put(None)
        for t in self._threads:
            t.join(10)
        for w in self._workers:
            if w is not None:
                w.stop()
