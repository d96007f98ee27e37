"""Our template masking (agent.classify._template.mask) against drain3, on the labelled data.

For each system: templates produced, label purity (share of lines whose template's majority label
is their own label: 1.0 means one cached decision per template loses nothing) and lines/s.
drain3 is not a dependency: `pip install drain3==0.9.11` to run this; `--previous` compares
with the previous masking (mask-v2: digit-bearing tokens only) instead, without drain3.

Usage: python scripts/compare_masking.py [--previous]
"""

from __future__ import annotations

import re
import sys
import time
from collections import Counter, defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from agent.classify._template import mask  # noqa: E402
from scripts.eval_classify import LOGHUB, load_system  # noqa: E402


def purity(keys: list[object], truth: list[str]) -> float:
    votes: dict[object, Counter[str]] = defaultdict(Counter)
    for k, t in zip(keys, truth, strict=True):
        votes[k][t] += 1
    return sum(c.most_common(1)[0][1] for c in votes.values()) / len(truth)


MASK_V2 = re.compile(rb"(?<![\w.:/-])[A-Za-z_.:/-]*+\d[\w.:/-]*+")


def previous() -> int:
    """Templates and purity per system: mask-v3 (now) against mask-v2 (before)."""
    print(f"{'system':<11} | {'mask-v2: templates purity':>26} | {'mask-v3: templates purity':>26}")
    sums = [0, 0]
    for name in (*LOGHUB, "Audit", "auth_dev"):
        s = load_system(name)
        old = [MASK_V2.sub(b"#", line[:2048]) for line in s.lines]
        new = [mask(line) for line in s.lines]
        sums[0] += len(set(old))
        sums[1] += len(set(new))
        print(f"{name:<11} | {len(set(old)):>17} {purity(list(old), s.truth):>8.4f} | "
              f"{len(set(new)):>17} {purity(list(new), s.truth):>8.4f}")
    print(f"templates in all: mask-v2 {sums[0]}, mask-v3 {sums[1]}")
    return 0


def main() -> int:
    if "--previous" in sys.argv[1:]:
        return previous()
    from drain3 import TemplateMiner  # type: ignore[import-not-found]
    from drain3.template_miner_config import (  # type: ignore[import-not-found]
        TemplateMinerConfig,
    )

    print(f"{'system':<11} | {'mask: templates purity lines/s':>32} | "
          f"{'drain3: templates purity lines/s':>34}")
    totals: dict[str, list[float]] = defaultdict(list)
    for name in (*LOGHUB, "Audit", "auth_dev"):
        s = load_system(name)
        t0 = time.perf_counter()
        ours = [mask(line) for line in s.lines]
        ours_rate = len(s.lines) / (time.perf_counter() - t0)
        config = TemplateMinerConfig()
        config.profiling_enabled = False
        miner = TemplateMiner(config=config)
        t0 = time.perf_counter()
        # drain3's final cluster of each line: ids are stable, templates generalise as it learns
        ids = [miner.add_log_message(line.decode("utf-8", "replace"))["cluster_id"]
               for line in s.lines]
        drain_rate = len(s.lines) / (time.perf_counter() - t0)
        rows = ((len(set(ours)), purity(list(ours), s.truth), ours_rate),
                (len(set(ids)), purity(list(ids), s.truth), drain_rate))
        for key, row in zip(("mask", "drain3"), rows, strict=True):
            totals[key].extend([row[0], row[1], row[2]])
        print(f"{name:<11} | {rows[0][0]:>10} {rows[0][1]:>8.4f} {rows[0][2]:>12,.0f} | "
              f"{rows[1][0]:>10} {rows[1][1]:>8.4f} {rows[1][2]:>12,.0f}")
    for key, values in totals.items():
        n = len(values) // 3
        print(f"{key}: {sum(values[0::3]):.0f} templates in all, mean purity "
              f"{sum(values[1::3]) / n:.4f}, mean {sum(values[2::3]) / n:,.0f} lines/s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
