"""Quality floors of the shipped classifier on the labelled shared data (evaluation only).

The floors are the figures measured with scripts/eval_classify.py when the model was committed,
rounded down by about 0.02 (0.5 points for false alarms): a retrained model or changed rules
must not fall below them. They are floors, not the issue's targets (macro-F1 0.90, no system
below 0.80, false alarms <= 1 %), which this model reaches only in part: see README
"Measured". Session 4's model (generators without the Loghub BGL/HPC copies) lowered the BGL
and HPC floors to what a model that never saw those families measures.
The development / held-out split is scripts/eval_classify.py's DEVELOPMENT / HELD_OUT.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import pytest

from tests.conftest import REPO, shared_path

# system -> minimum macro-F1 per line of the combined classifier (rules + model, agent order)
FLOORS: dict[str, float] = {
    "Android": 0.90, "BGL": 0.93, "HDFS": 0.98, "HPC": 0.50, "Hadoop": 0.98,
    "Linux": 0.92, "auth_dev": 0.98,                                       # development
    "Apache": 0.98, "HealthApp": 0.91, "OpenSSH": 0.98, "OpenStack": 0.96,
    "Proxifier": 0.98, "Spark": 0.97, "Zookeeper": 0.92, "Audit": 0.76,  # held out
}
# split -> minimum mean macro-F1 per line (combined) and maximum mean false-alarm rate
MEAN_FLOOR = {"development": 0.88, "held_out": 0.93}
FALSE_ALARM_MEAN_CEILING = {"development": 0.064, "held_out": 0.012}
FALSE_ALARM_CEILING = 0.295  # worst single system (HPC)


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


@pytest.mark.parametrize("split", ["development", "held_out"])
def test_mean_macro_f1_of_each_split_meets_its_floor(
        results: dict[str, dict[str, dict[str, float]]], split: str) -> None:
    """The mean over the development and over the held-out systems each keep their floor."""
    names = eval_module().DEVELOPMENT if split == "development" else eval_module().HELD_OUT
    mean = sum(results[n]["both"]["macro_f1"] for n in names) / len(names)
    assert mean >= MEAN_FLOOR[split], f"{split}: {mean:.3f} < {MEAN_FLOOR[split]}"


@pytest.mark.parametrize("split", ["development", "held_out"])
def test_false_alarm_rate_stays_under_the_measured_ceiling(
        results: dict[str, dict[str, dict[str, float]]], split: str) -> None:
    """Normal lines labelled as something else stay rare: mean per split, and worst system."""
    names = eval_module().DEVELOPMENT if split == "development" else eval_module().HELD_OUT
    mean = sum(results[n]["both"]["false_alarm"] for n in names) / len(names)
    assert mean <= FALSE_ALARM_MEAN_CEILING[split], f"{split}: {mean:.4f}"
    worst = max(results[n]["both"]["false_alarm"] for n in names)
    assert worst <= FALSE_ALARM_CEILING, f"{split}: worst {worst:.4f}"


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
