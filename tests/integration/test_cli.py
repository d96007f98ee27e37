"""The command line contract: exit codes, messages naming what is wrong, help with examples."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from agent.classify import mask, template_id
from tests.integration.harness import (
    NEW_AGENT,
    Agent,
    Collector,
    fast_agent_config,
    run_cli,
    wait_until,
)

COMMANDS = ["keygen", "agent", "collector", "collector-key", "query", "verify", "prove",
            "config check", "status", "reload", "classify", "summary"]


@pytest.mark.parametrize("command", COMMANDS)
def test_every_command_has_help_ending_with_an_example(command: str) -> None:
    out = run_cli(*command.split(), "--help").stdout
    assert "Example:" in out


def test_agent_refuses_a_group_readable_key_naming_the_file(tmp_path: Path,
                                                             agent_key: Path) -> None:
    os.chmod(agent_key, 0o640)
    proc = run_cli("agent", "--collector", "127.0.0.1:1", "--key", str(agent_key), "--state",
                   str(tmp_path / "s"), "--name", "a", str(tmp_path / "*.log"), check=False,
                   timeout=30)
    assert proc.returncode == 2
    assert str(agent_key) in proc.stderr and "chmod 600" in proc.stderr


def test_agent_with_a_bad_config_exits_2_naming_file_and_key(tmp_path: Path) -> None:
    conf = tmp_path / "agent.toml"
    conf.write_text("[seal]\nmax_segment_lines = -5\n")
    proc = run_cli("agent", "--config", str(conf), "--collector", "127.0.0.1:1", "--key", "k",
                   "--state", "s", "--name", "a", "/x/*.log", check=False, timeout=30)
    assert proc.returncode == 2
    assert f"{conf}: seal.max_segment_lines: must be > 0, got -5" in proc.stderr


def test_collector_with_a_missing_authorized_keys_file_names_it(tmp_path: Path) -> None:
    proc = run_cli("collector", "--listen", "127.0.0.1:0", "--data", str(tmp_path / "d"),
                   "--authorized-keys", str(tmp_path / "nope"), check=False, timeout=30)
    assert proc.returncode == 2 and "nope" in proc.stderr


def test_query_json_has_the_contract_fields_and_exact_bytes(
        tmp_path: Path, collector: Collector, agent_key: Path) -> None:
    logs = tmp_path / "logs"
    logs.mkdir()
    (logs / "x.log").write_bytes(b"ok line\nsudo: bob : COMMAND=/bin/ls \xff\n")
    agent = Agent(tmp_path, agent_key, collector.address, [str(logs / "*.log")],
                  config=fast_agent_config(tmp_path / "a.toml"))
    agent.start()
    try:
        wait_until(lambda: collector.count() == 2, 30, message="2 lines stored")
    finally:
        agent.stop()
    (entry,) = collector.entries("--contains", "sudo")
    for field in ("agent", "seq", "index", "source", "offset", "time", "category", "line",
                  "line_b64"):
        assert field in entry
    assert entry["line"] == "sudo: bob : COMMAND=/bin/ls \\xff"
    assert entry["offset"] == 8 and entry["index"] == 1 and entry["category"] == "admin_change"
    assert entry["template_id"] == template_id(mask(b"sudo: bob : COMMAND=/bin/ls \xff")).hex()
    assert collector.count("--category", "admin_change") == 1
    assert collector.count("--agent", "nobody") == 0
    assert collector.count("--since", "1h") == 2 and collector.count("--until", "1h") == 0
    assert len(collector.entries("--limit", "1")) == 1


def test_verify_spool_checks_unshipped_segments_with_the_agent_key(
        tmp_path: Path, agent_key: Path) -> None:
    logs = tmp_path / "logs"
    logs.mkdir()
    (logs / "x.log").write_bytes(b"".join(b"line %d\n" % i for i in range(50)))
    agent = Agent(tmp_path, agent_key, "127.0.0.1:1", [str(logs / "*.log")],
                  config=fast_agent_config(tmp_path / "a.toml", agent=NEW_AGENT))
    agent.start()
    try:
        wait_until(lambda: list((agent.state / "spool").glob("*.seg")), 30,
                   message="a spooled segment")
    finally:
        agent.stop()
    out = run_cli("verify", "--spool", str(agent.state), "--pubkey", f"{agent_key}.pub").stdout
    assert out.startswith("OK: 1 agents") and "50 lines" in out
    seg = sorted((agent.state / "spool").glob("*.seg"))[0]
    data = bytearray(seg.read_bytes())
    data[-3] ^= 1
    seg.write_bytes(bytes(data))
    proc = run_cli("verify", "--spool", str(agent.state), "--pubkey", f"{agent_key}.pub",
                   check=False)
    assert proc.returncode == 1 and str(seg) in proc.stdout + proc.stderr


def test_classify_prints_one_label_per_input_line(tmp_path: Path) -> None:
    """`sealtail classify --json` labels every line of a file, in order, as the agent would."""
    log = tmp_path / "auth.log"
    log.write_bytes(b"Dec 10 09:32:20 h sshd[1]: Accepted password for bob from 1.2.3.4 "
                    b"port 5 ssh2\n"
                    b"\n"
                    b"\xff\xfe not utf-8\n"
                    b"Dec 10 09:32:21 h sshd[2]: Failed password for root from 1.2.3.4 port 6 ssh2")
    proc = run_cli("classify", "--json", str(log))
    rows = [json.loads(x) for x in proc.stdout.splitlines()]
    assert len(rows) == 4
    assert (rows[0]["category"], rows[3]["category"]) == ("login", "failed_login")
    assert rows[1]["layer"] == "model" and rows[2]["line"] == "\\xff\\xfe not utf-8"


def test_agent_with_a_corrupt_model_file_refuses_to_start_naming_it(tmp_path: Path,
                                                                   agent_key: Path) -> None:
    """A bad model file stops the agent at start-up (exit 2) with the file in the message."""
    bad = tmp_path / "model.gguf"
    bad.write_bytes(b"GGUF" + os.urandom(200))
    config = tmp_path / "agent.toml"
    config.write_text(f'[classify]\nmodel_file = "{bad}"\nmodel_labels = ["normal=<L:normal>"]\n')
    proc = run_cli("agent", "--config", str(config), "--collector", "127.0.0.1:1", "--key",
                   str(agent_key), "--state", str(tmp_path / "s"), "--name", "a",
                   str(tmp_path / "*.log"), check=False, timeout=60)
    assert proc.returncode == 2, proc.stderr
    assert str(bad) in proc.stderr and "model_invalid" in proc.stderr
