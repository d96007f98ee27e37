"""Formats a verifier depends on: RFC 9162 Merkle hashing, entries, signed segment headers.

Pure and synchronous. "Where is a line hashed?" always has the same answer: here.
"""

from agent.formats._merkle import (
    EMPTY_ROOT,
    consistency_proof,
    inclusion_proof,
    leaf_hash,
    leaf_hashes,
    merkle_root,
    node_hash,
    root_from_leaf_hashes,
    verify_consistency,
    verify_inclusion,
)
from agent.formats._segment import (
    FORMAT_VERSION,
    SEGMENT_SIGNING_PREFIX,
    ZERO_HASH,
    ChainCoverage,
    ChainVerifier,
    VerifiedSegment,
    build_header,
    decode_entry,
    encode_entry,
    key_id,
    line_locator,
    parse_header,
    segment_hash,
    sign_header,
    verify_segment,
)

__all__ = [
    "EMPTY_ROOT",
    "FORMAT_VERSION",
    "SEGMENT_SIGNING_PREFIX",
    "ZERO_HASH",
    "ChainCoverage",
    "ChainVerifier",
    "VerifiedSegment",
    "build_header",
    "consistency_proof",
    "decode_entry",
    "encode_entry",
    "inclusion_proof",
    "key_id",
    "leaf_hash",
    "leaf_hashes",
    "line_locator",
    "merkle_root",
    "node_hash",
    "parse_header",
    "root_from_leaf_hashes",
    "segment_hash",
    "sign_header",
    "verify_consistency",
    "verify_inclusion",
    "verify_segment",
]
