"""How a shipping session ends: whatever finishes first, the shipper raises the real cause
(never InvalidStateError on a task that was still running)."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from agent.errors import SpoolError
from agent.ship import Shipper
from agent.spool import Spool
from tests.unit.ship.test_refusals import FAST, serving
from tests.unit.spool.test_spool import PUB, append_chain


async def test_a_segment_file_removed_behind_the_spools_back_ends_shipping_with_a_spool_error(
        tmp_path: Path) -> None:
    """A spool read failing mid-stream (gRPC then cancels the call, so the ack reader ends
    cancelled) surfaces as the SpoolError naming the file."""
    async with serving(tmp_path, frozenset({PUB})) as (address, _):
        spool = Spool.open(tmp_path / "state", PUB)
        await append_chain(spool, 2)
        victim = sorted((tmp_path / "state" / "spool").glob("*.seg"))[0]
        victim.unlink()  # as a second process sharing the state directory would
        shipper = Shipper(FAST, address, spool)
        with pytest.raises(SpoolError, match=victim.name):
            await asyncio.wait_for(shipper.run(), 10)
