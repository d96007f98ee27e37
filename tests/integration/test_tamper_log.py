"""TAMPER-CASES 10–22 that need more than one segment's bytes: a shortened, rewritten or
re-labelled history, caught by the chain, the store's own signed checkpoints, or an anchor.

Stores are built through the real store and checkpointer; the attacker then edits a copy of
the database (dropping the append-only triggers) and, where the case says so, holds the agent
key or even the collector key. S1..S5 of the design notes are host-a seq 0..4; host-b's two
segments come first in the collector-wide log.
"""

from __future__ import annotations

import asyncio
import json
import shutil
import sqlite3
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import nacl.signing
import pytest

from agent._pb import sealtail_pb2 as pb
from agent.collector import Checkpointer
from agent.formats import Checkpoint, NoteSigner, sign_checkpoint
from agent.store import SQLiteStore
from tests.chains import ChainWriter, verified
from tests.integration.harness import edit_store_as_attacker, run_cli

pytestmark = pytest.mark.integration

AGENT_A = nacl.signing.SigningKey(bytes([1]) * 32)
AGENT_B = nacl.signing.SigningKey(bytes([5]) * 32)
COLLECTOR = nacl.signing.SigningKey(bytes([2]) * 32)
LINES = 20


@dataclass
class Pristine:
    data: Path
    vkey: Path
    anchor: Path
    a: ChainWriter
    b: ChainWriter


def _fill(data: Path, segments: list[pb.Segment]) -> bytes:
    store = SQLiteStore(data)

    async def run() -> bytes:
        cps = Checkpointer.open(store, COLLECTOR)
        note = b""
        for seg in segments:
            result = await store.append(verified(seg))
            assert result.status == pb.ACK_STORED, result
            note = (await cps.covering(result.leaf_index + 1)).note
        (data / "collector.vkey").write_text(cps.vkey + "\n")
        return note

    try:
        return asyncio.run(run())
    finally:
        store.close()


@pytest.fixture(scope="module")
def pristine(tmp_path_factory: pytest.TempPathFactory) -> Pristine:
    root = tmp_path_factory.mktemp("pristine-log")
    a = ChainWriter(AGENT_A, lines=LINES)
    b = ChainWriter(AGENT_B, name="host-b", lines=LINES)
    segments = [b.next(), b.next(), *(a.next() for _ in range(5))]
    note = _fill(root / "data", segments)
    (root / "anchor.checkpoint").write_bytes(note)  # what host-a holds after its last ack
    return Pristine(root / "data", root / "data" / "collector.vkey",
                    root / "anchor.checkpoint", a, b)


def copy_and_edit(p: Pristine, tmp_path: Path,
                  edit: Callable[[sqlite3.Connection], None] | None = None) -> Path:
    data = tmp_path / "copy"
    shutil.copytree(p.data, data)
    if edit is not None:
        edit_store_as_attacker(data, edit)
    return data


def verify(p: Pristine, data: Path, *, anchor: bool) -> tuple[int, dict[str, object]]:
    args = ["verify", "--data", str(data), "--collector-key", str(p.vkey), "--json"]
    if anchor:
        args += ["--anchor", str(p.anchor)]
    proc = run_cli(*args, check=False)
    assert proc.returncode in (0, 1), proc.stderr
    return proc.returncode, json.loads(proc.stdout)


def fails(p: Pristine, data: Path, *, anchor: bool = True) -> dict[str, object]:
    code, result = verify(p, data, anchor=anchor)
    assert code == 1 and result["ok"] is False, result
    return result


def sid(conn: sqlite3.Connection, agent: str, seq: int) -> int:
    return int(conn.execute("SELECT s.id FROM segments s JOIN agents a ON a.id = s.agent_id"
                            " WHERE a.name = ? AND s.seq = ?", (agent, seq)).fetchone()[0])


def drop_segments(conn: sqlite3.Connection, ids: list[int]) -> None:
    for i in ids:
        conn.execute("DELETE FROM entries WHERE segment_id = ?", (i,))
        conn.execute("DELETE FROM segments WHERE id = ?", (i,))


def replace_segment(conn: sqlite3.Connection, segment_id: int, seg: pb.Segment) -> None:
    h = pb.SegmentHeader.FromString(seg.header)
    conn.execute("UPDATE segments SET header=?, signature=?, count=?, t_first_ns=?, t_last_ns=?"
                 " WHERE id=?", (seg.header, seg.signature, h.count, h.t_first_ns, h.t_last_ns,
                                 segment_id))
    conn.execute("DELETE FROM entries WHERE segment_id = ?", (segment_id,))
    from agent.formats import leaf_hash, line_locator

    for i, data in enumerate(seg.entries):
        e = pb.Entry.FromString(data)
        conn.execute("INSERT INTO entries VALUES (?,?,?,?,?,?,?)",
                     (segment_id, i, e.time_ns, e.category, h.sources[e.source].path,
                      line_locator(i, leaf_hash(data)), data))


def resign_checkpoints(conn: sqlite3.Connection, data: Path) -> None:
    """The collector key's holder replaces every stored checkpoint by one over the new tree."""
    conn.execute("DELETE FROM checkpoints")
    conn.execute("COMMIT")
    store = SQLiteStore(data)
    try:
        origin = store.get_meta("origin")
        assert origin is not None
        cp = Checkpoint(origin, store.log.size, store.log.root())
        note = sign_checkpoint(cp, NoteSigner(origin, COLLECTOR))
        asyncio.run(store.add_checkpoint(cp.size, cp.root, note))
    finally:
        store.close()
    conn.execute("BEGIN")


def forked_continuation(p: Pristine, *, from_seq: int, count: int) -> list[pb.Segment]:
    """New segments continuing host-a's chain after `from_seq`, signed with host-a's key."""
    genuine = p.a.segments
    fork = ChainWriter(AGENT_A, lines=LINES, text="all quiet")
    for seg in genuine[:from_seq + 1]:  # replay the shared prefix to reach the same state
        fork.segments.append(seg)
    h = pb.SegmentHeader.FromString(genuine[from_seq].header)
    from agent.formats import segment_hash

    fork.seq, fork.prev = from_seq + 1, segment_hash(genuine[from_seq].header)
    fork.lines_total = h.lines_before + h.count
    return [fork.next(tag="-fork") for _ in range(count)]


def test_pristine_log_verifies_with_anchor_and_states_it(pristine: Pristine,
                                                         tmp_path: Path) -> None:
    code, result = verify(pristine, copy_and_edit(pristine, tmp_path), anchor=True)
    assert code == 0 and result["anchored"] is True
    assert "anchored: consistent with checkpoint(s) of size 7" in str(result["summary"])


def _drop_last_two(p: Pristine) -> Callable[[sqlite3.Connection], None]:
    def edit(conn: sqlite3.Connection) -> None:
        drop_segments(conn, [sid(conn, "host-a", 3), sid(conn, "host-a", 4)])
        conn.execute("DELETE FROM checkpoints WHERE size > 5")  # leave it internally perfect
    return edit


def test_case_11_dropped_last_segments_fail_as_rollback_with_an_anchor(
        pristine: Pristine, tmp_path: Path) -> None:
    r = fails(pristine, copy_and_edit(pristine, tmp_path, _drop_last_two(pristine)))
    assert r["code"] == "rollback" and "have 5 segments < 7" in str(r["message"])


def test_case_11_without_an_anchor_reports_coverage_and_warns(
        pristine: Pristine, tmp_path: Path) -> None:
    """Internally perfect after the cut: passes, but says where it ends and what it could not
    rule out."""
    code, r = verify(pristine, copy_and_edit(pristine, tmp_path, _drop_last_two(pristine)),
                     anchor=False)
    assert code == 0
    summary = str(r["summary"])
    assert "host-a" in summary and "seq 0..2" in summary and "head " in summary
    assert "cut short at its end" in summary and "cannot be ruled out" in summary


def test_case_12_truncate_and_continue_fails_against_the_anchor(
        pristine: Pristine, tmp_path: Path) -> None:
    """S4, S5 replaced by S4', S5' continuing from S3 (agent key) and fresh checkpoints
    (collector key): only the anchor can tell, and it does."""
    fork = forked_continuation(pristine, from_seq=2, count=2)

    def edit(conn: sqlite3.Connection) -> None:
        replace_segment(conn, sid(conn, "host-a", 3), fork[0])
        replace_segment(conn, sid(conn, "host-a", 4), fork[1])
        resign_checkpoints(conn, tmp_path / "copy")

    data = copy_and_edit(pristine, tmp_path, edit)
    r = fails(pristine, data)
    assert r["code"] == "inconsistent_history"
    code, _ = verify(pristine, data, anchor=False)
    assert code == 0, "without an anchor a re-signed rewrite is undetectable (by design)"


def test_case_12_truncate_and_continue_is_caught_by_the_stores_own_checkpoints(
        pristine: Pristine, tmp_path: Path) -> None:
    """An attacker without the collector key cannot re-sign the stored checkpoints."""
    fork = forked_continuation(pristine, from_seq=2, count=2)

    def edit(conn: sqlite3.Connection) -> None:
        replace_segment(conn, sid(conn, "host-a", 3), fork[0])
        replace_segment(conn, sid(conn, "host-a", 4), fork[1])

    r = fails(pristine, copy_and_edit(pristine, tmp_path, edit), anchor=False)
    assert r["code"] == "inconsistent_history"


def test_case_14_another_hosts_segment_filed_under_host_a_fails_with_key_mismatch(
        pristine: Pristine, tmp_path: Path) -> None:
    def edit(conn: sqlite3.Connection) -> None:
        a_id = conn.execute("SELECT id FROM agents WHERE name='host-a'").fetchone()[0]
        conn.execute("UPDATE segments SET agent_id=?, seq=5 WHERE id=?",
                     (a_id, sid(conn, "host-b", 1)))

    r = fails(pristine, copy_and_edit(pristine, tmp_path, edit))
    assert (r["code"], r["agent"]) == ("key_mismatch", "host-a")


def test_case_14_relabelling_another_hosts_segment_breaks_its_signature(
        pristine: Pristine, tmp_path: Path) -> None:
    """The agent name is inside the signed bytes."""
    def edit(conn: sqlite3.Connection) -> None:
        i = sid(conn, "host-b", 1)
        (header,) = conn.execute("SELECT header FROM segments WHERE id=?", (i,)).fetchone()
        h = pb.SegmentHeader.FromString(header)
        h.agent_name = "host-a"
        conn.execute("UPDATE segments SET header=? WHERE id=?", (h.SerializeToString(), i))

    r = fails(pristine, copy_and_edit(pristine, tmp_path, edit))
    assert (r["code"], r["seq"]) == ("bad_signature", 1)


def test_case_15_segment_moved_between_hosts_sharing_a_key_fails_on_origin(
        pristine: Pristine, tmp_path: Path) -> None:
    """Hosts A and B share host-a's key; B's S3 put in A's place fails on the signed name."""
    shared = ChainWriter(AGENT_A, name="host-b", lines=LINES)
    b_segments = [shared.next() for _ in range(3)]

    def edit(conn: sqlite3.Connection) -> None:
        replace_segment(conn, sid(conn, "host-a", 2), b_segments[2])

    r = fails(pristine, copy_and_edit(pristine, tmp_path, edit))
    assert (r["code"], r["seq"]) == ("origin_mismatch", 2)
    # A verifier pinned to host-a's own key and name sees the same.
    assert "host-b" in str(r["message"])


def test_case_17_history_rewritten_with_the_agent_key_is_caught_by_stored_checkpoints(
        pristine: Pristine, tmp_path: Path) -> None:
    """S1–S3 rewritten and the whole chain re-signed with the (stolen) agent key."""
    rewrite = ChainWriter(AGENT_A, lines=LINES, text="Accepted password for bob")
    forged = [rewrite.next() for _ in range(5)]

    def edit(conn: sqlite3.Connection) -> None:
        for seq, seg in enumerate(forged):
            replace_segment(conn, sid(conn, "host-a", seq), seg)

    r = fails(pristine, copy_and_edit(pristine, tmp_path, edit), anchor=False)
    assert r["code"] == "inconsistent_history"


def test_case_17_with_the_collector_key_too_only_the_anchor_catches_it(
        pristine: Pristine, tmp_path: Path) -> None:
    rewrite = ChainWriter(AGENT_A, lines=LINES, text="Accepted password for bob")
    forged = [rewrite.next() for _ in range(5)]

    def edit(conn: sqlite3.Connection) -> None:
        for seq, seg in enumerate(forged):
            replace_segment(conn, sid(conn, "host-a", seq), seg)
        resign_checkpoints(conn, tmp_path / "copy")

    data = copy_and_edit(pristine, tmp_path, edit)
    assert verify(pristine, data, anchor=False)[0] == 0
    assert fails(pristine, data)["code"] == "inconsistent_history"


@pytest.mark.parametrize("game", ["line_outside_range", "t_first_after_t_last"])
def test_case_21_timestamp_games_fail_with_time_out_of_range(
        pristine: Pristine, tmp_path: Path, game: str) -> None:
    """Re-signed S3 whose lines are dated outside its signed [t_first, t_last]."""
    seg = pristine.a.segments[2]
    h = pb.SegmentHeader.FromString(seg.header)
    if game == "line_outside_range":
        h.t_last_ns = h.t_first_ns + 4  # lines 5.. now fall outside
    else:
        h.t_first_ns, h.t_last_ns = h.t_last_ns + 1, h.t_first_ns
    header = h.SerializeToString()
    forged = pb.Segment(header=header, signature=AGENT_A.sign(
        b"sealtail/segment/v1\n" + header).signature, entries=seg.entries)

    def edit(conn: sqlite3.Connection) -> None:
        replace_segment(conn, sid(conn, "host-a", 2), forged)

    r = fails(pristine, copy_and_edit(pristine, tmp_path, edit))
    assert (r["code"], r["seq"]) == ("time_out_of_range", 2)
    if game == "line_outside_range":
        assert r["line"] == 5


@pytest.mark.parametrize("downgrade", ["strip_signature", "legacy_unsigned"])
def test_case_22_downgrade_to_unsigned_fails(pristine: Pristine, tmp_path: Path,
                                             downgrade: str) -> None:
    """An unsigned segment after enrolment is a failure, never a pass with a note."""
    def edit(conn: sqlite3.Connection) -> None:
        i = sid(conn, "host-a", 2)
        if downgrade == "legacy_unsigned":
            (header,) = conn.execute("SELECT header FROM segments WHERE id=?", (i,)).fetchone()
            h = pb.SegmentHeader.FromString(header)
            h.version = 0
            conn.execute("UPDATE segments SET header=? WHERE id=?", (h.SerializeToString(), i))
        conn.execute("UPDATE segments SET signature=x'' WHERE id=?", (i,))

    r = fails(pristine, copy_and_edit(pristine, tmp_path, edit))
    expected = "bad_signature" if downgrade == "strip_signature" else "bad_version"
    assert (r["code"], r["seq"]) == (expected, 2)
