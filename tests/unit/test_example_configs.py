"""The annotated example configs in config/ load and validate."""

from __future__ import annotations

from agent import config as cfg
from tests.conftest import REPO


def test_example_agent_config_is_valid() -> None:
    path = REPO / "config" / "agent.toml"
    cfg.load(cfg.AgentConfig, path).check(str(path))


def test_example_collector_config_is_valid() -> None:
    path = REPO / "config" / "collector.toml"
    cfg.load(cfg.CollectorConfig, path).check(str(path))
