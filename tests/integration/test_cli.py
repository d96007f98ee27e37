"""The command line contract: exit codes, messages naming what is wrong, help with examples."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest

from agent.classify import mask, template_id
from tests.integration.harness import (
    NEW_AGENT,
    REPO,
    SEALTAIL,
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


def test_classify_text_output_cannot_drive_the_terminal(tmp_path: Path) -> None:
    """Escape sequences, a carriage return and bidi overrides in a line are printed escaped."""
    log = tmp_path / "evil.log"
    log.write_bytes(b"Failed password for invalid user \x1b[31mEVIL\x1b[0m from 1.2.3.4\n"
                    b"x\x1b]0;pwned\x07y\n" b"ok\rfailed_login\n"
                    + "user \u202eroot\n".encode())
    proc = run_cli("classify", "--no-model", str(log))
    lines = proc.stdout.splitlines()
    assert len(lines) == 4
    assert not any(ch in proc.stdout for ch in "\x1b\x07\r\u202e")
    assert lines[0].endswith("invalid user \\x1b[31mEVIL\\x1b[0m from 1.2.3.4")


def test_classify_json_keeps_the_exact_bytes_and_the_file_of_each_line(tmp_path: Path) -> None:
    """With several files, each JSON line names its file; line_b64 holds the bytes as read."""
    a, b = tmp_path / "a.log", tmp_path / "b.log"
    a.write_bytes(b"\xff real byte\n")
    b.write_bytes(b"\\xff literal text\n")
    proc = run_cli("classify", "--json", "--no-model", str(a), str(b))
    rows = [json.loads(x) for x in proc.stdout.splitlines()]
    assert [r["file"] for r in rows] == [str(a), str(b)]
    assert rows[0]["line"] == rows[1]["line"].replace("literal text", "real byte")
    assert rows[0]["line_b64"] != rows[1]["line_b64"]


def test_classify_into_a_closed_pipe_stops_quietly(tmp_path: Path) -> None:
    """`sealtail classify big.log | head -1`: no traceback and no 'Error: None' on stderr."""
    log = tmp_path / "big.log"
    log.write_bytes(b"".join(b"app: line %d\n" % i for i in range(200_000)))
    proc = subprocess.run(f"{' '.join(SEALTAIL)} classify --no-model {log} | head -1",
                          shell=True, cwd=REPO, capture_output=True, text=True, timeout=120)
    assert proc.stdout.count("\n") == 1
    assert proc.stderr == ""


def test_classify_names_a_missing_file_before_printing_anything(tmp_path: Path) -> None:
    """A missing input is reported by name, exit 1, and nothing is half-printed."""
    good = tmp_path / "a.log"
    good.write_bytes(b"app: hello\n")
    proc = run_cli("classify", "--no-model", str(good), str(tmp_path / "missing.log"),
                   check=False)
    assert proc.returncode != 0 and "missing.log" in proc.stderr and proc.stdout == ""


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
