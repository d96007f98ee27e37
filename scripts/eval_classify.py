"""`make eval`: the classifier on the labelled shared data, rules vs model vs both.

Reads ../shared/data in place (Loghub 2k systems, Audit, the elastic auth log) with the labels of
../shared/data/labels/ (README there). This data is for evaluation only; the shipped model never
saw it. Prints per system: accuracy, macro-F1 per line and per template, false-alarm rate
(non-normal predicted for a normal line); then per-class precision/recall and the confusion
matrix of the chosen mode over all systems.

Modes:
  rules     built-in rules alone ("unclassified" counted as normal: it is the default class)
  model     the shipped model alone
  both      the agent's classifier with its default config: a rule decides when it names one of
            COMBINED_RULE_CATEGORIES, the model decides the rest when its probability reaches
            classify.model_min_confidence, else the rules' label or unclassified

Usage: python scripts/eval_classify.py [--json FILE] [--systems A,B]
"""

from __future__ import annotations

import argparse
import csv
import json
import sys
import time
from collections import Counter, defaultdict
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from agent.classify import CATEGORIES, Classifier, RuleSet  # noqa: E402
from agent.config import ClassifyConfig  # noqa: E402

DATA = ROOT.parent / "shared" / "data"
LOGHUB = ("Android", "Apache", "BGL", "HDFS", "HPC", "Hadoop", "HealthApp", "Linux", "OpenSSH",
          "OpenStack", "Proxifier", "Spark", "Zookeeper")
MODES = ("rules", "model", "both", "rules-first")


@dataclass
class System:
    name: str
    lines: list[bytes]
    truth: list[str]
    templates: list[str]  # template id per line ("" when the data set has none)


def _read_lines(path: Path) -> list[bytes]:
    data = path.read_bytes()
    lines = data.split(b"\n")
    if lines and lines[-1] == b"":
        lines.pop()
    return lines


def load_system(name: str, data: Path = DATA) -> System:
    """One labelled system; raises ValueError if the log and its labels disagree in length."""
    labels = data / "labels"
    if name == "auth_dev":
        lines = _read_lines(data / "auth" / "elastic_auth_dev.log")
        with (labels / "auth_dev_lines.csv").open(newline="") as f:
            truth = [r["category"] for r in csv.DictReader(f)]
        templates = [""] * len(truth)
    else:
        folder = data / "extra" / "Audit" if name == "Audit" else data / "loghub" / name
        lines = _read_lines(folder / f"{name}_2k.log")
        with (labels / f"{name}_lines.csv").open(newline="") as f:
            truth = [r["category"] for r in csv.DictReader(f)]
        with (folder / f"{name}_2k.log_structured.csv").open(newline="", encoding="utf-8",
                                                             errors="replace") as f:
            templates = [r["EventId"] for r in csv.DictReader(f)]
    if not len(lines) == len(truth) == len(templates):
        raise ValueError(f"{name}: {len(lines)} lines, {len(truth)} labels")
    return System(name, lines, truth, templates)


def macro_f1(truth: list[str], pred: list[str]) -> float:
    """Mean F1 over the classes present in `truth` (predicting an absent class costs recall)."""
    scores = []
    for c in sorted(set(truth)):
        tp = sum(t == c and p == c for t, p in zip(truth, pred, strict=True))
        fp = sum(t != c and p == c for t, p in zip(truth, pred, strict=True))
        fn = sum(t == c and p != c for t, p in zip(truth, pred, strict=True))
        scores.append(2 * tp / (2 * tp + fp + fn) if tp else 0.0)
    return sum(scores) / len(scores)


def false_alarm_rate(truth: list[str], pred: list[str]) -> float:
    normal = [p for t, p in zip(truth, pred, strict=True) if t == "normal"]
    return sum(p != "normal" for p in normal) / len(normal) if normal else 0.0


def per_template(system: System, pred: list[str]) -> tuple[list[str], list[str]]:
    """(truth, majority prediction) per template id."""
    votes: dict[str, Counter[str]] = defaultdict(Counter)
    truth: dict[str, str] = {}
    for tid, t, p in zip(system.templates, system.truth, pred, strict=True):
        votes[tid][p] += 1
        truth[tid] = t
    ids = sorted(votes)
    return [truth[i] for i in ids], [votes[i].most_common(1)[0][0] for i in ids]


def _scored(category: str) -> str:
    """`unclassified` is scored as `normal`, the taxonomy's class for everything else."""
    return "normal" if category == "unclassified" else category


def predict(systems: list[System]) -> tuple[dict[str, dict[str, list[str]]], dict[str, float]]:
    """Predictions per system and mode, and timing figures."""
    rules = RuleSet([], use_defaults=True)
    started = time.perf_counter()
    # the model alone: every answer taken, however unsure
    model = Classifier(ClassifyConfig(default_rules=False, cache_persist=False,
                                      model_min_confidence=0.0))
    startup = time.perf_counter() - started
    agent = Classifier(ClassifyConfig(cache_persist=False))  # exactly the agent's default
    out: dict[str, dict[str, list[str]]] = {}
    model_secs = 0.0
    try:
        for s in systems:
            by_rule = [rules.match(line) for line in s.lines]
            t0 = time.perf_counter()
            by_model = [lab.category for lab in model.label_many(s.lines)]
            model_secs += time.perf_counter() - t0
            out[s.name] = {
                "rules": [_scored(r or "unclassified") for r in by_rule],
                "model": by_model,
                "both": [_scored(lab.category) for lab in agent.label_many(s.lines)],
                "rules-first": [r or m for r, m in zip(by_rule, by_model, strict=True)],
            }
        stats = model.statistics()
    finally:
        model.close()
        agent.close()
    return out, {"model_startup_secs": startup, "model_secs": model_secs,
                 "model_templates": stats.model_answers}


def evaluate(systems: list[System]) -> dict[str, object]:
    preds, timing = predict(systems)
    table: dict[str, dict[str, dict[str, float]]] = {}
    for s in systems:
        table[s.name] = {}
        for mode in MODES:
            p = preds[s.name][mode]
            row = {"accuracy": sum(a == b for a, b in zip(s.truth, p, strict=True)) / len(p),
                   "macro_f1": macro_f1(s.truth, p),
                   "false_alarm": false_alarm_rate(s.truth, p)}
            if s.templates[0]:
                row["template_macro_f1"] = macro_f1(*per_template(s, p))
            table[s.name][mode] = row
    return {"systems": table, "timing": timing, "preds": preds}


def confusion(systems: list[System], preds: dict[str, dict[str, list[str]]], mode: str) -> str:
    counts: Counter[tuple[str, str]] = Counter()
    for s in systems:
        counts.update(zip(s.truth, preds[s.name][mode], strict=True))
    cats = list(CATEGORIES)
    short = {c: c[:8] for c in cats}
    lines = [f"confusion ({mode}; rows = truth, columns = predicted)",
             "truth \\ pred   " + " ".join(f"{short[c]:>8}" for c in cats) + "   recall"]
    for t in cats:
        row = [counts[(t, p)] for p in cats]
        total = sum(row)
        rec = f"{row[cats.index(t)] / total:.3f}" if total else "  -  "
        lines.append(f"{t:<15}" + " ".join(f"{n:>8}" for n in row) + f"   {rec}")
    prec = []
    for p in cats:
        col = sum(counts[(t, p)] for t in cats)
        prec.append(f"{counts[(p, p)] / col:.3f}" if col else "  -  ")
    lines.append("precision      " + " ".join(f"{x:>8}" for x in prec))
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--json", type=Path, help="also write the figures here")
    parser.add_argument("--systems", default=",".join((*LOGHUB, "Audit", "auth_dev")))
    ns = parser.parse_args()
    if not DATA.exists():
        print(f"{DATA} not found: the evaluation needs the shared data folder", file=sys.stderr)
        return 2
    systems = [load_system(n) for n in ns.systems.split(",")]
    result = evaluate(systems)
    table = result["systems"]
    assert isinstance(table, dict)
    print(f"{'system':<11}" + "".join(f" | {m:^27}" for m in MODES))
    print(f"{'':<11}" + " | acc    F1/line F1/tmpl  FA  " * len(MODES))
    means: dict[str, list[float]] = defaultdict(list)
    for name, row in table.items():
        cells = []
        for m in MODES:
            r = row[m]
            means[m].append(r["macro_f1"])
            tmpl = f"{r['template_macro_f1']:.3f}" if "template_macro_f1" in r else "  -  "
            cells.append(f" | {r['accuracy']:.3f}  {r['macro_f1']:.3f}  {tmpl}  "
                         f"{100 * r['false_alarm']:4.1f}%")
        print(f"{name:<11}" + "".join(cells))
    print(f"{'mean F1':<11}" + "".join(f" | {'':>7}{sum(v) / len(v):.3f}{'':>14}"
                                         for v in means.values()))
    timing = result["timing"]
    assert isinstance(timing, dict)
    print(f"model: start {timing['model_startup_secs']:.2f}s, {timing['model_templates']} "
          f"templates in {timing['model_secs']:.1f}s")
    preds = result["preds"]
    assert isinstance(preds, dict)
    print(confusion(systems, preds, "both"))
    if ns.json:
        ns.json.write_text(json.dumps({"systems": table, "timing": timing}, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
