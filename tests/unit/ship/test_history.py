"""The shipper checks every ack's checkpoint against its anchor with a consistency proof
from the collector (a real in-process collector; anchors written as a lying collector would
have signed them)."""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path

import nacl.signing
import pytest

from agent.classify import Classifier
from agent.config import AgentConfig, ClassifyConfig
from agent.errors import ErrorCode
from agent.formats import Checkpoint, NoteSigner, peek_checkpoint, sign_checkpoint
from agent.ops import AgentOps
from agent.records import ChainHead
from agent.ship import Shipper, ShipState
from agent.spool import Spool
from tests.unit.ship.test_refusals import FAST, serving
from tests.unit.spool.test_spool import PUB, append_chain

COLLECTOR_KEY = nacl.signing.SigningKey(bytes([3]) * 32)  # the key `serving` signs with


async def run_with_anchor(tmp_path: Path, size: int, root: bytes,
                          segments: int = 1) -> tuple[Shipper, Spool]:
    """Ship `segments` with an anchor (size, root) in the state dir; stop after 2 s."""
    async with serving(tmp_path, frozenset({PUB})) as (address, store):
        signer = NoteSigner(store.get_meta("origin") or "", COLLECTOR_KEY)
        state = tmp_path / "state"
        Spool.open(state, PUB)  # creates the state dir; reopened below to read the anchor
        (state / "anchor.checkpoint").write_bytes(
            sign_checkpoint(Checkpoint(signer.name, size, root), signer))
        spool = Spool.open(state, PUB)
        await append_chain(spool, segments)
        shipper = Shipper(FAST, address, spool)
        task = asyncio.create_task(shipper.run())
        try:
            await asyncio.sleep(2.0)
        finally:
            task.cancel()
        return shipper, spool


async def test_an_anchor_larger_than_the_collectors_log_is_a_rollback(
        tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    """The collector cannot prove its size-1 checkpoint is a prefix of the anchored size 50:
    rollback, at ERROR; the anchor and the segment stay."""
    shipper, spool = await run_with_anchor(tmp_path, 50, bytes(32))
    st = shipper.statistics()
    assert st.state == ShipState.REFUSED and st.last_code == ErrorCode.ROLLBACK
    assert st.history_failures >= 1 and st.anchor_size == 50
    assert spool.pending_seqs() == [0]
    assert peek_checkpoint(spool.anchor_file.read_bytes()).size == 50
    errors = [r.getMessage() for r in caplog.records if r.levelno == logging.ERROR]
    assert errors and "rolled its history back" in errors[0]


async def test_a_checkpoint_of_the_anchors_size_with_another_root_is_a_fork(
        tmp_path: Path) -> None:
    """Same size, different root: inconsistent_history without asking for a proof."""
    shipper, spool = await run_with_anchor(tmp_path, 1, b"\x11" * 32)
    st = shipper.statistics()
    assert (st.state, st.last_code) == (ShipState.REFUSED, ErrorCode.INCONSISTENT_HISTORY)
    assert spool.pending_seqs() == [0]


async def test_a_consistent_history_moves_the_anchor(tmp_path: Path) -> None:
    """The honest case: no anchor yet, three acks, the anchor ends at the last checkpoint
    (each step proved consistent with the one before)."""
    async with serving(tmp_path, frozenset({PUB})) as (address, _):
        spool = Spool.open(tmp_path / "state", PUB)
        await append_chain(spool, 3)
        shipper = Shipper(FAST, address, spool)
        task = asyncio.create_task(shipper.run())
        try:
            await asyncio.wait_for(shipper.wait_drained(), 10)
        finally:
            task.cancel()
    st = shipper.statistics()
    assert st.history_failures == 0 and st.anchor_size == 3
    assert peek_checkpoint(spool.anchor_file.read_bytes()).size == 3


async def test_a_chain_gap_from_a_collector_smaller_than_the_anchor_is_reported_as_rollback(
        tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    """Collector restored from an older backup: it refuses seq 3 with chain_gap; with an
    anchor of 5 segments the agent reports the rollback at ERROR, counts it, stops retrying
    soon, and keeps the unacknowledged segments."""
    async with serving(tmp_path, frozenset({PUB})) as (address, store):
        signer = NoteSigner(store.get_meta("origin") or "", COLLECTOR_KEY)
        state = tmp_path / "state"
        Spool.open(state, PUB).adopt_head(ChainHead(3, b"p" * 32, 30))
        (state / "anchor.checkpoint").write_bytes(
            sign_checkpoint(Checkpoint(signer.name, 5, bytes(32)), signer))
        spool = Spool.open(state, PUB)
        await append_chain(spool, 2)
        shipper = Shipper(FAST, address, spool)
        task = asyncio.create_task(shipper.run())
        try:
            await asyncio.sleep(2.0)
        finally:
            task.cancel()
    st = shipper.statistics()
    assert (st.state, st.last_code) == (ShipState.REFUSED, ErrorCode.ROLLBACK)
    assert st.history_failures >= 1 and spool.pending_seqs() == [3, 4]
    errors = [r.getMessage() for r in caplog.records if r.levelno == logging.ERROR]
    assert any("collector rolled back: it holds 0 segments, our anchor has 5" in e
               for e in errors)
    ops = AgentOps(AgentConfig(), None, spool, shipper,
                   Classifier(ClassifyConfig(model=False), state_dir=state))
    health = ops.health()
    assert not health.healthy and "collector rolled back" in health.reason
