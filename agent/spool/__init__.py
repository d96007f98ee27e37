"""spool: sealed segments on disk, durable until the collector acknowledges them."""

from agent.spool._spool import Spool, SpoolStatistics, atomic_write, read_spool_segments

__all__ = ["Spool", "SpoolStatistics", "atomic_write", "read_spool_segments"]
