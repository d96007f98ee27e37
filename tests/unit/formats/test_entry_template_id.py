"""Entry.template_id: signed with the line, optional for entries sealed before it existed."""

from __future__ import annotations

import nacl.signing
import pytest

from agent._pb import sealtail_pb2 as pb
from agent.classify import mask, template_id
from agent.errors import ErrorCode, VerificationError
from agent.formats import ZERO_HASH, build_header, encode_entry, sign_header, verify_segment
from agent.records import Cursor, FileIdentity, Label, RawLine

LINE = RawLine(b"Failed password for root from 203.0.113.9 port 22 ssh2", 0, 1_000)
TID = template_id(mask(LINE.data))
CURSOR = Cursor("/var/log/auth.log", FileIdentity(1, 2, bytes(32), 0), 100)


def sealed(entries: list[bytes]) -> tuple[bytes, bytes]:
    key = nacl.signing.SigningKey(bytes(range(32)))
    header = build_header(agent_name="h", agent_key=bytes(key.verify_key), boot_id=bytes(16),
                          seq=0, prev_hash=ZERO_HASH, entries=entries, t_first_ns=1_000,
                          t_last_ns=1_000, sources=[CURSOR], lines_before=0)
    return header, sign_header(key, header)


def test_encoded_entry_holds_the_labels_template_id() -> None:
    """encode_entry writes Label.template_id into field 10 of the leaf bytes."""
    entry = pb.Entry.FromString(encode_entry(LINE, 0, Label("failed_login", 1, 1.0, TID)))
    assert entry.template_id == TID


def test_entry_without_template_id_has_the_bytes_of_the_older_format() -> None:
    """An empty id is omitted on the wire: old leaves and new id-less leaves are identical."""
    old = pb.Entry(line=LINE.data, offset=0, time_ns=1_000, category="failed_login",
                   confidence=1.0, layer=pb.LAYER_RULES).SerializeToString()
    assert encode_entry(LINE, 0, Label("failed_login", 1, 1.0)) == old
    assert pb.Entry.FromString(old).template_id == b""


def test_segment_mixing_entries_with_and_without_ids_verifies() -> None:
    """A store holding older entries (no id) beside newer ones still verifies."""
    entries = [encode_entry(LINE, 0, Label("failed_login", 1, 1.0)),
               encode_entry(LINE, 0, Label("failed_login", 1, 1.0, TID))]
    header, signature = sealed(entries)
    seg = verify_segment(header, signature, entries)
    assert [pb.Entry.FromString(e).template_id for e in seg.entries] == [b"", TID]


def test_changing_a_sealed_template_id_breaks_the_signed_root() -> None:
    """The id is part of the leaf: re-labelling a line's template afterwards is detected."""
    entries = [encode_entry(LINE, 0, Label("failed_login", 1, 1.0, TID))]
    header, signature = sealed(entries)
    forged = pb.Entry.FromString(entries[0])
    forged.template_id = template_id(b"something else")
    with pytest.raises(VerificationError) as err:
        verify_segment(header, signature, [forged.SerializeToString()])
    assert err.value.code == ErrorCode.ROOT_MISMATCH
