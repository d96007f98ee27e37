"""A bounded spool blocks instead of dropping; a full disk pauses writing, never loses data."""

from __future__ import annotations

import asyncio
import os
from pathlib import Path

import pytest

from agent.spool import Spool, SpoolConfig
from tests.tinyfs import fill, tmpfs
from tests.unit.spool.test_spool import PUB, append_chain, sealed


async def not_done_after(task: asyncio.Task[None], secs: float) -> bool:
    done, _ = await asyncio.wait({task}, timeout=secs)
    return not done


async def test_full_spool_makes_append_wait_until_an_ack_frees_room(tmp_path: Path) -> None:
    """At max_segments an append waits (policy block) and completes after an ack."""
    spool = Spool.open(tmp_path, PUB, SpoolConfig(max_segments=2))
    await append_chain(spool, 2)
    third = asyncio.create_task(spool.append(sealed(spool.head, 4, 24)))
    assert await not_done_after(third, 0.3)
    st = spool.statistics()
    assert st.full and st.segments == 2 and st.policy == "block" and st.max_segments == 2
    await spool.ack(0)
    await asyncio.wait_for(third, 5)
    assert spool.pending_seqs() == [1, 2] and not spool.statistics().full


async def test_max_bytes_bounds_the_spool_but_one_segment_always_fits(tmp_path: Path) -> None:
    """A segment larger than max_bytes still goes into an empty spool (no deadlock)."""
    spool = Spool.open(tmp_path, PUB, SpoolConfig(max_bytes=10))
    await asyncio.wait_for(spool.append(sealed(spool.head, 4, 0)), 5)
    second = asyncio.create_task(spool.append(sealed(spool.head, 4, 12)))
    assert await not_done_after(second, 0.3)
    assert spool.statistics().bytes > 10
    await spool.ack(0)
    await asyncio.wait_for(second, 5)


async def test_statistics_report_the_oldest_unacknowledged_age(tmp_path: Path) -> None:
    """oldest_age_secs grows while a segment waits and survives a reopen (file mtime)."""
    spool = Spool.open(tmp_path, PUB)
    assert spool.statistics().oldest_age_secs == 0.0
    await append_chain(spool, 1)
    seg = next((tmp_path / "spool").glob("*.seg"))
    os.utime(seg, (seg.stat().st_atime, seg.stat().st_mtime - 30))
    st = Spool.open(tmp_path, PUB).statistics()
    assert st.oldest_seq == 0 and 29 < st.oldest_age_secs < 60


async def test_disk_full_append_waits_leaves_no_temp_file_and_resumes_when_space_returns(
        tmp_path: Path) -> None:
    """ENOSPC: the partial temp file is removed, the write is retried, nothing is lost."""
    with tmpfs(tmp_path / "fs", "256k") as fs:
        spool = Spool.open(fs, PUB)
        await append_chain(spool, 1)
        filler = fill(fs)
        big = sealed(spool.head, 2000, 12)  # ~40 KB: does not fit
        task = asyncio.create_task(spool.append(big))
        assert await not_done_after(task, 0.5)
        assert spool.statistics().disk_full
        assert not [p for p in os.listdir(fs / "spool") if p.endswith(".tmp")]
        filler.unlink()
        await asyncio.wait_for(task, 10)
        st = spool.statistics()
        assert not st.disk_full and st.disk_full_events == 1 and st.segments == 2
        again = Spool.open(fs, PUB)
        assert again.pending_seqs() == [0, 1] and again.head == spool.head


async def test_ack_on_a_completely_full_disk_is_recorded_using_the_reserve(
        tmp_path: Path) -> None:
    """head.json must be written before acked segments are deleted: the reserve makes room."""
    with tmpfs(tmp_path / "fs", "256k") as fs:
        spool = Spool.open(fs, PUB)
        await append_chain(spool, 3)
        fill(fs)
        await asyncio.wait_for(spool.ack(2), 10)
        assert spool.pending_seqs() == [] and not list((fs / "spool").glob("*.seg"))
        assert Spool.open(fs, PUB).head == spool.head


def test_a_policy_other_than_block_is_a_config_error() -> None:
    """The spool never drops: any other policy is refused at load, naming the key."""
    from agent.config import AgentConfig, AgentSection, TailConfig
    from agent.errors import ConfigError

    conf = AgentConfig(agent=AgentSection(name="a", collector="h:1", key="k", state_dir="s"),
                       tail=TailConfig(paths=["x"]), spool=SpoolConfig(full_policy="drop"))
    with pytest.raises(ConfigError, match="spool.full_policy"):
        conf.check()
