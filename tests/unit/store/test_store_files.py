"""The store on disk: owner-only files, and every log table append-only through SQL."""

from __future__ import annotations

import asyncio
import os
import sqlite3
import stat
from pathlib import Path

import nacl.signing
import pytest

from agent.collector import Checkpointer
from agent.store import SQLiteStore
from tests.chains import ChainWriter, verified

KEY = nacl.signing.SigningKey(bytes([4]) * 32)
# Every table holding log data or evidence, with a column to try to change.
LOG_TABLES = {"agents": "name", "segments": "seq", "entries": "idx", "equivocations": "seq",
              "checkpoints": "size"}


def filled_store(data: Path) -> None:
    """Two stored segments, a refused equivocation and a signed checkpoint."""
    store = SQLiteStore(data)
    chain = ChainWriter(KEY, lines=3)
    other = ChainWriter(KEY, lines=3, boot_id=b"o" * 16)

    async def fill() -> None:
        cps = Checkpointer.open(store, nacl.signing.SigningKey(bytes([6]) * 32))
        await store.append(verified(chain.next()))
        await store.append(verified(chain.next()))
        await store.append(verified(other.next()))  # seq 0 again: kept as evidence
        await cps.fresh()

    try:
        asyncio.run(fill())
    finally:
        store.close()


def test_store_files_are_created_for_the_owner_only(tmp_path: Path) -> None:
    """The data directory is 0700 and the database, its WAL and shared-memory files 0600,
    whatever the umask."""
    data = tmp_path / "collector-data"
    old = os.umask(0o022)
    try:
        store = SQLiteStore(data)
        asyncio.run(store.append(verified(ChainWriter(KEY, lines=2).next())))
        modes = {p.name: stat.S_IMODE(p.stat().st_mode) for p in data.iterdir()}
        store.close()
    finally:
        os.umask(old)
    assert stat.S_IMODE(data.stat().st_mode) == 0o700
    assert {"sealtail.db", "sealtail.db-wal", "sealtail.db-shm"} <= set(modes)
    assert all(mode & 0o077 == 0 for mode in modes.values()), modes


@pytest.mark.parametrize("table", sorted(LOG_TABLES))
def test_every_log_table_refuses_update_and_delete(tmp_path: Path, table: str) -> None:
    """Segments, entries, agents, equivocation evidence and signed checkpoints: no SQL path
    changes or removes a row."""
    filled_store(tmp_path)
    conn = sqlite3.connect(tmp_path / "sealtail.db")
    try:
        assert conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0] > 0
        column = LOG_TABLES[table]
        for statement in (f"UPDATE {table} SET {column} = {column}", f"DELETE FROM {table}"):
            with pytest.raises(sqlite3.IntegrityError, match="append-only"):
                conn.execute(statement)
    finally:
        conn.close()
