"""C2SP signed notes and checkpoints: the published vectors, and every verification rule."""

from __future__ import annotations

import base64

import nacl.signing
import pytest

from agent.errors import ErrorCode, VerificationError
from agent.formats import (
    Checkpoint,
    NoteSigner,
    NoteVerifier,
    note_key_id,
    open_checkpoint,
    open_note,
    parse_checkpoint_text,
    sign_checkpoint,
    sign_note,
)

# golang.org/x/mod sumdb/note (note_test.go) and c2sp.org/signed-note: facts re-typed here.
PETER_VKEY = "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW"
PETER_SKEY = "PRIVATE+KEY+PeterNeumann+c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz"
ENOCH_VKEY = "EnochRoot+af0cfe78+ATtqJ7zOtqQtYqOo0CpvDXNlMhV3HeJDpjrASKGLWdop"
GO_TEXT = ("If you think cryptography is the answer to your problem,\n"
           "then you don't know what your problem is.\n")
PETER_SIG = ("— PeterNeumann x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKv"
             "qfqdngotpRZb6KE6RyyBwJnAM=\n")
ENOCH_SIG = ("— EnochRoot rwz+eBzmZa0SO3NbfRGzPCpDckykFXSdeX+MNtCOXm2/5n2tiOHp+vAF1aGrQ5ovTG01oOT"
             "GwnWLox33WWd1RvMc+QQ=\n")
EXAMPLE_VKEY = "example.com/foo+530d903a+AekyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2k"
EXAMPLE_NOTE = ("This is an example message.\n\n— example.com/foo Uw2QOkn8srV1yJGh2VYRlL1Tnag"
                "v1YEq6TfXppzi2ONncAlTgK7Ztg1ERYNZXsYjOBH3mFXmRKuwHjG1Yu72IneyaQM=\n")
PLUS_VKEY = "TEST+7997405c+AQcC+FTVKf0jlTdHDY3rbevmnKxxPjigCXlVtGe6RIr6"  # base64 holds a '+'

PETER = NoteVerifier.parse(PETER_VKEY)
ENOCH = NoteVerifier.parse(ENOCH_VKEY)
GO_NOTE = (GO_TEXT + "\n" + PETER_SIG).encode()


def peter_signer() -> NoteSigner:
    seed = base64.b64decode(PETER_SKEY.split("+", 4)[4])
    assert seed[0] == 1
    return NoteSigner("PeterNeumann", nacl.signing.SigningKey(seed[1:]))


def code_of(data: bytes, verifiers: list[NoteVerifier]) -> str:
    with pytest.raises(VerificationError) as info:
        open_note(data, verifiers)
    return str(info.value.code)


def test_published_vectors_verify() -> None:
    """The sumdb/note and C2SP example notes open with their verifier keys."""
    assert open_note(GO_NOTE, [PETER]).text == GO_TEXT
    assert open_note((GO_TEXT + "\n" + ENOCH_SIG).encode(), [ENOCH]).verified[0].name == "EnochRoot"
    example = open_note(EXAMPLE_NOTE.encode(), [NoteVerifier.parse(EXAMPLE_VKEY)])
    assert example.text == "This is an example message.\n"


def test_signing_reproduces_the_published_signature_byte_for_byte() -> None:
    """Ed25519 is deterministic: our encoder gives sumdb/note's exact bytes."""
    assert sign_note(GO_TEXT, [peter_signer()]) == GO_NOTE


def test_key_id_and_vkey_are_derived_as_in_the_spec() -> None:
    """Key ID = SHA-256(name ‖ 0x0A ‖ 0x01 ‖ key)[:4]; vkey round-trips, '+' in base64 too."""
    assert note_key_id("PeterNeumann", PETER.public_key).hex() == "c74f20a3"
    assert PETER.vkey == PETER_VKEY
    assert NoteVerifier.parse(PLUS_VKEY).vkey == PLUS_VKEY
    assert peter_signer().verifier == PETER


@pytest.mark.parametrize("vkey", [
    "PeterNeumann+c74f20a4+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",  # wrong key ID
    "PeterNeumann+c74f203+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",   # 7 hex digits
    "Peter Neumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",  # space in name
    "PeterNeumann+c74f20a3+Apc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",   # not 33 bytes
    "PeterNeumann+c74f20a3+AhpcZ2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",  # not base64 length
    "PeterNeumann+c74f20a3",
])
def test_malformed_verifier_keys_are_refused(vkey: str) -> None:
    with pytest.raises(ValueError):
        NoteVerifier.parse(vkey)


def test_unknown_extra_signature_lines_are_ignored() -> None:
    """Grease: a line from a key we do not trust neither helps nor hurts."""
    grease = "— grease.example " + base64.b64encode(b"\x01\x02\x03\x04" + bytes(64)).decode()
    note = open_note((GO_TEXT + "\n" + grease + "\n" + PETER_SIG).encode(), [PETER])
    assert [s.name for s in note.verified] == ["PeterNeumann"]
    assert [s.name for s in note.unverified] == ["grease.example"]


def test_a_note_signed_only_by_unknown_keys_is_refused() -> None:
    """A valid signature by a key we do not trust is not a verified note."""
    assert code_of(GO_NOTE, [ENOCH]) == ErrorCode.UNKNOWN_SIGNER


def test_right_name_with_a_wrong_key_id_is_unknown_not_accepted() -> None:
    """A match on the name alone is still "unknown": ignored, and alone it is refused."""
    blob = base64.b64decode(PETER_SIG.split()[2])
    wrong = "— PeterNeumann " + base64.b64encode(b"\x00\x00\x00\x00" + blob[4:]).decode() + "\n"
    assert code_of((GO_TEXT + "\n" + wrong).encode(), [PETER]) == ErrorCode.UNKNOWN_SIGNER
    note = open_note((GO_TEXT + "\n" + wrong + PETER_SIG).encode(), [PETER])
    assert len(note.verified) == 1 and len(note.unverified) == 1


def test_a_trusted_name_and_key_id_with_a_bad_signature_rejects_the_note() -> None:
    """Even next to a good signature: a known (name, ID) that fails rejects everything."""
    blob = bytearray(base64.b64decode(PETER_SIG.split()[2]))
    blob[10] ^= 1
    bad = "— PeterNeumann " + base64.b64encode(bytes(blob)).decode() + "\n"
    assert code_of((GO_TEXT + "\n" + bad).encode(), [PETER]) == ErrorCode.BAD_SIGNATURE
    both = (GO_TEXT + "\n" + PETER_SIG + bad).encode()
    assert code_of(both, [PETER]) == ErrorCode.BAD_SIGNATURE


def test_changed_text_fails_the_signature() -> None:
    assert code_of(GO_NOTE.replace(b"answer", b"Answer"), [PETER]) == ErrorCode.BAD_SIGNATURE


@pytest.mark.parametrize("data", [
    GO_NOTE.replace(b"\n\n", b"\n"),                         # no separator line
    GO_NOTE[:-1],                                             # no final newline
    GO_NOTE.replace("—".encode(), b"-"),                      # hyphen instead of em dash
    GO_NOTE.replace(b"problem,", b"problem,\r"),              # control character
    GO_NOTE.replace(b"problem,", b"problem,\xff"),            # invalid UTF-8
    GO_NOTE.replace(b"PeterNeumann x08", b"PeterNeumann  x08"),   # empty name / bad base64
    GO_NOTE.replace(b"AM=\n", b"AM\n"),                      # base64 without padding
    (GO_TEXT + "\n— PeterNeumann AAAA\n").encode(),           # shorter than key ID + 1 byte
    b"\n\n",
    b"",
])
def test_malformed_notes_are_refused(data: bytes) -> None:
    assert code_of(data, [PETER]) == ErrorCode.MALFORMED_NOTE


def test_signature_lines_are_capped_but_at_least_16_are_accepted() -> None:
    grease = [f"— g{i} " + base64.b64encode(bytes(68)).decode() + "\n" for i in range(100)]
    ok = (GO_TEXT + "\n" + "".join(grease[:15]) + PETER_SIG).encode()
    assert open_note(ok, [PETER]).verified
    too_many = (GO_TEXT + "\n" + "".join(grease) + PETER_SIG).encode()
    assert code_of(too_many, [PETER]) == ErrorCode.MALFORMED_NOTE


def test_note_text_may_contain_empty_lines_the_last_one_separates() -> None:
    signer = peter_signer()
    text = "a\n\nb\n"
    assert open_note(sign_note(text, [signer]), [PETER]).text == text


def test_sign_refuses_text_without_final_newline() -> None:
    with pytest.raises(ValueError):
        sign_note("no newline", [peter_signer()])


# ---------------------------------------------------------------- checkpoints

ROOT = bytes(range(32))


def test_checkpoint_round_trips_through_a_signed_note() -> None:
    """sign → open gives back origin, size, root and extensions."""
    signer = NoteSigner("sealtail/test", nacl.signing.SigningKey(bytes(32)))
    cp = Checkpoint("sealtail/test", 42, ROOT, ("ext one",))
    note = sign_checkpoint(cp, signer)
    assert note.decode().startswith(f"sealtail/test\n42\n{base64.b64encode(ROOT).decode()}\n")
    opened = open_checkpoint(note, [signer.verifier], origin="sealtail/test")
    assert opened.checkpoint == cp and opened.note == note


def test_checkpoint_for_another_origin_is_refused() -> None:
    signer = NoteSigner("other", nacl.signing.SigningKey(bytes(32)))
    note = sign_checkpoint(Checkpoint("other", 1, ROOT), signer)
    with pytest.raises(VerificationError) as info:
        open_checkpoint(note, [signer.verifier], origin="sealtail/test")
    assert info.value.code == ErrorCode.ORIGIN_MISMATCH


@pytest.mark.parametrize("text", [
    "origin\n",                                   # too few lines
    "origin\n01\n" + base64.b64encode(ROOT).decode() + "\n",     # leading zero
    "origin\n-1\n" + base64.b64encode(ROOT).decode() + "\n",
    "origin\n18446744073709551616\n" + base64.b64encode(ROOT).decode() + "\n",  # > uint64
    "origin\n1\n" + base64.b64encode(ROOT[:31]).decode() + "\n",  # 31-byte root
    "origin\n1\n" + base64.b64encode(ROOT).decode().rstrip("=") + "\n",
    "\n1\n" + base64.b64encode(ROOT).decode() + "\n",             # empty origin
    "origin\n1\n" + base64.b64encode(ROOT).decode() + "\n\n",     # empty extension line
    "origin\n１\n" + base64.b64encode(ROOT).decode() + "\n",      # non-ASCII digit
])
def test_malformed_checkpoint_bodies_are_refused(text: str) -> None:
    with pytest.raises(VerificationError) as info:
        parse_checkpoint_text(text)
    assert info.value.code == ErrorCode.MALFORMED_CHECKPOINT


def test_empty_tree_checkpoint_is_size_zero() -> None:
    import hashlib

    empty = hashlib.sha256(b"").digest()
    cp = parse_checkpoint_text("o\n0\n" + base64.b64encode(empty).decode() + "\n")
    assert cp.size == 0 and cp.root == empty
