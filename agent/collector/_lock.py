"""One collector per data directory (the mechanism is agent/dirlock.py, shared with the agent)."""

from __future__ import annotations

from pathlib import Path

from agent.dirlock import lock_directory
from agent.errors import ErrorCode, SealtailError

LOCK_FILE = "collector.lock"


def lock_data_dir(data_dir: Path) -> int:
    """Take an exclusive lock on DATA/collector.lock; returns the descriptor to keep open.

    Raises SealtailError (data_dir_in_use) naming the directory and the holder's pid when
    another collector has it.
    """
    def in_use(pid: int | None) -> SealtailError:
        holder = "" if pid is None else f" (pid {pid})"
        return SealtailError(f"data directory {data_dir} is in use by another collector"
                             f"{holder}; two collectors must not share one store",
                             code=ErrorCode.DATA_DIR_IN_USE)

    return lock_directory(data_dir, LOCK_FILE, in_use)
