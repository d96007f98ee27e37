"""How long the tailer's scans take over many files, against the floor of that work.

    python scripts/bench_tail_scan.py --files 5000 --max-open 1024

The baseline ("floor") is what any tailer must do for each file found: glob, stat, open and
read its first 1 KiB. The tailer also compares each file with what it has read (copy
detection) and, past tail.max_open_files, records where waiting files start; files that
appear after the first scan are also searched for generations renamed away before they were
seen. Prints the median of --repeat runs of each, and their ratio to the floor.
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


def make_files(directory: str, count: int) -> None:
    for i in range(count):
        Path(directory, f"f{i}.log").write_bytes(f"{i} GET /index.html 200\n".encode() * 3)


def timed_scan(directory: str, max_open: int, *, appear_later: int = 0) -> tuple[float, int]:
    """Seconds of one scan (without reading: what finding files costs before any line),
    and how many files wait. With `appear_later`, that many files are created after a
    first scan of the directory, and the second scan is timed."""
    queue: asyncio.Queue[LineBatch] = asyncio.Queue()
    config = replace(TailConfig(), paths=[os.path.join(directory, "*.log")],
                     max_open_files=max_open)
    tailer = Tailer(config, {}, queue)
    if appear_later:
        tailer._scan()
        make_files(directory, appear_later)
    t0 = time.perf_counter()
    tailer._scan()
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
    floors, firsts, laters = [], [], []
    waiting = 0
    for _ in range(args.repeat):
        with tempfile.TemporaryDirectory() as d:
            make_files(d, args.files)
            floors.append(floor(os.path.join(d, "*.log")))
            elapsed, waiting = timed_scan(d, args.max_open)
            firsts.append(elapsed)
        with tempfile.TemporaryDirectory() as d:
            laters.append(timed_scan(d, args.max_open, appear_later=args.files)[0])
    f = statistics.median(floors)
    print(f"python scripts/bench_tail_scan.py --files {args.files} --max-open {args.max_open}"
          f"  (median of {args.repeat})")
    print(f"  floor (glob, stat, open, read 1 KiB of each):  {f * 1000:8.1f} ms")
    for label, runs in ((f"first scan ({waiting} waiting)", firsts),
                        ("scan finding them all new", laters)):
        s = statistics.median(runs)
        print(f"  {label:<45}  {s * 1000:8.1f} ms  ({s / f:.1f}x the floor)")


if __name__ == "__main__":
    main()
