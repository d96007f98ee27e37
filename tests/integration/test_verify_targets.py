"""`sealtail verify` never passes on nothing: a missing or wrong directory is a usage error
naming it, an agent filter that matches nothing fails, and the collector address used is
said when it comes from the default."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from agent.keys import load_signing_key
from tests.chains import ChainWriter
from tests.integration.harness import Collector, run_cli, ship

pytestmark = pytest.mark.integration


def test_a_missing_spool_directory_is_a_usage_error_naming_it(
        tmp_path: Path, agent_key: Path) -> None:
    """exit 2 and the path, never `OK: 0 agents`."""
    proc = run_cli("verify", "--spool", str(tmp_path / "nonexistent"), "--pubkey",
                   f"{agent_key}.pub", check=False)
    assert proc.returncode == 2
    assert f"{tmp_path / 'nonexistent'}: no such directory" in proc.stderr
    assert "OK" not in proc.stdout


def test_a_directory_that_is_not_a_state_dir_is_a_usage_error(
        tmp_path: Path, agent_key: Path) -> None:
    """A directory without head.json or spool/ is not an agent's state."""
    proc = run_cli("verify", "--spool", str(tmp_path), "--pubkey", f"{agent_key}.pub",
                   check=False)
    assert proc.returncode == 2
    assert "not an agent state directory" in proc.stderr


@pytest.mark.parametrize("make", [False, True], ids=["missing", "empty"])
def test_a_data_dir_without_a_store_is_a_usage_error(tmp_path: Path, make: bool) -> None:
    """--data must name a collector data directory (one holding sealtail.db)."""
    data = tmp_path / "data"
    if make:
        data.mkdir()
    proc = run_cli("verify", "--data", str(data), check=False)
    assert proc.returncode == 2
    assert str(data) in proc.stderr and ("no such directory" in proc.stderr
                                         or "not a collector data directory" in proc.stderr)


def test_an_agent_filter_that_matches_nothing_fails(
        collector: Collector, agent_key: Path) -> None:
    """host-a's chain is there; `--agent nobody` verified nothing: exit 1, no_segments."""
    ship(collector.address, ChainWriter(load_signing_key(agent_key), lines=2).next())
    proc = run_cli("verify", "--collector", collector.address, "--agent", "nobody", "--json",
                   check=False)
    assert proc.returncode == 1
    result = json.loads(proc.stdout)
    assert (result["ok"], result["code"], result["agent"]) == (False, "no_segments", "nobody")
    assert "no segments from agent nobody" in result["message"]
    run_cli("verify", "--collector", collector.address, "--agent", "host-a")


def test_an_empty_collector_is_not_verified_ok(collector: Collector) -> None:
    """Nothing stored: exit 1 saying there is nothing to verify."""
    proc = run_cli("verify", "--collector", collector.address, check=False)
    assert proc.returncode == 1
    assert "nothing to verify" in proc.stderr and "(no_segments)" in proc.stderr


def test_the_default_collector_address_is_said(tmp_path: Path) -> None:
    """With no target, verify says which collector it asks (and fails if none answers)."""
    proc = run_cli("verify", check=False, timeout=60)
    assert "using collector 127.0.0.1:7600 (the default" in proc.stderr


def test_an_unreadable_anchor_is_a_usage_error_not_a_key_file_error(tmp_path: Path) -> None:
    """--anchor names a checkpoint, not a key: config_invalid naming --anchor and the path."""
    proc = run_cli("verify", "--anchor", str(tmp_path / "nonexistent"), "--collector",
                   "127.0.0.1:1", check=False)
    assert proc.returncode == 2
    assert "--anchor" in proc.stderr and "nonexistent" in proc.stderr
    assert "key_file_invalid" not in proc.stderr
