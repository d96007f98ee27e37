"""Quality floors of the shipped classifier on the labelled shared data (evaluation only).

The floors are the figures measured with scripts/eval_classify.py when the model was committed,
rounded down; a retrained model or changed rules must not fall below them.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import pytest

from tests.conftest import REPO, shared_path

# system → minimum macro-F1 per line of the combined classifier (rules + model, agent order)
FLOORS: dict[str, float] = {
    "Android": 0.7, "Apache": 0.99, "BGL": 0.95, "HDFS": 0.99, "HPC": 0.82,
    "Hadoop": 0.98, "HealthApp": 0.65, "Linux": 0.81, "OpenSSH": 0.98, "OpenStack": 0.73,
    "Proxifier": 0.98, "Spark": 0.98, "Zookeeper": 0.98, "Audit": 0.7, "auth_dev": 0.99,
}
MEAN_FLOOR = 0.88
FALSE_ALARM_CEILING = 0.36


def script_module(name: str) -> ModuleType:
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.spec_from_file_location(name, REPO / "scripts" / f"{name}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


def eval_module() -> ModuleType:
    return script_module("eval_classify")


@pytest.fixture(scope="module")
def results() -> dict[str, dict[str, dict[str, float]]]:
    data: Path = shared_path("data/labels")
    ev = eval_module()
    systems = [ev.load_system(name, data.parent) for name in ev.ALL_SYSTEMS]
    table = ev.evaluate(systems, data=data.parent)["systems"]
    assert isinstance(table, dict)
    return table


def test_combined_classifier_meets_the_measured_floor_on_every_system(
        results: dict[str, dict[str, dict[str, float]]]) -> None:
    """No system's macro-F1 (rules + model) drops below what was measured at commit time."""
    low = {name: round(results[name]["both"]["macro_f1"], 3) for name in FLOORS
           if results[name]["both"]["macro_f1"] < FLOORS[name]}
    assert not low, f"below floor: {low} (floors {FLOORS})"
    mean = sum(r["both"]["macro_f1"] for r in results.values()) / len(results)
    assert mean >= MEAN_FLOOR


def test_false_alarm_rate_stays_under_the_measured_ceiling(
        results: dict[str, dict[str, dict[str, float]]]) -> None:
    """Normal lines labelled as something else stay rare (measured ceiling, all systems)."""
    worst = max(r["both"]["false_alarm"] for r in results.values())
    assert worst <= FALSE_ALARM_CEILING


def test_generators_hold_no_near_copy_of_a_held_out_template() -> None:
    """Training data never reproduces a held-out template (unless a development system has it
    too): otherwise the held-out figures would measure memory, not generalization."""
    data: Path = shared_path("data/labels")
    eval_module()
    ov = script_module("overlap_classify")
    leaked = ov.held_out_only(0.8, data.parent)
    assert not leaked, f"generator entries copying held-out templates: {leaked[:5]}"


def test_split_covers_every_system_once() -> None:
    """Each labelled system is either development or held out, never both, never neither."""
    ev = eval_module()
    assert set(ev.DEVELOPMENT) | set(ev.HELD_OUT) == set(ev.ALL_SYSTEMS)
    assert not set(ev.DEVELOPMENT) & set(ev.HELD_OUT)
