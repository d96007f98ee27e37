"""/metrics on both processes, scraped and parsed during real runs; /healthz turns unhealthy
when the collector is down longer than ops.unhealthy_after_secs and healthy again after."""

from __future__ import annotations

import os
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from prometheus_client.parser import text_string_to_metric_families

from tests.integration.harness import Agent, Collector, fast_agent_config, make_key, wait_until

pytestmark = pytest.mark.integration


def http_address(proc: Agent | Collector, what: str) -> str:
    """The 'sealtail ... http on HOST:PORT' line printed at start."""
    assert proc.proc is not None and proc.proc.stdout is not None
    while True:
        line = proc.proc.stdout.readline()
        assert line, f"{what} printed no http address:\n{proc.log()}"
        if "http on" in line:
            return line.rsplit(" ", 1)[1].strip()


def get(url: str) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(url, timeout=5) as r:
            return r.status, r.read().decode()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode()


def scrape(address: str) -> dict[str, float]:
    """Every sample as {'name{label="v"}': value}."""
    status, text = get(f"http://{address}/metrics")
    assert status == 200
    out = {}
    for family in text_string_to_metric_families(text):
        for s in family.samples:
            labels = ",".join(f'{k}="{v}"' for k, v in sorted(s.labels.items()))
            out[f"{s.name}{{{labels}}}" if labels else s.name] = s.value
    return out


def test_metrics_on_agent_and_collector_count_what_happened(
        tmp_path: Path, authorized_keys: Path, agent_key: Path) -> None:
    """Lines read = sealed = acknowledged = stored; categories, rotations, truncations,
    refusals by reason are all visible in the scrapes."""
    collector = Collector(tmp_path, authorized_keys, extra_args=("--http-listen", "127.0.0.1:0"))
    collector.start()
    c_http = http_address(collector, "collector")
    logs = tmp_path / "logs"
    logs.mkdir()
    app = logs / "app.log"
    app.write_text("".join(f"request {i} ok\n" for i in range(300))
                   + "Failed password for root from 10.0.0.1 port 22 ssh2\n" * 3)
    agent = Agent(tmp_path, agent_key, collector.address, [str(logs / "*.log")],
                  config=fast_agent_config(tmp_path / "agent.toml"),
                  extra_args=("--http-listen", "127.0.0.1:0"))
    agent.start()
    try:
        a_http = http_address(agent, "agent")
        wait_until(lambda: scrape(a_http)["sealtail_ship_lines_acknowledged_total"] == 303, 30,
                   message="303 lines acknowledged")
        m = scrape(a_http)
        assert m["sealtail_tail_lines_total"] == 303
        assert m["sealtail_seal_lines_total"] == 303
        assert m["sealtail_tail_read_bytes_total"] == app.stat().st_size
        assert m["sealtail_tail_files_open"] == 1
        assert m['sealtail_classify_lines_total{category="failed_login"}'] == 3
        assert sum(v for k, v in m.items() if k.startswith("sealtail_classify_lines_total")) == 303
        assert 0 < m["sealtail_classify_cache_hit_ratio"] <= 1
        # "request N ok" is no rule's: the model was asked about its template, and timed
        assert m["sealtail_classify_model_latency_seconds_count"] >= 1
        assert m["sealtail_classify_model_latency_seconds_sum"] > 0
        assert m["sealtail_spool_segments"] == 0
        assert m["sealtail_spool_oldest_unacknowledged_age_seconds"] == 0
        assert m["sealtail_ship_segments_acknowledged_total"] == m["sealtail_seal_segments_total"]
        assert m["sealtail_agent_healthy"] == 1
        # copytruncate-style truncation, then a rotation
        app.write_text("after truncation\n")
        wait_until(lambda: scrape(a_http)["sealtail_tail_truncations_total"] == 1, 30,
                   message="truncation counted")
        os.rename(app, logs / "app.log.1")
        app.write_text("new file\n")
        wait_until(lambda: scrape(a_http)["sealtail_tail_rotations_total"] >= 1, 30,
                   message="rotation counted")
        wait_until(lambda: scrape(a_http)["sealtail_ship_lines_acknowledged_total"] == 305, 30,
                   message="all lines acknowledged")
        c = scrape(c_http)
        assert c["sealtail_ingest_segments_stored_total"] == scrape(a_http)[
            "sealtail_ship_segments_acknowledged_total"]
        assert c["sealtail_log_tree_size"] == c["sealtail_ingest_segments_stored_total"]
        assert c["sealtail_ingest_equivocations_total"] == 0
        # an agent whose key is not authorized: a refusal by reason on both sides
        stranger = Agent(tmp_path, make_key(tmp_path, "other.key"), collector.address,
                         [str(logs / "*.log")], name="stranger",
                         config=fast_agent_config(tmp_path / "other.toml"),
                         extra_args=("--http-listen", "127.0.0.1:0"))
        stranger.start()
        try:
            s_http = http_address(stranger, "stranger")
            wait_until(lambda: scrape(c_http).get(
                'sealtail_ingest_refusals_total{reason="unknown_key"}', 0) >= 1, 30,
                message="unknown_key refusal counted")
            wait_until(lambda: scrape(s_http)["sealtail_ship_refusals_total"] >= 1, 30,
                       message="refusal counted by the agent")
        finally:
            stranger.stop()
    finally:
        agent.stop()
        collector.stop()


def test_health_turns_unhealthy_when_the_collector_is_down_and_healthy_after(
        tmp_path: Path, authorized_keys: Path, agent_key: Path) -> None:
    """Down longer than unhealthy_after_secs with lines waiting: 503; back: 200, all stored."""
    collector = Collector(tmp_path, authorized_keys)
    collector.start()
    logs = tmp_path / "logs"
    logs.mkdir()
    app = logs / "app.log"
    app.write_text("first\n")
    conf = fast_agent_config(tmp_path / "agent.toml")
    conf.write_text(conf.read_text() + "[ops]\nhttp_listen = \"127.0.0.1:0\"\n"
                    "unhealthy_after_secs = 2.0\n")
    agent = Agent(tmp_path, agent_key, collector.address, [str(logs / "*.log")], config=conf)
    agent.start()
    try:
        a_http = http_address(agent, "agent")
        wait_until(lambda: collector.count() == 1, 30, message="first line stored")
        assert get(f"http://{a_http}/healthz") == (200, "ok: nothing waiting to ship\n")
        port = collector.port
        collector.stop()
        with app.open("a") as f:
            f.write("while the collector is down\n")
        t0 = time.monotonic()
        _, body = wait_until(lambda: (r := get(f"http://{a_http}/healthz"))[0] == 503
                                  and r, 30, message="healthz 503")
        assert time.monotonic() - t0 >= 2.0  # not before the threshold
        assert body.startswith("unhealthy: 1 segments waiting, nothing acknowledged for")
        assert scrape(a_http)["sealtail_agent_healthy"] == 0
        assert get(f"http://{a_http}/livez") == (200, "alive\n")  # liveness is not health
        assert scrape(a_http)["sealtail_spool_oldest_unacknowledged_age_seconds"] >= 2.0
        collector = Collector(tmp_path, authorized_keys, port=port)
        collector.start()
        wait_until(lambda: get(f"http://{a_http}/healthz")[0] == 200, 30,
                   message="healthz 200 again")
        wait_until(lambda: collector.count() == 2, 30, message="waiting line stored")
    finally:
        agent.stop()
        collector.stop()
