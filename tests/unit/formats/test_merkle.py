"""RFC 9162 hashing and proofs against published vectors."""

from __future__ import annotations

import base64
import json
from pathlib import Path

import pytest

from agent.formats import (
    EMPTY_ROOT,
    MerkleLog,
    consistency_proof,
    inclusion_proof,
    leaf_hashes,
    merkle_root,
    root_from_leaf_hashes,
    verify_consistency,
    verify_inclusion,
)
from tests.conftest import shared_path

# RFC 6962 test leaves and the roots of their first n leaves (certificate-transparency's
# merkle_tree_test.cc, also used by transparency-dev/merkle).
RFC6962_LEAVES = [
    b"", b"\x00", b"\x10", b"\x20\x21", b"\x30\x31", b"\x40\x41\x42\x43",
    bytes(range(0x50, 0x58)), bytes(range(0x60, 0x70)),
]
RFC6962_ROOTS = [
    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
    "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
    "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
    "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
    "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
    "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
    "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
    "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
]


@pytest.mark.parametrize("size", range(9))
def test_root_matches_rfc6962_vector(size: int) -> None:
    """The tree hash of the first n RFC 6962 leaves equals the published root."""
    assert merkle_root(RFC6962_LEAVES[:size]).hex() == RFC6962_ROOTS[size]


def test_empty_tree_root_is_hash_of_empty_string() -> None:
    assert merkle_root([]) == EMPTY_ROOT


def _recursive_root(items: list[bytes]) -> bytes:
    import hashlib

    if not items:
        return hashlib.sha256(b"").digest()
    if len(items) == 1:
        return hashlib.sha256(b"\x00" + items[0]).digest()
    k = 1
    while k * 2 < len(items):
        k *= 2
    left, right = _recursive_root(items[:k]), _recursive_root(items[k:])
    return hashlib.sha256(b"\x01" + left + right).digest()


@pytest.mark.parametrize("size", [*range(1, 40), 63, 64, 65, 1000, 1025])
def test_iterative_root_equals_recursive_definition(size: int) -> None:
    items = [str(i).encode() for i in range(size)]
    assert merkle_root(items) == _recursive_root(items)


@pytest.mark.parametrize("size", [1, 2, 3, 5, 7, 8, 9, 31, 100])
def test_generated_inclusion_proofs_verify_for_every_leaf(size: int) -> None:
    hashes = leaf_hashes([str(i).encode() for i in range(size)])
    root = merkle_root([str(i).encode() for i in range(size)])
    for index in range(size):
        proof = inclusion_proof(index, hashes)
        assert verify_inclusion(index, size, hashes[index], proof, root)
        if proof:
            flipped = [bytes([proof[-1][0] ^ 1]) + proof[-1][1:]]
            assert not verify_inclusion(index, size, hashes[index], proof[:-1] + flipped, root)
        assert not verify_inclusion(index, size, hashes[index][::-1], proof, root)


@pytest.mark.parametrize("size2", [2, 3, 8, 13, 64, 65])
def test_generated_consistency_proofs_verify(size2: int) -> None:
    items = [str(i).encode() for i in range(size2)]
    hashes = leaf_hashes(items)
    root2 = merkle_root(items)
    for size1 in range(1, size2 + 1):
        proof = consistency_proof(size1, hashes)
        assert verify_consistency(size1, size2, proof, merkle_root(items[:size1]), root2)
        if proof:
            bad = [bytes([proof[0][0] ^ 1]) + proof[0][1:], *proof[1:]]
            assert not verify_consistency(size1, size2, bad, merkle_root(items[:size1]), root2)


def _b64(value: str | None) -> bytes:
    return base64.b64decode(value) if value else b""


def _vector_files(kind: str) -> list[Path]:
    root = shared_path("data/merkle-testdata") / kind
    files = sorted(root.rglob("*.json"))
    assert files, f"no vectors under {root}"
    return files


def test_inclusion_vectors_from_transparency_dev() -> None:
    """Every inclusion probe: happy paths verify, every mutant fails."""
    checked = 0
    for path in _vector_files("inclusion"):
        v = json.loads(path.read_text())
        proof = [_b64(p) for p in (v["proof"] or [])]
        ok = verify_inclusion(v["leafIdx"], v["treeSize"], _b64(v["leafHash"]), proof,
                              _b64(v["root"]))
        assert ok == (not v["wantErr"]), f"{path}: {v['desc']}"
        checked += 1
    assert checked > 50


def test_consistency_vectors_from_transparency_dev() -> None:
    """Every consistency probe: happy paths verify, every mutant fails."""
    checked = 0
    for path in _vector_files("consistency"):
        v = json.loads(path.read_text())
        proof = [_b64(p) for p in (v["proof"] or [])]
        ok = verify_consistency(v["size1"], v["size2"], proof, _b64(v["root1"]), _b64(v["root2"]))
        assert ok == (not v["wantErr"]), f"{path}: {v['desc']}"
        checked += 1
    assert checked > 50


@pytest.mark.parametrize("size", [0, 1, 2, 3, 5, 8, 13, 64, 100, 257])
def test_incremental_log_gives_the_same_roots_and_proofs_as_the_definition(size: int) -> None:
    """MerkleLog (O(log n) from complete subtrees) agrees with the recursive RFC 9162 code at
    every earlier size, for roots, inclusion and consistency proofs."""
    hashes = leaf_hashes([str(i).encode() for i in range(size)])
    log = MerkleLog(hashes)
    assert log.size == size
    for n in range(size + 1):
        assert log.root(n) == root_from_leaf_hashes(hashes[:n])
    step = max(1, size // 17)
    for n in range(1, size + 1, step):
        for index in range(0, n, step):
            assert log.inclusion_proof(index, n) == inclusion_proof(index, hashes[:n])
        for m in range(1, n + 1, step):
            assert log.consistency_proof(m, n) == consistency_proof(m, hashes[:n])


def test_incremental_log_refuses_sizes_and_indexes_it_does_not_have() -> None:
    log = MerkleLog(leaf_hashes([b"a", b"b", b"c"]))
    for bad in (lambda: log.root(4), lambda: log.inclusion_proof(3, 3),
                lambda: log.consistency_proof(0, 3), lambda: log.consistency_proof(2, 4),
                lambda: log.append(b"short")):
        with pytest.raises(ValueError):
            bad()


def _consistency_mutations(size1: int, size2: int, proof: list[bytes]
                           ) -> list[tuple[str, int, int, list[bytes]]]:
    out = [(f"flipped bit in proof[{i}]", size1, size2,
            [*proof[:i], bytes([p[0] ^ 0x80]) + p[1:], *proof[i + 1:]])
           for i, p in enumerate(proof)]
    out += [("size1 + 1", size1 + 1, size2, proof), ("size1 - 1", size1 - 1, size2, proof),
            ("size2 doubled", size1, 2 * size2, proof),
            ("truncated", size1, size2, proof[:-1]), ("extended", size1, size2, [*proof, proof[0]]),
            ("empty", size1, size2, [])]
    return [m for m in out if 0 < m[1] <= m[2]]


@pytest.mark.parametrize(("size1", "size2"), [(1, 2), (3, 8), (4, 8), (5, 13), (7, 65)])
def test_every_mutation_of_a_consistency_proof_fails(size1: int, size2: int) -> None:
    """A flipped bit anywhere, size1 ±1, a doubled size2, a truncated, extended or empty
    proof. (size2 ±1 can pass: the RFC 9162 and transparency-dev verifiers compute the same
    thing for every size2 with the same decomposition, so the proof alone does not bind
    size2 exactly; the collector's signature over (size, root) does, see test_bundle.)"""
    items = [str(i).encode() for i in range(size2)]
    root1, root2 = merkle_root(items[:size1]), merkle_root(items)
    proof = consistency_proof(size1, leaf_hashes(items))
    assert verify_consistency(size1, size2, proof, root1, root2)
    for name, s1, s2, bad in _consistency_mutations(size1, size2, proof):
        assert not verify_consistency(s1, s2, bad, root1, root2), name
    assert not verify_consistency(size1, size2, proof, root2, root1), "roots swapped"
