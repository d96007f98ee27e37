"""The narrative: deterministic by default; with a configured GGUF model, generated in a
worker process from the structured summary, and never at the cost of the summary.

No instruct-capable model is available on this machine or in any package, so the generated
path is exercised with the shipped classifier model (a Llama GGUF that answers with label
tokens): the worker loads it, tokenizes the prompt, generates greedily and returns text;
`summarize` then refuses that text as not prose and falls back, saying why.
"""

from __future__ import annotations

import json
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import pytest

import agent.classify
from agent.errors import ModelError
from agent.insights import InsightSettings, summarize
from agent.insights._narrative import (
    clean_generated,
    generated_narrative,
    narrative_prompt,
    unsupported_numbers,
)
from tests.unit.insights.traffic import HOUR, Traffic

CLASSIFIER = Path(agent.classify.__file__).parent / "model" / "sealtail-classifier.gguf"


@pytest.fixture(scope="module")
def data():
    t = Traffic(21)
    t.brute_force("alice", "198.18.0.66", failures=50, at_ns=t.window_start + 10 * HOUR)
    return t.build()


def test_prompt_is_built_from_the_structured_summary_in_printable_ascii(data):
    """The prompt holds the summary's facts and anomalies, with nothing but printable ASCII
    (names come from log lines; the C tokenizer is fragile on odd bytes)."""
    s = summarize(data)
    prompt = narrative_prompt(s)
    assert "198.18.0.66" in prompt and "possible brute-force success" in prompt
    assert all(c == "\n" or " " <= c <= "~" for c in prompt)


def test_worker_generates_text_from_a_gguf_model():
    """The worker process loads a GGUF model, continues the prompt and answers OK + text."""
    spec = json.dumps({"path": str(CLASSIFIER), "max_tokens": 8})
    done = subprocess.run([sys.executable, "-m", "agent.insights._narrative_worker", spec],
                          input=b"### Instruction:\nSay hello.\n### Response:\n",
                          capture_output=True, timeout=120, check=False)
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith(b"OK\n") and len(done.stdout) > 3


def test_a_model_that_answers_without_prose_falls_back_to_the_deterministic_narrative(data):
    """The shipped classifier answers with label tokens: refused as not prose, the
    deterministic narrative is used, and a note says why."""
    s = summarize(data, settings=InsightSettings(narrative_model=str(CLASSIFIER)))
    assert not s.narrative_generated
    assert s.narrative == summarize(data).narrative
    assert any("no prose" in n for n in s.notes)


def test_a_file_that_is_not_gguf_falls_back_with_a_note(data, tmp_path):
    """A corrupt model file costs the narrative only: the worker refuses it cleanly."""
    bad = tmp_path / "model.gguf"
    bad.write_bytes(b"not a model at all" * 10)
    s = summarize(data, settings=InsightSettings(narrative_model=str(bad)))
    assert not s.narrative_generated and s.anomalies
    assert any("not a usable GGUF model" in n for n in s.notes)


def test_a_gguf_v1_file_is_refused_before_loading(tmp_path, data):
    """GGUF version 1 segfaults the loader (MODEL-NOTES §1): refused by the header check."""
    v1 = tmp_path / "v1.gguf"
    v1.write_bytes(b"GGUF" + (1).to_bytes(4, "little") + bytes(40))
    with pytest.raises(ModelError, match="GGUF version 1"):
        generated_narrative(summarize(data), InsightSettings(narrative_model=str(v1)))


def test_a_missing_model_is_a_model_error(data, tmp_path):
    """A configured path that does not exist is named in the error."""
    missing = tmp_path / "nope.gguf"
    with pytest.raises(ModelError, match="nope.gguf: narrative model not found"):
        generated_narrative(summarize(data), InsightSettings(narrative_model=str(missing)))


def test_generated_text_is_cleaned_to_one_paragraph():
    """Control characters and a model's next "###" turn are cut from its answer."""
    assert clean_generated("Two alerts.\x1b[31m\nOne login.\n### Instruction: more") == \
        "Two alerts. [31m One login."


def test_figures_a_model_invented_are_reported(data):
    """Numbers in a generated narrative that the summary never gave are listed."""
    s = summarize(data)
    text = f"{s.total_lines:,} lines; 50 failures from 198.18.0.66; also 777 break-ins."
    assert unsupported_numbers(text, s) == ["777"]


def test_a_generated_narrative_is_flagged_in_the_summary(data):
    """The flag travels with the summary (JSON, reports) once set by a model."""
    from agent.insights import summary_from_json, summary_to_json

    s = replace(summarize(data), narrative="Model text.", narrative_generated=True)
    assert summary_from_json(summary_to_json(s)).narrative_generated


def test_a_worker_that_does_not_answer_in_time_is_stopped(data):
    """Past narrative_timeout_secs the worker is killed and the error says so."""
    settings = InsightSettings(narrative_model=str(CLASSIFIER), narrative_timeout_secs=0.01)
    with pytest.raises(ModelError, match="did not answer within 0.01 s"):
        generated_narrative(summarize(data), settings)
