"""Latency and peak memory of one collector summary over a window holding a big attack.

Builds (once, cached in --store) a store through the real ingest path with
`tests/authflood.py`: FAILURES failed logins from ADDRESSES addresses in a 24 h window, one
brute-force success, alice's logins. Then runs `build_summary` (what the Query RPC
`Summary` does) REPEATS times, each in a fresh process: wall time, Python peak
(tracemalloc) and the process's peak RSS growth. Prints the medians, and a digest of the
findings (anomalies, failed-login tables) so two versions of the code can be compared on
the same store.

Usage: python scripts/bench_summary.py [--failures N] [--addresses K] [--repeats R]
           [--store DIR] [--code DIR]
  --code DIR   import `agent` from another checkout (e.g. main's) for a before/after figure.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def measure(store_dir: str, start: int, end: int, trace: bool) -> dict[str, object]:
    """One summary in this process: seconds and RSS growth untraced, or the tracemalloc
    peak (traced, its seconds are not reported); and the findings."""
    import resource
    import time
    import tracemalloc

    import agent
    from agent._pb import sealtail_pb2 as pb
    from agent.collector._summary import build_summary
    from agent.store import SQLiteStore

    store = SQLiteStore(Path(store_dir), readonly=True)
    request = pb.SummaryRequest(since_ns=start, until_ns=end)
    rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    if trace:
        tracemalloc.start()
    t0 = time.perf_counter()
    response = build_summary(store, request, now_ns=end + 3600 * 10**9)
    seconds = time.perf_counter() - t0
    _, peak = tracemalloc.get_traced_memory() if trace else (0, 0)
    if trace:
        tracemalloc.stop()
    rss_after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    store.close()
    summary = json.loads(response.summary_json)
    findings = {k: summary[k] for k in ("anomalies", "failed_logins_by_user",
                                        "failed_logins_by_address")}
    return {"seconds": seconds, "peak_bytes": peak,
            "rss_growth_kib": rss_after - rss_before,
            "findings_sha256": hashlib.sha256(json.dumps(findings, sort_keys=True)
                                              .encode()).hexdigest()[:16],
            "brute_force": [(a["subject"], a["score"]) for a in summary["anomalies"]
                            if a["kind"] == "brute_force_success"],
            "notes": summary["notes"], "agent_from": str(Path(agent.__file__).parent)}


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--failures", type=int, default=200_000)
    p.add_argument("--addresses", type=int, default=50_000)
    p.add_argument("--repeats", type=int, default=5)
    p.add_argument("--store", help="store directory (built when empty; default: a temp dir)")
    p.add_argument("--code", help="checkout to import agent from (default: this one)")
    p.add_argument("--measure", nargs=4, help=argparse.SUPPRESS)
    args = p.parse_args()
    if args.measure:
        print(json.dumps(measure(args.measure[0], int(args.measure[1]), int(args.measure[2]),
                                 args.measure[3] == "trace")))
        return
    sys.path.insert(0, str(ROOT))
    from tests.authflood import WINDOW_END, WINDOW_START
    store = Path(args.store or tempfile.mkdtemp(prefix="sealtail-bench-summary-"))
    if not (store / "sealtail.db").exists():
        from tests.authflood import write_flood_store
        flood = write_flood_store(store, failures=args.failures, addresses=args.addresses)
        print(f"store {store}: {flood}", file=sys.stderr)
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [args.code, str(ROOT)]))
    runs: dict[str, list[dict[str, object]]] = {"plain": [], "trace": []}
    for _ in range(args.repeats):
        for mode in runs:  # alternate, so a busy spell of the machine hits both alike
            out = subprocess.run([sys.executable, __file__, "--measure", str(store),
                                  str(WINDOW_START), str(WINDOW_END), mode], env=env,
                                 check=True, capture_output=True, text=True).stdout
            runs[mode].append(json.loads(out))
    first = runs["plain"][0]
    print(f"agent from {first['agent_from']}; {args.failures:,} failures from "
          f"{args.addresses:,} addresses; {args.repeats} runs")
    for key, unit, scale, mode in (("seconds", "s", 1, "plain"),
                                   ("rss_growth_kib", "MiB", 2**10, "plain"),
                                   ("peak_bytes", "MiB", 2**20, "trace")):
        values = [float(r[key]) / scale for r in runs[mode]]  # type: ignore[arg-type]
        print(f"  {key:15} median {statistics.median(values):8.3f} {unit}  "
              f"(min {min(values):.3f}, max {max(values):.3f})")
    assert len({r["findings_sha256"] for rs in runs.values() for r in rs}) == 1
    print(f"  findings {first['findings_sha256']}  brute force {first['brute_force']}")
    for note in first["notes"]:  # type: ignore[attr-defined]
        print(f"  note: {note}")


if __name__ == "__main__":
    main()
