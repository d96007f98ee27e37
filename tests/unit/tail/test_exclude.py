"""tail.exclude: files matched by a glob but by an exclude pattern too are never read (the
recommended `/var/log/app.log*` glob with compressed generations excluded)."""

from __future__ import annotations

import gzip
from pathlib import Path

from tests.unit.tail.harness import TailRun, assert_exactly_once, numbered


async def test_compressed_generations_matched_by_the_glob_are_excluded(tmp_path: Path) -> None:
    """app.log* would match app.log.2.gz: with exclude *.gz only the text files are read."""
    log = tmp_path / "app.log"
    log.write_bytes(numbered("live", 0, 20))
    (tmp_path / "app.log.1").write_bytes(numbered("one", 0, 5))
    (tmp_path / "app.log.2.gz").write_bytes(gzip.compress(numbered("gz", 0, 5)))
    run = TailRun([str(tmp_path / "app.log*")], exclude=["*.gz"])
    await run.start(first_start=True)
    got = await run.settle()
    await run.stop()
    assert_exactly_once(got, (numbered("live", 0, 20) + numbered("one", 0, 5)).split(b"\n")[:-1])
    assert str(tmp_path / "app.log.2.gz") not in run.sources
