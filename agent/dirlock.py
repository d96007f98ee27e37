"""One process per directory: an exclusive advisory lock held for the process's life.

Used by the collector (DATA/collector.lock) and the agent (STATE/agent.lock): two processes on
one store or one spool would each delete what the other still needs.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
from collections.abc import Callable
from pathlib import Path

from agent.errors import SealtailError


def lock_directory(directory: Path, lock_file: str,
                   in_use: Callable[[int | None], SealtailError]) -> int:
    """Create `directory` if needed and take an exclusive lock on `directory/lock_file`;
    returns the descriptor to keep open (the lock lasts until it is closed).

    The kernel drops the lock when the process exits, even on SIGKILL, so a stale file never
    blocks a restart. The holder writes its pid into the file. When another process holds the
    lock, raises `in_use(pid)` (pid None when unreadable). Other failures (a read-only or
    non-writable directory) raise OSError.
    """
    directory.mkdir(mode=0o700, parents=True, exist_ok=True)
    fd = os.open(directory / lock_file, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        holder = None
        with contextlib.suppress(OSError, ValueError):
            holder = int(os.pread(fd, 32, 0).decode().strip())
        os.close(fd)
        raise in_use(holder) from None
    except OSError:
        os.close(fd)
        raise
    try:
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
    except OSError:
        os.close(fd)
        raise
    return fd
