"""TAMPER-CASES 1–8 applied to a copy of a collector's store: `sealtail verify --data` fails
with a stable code naming the segment and line.

The attacker here has the database file: they drop the append-only triggers and edit rows.
Segments S1..S5 of the design notes are seq 0..4.
"""

from __future__ import annotations

import asyncio
import json
import shutil
import sqlite3
from collections.abc import Callable
from pathlib import Path

import nacl.signing
import pytest

from agent._pb import sealtail_pb2 as pb
from agent.formats import (
    build_header,
    encode_entry,
    leaf_hash,
    line_locator,
    segment_hash,
    sign_header,
    verify_segment,
)
from agent.records import ChainHead, Cursor, FileIdentity, Label, RawLine
from agent.store import SQLiteStore
from tests.integration.harness import edit_store_as_attacker, run_cli

LINES_PER_SEGMENT = 20
SEGMENTS = 5


def build_store(data_dir: Path) -> None:
    """Five chained segments of 20 lines each, stored through the real store."""
    key = nacl.signing.SigningKey(bytes(range(32)))
    ident = FileIdentity(1, 2, b"\x00" * 32, 0)
    head = ChainHead.genesis()
    store = SQLiteStore(data_dir)

    async def fill() -> None:
        nonlocal head
        offset = 0
        for seq in range(SEGMENTS):
            entries = []
            for i in range(LINES_PER_SEGMENT):
                line = RawLine(f"seg {seq} line {i}: Failed password for bob".encode(), offset,
                               1_000_000 + seq * 100 + i)
                offset += len(line.data) + 1
                entries.append(encode_entry(line, 0, Label("failed_login", 1, 1.0)))
            header = build_header(
                agent_name="host-a", agent_key=bytes(key.verify_key), boot_id=b"b" * 16,
                seq=seq, prev_hash=head.prev_hash, entries=entries,
                t_first_ns=1_000_000 + seq * 100, t_last_ns=1_000_000 + seq * 100 + 19,
                sources=[Cursor("/var/log/app.log", ident, offset)],
                lines_before=head.lines_total)
            seg = verify_segment(header, sign_header(key, header), entries)
            result = await store.append(seg)
            assert result.status == pb.ACK_STORED
            head = ChainHead(seq + 1, segment_hash(header), head.lines_total + len(entries))

    asyncio.run(fill())
    store.close()


@pytest.fixture(scope="module")
def pristine(tmp_path_factory: pytest.TempPathFactory) -> Path:
    data = tmp_path_factory.mktemp("pristine")
    build_store(data)
    return data


def tampered_copy(pristine: Path, tmp_path: Path, edit: Callable[[sqlite3.Connection], None]
                  ) -> Path:
    data = tmp_path / "copy"
    shutil.copytree(pristine, data)
    edit_store_as_attacker(data, edit)
    return data


def verify_fails(data: Path) -> dict[str, object]:
    proc = run_cli("verify", "--data", str(data), "--json", check=False)
    assert proc.returncode == 1, proc.stdout + proc.stderr
    result: dict[str, object] = json.loads(proc.stdout)
    assert result["ok"] is False
    return result


def segment_id(conn: sqlite3.Connection, seq: int) -> int:
    return int(conn.execute("SELECT id FROM segments WHERE seq = ?", (seq,)).fetchone()[0])


def test_pristine_store_verifies_with_coverage(pristine: Path) -> None:
    out = run_cli("verify", "--data", str(pristine)).stdout
    lines = SEGMENTS * LINES_PER_SEGMENT
    assert out.startswith(f"OK: 1 agents, {SEGMENTS} segments, {lines} lines")
    assert "seq 0..4" in out


def test_case_1_flipped_byte_in_line_5_of_s3_fails_with_leaf_mismatch(
        pristine: Path, tmp_path: Path) -> None:
    def edit(conn: sqlite3.Connection) -> None:
        sid = segment_id(conn, 2)
        (entry,) = conn.execute("SELECT entry FROM entries WHERE segment_id=? AND idx=5",
                                (sid,)).fetchone()
        forged = bytearray(entry)
        forged[6] ^= 0x01  # a byte inside the line text
        conn.execute("UPDATE entries SET entry=? WHERE segment_id=? AND idx=5",
                     (bytes(forged), sid))

    r = verify_fails(tampered_copy(pristine, tmp_path, edit))
    assert (r["code"], r["seq"], r["line"]) == ("leaf_mismatch", 2, 5)


@pytest.mark.parametrize("target", ["t_last", "signature"])
def test_case_2_modified_signed_metadata_fails_with_bad_signature(
        pristine: Path, tmp_path: Path, target: str) -> None:
    def edit(conn: sqlite3.Connection) -> None:
        sid = segment_id(conn, 2)
        header, sig = conn.execute("SELECT header, signature FROM segments WHERE id=?",
                                   (sid,)).fetchone()
        if target == "t_last":
            h = pb.SegmentHeader.FromString(header)
            h.t_last_ns += 1
            conn.execute("UPDATE segments SET header=? WHERE id=?", (h.SerializeToString(), sid))
        else:
            conn.execute("UPDATE segments SET signature=? WHERE id=?",
                         (bytes([sig[0] ^ 0x80]) + sig[1:], sid))

    r = verify_fails(tampered_copy(pristine, tmp_path, edit))
    assert (r["code"], r["seq"]) == ("bad_signature", 2)


def test_case_3_deleted_line_5_of_s3_is_reported_as_a_line_gap(
        pristine: Path, tmp_path: Path) -> None:
    def edit(conn: sqlite3.Connection) -> None:
        sid = segment_id(conn, 2)
        conn.execute("DELETE FROM entries WHERE segment_id=? AND idx=5", (sid,))
        conn.execute("UPDATE segments SET count=count-1 WHERE id=?", (sid,))

    r = verify_fails(tampered_copy(pristine, tmp_path, edit))
    assert (r["code"], r["seq"], r["line"]) == ("line_gap", 2, 5)


def test_case_3_deleted_line_with_renumbered_rest_fails_on_s3(
        pristine: Path, tmp_path: Path) -> None:
    def edit(conn: sqlite3.Connection) -> None:
        sid = segment_id(conn, 2)
        conn.execute("DELETE FROM entries WHERE segment_id=? AND idx=5", (sid,))
        for idx in range(6, LINES_PER_SEGMENT):
            conn.execute("UPDATE entries SET idx=? WHERE segment_id=? AND idx=?",
                         (idx - 1, sid, idx))

    r = verify_fails(tampered_copy(pristine, tmp_path, edit))
    assert (r["code"], r["seq"], r["line"]) == ("count_mismatch", 2, 5)


def test_case_4_inserted_forged_line_fails_on_s3(pristine: Path, tmp_path: Path) -> None:
    def edit(conn: sqlite3.Connection) -> None:
        sid = segment_id(conn, 2)
        for idx in reversed(range(6, LINES_PER_SEGMENT)):
            conn.execute("UPDATE entries SET idx=? WHERE segment_id=? AND idx=?",
                         (idx + 1, sid, idx))
        forged = encode_entry(RawLine(b"forged: all is well", 0, 1_000_205), 0,
                              Label("normal", 1, 1.0))
        conn.execute("INSERT INTO entries VALUES (?,?,?,?,?,?,?)",
                     (sid, 6, 1_000_205, "normal", "/var/log/app.log",
                      line_locator(6, leaf_hash(forged)), forged))

    r = verify_fails(tampered_copy(pristine, tmp_path, edit))
    assert (r["code"], r["seq"], r["line"]) == ("count_mismatch", 2, 7)


def test_case_5_swapped_lines_5_and_6_fail_with_leaf_mismatch_at_5(
        pristine: Path, tmp_path: Path) -> None:
    def edit(conn: sqlite3.Connection) -> None:
        sid = segment_id(conn, 2)
        conn.execute("UPDATE entries SET idx=-1 WHERE segment_id=? AND idx=5", (sid,))
        conn.execute("UPDATE entries SET idx=5 WHERE segment_id=? AND idx=6", (sid,))
        conn.execute("UPDATE entries SET idx=6 WHERE segment_id=? AND idx=-1", (sid,))

    r = verify_fails(tampered_copy(pristine, tmp_path, edit))
    assert (r["code"], r["seq"], r["line"]) == ("leaf_mismatch", 2, 5)


def test_case_6_deleted_middle_segment_is_named_as_a_chain_gap(
        pristine: Path, tmp_path: Path) -> None:
    def edit(conn: sqlite3.Connection) -> None:
        sid = segment_id(conn, 2)
        conn.execute("DELETE FROM entries WHERE segment_id=?", (sid,))
        conn.execute("DELETE FROM segments WHERE id=?", (sid,))

    r = verify_fails(tampered_copy(pristine, tmp_path, edit))
    assert (r["code"], r["seq"]) == ("chain_gap", 3)
    assert "missing 2" in str(r["message"])


def test_case_7_swapped_segments_fail_on_the_chain(pristine: Path, tmp_path: Path) -> None:
    def edit(conn: sqlite3.Connection) -> None:
        a, b = segment_id(conn, 2), segment_id(conn, 3)
        cols = "seq, hash, header, signature, count, t_first_ns, t_last_ns"
        row_a = conn.execute(f"SELECT {cols} FROM segments WHERE id=?", (a,)).fetchone()
        row_b = conn.execute(f"SELECT {cols} FROM segments WHERE id=?", (b,)).fetchone()
        conn.execute("UPDATE segments SET seq=seq+100 WHERE id IN (?,?)", (a, b))
        sets = ", ".join(f"{c.strip()}=?" for c in cols.split(","))
        conn.execute(f"UPDATE segments SET {sets} WHERE id=?", (*row_b, a))
        conn.execute(f"UPDATE segments SET {sets} WHERE id=?", (*row_a, b))
        conn.execute("UPDATE entries SET segment_id=-1 WHERE segment_id=?", (a,))
        conn.execute("UPDATE entries SET segment_id=? WHERE segment_id=?", (a, b))
        conn.execute("UPDATE entries SET segment_id=? WHERE segment_id=-1", (b,))

    r = verify_fails(tampered_copy(pristine, tmp_path, edit))
    assert r["code"] in ("chain_gap", "seq_regression", "chain_broken")
    assert r["seq"] in (2, 3)


@pytest.mark.parametrize("how", ["drop_lines", "drop_bytes"])
def test_case_8_truncated_last_segment_fails_on_s5(
        pristine: Path, tmp_path: Path, how: str) -> None:
    def edit(conn: sqlite3.Connection) -> None:
        sid = segment_id(conn, 4)
        if how == "drop_lines":
            conn.execute("DELETE FROM entries WHERE segment_id=? AND idx>=10", (sid,))
            conn.execute("UPDATE segments SET count=10 WHERE id=?", (sid,))
        else:
            conn.execute("UPDATE entries SET entry=substr(entry, 1, length(entry)-3)"
                         " WHERE segment_id=? AND idx=19", (sid,))

    r = verify_fails(tampered_copy(pristine, tmp_path, edit))
    if how == "drop_lines":
        assert (r["code"], r["seq"], r["line"]) == ("count_mismatch", 4, 10)
    else:
        assert (r["code"], r["seq"], r["line"]) in {("leaf_mismatch", 4, 19),
                                                    ("parse_error", 4, 19)}


def test_changed_category_column_is_caught_even_though_the_blob_is_intact(
        pristine: Path, tmp_path: Path) -> None:
    """Re-labelling a line in the index column (what queries filter on) is detected."""
    def edit(conn: sqlite3.Connection) -> None:
        conn.execute("UPDATE entries SET category='normal' WHERE segment_id=? AND idx=3",
                     (segment_id(conn, 1),))

    r = verify_fails(tampered_copy(pristine, tmp_path, edit))
    assert (r["code"], r["seq"], r["line"]) == ("index_mismatch", 1, 3)


def test_store_refuses_update_and_delete_through_sql(pristine: Path, tmp_path: Path) -> None:
    """Triggers make the log tables append-only for anyone using SQL."""
    data = tmp_path / "copy"
    shutil.copytree(pristine, data)
    conn = sqlite3.connect(data / "sealtail.db")
    for statement in ("UPDATE entries SET category='normal'", "DELETE FROM entries",
                      "DELETE FROM segments", "UPDATE segments SET seq=seq+1",
                      "UPDATE agents SET name='x'"):
        with pytest.raises(sqlite3.IntegrityError, match="append-only"):
            conn.execute(statement)
    conn.close()
