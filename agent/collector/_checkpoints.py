"""The collector-wide log's signed checkpoints: on demand (an ack needs one covering its leaf,
a client asks for the latest) and periodically while the tree grows."""

from __future__ import annotations

import asyncio
import logging

import nacl.signing

from agent.errors import ConfigError, StoreError
from agent.formats import Checkpoint, NoteSigner, key_id, sign_checkpoint
from agent.store import CheckpointRow, SQLiteStore

log = logging.getLogger("sealtail.collector")


def default_origin(public_key: bytes) -> str:
    """`sealtail/<key id>`: unique per collector key, a valid note key name."""
    return f"sealtail/{key_id(public_key)}"


class Checkpointer:
    """Signs checkpoints of the store's tree with the collector key; keeps them all.

    Checkpoints are signed in increasing size under one lock, each over the tree as it stands,
    so no two signed checkpoints can be inconsistent. The key name is the origin.
    """

    def __init__(self, store: SQLiteStore, key: nacl.signing.SigningKey, origin: str) -> None:
        self._store = store
        self.signer = NoteSigner(origin, key)  # ValueError for an origin that is no key name
        self.origin = origin
        self._lock = asyncio.Lock()
        self._latest = store.latest_checkpoint()
        self.signed = 0
        if self._latest is not None:
            tree = store.log
            if self._latest.size > tree.size or tree.root(self._latest.size) != self._latest.root:
                raise StoreError(
                    f"{store.path}: the stored segments do not match the latest signed checkpoint "
                    f"(size {self._latest.size}); the store was altered. Refusing to sign over "
                    "it: run `sealtail verify --data` with an anchor")

    @classmethod
    def open(cls, store: SQLiteStore, key: nacl.signing.SigningKey,
             configured_origin: str = "") -> Checkpointer:
        """Bind the store to an origin on first start; refuse to change it later."""
        origin = configured_origin or default_origin(bytes(key.verify_key))
        stored = store.set_meta_once("origin", origin)
        if configured_origin and stored != configured_origin:
            raise ConfigError(f"this store's log has origin {stored!r}; it cannot change to "
                              f"{configured_origin!r}", key="collector.origin")
        try:
            return cls(store, key, stored)
        except ValueError as exc:
            raise ConfigError(str(exc), key="collector.origin") from exc

    @property
    def vkey(self) -> str:
        return self.signer.verifier.vkey

    @property
    def latest(self) -> CheckpointRow | None:
        return self._latest

    async def covering(self, size: int) -> CheckpointRow:
        """A signed checkpoint of at least `size` leaves: the latest, or a new one."""
        latest = self._latest
        if latest is not None and latest.size >= size:
            return latest
        async with self._lock:  # concurrent acks share one new checkpoint
            latest = self._latest
            if latest is not None and latest.size >= size:
                return latest
            return await self._sign()

    async def fresh(self) -> CheckpointRow:
        """A checkpoint of the whole tree as it stands now (signed if the tree grew)."""
        return await self.covering(self._store.log.size)

    async def _sign(self) -> CheckpointRow:
        tree = self._store.log
        size = tree.size
        cp = Checkpoint(self.origin, size, tree.root(size))
        note = sign_checkpoint(cp, self.signer)
        row = await self._store.add_checkpoint(size, cp.root, note)
        self._latest = row
        self.signed += 1
        log.debug("signed checkpoint size=%d", size)
        return row

    async def run(self, interval_secs: float) -> None:
        """Sign a checkpoint every `interval_secs` while the tree grows."""
        while True:
            await asyncio.sleep(interval_secs)
            try:
                await self.fresh()
            except StoreError as exc:
                log.error("%s", exc)
