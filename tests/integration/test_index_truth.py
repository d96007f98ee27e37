"""The query index (entries.time_ns/category/source) is only an index over signed bytes: a
collector operator who edits it must not change what queries answer without it being said,
and `verify --collector` must catch it online (real collector processes on a store copy)."""

from __future__ import annotations

import json
import shutil
import sqlite3
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from agent._pb import sealtail_pb2 as pb
from agent.formats import ZERO_HASH, build_header, encode_entry, sign_header
from agent.keys import load_signing_key
from agent.records import Cursor, FileIdentity, Label, RawLine
from tests.integration.harness import Collector, edit_store_as_attacker, run_cli, ship

pytestmark = pytest.mark.integration

LINES = [  # (line, category)
    (b"sshd[41]: Failed password for root from 10.0.0.9 port 22 ssh2", "failed_login"),
    (b"sudo: alice : TTY=pts/0 ; USER=root ; COMMAND=/usr/sbin/useradd bob", "admin_change"),
    (b"sshd[42]: Accepted publickey for alice from 10.0.0.7 port 22", "login"),
    (b"cron[7]: (root) CMD (run-parts /etc/cron.hourly)", "normal"),
]
THIRTY_DAYS_NS = 30 * 86400 * 10**9


def one_segment(agent_key: Path) -> pb.Segment:
    """The four lines, timed now, in one signed genesis segment of host-a."""
    key = load_signing_key(agent_key)
    now = time.time_ns()
    entries, offset = [], 0
    for i, (line, category) in enumerate(LINES):
        entries.append(encode_entry(RawLine(line, offset, now + i), 0, Label(category, 1, 1.0)))
        offset += len(line) + 1
    header = build_header(
        agent_name="host-a", agent_key=bytes(key.verify_key), boot_id=b"b" * 16, seq=0,
        prev_hash=ZERO_HASH, entries=entries, t_first_ns=now, t_last_ns=now + len(LINES) - 1,
        sources=[Cursor("/var/log/auth.log", FileIdentity(1, 2, b"\0" * 32, 0), offset)],
        lines_before=0)
    return pb.Segment(header=header, signature=sign_header(key, header), entries=entries)


def edit_index(conn: sqlite3.Connection) -> None:
    """The trial's edit: hide the failed login, move the admin change a month back."""
    conn.execute("UPDATE entries SET category='normal' WHERE category='failed_login'")
    conn.execute(f"UPDATE entries SET time_ns = time_ns - {THIRTY_DAYS_NS}"
                 " WHERE category='admin_change'")


@pytest.fixture
def edited(tmp_path: Path, collector: Collector, authorized_keys: Path,
           agent_key: Path) -> Iterator[Collector]:
    """A collector serving a copy of a store whose index columns were edited."""
    assert ship(collector.address, one_segment(agent_key))[0].status == pb.ACK_STORED
    collector.stop()
    workdir = tmp_path / "copy"
    workdir.mkdir()
    served = Collector(workdir, authorized_keys)
    shutil.copytree(collector.data, served.data)
    edit_store_as_attacker(served.data, edit_index)
    served.start()
    try:
        yield served
    finally:
        served.stop()


def count(collector: Collector, *filters: str) -> tuple[int, int, str]:
    proc = run_cli("query", "--collector", collector.address, "--count", *filters, check=False)
    return proc.returncode, int(proc.stdout), proc.stderr


def test_a_category_filter_follows_the_signed_bytes_and_names_the_edited_line(
        edited: Collector) -> None:
    """The failed login relabelled 'normal' in the index is still found as failed_login, and
    the query exits 1 naming the line whose column disagrees."""
    rc, n, err = count(edited, "--category", "failed_login")
    assert (rc, n) == (1, 1)
    assert "WARNING: agent=host-a segment seq=0 line 0: index column category 'normal'" in err
    rc, n, _ = count(edited, "--category", "normal")
    assert n == 1, "only the cron line is normal: the relabelled row is not counted in"


def test_a_time_filter_follows_the_signed_bytes(edited: Collector) -> None:
    """The sudo line moved a month back in the index is still within the last 24 h."""
    rc, n, err = count(edited, "--since", "24h", "--contains", "sudo")
    assert (rc, n) == (1, 1)
    assert "line 1: index column time_ns" in err


def test_json_results_and_filters_agree(edited: Collector) -> None:
    """What --json prints (the signed category) is what the filter selected on."""
    proc = run_cli("query", "--collector", edited.address, "--json", "--category",
                   "failed_login", check=False)
    (row,) = [json.loads(line) for line in proc.stdout.splitlines()]
    assert (row["category"], row["index"]) == ("failed_login", 0)


def test_verify_collector_catches_an_edited_index_online(edited: Collector) -> None:
    """The segments still verify, but the query index disagrees with them: index_mismatch
    naming agent, seq and line."""
    proc = run_cli("verify", "--collector", edited.address, "--json", check=False)
    assert proc.returncode == 1, proc.stdout + proc.stderr
    result = json.loads(proc.stdout)
    assert (result["code"], result["agent"], result["seq"], result["line"]) == (
        "index_mismatch", "host-a", 0, 0)


def test_an_unedited_store_answers_queries_without_warnings(
        collector: Collector, agent_key: Path) -> None:
    """The control: same lines, no edit, every filter exact and exit 0."""
    ship(collector.address, one_segment(agent_key))
    assert count(collector, "--category", "failed_login") == (0, 1, "")
    assert count(collector, "--since", "24h", "--contains", "sudo") == (0, 1, "")
    assert count(collector, "--until", "24h") == (0, 0, "")
    assert count(collector, "--agent", "host-b") == (0, 0, "")
    out = run_cli("verify", "--collector", collector.address).stdout
    assert "no equivocations" in out and "query index agrees (4 lines)" in out
