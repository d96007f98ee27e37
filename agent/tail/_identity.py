"""File identity: (device, inode) plus a fingerprint of the first bytes."""

from __future__ import annotations

import hashlib
import os

from agent.records import FileIdentity

FINGERPRINT_BYTES = 1024


def identify(fd: int, size: int) -> FileIdentity:
    """Identity of the open file `fd`; the fingerprint covers up to the first 1 KiB."""
    st = os.fstat(fd)
    length = min(size, FINGERPRINT_BYTES)
    head = os.pread(fd, length, 0) if length else b""
    return FileIdentity(st.st_dev, st.st_ino, hashlib.sha256(head).digest(), len(head))


def fingerprint_matches(fd: int, identity: FileIdentity) -> bool:
    """True when the file's first `fingerprint_length` bytes still hash to the fingerprint."""
    head = os.pread(fd, identity.fingerprint_length, 0)
    return (len(head) == identity.fingerprint_length
            and hashlib.sha256(head).digest() == identity.fingerprint)


def read_at(fd: int, length: int, offset: int) -> bytes:
    """Up to `length` bytes at `offset` (b"" for a non-positive length or offset < 0)."""
    if length <= 0 or offset < 0:
        return b""
    return os.pread(fd, length, offset)
