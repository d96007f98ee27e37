"""The auth.log replay: a real agent and collector, then `sealtail summary --json`.

The summary must name the addresses behind the brute-force bursts, list the sudo/su
activity, and count exactly what was sealed; agreement of the sealed categories with the
hand labels is asserted and printed separately (the classifier may disagree on some lines).
"""

from __future__ import annotations

import csv
import json
import re
from collections import Counter
from pathlib import Path

import pytest

from agent.insights import Summary, summary_from_json
from tests.conftest import shared_path
from tests.integration.harness import (
    Agent,
    Collector,
    fast_agent_config,
    make_key,
    run_cli,
    wait_until,
)

pytestmark = pytest.mark.integration

# A failure line naming its source address, as sshd writes it (independent of the extractor).
_FAILED_FROM = re.compile(rb"(?:Failed \S+ for (?:invalid user )?\S* |Invalid user \S* )"
                          rb"from ([0-9.]+)")
BURST = 20  # failures from one address that make a burst, for this check
Replay = tuple[Summary, list[dict[str, object]], list[bytes], list[str]]


@pytest.fixture(scope="module")
def replay(tmp_path_factory: pytest.TempPathFactory) -> Replay:
    """Replay the file once for the module: the summary, the sealed entries, lines, labels."""
    source = shared_path("data/auth/elastic_auth_dev.log")
    labels_file = shared_path("data/labels/auth_dev_lines.csv")
    tmp = tmp_path_factory.mktemp("replay")
    key = make_key(tmp)
    keys = tmp / "authorized_keys"
    keys.write_text(Path(f"{key}.pub").read_text())
    collector = Collector(tmp, keys)
    collector.start()
    logs = tmp / "logs"
    logs.mkdir()
    data = source.read_bytes()
    lines = data.split(b"\n")[:-1] if data.endswith(b"\n") else data.split(b"\n")
    (logs / "auth.log").write_bytes(data)
    agent = Agent(tmp, key, collector.address, [str(logs / "*.log")],
                  config=fast_agent_config(tmp / "agent.toml"))
    agent.start()
    try:
        wait_until(lambda: collector.count() >= len(lines), 120, message="all lines stored")
        out = run_cli("summary", "--collector", collector.address, "--json").stdout
        entries: list[dict[str, object]] = collector.entries()
    finally:
        agent.stop()
        collector.stop()
    with labels_file.open(newline="") as f:
        labels = [row["category"] for row in csv.DictReader(f)]
    return summary_from_json(json.loads(out)), entries, lines, labels


def test_counts_per_category_equal_what_was_sealed(replay: Replay) -> None:
    """The summary's category counts are exactly the sealed entries' categories."""
    summary, entries, lines, _ = replay
    sealed = Counter(str(e["category"]) for e in entries)
    assert len(entries) == len(lines)
    assert summary.counts_by_category == dict(sealed)
    assert summary.total_lines == len(lines)


def test_sealed_categories_agree_with_the_hand_labels(replay: Replay) -> None:
    """Line by line (by offset), the sealed category mostly equals the CSV label."""
    _, entries, lines, labels = replay
    assert len(labels) == len(lines)
    starts, pos = {}, 0
    for number, line in enumerate(lines):
        starts[pos] = number
        pos += len(line) + 1
    by_line = {starts[int(str(e["offset"]))]: str(e["category"]) for e in entries}
    agree = sum(by_line[i] == labels[i] for i in range(len(lines)))
    per_label = Counter(labels[i] for i in range(len(lines)) if by_line[i] != labels[i])
    print(f"\nagreement with auth_dev_lines.csv: {agree}/{len(lines)} = "
          f"{agree / len(lines):.4f}; disagreements by label: {dict(per_label)}")
    label_counts = Counter(labels)
    print(f"CSV counts: {dict(label_counts)}")
    assert agree / len(lines) >= 0.95


def test_the_brute_force_addresses_are_named_with_their_failure_counts(
        replay: Replay) -> None:
    """Every address with a burst of failures leads the failed-login table, counted exactly."""
    summary, entries, _, _ = replay
    failures: Counter[str] = Counter()
    for e in entries:
        if e["category"] in ("failed_login", "login"):
            m = _FAILED_FROM.search(str(e["line"]).encode())
            if m:
                failures[m.group(1).decode()] += 1
    bursts = {a: n for a, n in failures.items() if n >= BURST}
    assert len(bursts) >= 3
    top = {k.key: k.count for k in summary.failed_logins_by_address[:len(bursts)]}
    assert top == bursts
    by_ref = {(e["agent"], e["seq"], e["index"]): str(e["line"]) for e in entries}
    for counted in summary.failed_logins_by_address:
        assert counted.refs and all(counted.key in by_ref[(r.agent, r.seq, r.index)]
                                    for r in counted.refs), "refs point at the lines counted"


def test_the_sudo_and_su_activity_is_listed_in_the_audit_trail(
        replay: Replay) -> None:
    """Every sealed admin_change line is counted in the audit groups; sudo and su are there."""
    summary, entries, _, _ = replay
    admin = [e for e in entries if e["category"] == "admin_change"]
    groups = [g for g in summary.audit if g.category == "admin_change"]
    assert sum(g.count for g in groups) == len(admin)
    texts = " ".join(g.template for g in groups)
    assert "sudo" in texts and "COMMAND=" in texts and "su" in texts
    assert all(g.refs for g in groups)
    print(f"\naudit groups: {[(g.template[:60], g.count) for g in groups[:6]]}")
