"""Offline proof bundles: one line, proven up to a signed collector checkpoint.

A bundle is a JSON object (`BUNDLE_FORMAT`)::

    entry, header, signature     exact bytes (base64) of the line's leaf and its signed header
    line_proof                   entry leaf -> header.root, in the segment tree of header.count
    leaf_index, log_proof        SHA-256(header) leaf -> checkpoint root, in the collector tree
    checkpoint                   the signed C2SP checkpoint note (text)
    agent, seq, index, line      for people; they must agree with the signed bytes

`verify_bundle` trusts nothing in it but the two keys it is given.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from agent._pb import sealtail_pb2 as pb
from agent.errors import ErrorCode, VerificationError
from agent.formats._merkle import leaf_hash, verify_inclusion
from agent.formats._note import (
    Checkpoint,
    NoteVerifier,
    b64decode_strict,
    open_checkpoint,
)
from agent.formats._segment import check_entry, segment_hash, verify_header

BUNDLE_FORMAT = "sealtail/proof-bundle/v1"
MAX_BUNDLE_BYTES = 32 * 1024 * 1024
MAX_PROOF_HASHES = 64  # a tree of 2^64 leaves needs no more
_FIELDS = {"format", "agent", "seq", "index", "line", "entry", "header", "signature",
           "line_proof", "leaf_index", "log_proof", "checkpoint"}


@dataclass(frozen=True, slots=True)
class ProofBundle:
    """A parsed bundle. `agent`, `seq` and `line` are labels for people, checked by
    `verify_bundle` against the signed bytes."""

    entry: bytes
    index: int
    header: bytes
    signature: bytes
    line_proof: tuple[bytes, ...]
    leaf_index: int
    log_proof: tuple[bytes, ...]
    checkpoint: bytes
    agent: str = ""
    seq: int = 0
    line: str = ""

    def to_json(self) -> bytes:
        """The bundle file's bytes; the labels are decoded from the signed bytes."""
        try:
            header = pb.SegmentHeader.FromString(self.header)
            agent, seq = header.agent_name, header.seq
            line = pb.Entry.FromString(self.entry).line.decode("utf-8", "backslashreplace")
        except Exception:  # labels only; verification reads the bytes
            agent, seq, line = self.agent, self.seq, self.line

        def b64(data: bytes) -> str:
            return base64.b64encode(data).decode()

        obj = {
            "format": BUNDLE_FORMAT, "agent": agent, "seq": seq, "index": self.index,
            "line": line, "entry": b64(self.entry), "header": b64(self.header),
            "signature": b64(self.signature), "line_proof": [b64(h) for h in self.line_proof],
            "leaf_index": self.leaf_index, "log_proof": [b64(h) for h in self.log_proof],
            "checkpoint": self.checkpoint.decode("utf-8", "replace"),
        }
        return (json.dumps(obj, indent=1, ensure_ascii=False) + "\n").encode()


def _malformed(message: str) -> VerificationError:
    return VerificationError(f"malformed proof bundle: {message}",
                             code=ErrorCode.MALFORMED_BUNDLE)


def parse_bundle(data: bytes) -> ProofBundle:
    """Parse a bundle file strictly (sizes, types, exact key set, canonical base64)."""
    if len(data) > MAX_BUNDLE_BYTES:
        raise _malformed(f"{len(data)} bytes exceeds {MAX_BUNDLE_BYTES}")
    try:
        obj = json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError) as exc:
        raise _malformed(f"not JSON: {exc}") from exc
    if not isinstance(obj, dict):
        raise _malformed("not a JSON object")
    if set(obj) != _FIELDS:
        missing, extra = _FIELDS - set(obj), set(obj) - _FIELDS
        raise _malformed(f"missing {sorted(missing)}, unexpected {sorted(extra)}")
    if obj["format"] != BUNDLE_FORMAT:
        raise _malformed(f"format {obj['format']!r}, expected {BUNDLE_FORMAT!r}")

    def integer(key: str) -> int:
        value = obj[key]
        if not isinstance(value, int) or isinstance(value, bool) or not 0 <= value < 2**64:
            raise _malformed(f"{key} must be an integer in [0, 2^64)")
        return value

    def blob(key: str, value: Any = None) -> bytes:
        value = obj[key] if value is None else value
        if not isinstance(value, str):
            raise _malformed(f"{key} must be a base64 string")
        try:
            return b64decode_strict(value)
        except ValueError as exc:
            raise _malformed(f"{key}: {exc}") from exc

    def hashes(key: str) -> tuple[bytes, ...]:
        value = obj[key]
        if not isinstance(value, list) or len(value) > MAX_PROOF_HASHES:
            raise _malformed(f"{key} must be a list of at most {MAX_PROOF_HASHES} hashes")
        return tuple(blob(key, h) for h in value)

    for key in ("agent", "line", "checkpoint"):
        if not isinstance(obj[key], str):
            raise _malformed(f"{key} must be a string")
    return ProofBundle(
        entry=blob("entry"), index=integer("index"), header=blob("header"),
        signature=blob("signature"), line_proof=hashes("line_proof"),
        leaf_index=integer("leaf_index"), log_proof=hashes("log_proof"),
        checkpoint=obj["checkpoint"].encode("utf-8"), agent=obj["agent"], seq=integer("seq"),
        line=obj["line"],
    )


@dataclass(frozen=True, slots=True)
class VerifiedLine:
    """What a bundle proved: this entry is line `index` of (agent, seq), and that segment is
    leaf `leaf_index` of the collector log at `checkpoint`."""

    agent: str
    agent_key: bytes
    seq: int
    index: int
    entry: pb.Entry
    leaf_index: int
    checkpoint: Checkpoint


def verify_bundle(data: bytes, *, collector_keys: Sequence[NoteVerifier], agent_key: bytes,
                  origin: str | None = None) -> VerifiedLine:
    """Check a proof bundle offline, trusting only `collector_keys` and `agent_key`.

    Every component is checked: the header's signature by the agent key, the entry against
    the header, the line's path to the signed root, the checkpoint's signature and origin, and
    the segment's path to the checkpoint root.

    Raises:
        VerificationError: `malformed_bundle`, the header codes (`bad_signature`,
        `key_mismatch`…), `bad_proof`, and the checkpoint codes (`unknown_signer`,
        `origin_mismatch`…).
    """
    b = parse_bundle(data)
    header = verify_header(b.header, b.signature, expected_key=agent_key)
    agent, seq = header.agent_name, header.seq
    if (b.agent, b.seq) != (agent, seq):
        raise _malformed(f"labelled agent={b.agent!r} seq={b.seq}, but the signed header is "
                         f"agent={agent!r} seq={seq}")

    def bad_proof(message: str, line: int | None = None) -> VerificationError:
        return VerificationError(message, code=ErrorCode.BAD_PROOF, agent=agent, seq=seq,
                                 line=line)

    if b.index >= header.count:
        raise bad_proof(f"line {b.index} of a segment of {header.count} lines", b.index)
    if not verify_inclusion(b.index, header.count, leaf_hash(b.entry), b.line_proof,
                            header.root):
        raise bad_proof("the line's inclusion proof does not lead to the signed segment root",
                        b.index)
    entry = check_entry(header, b.index, b.entry)
    if b.line != entry.line.decode("utf-8", "backslashreplace"):
        raise _malformed("the labelled line text differs from the entry bytes")
    cp = open_checkpoint(b.checkpoint, collector_keys, origin=origin).checkpoint
    if not verify_inclusion(b.leaf_index, cp.size, leaf_hash(segment_hash(b.header)),
                            b.log_proof, cp.root):
        raise bad_proof(f"the segment is not leaf {b.leaf_index} of the signed checkpoint "
                        f"(size {cp.size}) by the given proof")
    return VerifiedLine(agent=agent, agent_key=header.agent_key, seq=seq, index=b.index,
                        entry=entry, leaf_index=b.leaf_index, checkpoint=cp)
