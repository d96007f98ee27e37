"""`sealtail summary` against a running collector: text, JSON and HTML, behind the token."""

from __future__ import annotations

import json
import time
from pathlib import Path

from agent._pb import sealtail_pb2 as pb
from agent.insights import SUMMARY_FORMAT, summary_from_json
from agent.keys import load_signing_key
from tests.chains import LabeledChain
from tests.integration.harness import Collector, run_cli, ship

FAILED = b"sshd[9]: Failed password for root from 203.0.113.77 port %d ssh2"
ACCEPTED = b"sshd[9]: Accepted password for root from 203.0.113.77 port 4444 ssh2"
USERADD = b"useradd[812]: new user: name=backup, UID=1002, GID=1002, home=/home/backup"


def attack(chain: LabeledChain) -> list[pb.Segment]:
    t = time.time_ns() - 10 * 60 * 10**9
    return [chain.seal([(t + i * 10**6, FAILED % i) for i in range(30)]),
            chain.seal([(t + 10**9, ACCEPTED), (t + 2 * 10**9, USERADD)])]


def test_summary_names_the_attack_and_the_admin_change_in_each_format(
        tmp_path: Path, collector: Collector, agent_key: Path) -> None:
    """Text, JSON and HTML carry the failing address, the success after it and the useradd."""
    acks = ship(collector.address, *attack(LabeledChain(load_signing_key(agent_key))))
    assert [a.status for a in acks] == [pb.ACK_STORED, pb.ACK_STORED]

    text = run_cli("summary", "--collector", collector.address).stdout
    assert "203.0.113.77" in text and "useradd" in text

    obj = json.loads(run_cli("summary", "--collector", collector.address, "--json").stdout)
    assert obj["format"] == SUMMARY_FORMAT
    summary = summary_from_json(obj)
    assert summary.counts_by_category == {"failed_login": 30, "login": 1, "admin_change": 1}
    assert summary.failed_logins_by_address[0].key == "203.0.113.77"
    assert summary.failed_logins_by_address[0].count == 30
    assert any(a.kind == "brute_force_success" for a in summary.anomalies)
    (group,) = summary.audit
    assert (group.category, group.count, group.refs[0].seq) == ("admin_change", 1, 1)

    page = tmp_path / "report.html"
    out = run_cli("summary", "--collector", collector.address, "--html", str(page)).stdout
    assert out.strip() == f"wrote {page}"
    html = page.read_text()
    assert html.lstrip().lower().startswith("<!doctype html") and "203.0.113.77" in html


def test_summary_of_another_agent_is_empty(collector: Collector, agent_key: Path) -> None:
    """--agent selects one agent's lines: another name has none."""
    ship(collector.address, *attack(LabeledChain(load_signing_key(agent_key))))
    obj = json.loads(run_cli("summary", "--collector", collector.address, "--json",
                             "--agent", "nobody").stdout)
    assert summary_from_json(obj).total_lines == 0


def test_a_bucket_of_partial_minutes_is_refused_naming_it(collector: Collector) -> None:
    """The collector answers INVALID_ARGUMENT naming bucket_ns; the CLI exits 1 with it."""
    proc = run_cli("summary", "--collector", collector.address, "--bucket", "90s", check=False)
    assert proc.returncode == 1
    assert "INVALID_ARGUMENT" in proc.stderr and "bucket_ns" in proc.stderr


def test_summary_needs_the_query_token(tmp_path: Path, authorized_keys: Path) -> None:
    """Summary is a Query RPC: without the bearer token it is refused, with it answered."""
    token = tmp_path / "query.token"
    token.write_text("s3cret\n")
    collector = Collector(tmp_path, authorized_keys,
                          extra_args=("--query-token-file", str(token)))
    collector.start()
    try:
        proc = run_cli("summary", "--collector", collector.address, check=False)
        assert proc.returncode == 1 and "UNAUTHENTICATED" in proc.stderr
        run_cli("summary", "--collector", collector.address, "--token-file", str(token))
    finally:
        collector.stop()
