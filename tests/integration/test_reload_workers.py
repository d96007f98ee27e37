"""Reloading [classify] replaces the classifier without leaking its model workers: the old
workers are stopped and reaped, so the agent's child processes stay at model_workers."""

from __future__ import annotations

import re
import signal
from pathlib import Path

import pytest

from tests.integration.harness import Agent, Collector, fast_agent_config, wait_until
from tests.integration.test_metrics_health import http_address

pytestmark = pytest.mark.integration


def children(pid: int) -> list[int]:
    """Child pids of `pid` (zombies included: a child not reaped still counts)."""
    out: list[int] = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        out += [int(c) for c in (task / "children").read_text().split()]
    return out


def test_each_classify_reload_leaves_exactly_model_workers_children(
        tmp_path: Path, collector: Collector, agent_key: Path) -> None:
    """Three reloads that change [classify]: still one model worker child, none a zombie."""
    (tmp_path / "logs").mkdir()
    (tmp_path / "logs" / "app.log").write_text("hello\n")
    conf = fast_agent_config(tmp_path / "agent.toml")
    base = conf.read_text() + '[ops]\nhttp_listen = "127.0.0.1:0"\n[classify]\nmodel_workers = 1\n'
    conf.write_text(base)
    agent = Agent(tmp_path, agent_key, collector.address, [str(tmp_path / "logs" / "*.log")],
                  config=conf)
    agent.start()
    try:
        http_address(agent, "agent")
        assert agent.proc is not None
        pid = agent.proc.pid
        wait_until(lambda: len(children(pid)) == 1, 30, message="one model worker")
        for i in range(3):
            conf.write_text(base + f'[[classify.rules]]\npattern = "r{i}"\ncategory = "c{i}"\n')
            agent.proc.send_signal(signal.SIGHUP)
            wait_until(lambda i=i: agent.log().count("reloaded: classify") == i + 1, 30,
                       message=f"reload {i + 1}")
        wait_until(lambda: len(children(pid)) == 1, 30,
                   message="replaced workers stopped and reaped")
        assert len(children(pid)) == 1
    finally:
        agent.stop()
    # The shutdown summary names the layers ("rules", "model"...), not their wire numbers.
    summary = re.search(r"by layer (\{[^}]*\})", agent.log())
    assert summary and re.fullmatch(r"\{('[a-z]+': \d+(, )?)+\}", summary.group(1)), summary
