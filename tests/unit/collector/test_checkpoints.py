"""The collector-wide log: signed checkpoints over segment hashes, kept append-only."""

from __future__ import annotations

from pathlib import Path

import nacl.signing
import pytest

from agent.collector import Checkpointer, default_origin
from agent.errors import ConfigError, StoreError
from agent.formats import (
    leaf_hash,
    merkle_root,
    open_checkpoint,
    segment_hash,
    verify_consistency,
    verify_inclusion,
)
from agent.store import SQLiteStore
from tests.chains import ChainWriter, verified

KEY = nacl.signing.SigningKey(bytes([7]) * 32)


async def test_checkpoints_cover_each_segment_and_are_consistent(tmp_path: Path) -> None:
    """Leaves are segment hashes in store order; each checkpoint verifies, includes the new
    segment, and is consistent with the previous one."""
    store = SQLiteStore(tmp_path)
    try:
        cps = Checkpointer.open(store, KEY)
        assert cps.origin == default_origin(bytes(KEY.verify_key))
        chain = ChainWriter(nacl.signing.SigningKey(bytes(32)), lines=3)
        previous = None
        hashes = []
        for _ in range(6):
            seg = chain.next()
            hashes.append(segment_hash(seg.header))
            result = await store.append(verified(seg))
            row = await cps.covering(result.leaf_index + 1)
            cp = open_checkpoint(row.note, [cps.signer.verifier], origin=cps.origin)
            assert cp.size == len(hashes) and cp.root == merkle_root(hashes)
            path = store.log.inclusion_proof(result.leaf_index, cp.size)
            assert verify_inclusion(result.leaf_index, cp.size, leaf_hash(hashes[-1]), path,
                                    cp.root)
            if previous is not None:
                proof = store.log.consistency_proof(previous.size, cp.size)
                assert verify_consistency(previous.size, cp.size, proof, previous.root, cp.root)
            previous = cp
        assert await cps.covering(3) is cps.latest, "an old leaf needs no new signature"
        assert [r.size for r in store.checkpoints()] == [1, 2, 3, 4, 5, 6]
    finally:
        store.close()


async def test_a_restarted_collector_rebuilds_the_same_tree(tmp_path: Path) -> None:
    """The tree is rebuilt at open by re-hashing the stored headers."""
    store = SQLiteStore(tmp_path)
    chain = ChainWriter(nacl.signing.SigningKey(bytes(32)), lines=2)
    for _ in range(5):
        await store.append(verified(chain.next()))
    root = store.log.root()
    await Checkpointer.open(store, KEY).fresh()
    store.close()
    again = SQLiteStore(tmp_path)
    try:
        assert again.log.size == 5 and again.log.root() == root
        Checkpointer.open(again, KEY)  # matches the stored checkpoint: starts
    finally:
        again.close()


async def test_a_store_that_no_longer_matches_its_checkpoint_refuses_to_start(
        tmp_path: Path) -> None:
    """After the last segment row is removed behind the collector's back, it will not sign
    over the shortened tree."""
    import sqlite3

    store = SQLiteStore(tmp_path)
    chain = ChainWriter(nacl.signing.SigningKey(bytes(32)), lines=2)
    for _ in range(3):
        await store.append(verified(chain.next()))
    await Checkpointer.open(store, KEY).fresh()
    store.close()
    conn = sqlite3.connect(tmp_path / "sealtail.db", isolation_level=None)
    conn.execute("DROP TRIGGER segments_no_delete")
    conn.execute("DROP TRIGGER entries_no_delete")
    conn.execute("DELETE FROM entries WHERE segment_id = 3")
    conn.execute("DELETE FROM segments WHERE id = 3")
    conn.close()
    again = SQLiteStore(tmp_path)
    try:
        with pytest.raises(StoreError, match="do not match the latest signed checkpoint"):
            Checkpointer.open(again, KEY)
    finally:
        again.close()


def test_the_origin_is_fixed_at_the_first_start(tmp_path: Path) -> None:
    store = SQLiteStore(tmp_path)
    try:
        assert Checkpointer.open(store, KEY, "logs.example/eu").origin == "logs.example/eu"
        assert Checkpointer.open(store, KEY).origin == "logs.example/eu"
        with pytest.raises(ConfigError, match="cannot change"):
            Checkpointer.open(store, KEY, "logs.example/us")
    finally:
        store.close()


def test_an_origin_that_is_not_a_key_name_is_a_config_error(tmp_path: Path) -> None:
    store = SQLiteStore(tmp_path)
    try:
        with pytest.raises(ConfigError, match="collector.origin"):
            Checkpointer.open(store, KEY, "has space")
    finally:
        store.close()


async def test_the_periodic_signer_signs_only_while_the_tree_grows(tmp_path: Path) -> None:
    """Every interval: a new checkpoint if segments arrived since the last, else nothing."""
    import asyncio
    import contextlib

    store = SQLiteStore(tmp_path)
    try:
        cps = Checkpointer.open(store, KEY)
        chain = ChainWriter(nacl.signing.SigningKey(bytes(32)), lines=2)
        await store.append(verified(chain.next()))
        task = asyncio.create_task(cps.run(0.02))
        await asyncio.sleep(0.15)
        assert [r.size for r in store.checkpoints()] == [1]
        await store.append(verified(chain.next()))
        await asyncio.sleep(0.15)
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
        assert [r.size for r in store.checkpoints()] == [1, 2]
    finally:
        store.close()
