"""C2SP signed notes (c2sp.org/signed-note@v1.0.0) and checkpoints (tlog-checkpoint@v1.0.0).

Pure and synchronous. A note is UTF-8 text ending in a newline, one empty line, then signature
lines ``— <name> <base64(4-byte key ID ‖ signature)>``. The signed message is the text
including its final newline. Verification rules (FORMATS.md §2.2):

* a signature line whose (name, key ID) is not exactly a trusted key is ignored ("grease");
* a line whose (name, key ID) *is* a trusted key must verify, or the whole note is rejected;
* a note with no verified signature from a trusted key is rejected;
* at most `MAX_SIGNATURES` signature lines are read (at least 16 must be accepted).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import nacl.exceptions
import nacl.signing

from agent.errors import ErrorCode, VerificationError

ED25519_TYPE = 0x01
EM_DASH_PREFIX = "— "
MAX_SIGNATURES = 100          # C2SP: accept at least 16, cap the total
MAX_NOTE_BYTES = 64 * 1024    # a checkpoint is ~200 bytes; refuse absurd notes before parsing
MAX_TREE_SIZE = 2**64 - 1


def _malformed(message: str) -> VerificationError:
    return VerificationError(f"malformed note: {message}", code=ErrorCode.MALFORMED_NOTE)


def b64decode_strict(text: str) -> bytes:
    """Standard base64 with padding, canonical only (re-encoding gives the same text)."""
    try:
        raw = base64.b64decode(text.encode("ascii"), validate=True)
    except (binascii.Error, UnicodeEncodeError) as exc:
        raise ValueError(f"not base64: {exc}") from exc
    if base64.b64encode(raw).decode() != text:
        raise ValueError("not canonical base64")
    return raw


def valid_key_name(name: str) -> bool:
    """A key name is non-empty, with no Unicode space and no '+'."""
    return bool(name) and "+" not in name and not any(ch.isspace() for ch in name)


def note_key_id(name: str, public_key: bytes) -> bytes:
    """The 4-byte key ID: SHA-256(name ‖ 0x0A ‖ 0x01 ‖ public key)[:4]."""
    return hashlib.sha256(name.encode() + b"\n" + bytes([ED25519_TYPE]) + public_key).digest()[:4]


@dataclass(frozen=True, slots=True)
class NoteVerifier:
    """A trusted Ed25519 note key: (name, key ID) and the 32-byte public key."""

    name: str
    key_id: bytes
    public_key: bytes

    @classmethod
    def from_public_key(cls, name: str, public_key: bytes) -> NoteVerifier:
        if not valid_key_name(name):
            raise ValueError(f"invalid key name {name!r} (no spaces, no '+', not empty)")
        if len(public_key) != 32:
            raise ValueError("an Ed25519 public key is 32 bytes")
        return cls(name, note_key_id(name, public_key), public_key)

    @classmethod
    def parse(cls, vkey: str) -> NoteVerifier:
        """Parse a verifier key ``name+<8 hex key ID>+base64(0x01 ‖ key)``.

        The base64 part may itself contain '+': split on the first two only. The key ID must be
        the one derived from the name and key.
        """
        parts = vkey.strip().split("+", 2)
        if len(parts) != 3:
            raise ValueError("a verifier key is name+keyid+base64")
        name, hex_id, material = parts
        if not valid_key_name(name):
            raise ValueError(f"invalid key name {name!r}")
        if len(hex_id) != 8 or any(c not in "0123456789abcdef" for c in hex_id):
            raise ValueError("key ID must be 8 lower-case hex digits")
        raw = b64decode_strict(material)
        if len(raw) != 33 or raw[0] != ED25519_TYPE:
            raise ValueError("only Ed25519 keys (type 0x01, 32 bytes) are supported")
        verifier = cls.from_public_key(name, raw[1:])
        if verifier.key_id.hex() != hex_id:
            raise ValueError(f"key ID {hex_id} does not match name and key "
                             f"(expected {verifier.key_id.hex()})")
        return verifier

    @property
    def vkey(self) -> str:
        material = base64.b64encode(bytes([ED25519_TYPE]) + self.public_key).decode()
        return f"{self.name}+{self.key_id.hex()}+{material}"

    def verify(self, message: bytes, signature: bytes) -> bool:
        try:
            nacl.signing.VerifyKey(self.public_key).verify(message, signature)
        except (nacl.exceptions.BadSignatureError, nacl.exceptions.ValueError,
                nacl.exceptions.TypeError):
            return False
        return True


@dataclass(frozen=True, slots=True)
class NoteSigner:
    """An Ed25519 note signing key with its name."""

    name: str
    key: nacl.signing.SigningKey

    def __post_init__(self) -> None:
        if not valid_key_name(self.name):
            raise ValueError(f"invalid key name {self.name!r} (no spaces, no '+', not empty)")

    @property
    def verifier(self) -> NoteVerifier:
        return NoteVerifier.from_public_key(self.name, bytes(self.key.verify_key))


@dataclass(frozen=True, slots=True)
class NoteSignature:
    name: str
    key_id: bytes
    signature: bytes


@dataclass(frozen=True, slots=True)
class Note:
    """An opened note: its text, the signatures verified by trusted keys, the others."""

    text: str
    verified: tuple[NoteSignature, ...]
    unverified: tuple[NoteSignature, ...]


def _check_text(text: str) -> None:
    if not text or not text.endswith("\n"):
        raise _malformed("text must be non-empty and end with a newline")
    if any(ord(c) < 0x20 and c != "\n" for c in text):
        raise _malformed("text contains a control character")


def sign_note(text: str, signers: Sequence[NoteSigner]) -> bytes:
    """Encode `text` with one signature line per signer (ValueError for invalid text)."""
    try:
        _check_text(text)
    except VerificationError as exc:
        raise ValueError(exc.message) from None
    if not signers:
        raise ValueError("a note needs at least one signer")
    message = text.encode()
    lines = []
    for s in signers:
        sig = s.key.sign(message).signature
        blob = base64.b64encode(note_key_id(s.name, bytes(s.key.verify_key)) + sig).decode()
        lines.append(f"{EM_DASH_PREFIX}{s.name} {blob}\n")
    return message + b"\n" + "".join(lines).encode()


def _split_note(data: bytes) -> tuple[str, list[NoteSignature]]:
    """Check a note's layout; its text and signature lines (nothing verified yet)."""
    if len(data) > MAX_NOTE_BYTES:
        raise _malformed(f"{len(data)} bytes exceeds {MAX_NOTE_BYTES}")
    try:
        msg = data.decode("utf-8", errors="strict")
    except UnicodeDecodeError as exc:
        raise _malformed("not valid UTF-8") from exc
    if any(ord(c) < 0x20 and c != "\n" for c in msg):
        raise _malformed("contains a control character")
    split = msg.rfind("\n\n")
    if split < 0:
        raise _malformed("no empty line before the signatures")
    text, block = msg[:split + 1], msg[split + 2:]
    if not block or not block.endswith("\n"):
        raise _malformed("signature block must end with a newline")
    lines = block[:-1].split("\n")
    if len(lines) > MAX_SIGNATURES:
        raise _malformed(f"more than {MAX_SIGNATURES} signature lines")
    sigs = []
    for line in lines:
        if not line.startswith(EM_DASH_PREFIX):
            raise _malformed("a signature line must start with an em dash and a space")
        name, _, blob = line[len(EM_DASH_PREFIX):].partition(" ")
        try:
            raw = b64decode_strict(blob)
        except ValueError as exc:
            raise _malformed(f"signature of {name!r}: {exc}") from exc
        if not valid_key_name(name) or len(raw) < 5:
            raise _malformed(f"signature line for {name!r} is invalid")
        sigs.append(NoteSignature(name, raw[:4], raw[4:]))
    return text, sigs


def open_note(data: bytes, verifiers: Iterable[NoteVerifier]) -> Note:
    """Parse a signed note and check it against the trusted `verifiers`.

    Raises:
        VerificationError: `malformed_note` (bad bytes or layout), `bad_signature` (a trusted
        (name, key ID) whose signature does not verify), `unknown_signer` (no trusted key
        signed the note).
    """
    text, sigs = _split_note(data)
    trusted = {(v.name, v.key_id): v for v in verifiers}
    message = text.encode()
    verified: list[NoteSignature] = []
    unverified: list[NoteSignature] = []
    for sig in sigs:
        verifier = trusted.get((sig.name, sig.key_id))
        if verifier is None:
            if sig not in unverified:
                unverified.append(sig)  # grease or someone else's key: ignored
            continue
        # A trusted (name, key ID) whose signature fails rejects the whole note (C2SP #241).
        if not verifier.verify(message, sig.signature):
            raise VerificationError(
                f"signature by {sig.name} ({sig.key_id.hex()}) does not verify over the note",
                code=ErrorCode.BAD_SIGNATURE)
        if sig not in verified:
            verified.append(sig)
    if not verified:
        names = ", ".join(sorted({s.name for s in unverified})) or "none"
        raise VerificationError(f"no trusted key signed this note (signers: {names})",
                                code=ErrorCode.UNKNOWN_SIGNER)
    return Note(text, tuple(verified), tuple(unverified))


@dataclass(frozen=True, slots=True)
class Checkpoint:
    """A tlog checkpoint body: origin, tree size, root hash, optional extension lines."""

    origin: str
    size: int
    root: bytes
    extensions: tuple[str, ...] = ()

    def text(self) -> str:
        if not self.origin or any(c in self.origin for c in "\n"):
            raise ValueError("origin must be one non-empty line")
        if not 0 <= self.size <= MAX_TREE_SIZE or len(self.root) != 32:
            raise ValueError("size must be a uint64 and root 32 bytes")
        lines = [self.origin, str(self.size), base64.b64encode(self.root).decode(),
                 *self.extensions]
        return "".join(f"{line}\n" for line in lines)

    def __repr__(self) -> str:
        return f"<Checkpoint {self.origin} size={self.size} root={self.root.hex()[:16]}…>"


def _bad_checkpoint(message: str) -> VerificationError:
    return VerificationError(f"malformed checkpoint: {message}",
                             code=ErrorCode.MALFORMED_CHECKPOINT)


def parse_checkpoint_text(text: str) -> Checkpoint:
    """Parse a checkpoint body (origin, decimal size, base64 root, extension lines)."""
    if not text.endswith("\n"):
        raise _bad_checkpoint("text must end with a newline")
    lines = text[:-1].split("\n")
    if len(lines) < 3:
        raise _bad_checkpoint("needs origin, size and root lines")
    origin, size_text, root_text, *extensions = lines
    if not origin:
        raise _bad_checkpoint("empty origin")
    if (not size_text.isascii() or not size_text.isdigit()
            or (size_text != "0" and size_text.startswith("0")) or len(size_text) > 20):
        raise _bad_checkpoint(f"tree size {size_text!r} is not a decimal without leading zeros")
    size = int(size_text)
    if size > MAX_TREE_SIZE:
        raise _bad_checkpoint("tree size exceeds 2^64-1")
    try:
        root = b64decode_strict(root_text)
    except ValueError as exc:
        raise _bad_checkpoint(f"root: {exc}") from exc
    if len(root) != 32:
        raise _bad_checkpoint(f"root is {len(root)} bytes, expected 32")
    if any(not ext for ext in extensions):
        raise _bad_checkpoint("empty extension line")
    return Checkpoint(origin, size, root, tuple(extensions))


def sign_checkpoint(checkpoint: Checkpoint, signer: NoteSigner) -> bytes:
    """The signed note of `checkpoint` (the key name SHOULD equal the origin)."""
    return sign_note(checkpoint.text(), [signer])


@dataclass(frozen=True, slots=True)
class SignedCheckpoint:
    """A checkpoint whose note verified, with the exact note bytes (kept as evidence)."""

    checkpoint: Checkpoint
    note: bytes

    @property
    def size(self) -> int:
        return self.checkpoint.size

    @property
    def root(self) -> bytes:
        return self.checkpoint.root

    @property
    def origin(self) -> str:
        return self.checkpoint.origin


def open_checkpoint(data: bytes, verifiers: Iterable[NoteVerifier], *,
                    origin: str | None = None) -> SignedCheckpoint:
    """Verify a signed checkpoint and parse its body.

    Args:
        origin: the checkpoint's origin must equal it; by default it must equal the name of a
            trusted key that signed it (sealtail's logs name their key after their origin).

    Raises:
        VerificationError: the codes of `open_note`, `malformed_checkpoint`, `origin_mismatch`.
    """
    note = open_note(data, verifiers)
    cp = parse_checkpoint_text(note.text)
    expected = {origin} if origin is not None else {s.name for s in note.verified}
    if cp.origin not in expected:
        want = " or ".join(repr(o) for o in sorted(expected))
        raise VerificationError(f"checkpoint origin {cp.origin!r}, expected {want}",
                                code=ErrorCode.ORIGIN_MISMATCH)
    return SignedCheckpoint(cp, data)


def peek_checkpoint(data: bytes) -> Checkpoint:
    """The body of a signed checkpoint WITHOUT checking any signature: only for ordering
    checkpoints that are kept for later verification, never for trusting one."""
    return parse_checkpoint_text(_split_note(data)[0])
