"""Errors say what is wrong, with the ErrorCode that fits (real collector processes)."""

from __future__ import annotations

from pathlib import Path

import pytest

from agent.keys import load_signing_key
from tests.chains import ChainWriter
from tests.integration.harness import Collector, run_cli, ship

pytestmark = pytest.mark.integration


def test_prove_for_a_seq_that_does_not_exist_is_not_found_not_unavailable(
        tmp_path: Path, collector: Collector, agent_key: Path) -> None:
    """The collector is up and answered: not_found, never collector_unavailable."""
    ship(collector.address, ChainWriter(load_signing_key(agent_key), lines=2).next())
    proc = run_cli("prove", "--collector", collector.address, "--agent", "host-a", "--seq",
                   "3", "--index", "0", "--out", str(tmp_path / "p.json"), check=False)
    assert proc.returncode == 1
    assert "no segment seq=3" in proc.stderr and "(not_found)" in proc.stderr
    assert "collector_unavailable" not in proc.stderr


def test_a_wrong_query_token_is_said_to_be_rejected(
        tmp_path: Path, authorized_keys: Path) -> None:
    """A token was given but is not the collector's: 'rejected', not 'requires a token'."""
    good, bad = tmp_path / "token", tmp_path / "wrong"
    good.write_text("s3cret-token-value\n")
    bad.write_text("not-the-token\n")
    collector = Collector(tmp_path, authorized_keys, extra_args=("--query-token-file", str(good)))
    collector.start()
    try:
        wrong = run_cli("query", "--collector", collector.address, "--token-file", str(bad),
                        "--count", check=False)
        missing = run_cli("query", "--collector", collector.address, "--count", check=False)
    finally:
        collector.stop()
    assert wrong.returncode == 1 and "query token was rejected" in wrong.stderr
    assert "requires a bearer token" not in wrong.stderr
    assert "(unauthenticated)" in wrong.stderr
    assert "requires a bearer token for queries (--token-file)" in missing.stderr


def test_an_agent_public_key_given_as_collector_key_is_named_as_such(agent_key: Path) -> None:
    """The message says what the file is, without repeating itself."""
    proc = run_cli("verify", "--collector", "127.0.0.1:1", "--collector-key",
                   f"{agent_key}.pub", check=False)
    assert proc.returncode == 2
    assert "this looks like an agent public key, not a verifier key" in proc.stderr
    assert "collector-key --data" in proc.stderr
    assert proc.stderr.count("name+keyid+base64") <= 1


def test_a_listen_port_out_of_range_says_so(tmp_path: Path, authorized_keys: Path) -> None:
    """127.0.0.1:99999 is HOST:PORT in form; the port is what is wrong."""
    proc = run_cli("collector", "--listen", "127.0.0.1:99999", "--data", str(tmp_path / "d"),
                   "--authorized-keys", str(authorized_keys), check=False)
    assert proc.returncode == 2
    assert "port 99999 is out of range (0-65535)" in proc.stderr
    assert not (tmp_path / "d").exists(), "nothing is created before the checks"


def test_an_unknown_category_is_named_with_the_known_ones(
        collector: Collector, agent_key: Path) -> None:
    """`--category bogus` matched nothing and is not built in: exit 2, not a silent 0."""
    ship(collector.address, ChainWriter(load_signing_key(agent_key), lines=2).next())
    proc = run_cli("query", "--collector", collector.address, "--category", "bogus",
                   "--count", check=False)
    assert proc.returncode == 2
    assert "'bogus' is not a built-in category" in proc.stderr
    assert "failed_login" in proc.stderr and "unclassified" in proc.stderr
    assert run_cli("query", "--collector", collector.address, "--category", "failed_login",
                   "--count").stdout == "2\n"
