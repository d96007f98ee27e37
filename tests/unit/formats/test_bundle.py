"""Offline proof bundles: a genuine one verifies; every mutation of a proof, an index, the
checkpoint or the keys fails with a stable code (TAMPER-CASES 23 and 26)."""

from __future__ import annotations

import base64
import json
from collections.abc import Callable
from typing import Any

import nacl.signing
import pytest

from agent.errors import ErrorCode, VerificationError
from agent.formats import (
    Checkpoint,
    MerkleLog,
    NoteSigner,
    ProofBundle,
    inclusion_proof,
    leaf_hash,
    leaf_hashes,
    segment_hash,
    sign_checkpoint,
    verify_bundle,
)
from tests.chains import ChainWriter

AGENT_KEY = nacl.signing.SigningKey(bytes([1]) * 32)
COLLECTOR = NoteSigner("sealtail/test", nacl.signing.SigningKey(bytes([2]) * 32))
ATTACKER = NoteSigner("sealtail/test", nacl.signing.SigningKey(bytes([3]) * 32))
SEQ, INDEX = 3, 5


def make_bundle(signer: NoteSigner = COLLECTOR, origin: str = "sealtail/test") -> ProofBundle:
    chain = ChainWriter(AGENT_KEY, lines=11)
    tree = MerkleLog()
    other = ChainWriter(nacl.signing.SigningKey(bytes([4]) * 32), name="host-b", lines=2)
    for _ in range(6):  # interleave two agents in the collector-wide log
        tree.append(leaf_hash(segment_hash(chain.next().header)))
        tree.append(leaf_hash(segment_hash(other.next().header)))
    seg = chain.segments[SEQ]
    leaf_index = 2 * SEQ
    cp = Checkpoint(origin, tree.size, tree.root())
    return ProofBundle(
        entry=seg.entries[INDEX], index=INDEX, header=seg.header, signature=seg.signature,
        line_proof=tuple(inclusion_proof(INDEX, leaf_hashes(list(seg.entries)))),
        leaf_index=leaf_index, log_proof=tuple(tree.inclusion_proof(leaf_index, tree.size)),
        checkpoint=sign_checkpoint(cp, signer))


def check(data: bytes, agent_key: bytes | None = None) -> Any:
    return verify_bundle(data, collector_keys=[COLLECTOR.verifier],
                         agent_key=agent_key or bytes(AGENT_KEY.verify_key))


def edit(mutate: Callable[[dict[str, Any]], None]) -> bytes:
    obj = json.loads(make_bundle().to_json())
    mutate(obj)
    return json.dumps(obj).encode()


def fails_with(data: bytes, agent_key: bytes | None = None) -> VerificationError:
    with pytest.raises(VerificationError) as info:
        check(data, agent_key)
    return info.value


def flip(b64: str, byte: int = 0) -> str:
    raw = bytearray(base64.b64decode(b64))
    raw[byte] ^= 1
    return base64.b64encode(bytes(raw)).decode()


def test_a_genuine_bundle_verifies_and_names_line_segment_and_leaf() -> None:
    line = check(make_bundle().to_json())
    assert (line.agent, line.seq, line.index, line.leaf_index) == ("host-a", SEQ, INDEX, 2 * SEQ)
    assert line.checkpoint.size == 12 and b"seg 3 line 5" in line.entry.line


@pytest.mark.parametrize(("name", "mutate"), [
    ("flipped bit in the line proof", lambda o: o["line_proof"].__setitem__(
        0, flip(o["line_proof"][0]))),
    ("flipped bit in the log proof", lambda o: o["log_proof"].__setitem__(
        1, flip(o["log_proof"][1], 31))),
    ("line index + 1", lambda o: o.__setitem__("index", INDEX + 1)),
    ("line index - 1", lambda o: o.__setitem__("index", INDEX - 1)),
    ("leaf index + 1", lambda o: o.__setitem__("leaf_index", 2 * SEQ + 1)),
    ("leaf index - 1", lambda o: o.__setitem__("leaf_index", 2 * SEQ - 1)),
    ("truncated line proof", lambda o: o["line_proof"].pop()),
    ("truncated log proof", lambda o: o["log_proof"].pop()),
    ("extended log proof", lambda o: o["log_proof"].append(base64.b64encode(bytes(32)).decode())),
    ("extended line proof", lambda o: o["line_proof"].append(o["line_proof"][0])),
    ("altered entry bytes", lambda o: o.__setitem__("entry", flip(o["entry"], 7))),
    ("index beyond the segment", lambda o: o.__setitem__("index", 11)),
])
def test_case_23_tampered_proofs_fail_with_bad_proof(
        name: str, mutate: Callable[[dict[str, Any]], None]) -> None:
    err = fails_with(edit(mutate))
    assert err.code == ErrorCode.BAD_PROOF, name
    assert (err.agent, err.seq) == ("host-a", SEQ)


def test_case_23_doubled_tree_size_in_a_resigned_checkpoint_fails_with_bad_proof() -> None:
    """Even the collector's own signature cannot make a proof fit a different tree size."""
    genuine = make_bundle()
    tree_size = 12
    forged = Checkpoint("sealtail/test", tree_size * 2, bytes(32))
    data = ProofBundle(**{**_fields(genuine), "checkpoint": sign_checkpoint(forged, COLLECTOR)})
    assert fails_with(data.to_json()).code == ErrorCode.BAD_PROOF


def test_case_23_checkpoint_with_doubled_size_without_resigning_fails_the_signature() -> None:
    def mutate(o: dict[str, Any]) -> None:
        o["checkpoint"] = o["checkpoint"].replace("\n12\n", "\n24\n", 1)

    assert fails_with(edit(mutate)).code == ErrorCode.BAD_SIGNATURE


def test_case_26_proof_to_a_root_signed_by_another_key_fails_with_unknown_signer() -> None:
    """A valid inclusion proof to a tree head the pinned collector key never signed."""
    assert fails_with(make_bundle(signer=ATTACKER).to_json()).code == ErrorCode.UNKNOWN_SIGNER


def test_case_26_unsigned_root_fails() -> None:
    def mutate(o: dict[str, Any]) -> None:
        o["checkpoint"] = o["checkpoint"].split("\n\n")[0] + "\n"

    assert fails_with(edit(mutate)).code == ErrorCode.MALFORMED_NOTE


def test_case_26_checkpoint_of_another_origin_fails_with_origin_mismatch() -> None:
    bundle = make_bundle(origin="sealtail/another-log")
    assert fails_with(bundle.to_json()).code == ErrorCode.ORIGIN_MISMATCH


def test_an_unknown_extra_signature_line_on_the_checkpoint_is_ignored() -> None:
    def mutate(o: dict[str, Any]) -> None:
        o["checkpoint"] += "— witness.example " + base64.b64encode(bytes(68)).decode() + "\n"

    assert check(edit(mutate)).seq == SEQ


def test_right_name_wrong_key_id_signature_is_unknown() -> None:
    def mutate(o: dict[str, Any]) -> None:
        text, sig = o["checkpoint"].split("\n\n")
        name_blob = sig.split(" ")
        raw = bytearray(base64.b64decode(name_blob[2]))
        raw[0] ^= 0xFF  # key ID byte
        blob = base64.b64encode(bytes(raw)).decode()
        o["checkpoint"] = f"{text}\n\n— sealtail/test {blob}\n"

    assert fails_with(edit(mutate)).code == ErrorCode.UNKNOWN_SIGNER


def test_a_bundle_checked_with_another_agents_key_fails_with_key_mismatch() -> None:
    other = bytes(nacl.signing.SigningKey(bytes([9]) * 32).verify_key)
    assert fails_with(make_bundle().to_json(), agent_key=other).code == ErrorCode.KEY_MISMATCH


def test_a_flipped_header_signature_fails_with_bad_signature() -> None:
    err = fails_with(edit(lambda o: o.__setitem__("signature", flip(o["signature"]))))
    assert err.code == ErrorCode.BAD_SIGNATURE


@pytest.mark.parametrize("mutate", [
    lambda o: o.__setitem__("agent", "host-b"),                  # label disagrees
    lambda o: o.__setitem__("line", "all is well"),               # label disagrees
    lambda o: o.__setitem__("extra", 1),                          # unknown field
    lambda o: o.pop("log_proof"),
    lambda o: o.__setitem__("format", "sealtail/proof-bundle/v0"),
    lambda o: o.__setitem__("index", -1),
    lambda o: o.__setitem__("index", True),
    lambda o: o.__setitem__("entry", o["entry"].rstrip("=")),     # non-canonical base64
    lambda o: o.__setitem__("line_proof", ["AA=="] * 65),         # too many hashes
])
def test_malformed_bundles_fail_with_malformed_bundle(
        mutate: Callable[[dict[str, Any]], None]) -> None:
    err = fails_with(edit(mutate))
    assert err.code in (ErrorCode.MALFORMED_BUNDLE,), err


def _fields(b: ProofBundle) -> dict[str, Any]:
    return {f: getattr(b, f) for f in ("entry", "index", "header", "signature", "line_proof",
                                       "leaf_index", "log_proof", "checkpoint")}
