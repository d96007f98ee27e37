"""LineSplitter: bytes in, complete lines out, nothing lost or repeated."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from agent.records import FLAG_CONTINUED, FLAG_PARTIAL, FLAG_TRUNCATED
from agent.tail import LineSplitter, utf8_prefix


def test_complete_lines_are_emitted_with_their_offsets() -> None:
    s = LineSplitter(0, 100)
    lines = s.feed(b"one\ntwo\nthr", 1)
    assert [(x.data, x.offset) for x in lines] == [(b"one", 0), (b"two", 4)]
    assert s.start == 8 and s.pending_bytes == 3


def test_a_line_split_across_chunks_is_joined() -> None:
    s = LineSplitter(0, 100)
    assert s.feed(b"hel", 1) == []
    (line,) = s.feed(b"lo\n", 1)
    assert (line.data, line.offset, line.flags) == (b"hello", 0, 0)
    assert s.start == 6


def test_crlf_and_invalid_utf8_are_kept_byte_for_byte() -> None:
    (line,) = LineSplitter(0, 100).feed(b"bad \xff\xfe\r\n", 1)
    assert line.data == b"bad \xff\xfe\r"


def test_partial_line_is_flushed_flagged_and_its_rest_continues_it() -> None:
    s = LineSplitter(10, 100)
    s.feed(b"no newline yet", 1)
    partial = s.flush_partial(2)
    assert partial is not None
    assert (partial.data, partial.offset, partial.flags) == (b"no newline yet", 10, FLAG_PARTIAL)
    assert s.start == 24
    (rest,) = s.feed(b" and the rest\n", 3)
    assert (rest.data, rest.offset, rest.flags) == (b" and the rest", 24, FLAG_CONTINUED)
    assert s.start == 38


def test_flush_without_pending_bytes_emits_nothing() -> None:
    assert LineSplitter(0, 10).flush_partial(1) is None


def test_over_long_line_is_truncated_with_its_original_length() -> None:
    s = LineSplitter(0, 8)
    (line, short) = s.feed(b"0123456789abcdef\nok\n", 1)
    assert (line.data, line.flags, line.original_length) == (b"01234567", FLAG_TRUNCATED, 16)
    assert (short.data, short.offset) == (b"ok", 17)
    assert s.truncated_lines == 1


def test_over_long_line_across_chunks_keeps_memory_bounded() -> None:
    s = LineSplitter(0, 8)
    for _ in range(100):
        assert s.feed(b"x" * 1000, 1) == []
    (line,) = s.feed(b"\n", 1)
    assert line.data == b"x" * 8 and line.original_length == 100_000
    assert s.start == 100_001


def test_truncation_does_not_cut_a_utf8_character() -> None:
    assert utf8_prefix("aé".encode() + b"z", 2) == b"a"           # é is 2 bytes
    assert utf8_prefix("a€".encode() + b"z", 3) == b"a"           # € is 3 bytes
    assert utf8_prefix("a€".encode() + b"z", 4) == "a€".encode()
    assert utf8_prefix(b"\xff\xff\xff", 2) == b"\xff\xff"         # not UTF-8: cut as is


@given(st.binary(max_size=400), st.lists(st.integers(1, 50), max_size=30))
def test_any_chunking_reproduces_the_file_exactly(data: bytes, cuts: list[int]) -> None:
    """Joining emitted lines with newlines, plus the pending tail, gives back the input."""
    s = LineSplitter(0, 10_000)
    out: list[bytes] = []
    pos = 0
    for n in cuts:
        out += [x.data for x in s.feed(data[pos:pos + n], 0)]
        pos += n
    out += [x.data for x in s.feed(data[pos:], 0)]
    rebuilt = b"".join(x + b"\n" for x in out)
    assert data.startswith(rebuilt)
    assert len(data) - len(rebuilt) == s.pending_bytes
    assert s.start == len(rebuilt)
