"""spool: sealed segments on disk, durable until the collector acknowledges them."""

from agent.config import SpoolConfig
from agent.spool._spool import (
    Spool,
    SpoolStatistics,
    atomic_write,
    check_state_dir,
    lock_state_dir,
    read_spool_segments,
)

__all__ = ["Spool", "SpoolConfig", "SpoolStatistics", "atomic_write", "check_state_dir",
           "lock_state_dir", "read_spool_segments"]
