"""How much of each evaluation system's templates the training generators already contain.

A figure measured on a system whose messages the generators reproduce says little about how the
model does on logs it has never seen. This script compares, label-blind, every template text of
../shared/data/labels/<System>_templates.csv (the Loghub ground truth, `<*>` for variables) with
every message template of agent/classify/training/generators.py (`{name}` for variables): both
are reduced to their lower-cased word tokens (variables and digits dropped) and a pair counts as
a near-copy when the token sequences match with difflib ratio >= --threshold (default 0.8).

Prints per system: templates with a near-copy in the generators, and the share of the system's
2,000 lines those templates cover. `--list SYSTEMS` prints the generator entries that are
near-copies of those systems' templates (this is how the held-out systems were decontaminated:
see scripts/eval_classify.py SPLIT). Only template texts are read, never their categories.

Usage: python scripts/overlap_classify.py [--threshold 0.8] [--list Apache,Spark]
"""

from __future__ import annotations

import argparse
import csv
import re
import sys
from collections import Counter
from difflib import SequenceMatcher
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from eval_classify import DEVELOPMENT, HELD_OUT  # noqa: E402

from agent.classify.training.generators import templates  # noqa: E402

DATA = ROOT.parent / "shared" / "data"
SYSTEMS = ("Android", "Apache", "BGL", "HDFS", "HPC", "Hadoop", "HealthApp", "Linux", "OpenSSH",
           "OpenStack", "Proxifier", "Spark", "Zookeeper", "Audit")
_VAR = re.compile(r"\{[A-Za-z0-9_]*\}|<\*>")
_WORD = re.compile(r"[a-z][a-z_]+")


def tokens(text: str) -> tuple[str, ...]:
    """Lower-cased word tokens with variables and digits dropped."""
    return tuple(_WORD.findall(_VAR.sub(" ", text).lower()))


def similar(a: tuple[str, ...], b: tuple[str, ...]) -> float:
    if not a or not b:
        return 0.0
    sa, sb = set(a), set(b)
    if len(sa & sb) / len(sa | sb) < 0.4:  # cheap filter before the sequence match
        return 0.0
    return SequenceMatcher(None, a, b, autojunk=False).ratio()


def eval_templates(system: str, data: Path = DATA) -> list[tuple[str, str]]:
    """(EventId, EventTemplate) of one system's labelled templates."""
    with (data / "labels" / f"{system}_templates.csv").open(newline="") as f:
        return [(r["EventId"], r["EventTemplate"]) for r in csv.DictReader(f)]


def line_counts(system: str, data: Path = DATA) -> Counter[str]:
    folder = data / "extra" / "Audit" if system == "Audit" else data / "loghub" / system
    with (folder / f"{system}_2k.log_structured.csv").open(newline="", encoding="utf-8",
                                                           errors="replace") as f:
        return Counter(r["EventId"] for r in csv.DictReader(f))


_AUTH = re.compile(r"^\w{3}\s+\d+ \d\d:\d\d:\d\d \S+ [^\s\[:]+(?:\[\d+\])?: (.*)$")


def auth_dev_messages(data: Path = DATA) -> list[tuple[str, str]]:
    """Distinct messages of the elastic auth log (a development system without templates)."""
    seen: dict[tuple[str, ...], str] = {}
    raw = (data / "auth" / "elastic_auth_dev.log").read_text(encoding="utf-8", errors="replace")
    for line in raw.splitlines():
        m = _AUTH.match(line)
        text = m.group(1) if m else line
        seen.setdefault(tokens(text), text)
    return [(f"m{i}", t) for i, t in enumerate(seen.values())]


def development_texts(data: Path = DATA) -> list[tuple[str, ...]]:
    """Token sequences of every development system's templates (auth_dev: its messages)."""
    out = [tokens(t) for _, t in auth_dev_messages(data)]
    for system in DEVELOPMENT:
        if system != "auth_dev":
            out += [tokens(t) for _, t in eval_templates(system, data)]
    return out


def held_out_only(threshold: float, data: Path = DATA) -> list[tuple[str, str, str]]:
    """(family, template, held-out system) of generator entries that are near-copies of a
    held-out template and of no development template: training on them is tuning on the
    held-out set, so the generators must not contain any."""
    dev = development_texts(data)
    out = []
    for system in HELD_OUT:
        if system == "auth_dev":
            continue
        for hits in matches(system, threshold, data).values():
            for fam, t, _ in hits:
                g = tokens(t)
                if not any(similar(g, d) >= threshold for d in dev):
                    out.append((fam, t, system))
    return sorted(set(out))


def generator_entries() -> list[tuple[str, str, tuple[str, ...]]]:
    """(family, message template, tokens) of every generator entry with words in it."""
    return [(fam, t, tokens(t)) for fam, _, t in templates() if not t.startswith("<chatter")]


def matches(system: str, threshold: float, data: Path = DATA
            ) -> dict[str, list[tuple[str, str, float]]]:
    """EventId → generator entries (family, template, ratio) that are near-copies of it."""
    gen = generator_entries()
    found: dict[str, list[tuple[str, str, float]]] = {}
    for eid, text in eval_templates(system, data):
        toks = tokens(text)
        hits = [(fam, t, r) for fam, t, g in gen if (r := similar(toks, g)) >= threshold]
        if hits:
            found[eid] = hits
    return found


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--threshold", type=float, default=0.8)
    parser.add_argument("--list", default="", help="systems whose matching entries to print")
    parser.add_argument("--held-out-only", action="store_true",
                        help="print generator entries matching a held-out template only")
    ns = parser.parse_args()
    if not DATA.exists():
        print(f"{DATA} not found", file=sys.stderr)
        return 2
    if ns.held_out_only:
        for fam, t, system in held_out_only(ns.threshold):
            print(f"{system}\t{fam}\t{t}")
        return 0
    listed = set(filter(None, ns.list.split(",")))
    print(f"{'system':<11} {'templates':>9} {'near-copy':>9} {'share':>6} {'lines':>6}")
    for system in SYSTEMS:
        found = matches(system, ns.threshold)
        total = len(eval_templates(system))
        lines = line_counts(system)
        covered = sum(lines[e] for e in found)
        print(f"{system:<11} {total:>9} {len(found):>9} {len(found) / total:>6.1%} "
              f"{covered / sum(lines.values()):>6.1%}")
        if system in listed:
            for eid, hits in sorted(found.items()):
                for fam, t, r in hits:
                    print(f"    {eid:<5} {r:.2f} {fam:<12} {t}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
