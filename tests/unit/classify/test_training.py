"""Retraining on a user's labelled CSV, and running the result as "another GGUF" from config.

The training runs are real but short (a few dozen steps on a handful of lines); they need the
[train] extra (torch, sentencepiece, gguf), which `make test` installs.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from agent.classify import Classifier, ClassifyConfig
from agent.classify._pool import shipped_spec
from agent.cli import main as cli
from agent.errors import ConfigError

pytest.importorskip("torch", reason="needs the [train] extra: pip install 'sealtail[train]'")

from agent.classify.training.train import read_csv  # after the skip: needs torch

PROMPT = "log line: {line}\ncategory:"
# Made-up programs the shipped generators never write: the model can only know them from here.
USER_LINES = [
    ("zorbd[17]: widget 4411 polished on belt 7", "normal"),
    ("zorbd[17]: widget 9 polished on belt 12", "normal"),
    ("zorbd[17]: belt 3 jammed, widget 88 scrapped", "error"),
    ("zorbd[2201]: belt 14 jammed, widget 5 scrapped", "error"),
    ("quuxgate: operator kim opened the vault panel", "admin_change"),
    ("quuxgate: operator lee opened the vault panel", "admin_change"),
]


def write_csv(path: Path, rows: list[tuple[str, str]], header: str = "line,category") -> Path:
    import csv

    with path.open("w", newline="") as f:
        w = csv.writer(f)
        w.writerow(header.split(","))
        w.writerows(rows)
    return path


def config_for(model_dir: Path, labels: list[str] | None = None) -> ClassifyConfig:
    """The classify config a user writes for a model directory, from its manifest."""
    m = json.loads((model_dir / "manifest.json").read_text())
    pairs = labels or [f"{c}={t}" for c, t in zip(m["categories"], m["labels"], strict=True)]
    return ClassifyConfig(model_file=str(model_dir / m["file"]), model_sha256=m["sha256"],
                          model_prompt=m["prompt"], model_labels=pairs, default_rules=False,
                          model_min_confidence=0.0, cache_persist=False)


@pytest.fixture(scope="module")
def user_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A model trained by `sealtail model train` on the user's CSV alone, with its own prompt."""
    tmp = tmp_path_factory.mktemp("retrain")
    data = write_csv(tmp / "mine.csv", USER_LINES)
    out = tmp / "model"
    result = CliRunner().invoke(cli, [
        "model", "train", "--csv", str(data), "--lines", "0", "--steps", "120",
        "--batch", "16", "--lr", "0.01", "--seed", "5", "--prompt", PROMPT, "--out", str(out)])
    assert result.exit_code == 0, result.output
    return out


def test_retrained_model_records_the_csv_and_prompt_in_its_manifest(user_model: Path) -> None:
    """The manifest names the CSV, its line count and the prompt the model was trained with."""
    m = json.loads((user_model / "manifest.json").read_text())
    assert m["prompt"] == PROMPT
    assert m["trained_with"]["csv_lines"] == len(USER_LINES)
    assert m["trained_with"]["csv"][0].endswith("mine.csv")
    assert m["export_check"]["tokenizer_identical"] == m["export_check"]["samples"]


def test_model_retrained_on_a_csv_labels_new_lines_of_those_templates(user_model: Path) -> None:
    """Lines the user never gave, of templates they labelled, get the user's categories."""
    c = Classifier(config_for(user_model))
    try:
        got = [lab.category for lab in c.label_many([
            b"zorbd[9]: widget 123 polished on belt 40",
            b"zorbd[9]: belt 21 jammed, widget 7 scrapped",
            b"quuxgate: operator kim opened the vault panel"])]
    finally:
        c.close()
    assert got == ["normal", "error", "admin_change"]


def test_label_set_in_config_limits_the_answers_to_those_categories(user_model: Path) -> None:
    """With two CATEGORY=TOKEN pairs configured, every answer is one of those two."""
    c = Classifier(config_for(user_model, ["error=<L:error>", "normal=<L:normal>"]))
    try:
        got = {lab.category for lab in c.label_many([
            b"quuxgate: operator kim opened the vault panel",
            b"zorbd[9]: belt 21 jammed, widget 7 scrapped",
            b"Accepted password for alice from 10.0.0.1 port 22 ssh2"])}
    finally:
        c.close()
    assert got <= {"error", "normal"}
    assert "error" in got


def test_shipped_model_with_a_prompt_it_was_not_trained_for_still_runs() -> None:
    """model_prompt is applied as configured (no crash, a label for every line)."""
    spec = shipped_spec()
    c = Classifier(ClassifyConfig(
        model_file=str(spec.path), model_sha256=spec.sha256, model_prompt="[{line}]\n",
        model_labels=[f"{a}={b}" for a, b in zip(spec.categories, spec.labels, strict=True)],
        default_rules=False, model_min_confidence=0.0, cache_persist=False))
    try:
        labels = c.label_many([b"x", b"GET /index.html 200"])
    finally:
        c.close()
    assert all(lab.category in spec.categories for lab in labels)


def test_csv_with_an_unknown_category_is_refused_naming_file_and_row(tmp_path: Path) -> None:
    """A category outside the taxonomy fails before training, naming the file and row."""
    path = write_csv(tmp_path / "bad.csv", [("a line", "normal"), ("another", "suspicious")])
    with pytest.raises(ConfigError, match=r"bad\.csv: row 3: unknown category 'suspicious'"):
        read_csv(path)


def test_csv_without_a_line_column_is_refused(tmp_path: Path) -> None:
    """A CSV whose header lacks `line` (or `category`) fails with the missing column named."""
    path = write_csv(tmp_path / "cols.csv", [("x", "normal")], header="text,category")
    with pytest.raises(ConfigError, match=r"cols\.csv: missing column\(s\) \['line'\]"):
        read_csv(path)


def test_csv_with_only_a_header_is_refused(tmp_path: Path) -> None:
    """An empty CSV would silently train on nothing of the user's: it is refused."""
    path = write_csv(tmp_path / "empty.csv", [])
    with pytest.raises(ConfigError, match="no labelled lines"):
        read_csv(path)


def test_cli_reports_a_bad_csv_without_a_traceback(tmp_path: Path) -> None:
    """`sealtail model train --csv bad.csv` exits non-zero with the file named."""
    path = write_csv(tmp_path / "bad.csv", [("a line", "nope")])
    result = CliRunner().invoke(cli, ["model", "train", "--csv", str(path), "--lines", "0",
                                      "--out", str(tmp_path / "m")])
    assert result.exit_code != 0
    assert "bad.csv" in result.output and "Traceback" not in result.output
