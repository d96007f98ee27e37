"""Splitting a file's bytes into lines, with partial and over-long lines handled."""

from __future__ import annotations

from agent.records import FLAG_CONTINUED, FLAG_PARTIAL, FLAG_TRUNCATED, RawLine

TAIL_BYTES = 256  # how many bytes before the cursor are remembered to re-check a file later


class LineSplitter:
    """Turns consecutive chunks of one file into complete lines.

    Keeps at most `max_line_bytes` of a pending line in memory: a longer line is emitted,
    when its newline arrives, as its first `max_line_bytes` (cut back to a UTF-8 boundary
    where one is near) flagged truncated with its original length.

    `tail` holds up to the last 256 bytes consumed before `start` (empty when unknown), so a
    cursor can carry a hash of the bytes just before its offset.
    """

    def __init__(self, start: int, max_line_bytes: int, *, continued: bool = False,
                 tail: bytes = b"", skip_nuls: bool = False) -> None:
        self.start = start            # offset of the first byte of the pending line
        self._max = max_line_bytes
        self._buf = bytearray()       # retained bytes of the pending line (<= max)
        self._length = 0              # real length of the pending line so far
        self._continued = continued   # the pending line continues a shipped partial line
        self.tail = tail
        # After a truncation a writer without O_APPEND leaves NULs up to its old offset.
        self._skip_nuls = skip_nuls
        self.truncated_lines = 0
        self.nul_bytes_skipped = 0

    @property
    def pending_bytes(self) -> int:
        return self._length

    @property
    def mid_line(self) -> bool:
        """True when `start` is inside a line whose first part was shipped partial."""
        return self._continued

    @property
    def read_position(self) -> int:
        """Offset of the next byte to read from the file."""
        return self.start + self._length

    def feed(self, chunk: bytes, time_ns: int) -> list[RawLine]:
        if self._skip_nuls:
            chunk = self._strip_nuls(chunk)
            if not chunk:
                return []
        parts = chunk.split(b"\n")
        rest = parts.pop()
        lines: list[RawLine] = []
        if not parts:
            self._append(rest)
            return lines
        consumed = len(chunk) - len(rest)
        known_before = self.tail + self._buf if self._length == len(self._buf) else b""
        if self._length or self._continued:
            self._append(parts[0])
            lines.append(self._take(time_ns, 0))
            self.start += 1  # the newline
            parts = parts[1:]
        start, limit = self.start, self._max
        for part in parts:
            n = len(part)
            if n <= limit:
                lines.append(RawLine(part, start, time_ns))
            else:
                lines.append(self._truncated(part, start, n, time_ns, 0))
            start += n + 1
        self.start = start
        if consumed >= TAIL_BYTES:
            self.tail = chunk[consumed - TAIL_BYTES:consumed]
        else:
            self.tail = (known_before + chunk[:consumed])[-TAIL_BYTES:]
        if rest:
            self._append(rest)
        return lines

    def flush_partial(self, time_ns: int) -> RawLine | None:
        """Emit the pending bytes as a partial line (no newline yet); later bytes continue it."""
        if not self._length:
            return None
        complete = self._length == len(self._buf)
        self.tail = (self.tail + self._buf)[-TAIL_BYTES:] if complete else b""
        line = self._take(time_ns, FLAG_PARTIAL)
        self._continued = True
        return line

    def _strip_nuls(self, chunk: bytes) -> bytes:
        stripped = chunk.lstrip(b"\0")
        skipped = len(chunk) - len(stripped)
        self.nul_bytes_skipped += skipped
        self.start += skipped
        if stripped:
            self._skip_nuls = False
        return stripped

    def _append(self, data: bytes) -> None:
        # 3 bytes beyond the limit let utf8_prefix see whether the cut splits a character.
        room = self._max + 3 - len(self._buf)
        if room > 0:
            self._buf += data[:room]
        self._length += len(data)

    def _take(self, time_ns: int, flags: int) -> RawLine:
        if self._continued:
            flags |= FLAG_CONTINUED
        self._continued = False
        data, length, start = bytes(self._buf), self._length, self.start
        self._buf.clear()
        self._length = 0
        self.start = start + length
        if length > self._max:
            return self._truncated(data, start, length, time_ns, flags)
        return RawLine(data, start, time_ns, flags)

    def _truncated(self, data: bytes, offset: int, length: int, time_ns: int,
                   flags: int) -> RawLine:
        self.truncated_lines += 1
        return RawLine(utf8_prefix(data, self._max), offset, time_ns,
                       flags | FLAG_TRUNCATED, original_length=length)


def utf8_prefix(data: bytes, limit: int) -> bytes:
    """At most `limit` bytes of `data`, not cutting a UTF-8 sequence when one straddles it."""
    cut = data[:limit]
    if len(data) <= limit:
        return cut
    # Step back over continuation bytes (10xxxxxx) to the lead byte, at most 3 positions.
    for back in range(1, min(4, len(cut)) + 1):
        byte = cut[-back]
        if byte & 0xC0 == 0x80:
            continue
        return cut[:-back] if _sequence_length(byte) > back else cut
    return cut


def _sequence_length(lead: int) -> int:
    if lead >> 5 == 0b110:
        return 2
    if lead >> 4 == 0b1110:
        return 3
    if lead >> 3 == 0b11110:
        return 4
    return 1
