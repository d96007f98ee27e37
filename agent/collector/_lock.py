"""One collector per data directory: an exclusive advisory lock held for the process's life."""

from __future__ import annotations

import contextlib
import fcntl
import os
from pathlib import Path

from agent.errors import ErrorCode, SealtailError

LOCK_FILE = "collector.lock"


def lock_data_dir(data_dir: Path) -> int:
    """Take an exclusive lock on DATA/collector.lock; returns the descriptor to keep open.

    The kernel drops the lock when the process exits, even on SIGKILL, so a stale file never
    blocks a restart. Raises SealtailError (data_dir_in_use) naming the directory and the
    holder's pid when another collector has it.
    """
    data_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
    path = data_dir / LOCK_FILE
    fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        holder = ""
        with contextlib.suppress(OSError, ValueError):
            holder = f" (pid {int(os.pread(fd, 32, 0).decode().strip())})"
        os.close(fd)
        raise SealtailError(f"data directory {data_dir} is in use by another collector"
                            f"{holder}; two collectors must not share one store",
                            code=ErrorCode.DATA_DIR_IN_USE) from None
    except OSError:
        os.close(fd)
        raise
    os.ftruncate(fd, 0)
    os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
    return fd
