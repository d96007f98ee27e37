"""`make bench` (classification part): warm lines/s, cold templates/s, model latency, RSS.

Measured in one run against named baselines:
  * warm: N genlog lines (../shared/bench/genlog.py, else the project's generators) labelled
    twice; the second pass is timed (CPU time of this process: one core), so every template
    is cached.
    Baselines in the same run: a bare join+split of each 10 000-line batch (the floor of any
    per-batch work), the previous warm path (per line: the mask-v2 regex, then a dict lookup),
    and the rules-only classifier (classify.model = false);
  * cold: distinct generated templates, none cached, through one worker process: templates/s
    (baseline in the same run: the same templates one per pipe round trip, every prompt
    evaluated from position 0, as the pool did before batching and prefix reuse), and the
    round-trip latency of single templates (p50/p99) with the worker otherwise idle;
  * memory: peak RSS (VmHWM) of this process and of the model worker.

Usage: python scripts/bench_classify.py [--lines N] [--templates T]
"""

from __future__ import annotations

import argparse
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from agent.classify import Classifier  # noqa: E402
from agent.classify._pool import _Worker, shipped_spec  # noqa: E402
from agent.classify._template import mask, mask_many  # noqa: E402
from agent.classify.training.generators import generate  # noqa: E402
from agent.config import ClassifyConfig  # noqa: E402

GENLOG = ROOT.parent / "shared" / "bench" / "genlog.py"
CHUNK = 10_000
# The masking before mask-v3 (commit be44f99): digit-bearing tokens only, one line at a time.
MASK_V2 = re.compile(rb"(?<![\w.:/-])[A-Za-z_.:/-]*+\d[\w.:/-]*+")


def realistic_lines(n: int) -> tuple[list[bytes], str]:
    if GENLOG.exists():
        with tempfile.TemporaryDirectory() as tmp:
            out = Path(tmp) / "bench.log"
            subprocess.run([sys.executable, str(GENLOG), str(n), str(out)], check=True)
            return out.read_bytes().split(b"\n")[:n], "genlog.py"
    return [line.encode() for line, _ in generate(n, seed=7)], "project generators"


def vm_hwm_kib(pid: int) -> int:
    for row in Path(f"/proc/{pid}/status").read_text().splitlines():
        if row.startswith("VmHWM:"):
            return int(row.split()[1])
    return 0


def timed_rate(lines: list[bytes], work: object) -> float:
    """Lines per CPU second of this process (one core's worth; far steadier than wall time
    on a shared machine, and the classifier's warm path runs on this thread alone)."""
    assert callable(work)
    start = time.process_time()
    for i in range(0, len(lines), CHUNK):
        work(lines[i:i + CHUNK])
    return len(lines) / (time.process_time() - start)


def previous_warm_path(lines: list[bytes]) -> float:
    """Per line: the mask-v2 regex and a dict lookup (the cache hit of the previous path)."""
    sub = MASK_V2.sub
    cache = {sub(b"#", line[:2048]): line for line in lines}
    get = cache.get
    return timed_rate(lines, lambda batch: [get(sub(b"#", line[:2048])) for line in batch])


def cpu_secs(pid: int) -> float:
    """utime + stime of a process: a rate per CPU second is what one worker core gives, and
    is far less disturbed than wall time when other jobs share the machine."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def previous_protocol_rate(templates: list[bytes]) -> tuple[float, float]:
    """(templates/s, templates per worker CPU second) the way the pool worked before: one
    template per pipe round trip, every prompt evaluated from position 0 (no prefix reuse)."""
    worker = _Worker(shipped_spec(), reuse_prefix=False)
    try:
        worker.ask([b"warm-up line"])
        cpu0, start = cpu_secs(worker.pid), time.perf_counter()
        for template in templates:
            worker.ask([template])
        wall, cpu = time.perf_counter() - start, cpu_secs(worker.pid) - cpu0
        return len(templates) / wall, len(templates) / max(cpu, 1e-9)
    finally:
        worker.stop()


def warm_rate(config: ClassifyConfig, lines: list[bytes], chunk: int = CHUNK) -> float:
    classifier = Classifier(config)
    try:
        for i in range(0, len(lines), chunk):  # fills the cache
            classifier.label_many(lines[i:i + chunk])
        return timed_rate(lines, classifier.label_many)
    finally:
        classifier.close()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--lines", type=int, default=1_000_000)
    parser.add_argument("--templates", type=int, default=2000)
    ns = parser.parse_args()
    lines, source = realistic_lines(ns.lines)
    templates = len({t for i in range(0, len(lines), CHUNK) for t in mask_many(lines[i:i + CHUNK])})
    previous = len({MASK_V2.sub(b"#", line[:2048]) for line in lines})
    print(f"input: {len(lines):,} lines from {source}, {templates} templates "
          f"({previous} with the previous mask-v2); {os.cpu_count()} CPUs")

    split = timed_rate(lines, lambda batch: b"\n".join(batch).split(b"\n"))
    old = previous_warm_path(lines)
    rules = warm_rate(ClassifyConfig(model=False), lines)
    with_model = warm_rate(ClassifyConfig(cache_persist=False), lines)
    print(f"warm cache, lines per CPU second of one core: with model {with_model:,.0f}; "
          f"baselines: rules-only "
          f"{rules:,.0f}, previous path (mask-v2 per line + dict) {old:,.0f} (ratio "
          f"{with_model / old:.2f}), bare join+split {split:,.0f}")

    seen: set[bytes] = set()
    cold: list[bytes] = []
    for line, _ in generate(ns.templates * 20, seed=4242):
        t = mask(line.encode())
        if t not in seen:
            seen.add(t)
            cold.append(line.encode())
        if len(cold) == ns.templates:
            break
    classifier = Classifier(ClassifyConfig(default_rules=False, cache_persist=False))
    try:
        (worker,) = classifier.worker_pids()
        classifier.label_many([b"warm-up line"])
        cpu0, start = cpu_secs(worker), time.perf_counter()
        classifier.label_many(cold[: len(cold) // 2])
        rate = len(cold) // 2 / (time.perf_counter() - start)
        per_cpu = len(cold) // 2 / max(cpu_secs(worker) - cpu0, 1e-9)
        latencies = []
        for line in cold[len(cold) // 2:]:
            t0 = time.perf_counter()
            classifier.label(line)
            latencies.append((time.perf_counter() - t0) * 1000)
        latencies.sort()
        p99 = latencies[int(len(latencies) * 0.99) - 1]
        old_rate, old_per_cpu = previous_protocol_rate(mask_many(cold[: len(cold) // 2]))
        print(f"cold templates, 1 worker: {rate:,.0f} templates/s wall, {per_cpu:,.0f} per "
              f"worker CPU second (baseline in this run: one template per round trip, context "
              f"rebuilt from 0 as before: {old_rate:,.0f}/s wall, {old_per_cpu:,.0f} per CPU "
              f"second; ratio {per_cpu / old_per_cpu:.2f}); single-template latency p50 "
              f"{statistics.median(latencies):.2f} ms, p99 {p99:.2f} ms")
        print(f"peak RSS: model worker {vm_hwm_kib(worker) / 1024:.1f} MiB; this process "
              f"(agent side: classifier, caches, {len(lines):,} lines held) "
              f"{vm_hwm_kib(os.getpid()) / 1024:.1f} MiB")
    finally:
        classifier.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
