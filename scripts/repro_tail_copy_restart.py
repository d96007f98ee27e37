"""Run one tailing-property scenario many times and count exactly-once failures.

Usage: .venv/bin/python scripts/repro_tail_copy_restart.py [N] [--load]

The default scenario is the one `make test` once failed on (a copytruncate, then a stop
while the copy's cursor was not yet acknowledged, then a rename while stopped). `--load`
runs a busy loop in a child process to widen timing windows. Not a test: it reports counts.
"""

from __future__ import annotations

import asyncio
import multiprocessing
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.unit.tail.test_tailing_property import scenario

OPS = [("partial", 2), ("copytruncate", 0), ("stop_then_rename", 9), ("partial", 2)]


def _burn() -> None:
    while True:
        pass


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 and sys.argv[1].isdigit() else 200
    burner = None
    if "--load" in sys.argv:
        burner = multiprocessing.Process(target=_burn, daemon=True)
        burner.start()
    failures: dict[str, int] = {}
    try:
        for _ in range(n):
            with tempfile.TemporaryDirectory() as d:
                try:
                    asyncio.run(scenario(Path(d), "app.log*", OPS))
                except AssertionError as exc:
                    key = str(exc).splitlines()[0][:120]
                    failures[key] = failures.get(key, 0) + 1
    finally:
        if burner is not None:
            burner.terminate()
    print(f"{sum(failures.values())} failures in {n} runs")
    for key, count in sorted(failures.items(), key=lambda kv: -kv[1]):
        print(f"  {count:4d}  {key}")


if __name__ == "__main__":
    main()
