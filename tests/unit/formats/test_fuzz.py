"""Hypothesis fuzzing of every parser that reads untrusted bytes: segment headers, entries,
whole segments, signed notes and checkpoints, verifier keys, proof bundles.

Invariants: no input raises anything but our VerificationError (or ValueError for a vkey);
no mutated input is accepted."""

from __future__ import annotations

import base64
import contextlib
import json

import nacl.signing
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from agent.errors import VerificationError
from agent.formats import (
    Checkpoint,
    NoteSigner,
    NoteVerifier,
    open_checkpoint,
    open_note,
    parse_bundle,
    parse_header,
    sign_checkpoint,
    verify_bundle,
    verify_header,
    verify_segment,
)
from tests.chains import ChainWriter
from tests.unit.formats.test_bundle import AGENT_KEY, COLLECTOR, make_bundle

FUZZ = settings(max_examples=300, deadline=None,
                suppress_health_check=[HealthCheck.too_slow])
KEY = nacl.signing.SigningKey(bytes([1]) * 32)
SEGMENT = ChainWriter(KEY, lines=4).next()
SIGNER = NoteSigner("sealtail/fuzz", nacl.signing.SigningKey(bytes([2]) * 32))
CHECKPOINT = sign_checkpoint(Checkpoint("sealtail/fuzz", 7, bytes(range(32))), SIGNER)
BUNDLE = make_bundle().to_json()


def mutate(data: bytes, position: int, value: int) -> bytes:
    i = position % len(data)
    new = value if value != data[i] else value ^ 0xFF
    return data[:i] + bytes([new]) + data[i + 1:]


@FUZZ
@given(st.binary(max_size=512))
def test_random_header_bytes_never_crash_or_verify(data: bytes) -> None:
    try:
        parse_header(data)
        verify_header(data, SEGMENT.signature)
    except VerificationError:
        return
    raise AssertionError("random bytes verified as a signed header")


@FUZZ
@given(st.integers(min_value=0), st.integers(0, 255))
def test_any_changed_byte_of_a_signed_header_fails(position: int, value: int) -> None:
    forged = mutate(SEGMENT.header, position, value)
    try:
        verify_segment(forged, SEGMENT.signature, list(SEGMENT.entries))
    except VerificationError:
        return
    raise AssertionError("a changed header byte verified")


@FUZZ
@given(st.integers(0, 3), st.integers(min_value=0), st.integers(0, 255))
def test_any_changed_byte_of_an_entry_fails(line: int, position: int, value: int) -> None:
    entries = list(SEGMENT.entries)
    entries[line] = mutate(entries[line], position, value)
    try:
        verify_segment(SEGMENT.header, SEGMENT.signature, entries)
    except VerificationError as exc:
        assert exc.seq == 0
        return
    raise AssertionError("a changed entry byte verified")


@FUZZ
@given(st.lists(st.binary(max_size=64), max_size=5))
def test_random_entries_under_a_genuine_header_never_crash_or_verify(
        entries: list[bytes]) -> None:
    try:
        verify_segment(SEGMENT.header, SEGMENT.signature, entries)
    except VerificationError:
        return
    raise AssertionError("random entries verified")


@FUZZ
@given(st.binary(max_size=400))
def test_random_notes_never_crash_or_verify(data: bytes) -> None:
    try:
        open_note(data, [SIGNER.verifier])
    except VerificationError:
        return
    raise AssertionError("random bytes verified as a note")


@FUZZ
@given(st.text(max_size=200))
def test_random_text_notes_never_crash_or_verify(text: str) -> None:
    try:
        open_checkpoint(text.encode("utf-8", "surrogatepass"), [SIGNER.verifier])
    except VerificationError:
        return
    raise AssertionError("random text verified as a checkpoint")


@FUZZ
@given(st.integers(min_value=0), st.integers(0, 255))
def test_any_changed_byte_of_a_signed_checkpoint_fails(position: int, value: int) -> None:
    forged = mutate(CHECKPOINT, position, value)
    try:
        cp = open_checkpoint(forged, [SIGNER.verifier])
    except VerificationError:
        return
    raise AssertionError(f"a changed checkpoint verified: {cp!r}")


@FUZZ
@given(st.text(max_size=120))
def test_random_verifier_keys_never_crash(text: str) -> None:
    with contextlib.suppress(ValueError):
        NoteVerifier.parse(text)


@FUZZ
@given(st.binary(max_size=600))
def test_random_bundles_never_crash_or_verify(data: bytes) -> None:
    try:
        parse_bundle(data)
        verify_bundle(data, collector_keys=[COLLECTOR.verifier],
                      agent_key=bytes(AGENT_KEY.verify_key))
    except VerificationError:
        return
    raise AssertionError("random bytes verified as a bundle")


JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner,
                                                               max_size=3), max_leaves=8)


@FUZZ
@given(st.sampled_from(sorted(json.loads(BUNDLE))), JSON_VALUES)
def test_any_field_of_a_bundle_replaced_by_junk_fails_cleanly(key: str, value: object) -> None:
    obj = json.loads(BUNDLE)
    if obj[key] == value:
        return
    obj[key] = value
    try:
        verify_bundle(json.dumps(obj).encode(), collector_keys=[COLLECTOR.verifier],
                      agent_key=bytes(AGENT_KEY.verify_key))
    except VerificationError:
        return
    raise AssertionError(f"bundle with {key}={value!r} verified")


@FUZZ
@given(st.sampled_from(["line_proof", "log_proof"]), st.integers(0, 40), st.integers(0, 255))
def test_any_changed_proof_byte_fails(key: str, position: int, value: int) -> None:
    obj = json.loads(BUNDLE)
    hashes = obj[key]
    i = position % len(hashes)
    raw = base64.b64decode(hashes[i])
    hashes[i] = base64.b64encode(mutate(raw, position, value)).decode()
    try:
        verify_bundle(json.dumps(obj).encode(), collector_keys=[COLLECTOR.verifier],
                      agent_key=bytes(AGENT_KEY.verify_key))
    except VerificationError as exc:
        assert exc.code == "bad_proof"
        return
    raise AssertionError("a changed proof byte verified")
