"""split_segment: the shipper's zero-copy view of a spooled Segment gives exactly the bytes a
parse and re-serialization would, and declines anything not in SerializeToString's layout."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from agent._pb import sealtail_pb2 as pb
from agent.formats import split_segment

SEGMENTS = st.builds(
    lambda header, signature, entries: pb.Segment(header=header, signature=signature,
                                                  entries=entries),
    st.binary(max_size=300), st.binary(max_size=70),
    st.lists(st.binary(max_size=200), max_size=20))


@given(SEGMENTS)
def test_split_equals_parse_and_reserialize(segment: pb.Segment) -> None:
    """Header, signature and the entries-only Segment bytes, byte for byte."""
    payload = segment.SerializeToString()
    parts = split_segment(payload)
    assert parts is not None
    header, signature, entries = parts
    assert header == segment.header and signature == segment.signature
    assert bytes(entries) == pb.Segment(entries=segment.entries).SerializeToString()


def test_long_entries_with_multi_byte_lengths_split_exactly() -> None:
    """Lengths of 1, 2 and 3 varint bytes (127, 128, 16384 ...) sit side by side."""
    segment = pb.Segment(header=b"h" * 20000, signature=b"s" * 64,
                         entries=[b"a" * n for n in (0, 127, 128, 16383, 16384, 70000)])
    parts = split_segment(segment.SerializeToString())
    assert parts is not None
    assert bytes(parts[2]) == pb.Segment(entries=segment.entries).SerializeToString()


@given(SEGMENTS, st.data())
def test_a_truncated_payload_is_declined_or_split_as_it_parses(segment: pb.Segment,
                                                               data: st.DataObject) -> None:
    """A cut that happens to end on a field boundary still splits as its parse would."""
    payload = segment.SerializeToString()
    cut = payload[:data.draw(st.integers(0, len(payload)))]
    parts = split_segment(cut)
    if parts is not None:
        parsed = pb.Segment.FromString(cut)
        assert (parts[0], parts[1]) == (parsed.header, parsed.signature)
        assert bytes(parts[2]) == pb.Segment(entries=parsed.entries).SerializeToString()


def test_other_layouts_are_declined() -> None:
    """Fields out of order, other fields, non-minimal lengths: None (the caller parses)."""
    signature_first = b"\x12\x01s" + b"\x0a\x01h" + b"\x1a\x01e"
    entries_before_signature = b"\x0a\x01h" + b"\x1a\x01e" + b"\x12\x01s"
    with_zstd_field = b"\x0a\x01h" + b"\x12\x01s" + b"\x22\x01z"
    non_minimal_length = b"\x0a\x01h" + b"\x12\x01s" + b"\x1a\x81\x00e"
    for payload in (signature_first, entries_before_signature, with_zstd_field,
                    non_minimal_length):
        assert split_segment(payload) is None
    assert pb.Segment.FromString(non_minimal_length).entries == [b"e"]
