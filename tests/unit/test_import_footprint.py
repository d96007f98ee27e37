"""What each long-running process imports: modules it never uses cost resident memory in every
agent (issue 4: agent + model worker ≤ 80 MiB). Checked in a fresh interpreter."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest


def imported_after(code: str) -> set[str]:
    out = subprocess.run([sys.executable, "-c", f"{code}\nimport sys, json\n"
                          "print(json.dumps(sorted(sys.modules)))"],
                         check=True, capture_output=True, text=True).stdout
    return set(json.loads(out.splitlines()[-1]))


def top(modules: set[str]) -> set[str]:
    return {m.split(".")[0] for m in modules}


AGENT = "import agent.cli, agent.daemon, agent.ops, agent.classify._classifier"


@pytest.mark.parametrize("unused", ["agent.collector", "agent.store", "agent.insights",
                                    "agent.verify", "agent.metrics", "prometheus_client",
                                    "urllib.request", "http.client", "email"])
def test_the_agent_process_does_not_import_what_only_other_commands_use(unused: str) -> None:
    """The collector's side, the verifier and, until ops.http_listen is set, the metrics
    endpoint stay out of an agent's memory."""
    assert unused not in imported_after(AGENT)


def test_the_model_worker_imports_neither_grpc_nor_protobuf_nor_asyncio() -> None:
    """The worker runs the model and reads a pipe: none of the agent's network, signing or
    event-loop libraries, nor dataclasses (inspect, ast: ~1 MiB)."""
    modules = imported_after("import agent.classify._worker, agent.classify._llm")
    assert not top(modules) & {"grpc", "google", "nacl", "asyncio", "click", "zstandard",
                               "watchfiles", "prometheus_client", "dataclasses", "inspect"}
    assert not {m for m in modules if m.startswith("agent.") and not m.startswith(
        ("agent.classify", "agent.errors"))}
