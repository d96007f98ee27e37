"""`sealtail status` on a running and a stopped agent; reload (SIGHUP and `sealtail reload`)
under load: new globs start, removed ones stop after draining, rules apply to new lines, an
invalid config is refused, and every line is stored exactly once in an unbroken chain."""

from __future__ import annotations

import json
import signal
import threading
import time
from pathlib import Path

import pytest

from tests.integration.harness import Agent, Collector, run_cli, wait_until
from tests.integration.test_metrics_health import http_address

pytestmark = pytest.mark.integration


def _config(path: Path, globs: list[str], rules: tuple[tuple[str, str], ...] = (),
            extra: str = "") -> Path:
    text = ["[tail]", f"paths = {json.dumps(globs)}", "partial_idle_secs = 1.0",
            "rotate_wait_secs = 2.0", "poll_interval_ms = 100",
            "[seal]", "max_segment_age_ms = 200",
            "[ship]", "backoff_initial_ms = 100", "backoff_max_ms = 1000",
            "shutdown_grace_secs = 5",
            "[ops]", 'http_listen = "127.0.0.1:0"', "[classify]"]
    for pattern, category in rules:
        text += ["[[classify.rules]]", f"pattern = {json.dumps(pattern)}",
                 f"category = {json.dumps(category)}"]
    path.write_text("\n".join(text) + "\n" + extra)
    return path


def _by_source(collector: Collector) -> dict[str, list[dict[str, object]]]:
    out: dict[str, list[dict[str, object]]] = {}
    for e in collector.entries():
        out.setdefault(Path(str(e["source"])).name, []).append(e)
    return out


def test_status_shows_files_spool_ack_and_checkpoint_live_and_offline(
        tmp_path: Path, collector: Collector, agent_key: Path) -> None:
    """Live: from the agent's /status; stopped: from the state directory alone."""
    logs = tmp_path / "logs"
    logs.mkdir()
    (logs / "app.log").write_text("one\ntwo\nthree\n")
    conf = _config(tmp_path / "agent.toml", [str(logs / "*.log")])
    agent = Agent(tmp_path, agent_key, collector.address, [], config=conf)
    agent.start()
    try:
        http_address(agent, "agent")
        wait_until(lambda: collector.count() == 3, 30, message="3 lines stored")
        out = run_cli("status", "--state", str(agent.state)).stdout
        assert "healthy: nothing waiting to ship" in out
        assert f"collector {collector.address}" in out
        assert "connected; 1 segments / 3 lines acknowledged since start" in out
        assert "checkpoint  sealtail/" in out and "size 1 root" in out
        row = next(ln for ln in out.splitlines() if ln.startswith(str(logs / "app.log")))
        assert row.split()[2:] == ["14", "14", "0"]  # offset, size, behind
        live = json.loads(run_cli("status", "--state", str(agent.state), "--json").stdout)
        assert live["live"] and live["files"][0]["offset"] == 14
    finally:
        agent.stop()
    stopped = run_cli("status", "--state", str(agent.state), check=False)
    assert stopped.returncode == 1, "a stopped agent needs attention"
    out = stopped.stdout
    assert "attention: the agent is not running" in out
    assert "not reachable: offline view" in out
    assert "through seq 0, 3 lines" in out
    assert str(logs / "app.log") in out


def test_reload_under_load_keeps_exactly_once(tmp_path: Path, collector: Collector,
                                              agent_key: Path) -> None:
    """Globs added and removed, a rule added, an invalid config refused — while lines are
    written: every line of a kept, removed-then-drained or added file is stored once."""
    logs = tmp_path / "logs"
    logs.mkdir()
    a, b, c = logs / "a.log", logs / "b.log", logs / "c.log"
    b.write_text("".join(f"b-{i:05d}\n" for i in range(200)))
    c.write_text("".join(f"c-{i:05d}\n" for i in range(100)))
    a.write_text("MARK before the reload\n")
    conf = _config(tmp_path / "agent.toml", [str(a), str(b)])
    agent = Agent(tmp_path, agent_key, collector.address, [], config=conf)
    agent.start()
    written = ["MARK before the reload"]
    stop = threading.Event()

    def writer() -> None:  # bounded load: at most ~20 s of ~1000 lines/s
        i = 0
        deadline = time.monotonic() + 20
        with a.open("a") as f:
            while not stop.is_set() and time.monotonic() < deadline:
                for _ in range(50):
                    line = f"a-{i:06d}"
                    f.write(line + "\n")
                    written.append(line)
                    i += 1
                f.flush()
                time.sleep(0.05)

    thread = threading.Thread(target=writer)
    try:
        http_address(agent, "agent")
        wait_until(lambda: collector.count("--contains", "MARK before") == 1
                   and collector.count("--contains", "b-00199") == 1, 30,
                   message="first lines stored")
        thread.start()
        time.sleep(1)
        # valid: b removed, c added, a rule for MARK lines; by SIGHUP
        _config(conf, [str(a), str(c)], rules=(("MARK", "marked"),))
        assert agent.proc is not None
        agent.proc.send_signal(signal.SIGHUP)
        wait_until(lambda: "reloaded: tail" in agent.log(), 15, message="reload logged")
        assert "changed but applied only at restart" not in agent.log()
        wait_until(lambda: f"closed {b}" in agent.log(), 15, message="b.log drained, closed")
        with b.open("a") as f:
            f.write("b-after-removal\n")
        # invalid: refused by `sealtail reload`, the running config stays
        good = conf.read_text()
        conf.write_text(good + "bogus = 1\n")
        proc = run_cli("reload", "--state", str(agent.state), check=False)
        assert proc.returncode == 1
        assert "reload refused, the running config stays:" in proc.stdout
        assert "bogus: unknown key" in proc.stdout
        conf.write_text(good)
        proc = run_cli("reload", "--state", str(agent.state))
        assert proc.stdout.startswith("reloaded: nothing changed")
        time.sleep(1)
        stop.set()
        thread.join()
        with a.open("a") as f:
            f.write("MARK after the reload\n")
        written.append("MARK after the reload")
        wait_until(lambda: collector.count("--contains", "MARK after") == 1, 30,
                   message="last line stored")
        time.sleep(1.5)  # anything still arriving (a duplicate, b-after-removal) would show
    finally:
        stop.set()
        if thread.is_alive():
            thread.join()
        code = agent.stop()
    assert code == 0
    got = _by_source(collector)
    lines_a = [str(e["line"]) for e in got["a.log"]]
    assert lines_a == written  # every line once, in order, through both reloads
    assert [str(e["line"]) for e in got["b.log"]] == [f"b-{i:05d}" for i in range(200)]
    assert [str(e["line"]) for e in got["c.log"]] == [f"c-{i:05d}" for i in range(100)]
    categories = {str(e["line"]): e["category"] for e in got["a.log"]}
    assert categories["MARK after the reload"] == "marked"
    assert categories["MARK before the reload"] != "marked"
    assert len(written) > 1000
    out = run_cli("verify", "--collector", collector.address).stdout
    assert out.startswith("OK: 1 agents")
    log = agent.log()
    assert "reload refused, the running config stays" in log
