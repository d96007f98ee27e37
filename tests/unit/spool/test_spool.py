"""The spool keeps segments durable until acknowledged and recovers head and cursors."""

from __future__ import annotations

import asyncio
import json
import os
from pathlib import Path
from typing import Any

import nacl.signing
import pytest

from agent.errors import SpoolError
from agent.formats import build_header, encode_entry, segment_hash, sign_header
from agent.records import ChainHead, Cursor, FileIdentity, Label, RawLine, SealedSegment
from agent.spool import Spool, read_spool_segments

KEY = nacl.signing.SigningKey(b"k" * 32)
PUB = bytes(KEY.verify_key)
IDENT = FileIdentity(7, 42, b"f" * 32, 10)


def sealed(head: ChainHead, n: int, offset: int) -> SealedSegment:
    entries = tuple(encode_entry(RawLine(f"l{i}".encode(), offset + i * 3, 5), 0,
                                 Label("normal", 1, 1.0)) for i in range(n))
    cursor = Cursor("/x.log", IDENT, offset + n * 3)
    header = build_header(agent_name="a", agent_key=PUB, boot_id=b"b" * 16, seq=head.next_seq,
                          prev_hash=head.prev_hash, entries=entries, t_first_ns=5, t_last_ns=5,
                          sources=[cursor], lines_before=head.lines_total)
    return SealedSegment(head.next_seq, segment_hash(header), header, sign_header(KEY, header),
                         entries, (cursor,), head.lines_total)


async def append_chain(spool: Spool, count: int) -> list[SealedSegment]:
    segs = []
    for i in range(count):
        seg = sealed(spool.head, 4, i * 12)
        await spool.append(seg)
        segs.append(seg)
    return segs


async def test_reopened_spool_continues_the_chain_from_unacked_segments(tmp_path: Path) -> None:
    spool = Spool.open(tmp_path, PUB)
    segs = await append_chain(spool, 3)
    again = Spool.open(tmp_path, PUB)
    assert again.pending_seqs() == [0, 1, 2]
    assert again.head == ChainHead(3, segs[-1].segment_hash, 12)
    assert again.cursors[(7, 42)].offset == 36


async def test_a_reopened_spool_says_when_the_previous_run_last_recorded_anything(
        tmp_path: Path) -> None:
    """The tailer's bound for files rotated while stopped: every line sealed (and so read)
    before the stop is in a record written no later than this."""
    first = Spool.open(tmp_path, PUB)
    assert first.last_record_wall_ns is None  # nothing recorded yet
    await append_chain(first, 2)
    await first.ack(0)
    newest = max(p.stat().st_mtime_ns for p in [tmp_path / "head.json",
                                                 *(tmp_path / "spool").glob("*.seg")])
    assert Spool.open(tmp_path, PUB).last_record_wall_ns == newest


async def test_acknowledged_segments_are_deleted_and_head_survives_restart(
        tmp_path: Path) -> None:
    spool = Spool.open(tmp_path, PUB)
    segs = await append_chain(spool, 3)
    await spool.ack(2)
    assert spool.pending_seqs() == []
    assert not list((tmp_path / "spool").glob("*.seg"))
    again = Spool.open(tmp_path, PUB)
    assert again.head == ChainHead(3, segs[-1].segment_hash, 12)
    assert again.cursors[(7, 42)].offset == 36


async def test_a_torn_segment_file_is_quarantined_naming_it(
        tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    spool = Spool.open(tmp_path, PUB)
    await append_chain(spool, 2)
    newest = sorted((tmp_path / "spool").glob("*.seg"))[-1]
    newest.write_bytes(newest.read_bytes()[:-5])
    again = Spool.open(tmp_path, PUB)
    assert again.pending_seqs() == [0]
    assert list((tmp_path / "quarantine").glob(f"{newest.name}.*"))
    assert str(newest) in caplog.text and "torn write" in caplog.text
    assert again.head.next_seq == 1  # the lines of the torn segment will be read again


@pytest.mark.parametrize("damage", ["half", "nuls"])
async def test_a_garbage_head_file_is_quarantined_and_reported_not_a_crash(
        tmp_path: Path, caplog: pytest.LogCaptureFixture, damage: str) -> None:
    """Case 21: a truncated or zeroed state file: start, report it, mark the head lost."""
    spool = Spool.open(tmp_path, PUB)
    await append_chain(spool, 1)
    await spool.ack(0)
    head = tmp_path / "head.json"
    text = head.read_bytes()
    head.write_bytes(text[: len(text) // 2] if damage == "half" else b"\0" * 4096)
    again = Spool.open(tmp_path, PUB)
    assert again.head_lost and not head.exists()
    assert list((tmp_path / "quarantine").glob("head.json.*"))
    assert "head.json" in caplog.text and "unusable" in caplog.text


async def test_head_lost_is_resolved_by_a_later_segment_in_the_spool(tmp_path: Path) -> None:
    spool = Spool.open(tmp_path, PUB)
    segs = await append_chain(spool, 2)
    (tmp_path / "head.json").write_text("{broken")
    again = Spool.open(tmp_path, PUB)
    assert not again.head_lost
    assert again.head.next_seq == 2 and again.head.prev_hash == segs[-1].segment_hash


async def test_head_file_is_replaced_atomically(tmp_path: Path) -> None:
    spool = Spool.open(tmp_path, PUB)
    await append_chain(spool, 1)
    await spool.ack(0)
    data = json.loads((tmp_path / "head.json").read_text())
    assert data["next_seq"] == 1
    assert not [p for p in os.listdir(tmp_path) if p.endswith(".tmp")]


async def test_read_spool_segments_returns_exact_payloads(tmp_path: Path) -> None:
    spool = Spool.open(tmp_path, PUB)
    await append_chain(spool, 2)
    payloads = read_spool_segments(tmp_path)
    assert len(payloads) == 2
    assert await spool.read(0) == payloads[0][1]


def test_wait_for_segment_wakes_on_append(tmp_path: Path) -> None:
    async def scenario() -> None:
        spool = Spool.open(tmp_path, PUB)
        waiter = asyncio.create_task(spool.wait_for_segment(spool.appended))
        await asyncio.sleep(0)
        await spool.append(sealed(spool.head, 1, 0))
        await asyncio.wait_for(waiter, 5)

    asyncio.run(scenario())


async def test_a_forgotten_file_leaves_the_saved_cursors_at_the_next_acknowledgement(
        tmp_path: Path) -> None:
    spool = Spool.open(tmp_path, PUB)
    await append_chain(spool, 2)
    await spool.ack(1)
    spool.forget((7, 42))
    await append_chain_other_file(spool)
    await spool.ack(2)
    saved = json.loads((tmp_path / "head.json").read_text())["cursors"]
    assert [c["inode"] for c in saved] == [43]
    assert (7, 42) not in Spool.open(tmp_path, PUB).cursors


async def test_a_forgotten_cursor_still_carried_by_an_unacknowledged_segment_waits_for_it(
        tmp_path: Path) -> None:
    """Forgetting must not be undone by the ack of a segment sealed before the file was done."""
    spool = Spool.open(tmp_path, PUB)
    await append_chain(spool, 2)
    spool.forget((7, 42))
    await spool.ack(0)  # seq 1 still carries a cursor of (7, 42)
    assert (7, 42) in {(c["device"], c["inode"]) for c in
                       json.loads((tmp_path / "head.json").read_text())["cursors"]}
    await spool.ack(1)
    assert json.loads((tmp_path / "head.json").read_text())["cursors"] == []


async def test_a_file_tailed_again_after_being_forgotten_keeps_its_cursor(
        tmp_path: Path) -> None:
    """A reused inode number: `keep` cancels the pending forget."""
    spool = Spool.open(tmp_path, PUB)
    await append_chain(spool, 1)
    spool.forget((7, 42))
    spool.keep((7, 42))
    await spool.ack(0)
    assert Spool.open(tmp_path, PUB).cursors[(7, 42)].offset == 12


async def append_chain_other_file(spool: Spool) -> None:
    other = FileIdentity(7, 43, b"g" * 32, 10)
    head = spool.head
    entries = (encode_entry(RawLine(b"other", 0, 5), 0, Label("normal", 1, 1.0)),)
    cursor = Cursor("/y.log", other, 6)
    header = build_header(agent_name="a", agent_key=PUB, boot_id=b"b" * 16, seq=head.next_seq,
                          prev_hash=head.prev_hash, entries=entries, t_first_ns=5, t_last_ns=5,
                          sources=[cursor], lines_before=head.lines_total)
    await spool.append(SealedSegment(head.next_seq, segment_hash(header), header,
                                     sign_header(KEY, header), entries, (cursor,),
                                     head.lines_total))


async def test_adopted_head_is_written_to_the_head_file_before_anything_is_sealed(
        tmp_path: Path) -> None:
    """A head adopted from the collector is durable: a reopened spool continues from it."""
    spool = Spool.open(tmp_path, PUB)
    adopted = ChainHead(3, b"h" * 32, 30)
    spool.adopt_head(adopted)
    again = Spool.open(tmp_path, PUB)
    assert not again.fresh and again.head == adopted


async def test_segments_without_a_head_file_continue_the_chain_and_are_not_quarantined(
        tmp_path: Path) -> None:
    """head.json missing, spool holding a valid signed seq 3: the chain continues at 3."""
    start = ChainHead(3, b"h" * 32, 30)
    spool = Spool.open(tmp_path, PUB)
    spool.adopt_head(start)
    segs = await append_chain(spool, 2)
    (tmp_path / "head.json").unlink()
    again = Spool.open(tmp_path, PUB)
    assert again.pending_seqs() == [3, 4]
    assert again.head.next_seq == 5 and again.head.prev_hash == segs[-1].segment_hash
    assert not list((tmp_path / "quarantine").iterdir())


@pytest.mark.parametrize(("damage", "reason"), [
    (lambda data: data[:-3], "torn write"),
    (lambda data: data[:-1] + bytes([data[-1] ^ 1]), "checksum mismatch"),
    (lambda data: data + b"x", "torn write"),
    (lambda data: data[:5], "bad magic or too short"),
])
async def test_reading_a_segment_damaged_after_append_raises_spool_error_naming_it(
        tmp_path: Path, damage: Any, reason: str) -> None:
    """`read` (the shipper's path, payload read without a copy) checks length and CRC as the
    start-up load does: a damaged file is named, never shipped."""
    spool = Spool.open(tmp_path, PUB)
    await append_chain(spool, 1)
    (path,) = (tmp_path / "spool").glob("*.seg")
    path.write_bytes(damage(path.read_bytes()))
    with pytest.raises(SpoolError, match=reason) as info:
        await spool.read(0)
    assert str(path) in str(info.value)
