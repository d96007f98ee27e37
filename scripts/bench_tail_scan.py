"""How long the tailer's first scan takes over many files, against the floor of that work.

    python scripts/bench_tail_scan.py --files 5000 --max-open 1024

The baseline ("floor") is what any tailer must do for each file found: glob, stat, open and
read its first 1 KiB. The tailer also compares each file with what it has read (copy
detection) and, past tail.max_open_files, records where waiting files start. Prints the
median of --repeat runs of each, and their ratio.
"""

from __future__ import annotations

import argparse
import asyncio
import glob
import logging
import os
import statistics
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from agent.config import TailConfig
from agent.records import LineBatch
from agent.tail import Tailer


def floor(pattern: str) -> float:
    t0 = time.perf_counter()
    for path in glob.glob(pattern):
        os.stat(path)
        fd = os.open(path, os.O_RDONLY)
        os.pread(fd, 1024, 0)
        os.close(fd)
    return time.perf_counter() - t0


def first_scan(pattern: str, max_open: int) -> tuple[float, int]:
    queue: asyncio.Queue[LineBatch] = asyncio.Queue()
    tailer = Tailer(replace(TailConfig(), paths=[pattern], max_open_files=max_open), {}, queue)
    t0 = time.perf_counter()
    tailer._scan()  # the scan alone, without reading: what start-up costs before any line
    elapsed = time.perf_counter() - t0
    waiting = tailer.statistics().files_waiting
    tailer.close()
    return elapsed, waiting


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--files", type=int, default=5000)
    parser.add_argument("--max-open", type=int, default=1024)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    logging.disable(logging.WARNING)  # "N files wait for a free slot", once per run
    with tempfile.TemporaryDirectory() as d:
        for i in range(args.files):
            Path(d, f"f{i}.log").write_bytes(f"{i} GET /index.html 200\n".encode() * 3)
        pattern = os.path.join(d, "*.log")
        floors, scans = [], []
        waiting = 0
        for _ in range(args.repeat):
            floors.append(floor(pattern))
            elapsed, waiting = first_scan(pattern, args.max_open)
            scans.append(elapsed)
    f, s = statistics.median(floors), statistics.median(scans)
    print(f"python scripts/bench_tail_scan.py --files {args.files} --max-open {args.max_open}")
    print(f"  floor (glob, stat, open, read 1 KiB): {f * 1000:8.1f} ms")
    print(f"  tailer first scan ({waiting} waiting):   {s * 1000:8.1f} ms  "
          f"({s / f:.1f}x the floor)")


if __name__ == "__main__":
    main()
