"""Ed25519 key files: the agent's identity and the collector's checkpoint key.

Private key file: one line ``sealtail-ed25519-private <base64 seed>``, mode 0600.
Public key file (PATH.pub): one line ``sealtail-ed25519 <base64 public key> <comment>``.
An authorized-keys file is the concatenation of .pub files (blank lines and # comments allowed).
"""

from __future__ import annotations

import base64
import binascii
import os
import stat
from pathlib import Path

import nacl.signing

from agent.errors import ErrorCode, KeyFileError
from agent.formats import NoteVerifier

PRIVATE_TAG = "sealtail-ed25519-private"
PUBLIC_TAG = "sealtail-ed25519"


def format_public_key(public_key: bytes, comment: str = "") -> str:
    text = f"{PUBLIC_TAG} {base64.b64encode(public_key).decode()}"
    return f"{text} {comment}" if comment else text


def generate_key_file(path: Path, comment: str = "") -> nacl.signing.SigningKey:
    """Write a new private key to `path` (0600, refusing to overwrite) and `path`.pub."""
    key = nacl.signing.SigningKey.generate()
    seed = base64.b64encode(bytes(key)).decode()
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError as exc:
        raise KeyFileError(f"{path}: already exists; refusing to overwrite a key") from exc
    except OSError as exc:
        raise KeyFileError(f"{path}: cannot create key file: {exc.strerror}") from exc
    with os.fdopen(fd, "w") as f:
        f.write(f"{PRIVATE_TAG} {seed}\n")
        f.flush()
        os.fsync(f.fileno())
    os.chmod(path, 0o600)  # in case a umask or ACL widened it
    pub = Path(f"{path}.pub")
    pub.write_text(format_public_key(bytes(key.verify_key), comment or path.name) + "\n")
    return key


def load_signing_key(path: Path, *, check_permissions: bool = True) -> nacl.signing.SigningKey:
    """Read a private key file; refuse one that group or others can read."""
    try:
        st = path.stat()
        text = path.read_text()
    except FileNotFoundError as exc:
        raise KeyFileError(f"{path}: key file not found (create one with "
                           f"`sealtail keygen --out {path}`)") from exc
    except (OSError, UnicodeDecodeError) as exc:
        raise KeyFileError(f"{path}: cannot read key file: {exc}") from exc
    if check_permissions and st.st_mode & (stat.S_IRWXG | stat.S_IRWXO):
        raise KeyFileError(
            f"{path}: private key is accessible by group or others (mode "
            f"{stat.S_IMODE(st.st_mode):04o}); run `chmod 600 {path}`",
            code=ErrorCode.KEY_FILE_PERMISSIONS)
    parts = text.split()
    if parts and parts[0] == PUBLIC_TAG:
        raise KeyFileError(f"{path}: this is a public key; give the private key file "
                           f"(usually {path.with_suffix('') if path.suffix == '.pub' else path}"
                           ")")
    if len(parts) != 2 or parts[0] != PRIVATE_TAG:
        raise KeyFileError(
            f"{path}: not a sealtail private key (expected '{PRIVATE_TAG} <base64>')")
    try:
        seed = base64.b64decode(parts[1], validate=True)
    except binascii.Error as exc:
        raise KeyFileError(f"{path}: private key is not valid base64") from exc
    if len(seed) != 32:
        raise KeyFileError(f"{path}: private key seed is {len(seed)} bytes, expected 32")
    return nacl.signing.SigningKey(seed)


def parse_public_key(text: str, *, where: str) -> bytes:
    parts = text.split()
    if len(parts) < 2 or parts[0] != PUBLIC_TAG:
        raise KeyFileError(f"{where}: not a sealtail public key (expected '{PUBLIC_TAG} <base64>')")
    try:
        key = base64.b64decode(parts[1], validate=True)
    except binascii.Error as exc:
        raise KeyFileError(f"{where}: public key is not valid base64") from exc
    if len(key) != 32:
        raise KeyFileError(f"{where}: public key is {len(key)} bytes, expected 32")
    return key


def load_public_key(path: Path) -> bytes:
    try:
        text = path.read_text()
    except OSError as exc:
        raise KeyFileError(f"{path}: cannot read public key: {exc.strerror}") from exc
    return parse_public_key(text.strip(), where=str(path))


def load_authorized_keys(path: Path) -> frozenset[bytes]:
    """Read an allow-list: one public key per line; names file and line on errors.

    Like sshd's StrictModes, a file group or others can write is refused (not merely warned
    about): whoever can write it can authorize a key of their own and write as any agent.
    """
    try:
        st = path.stat()
        lines = path.read_text().splitlines()
    except OSError as exc:
        raise KeyFileError(f"{path}: cannot read authorized keys: {exc.strerror}") from exc
    if st.st_mode & (stat.S_IWGRP | stat.S_IWOTH):
        raise KeyFileError(
            f"{path}: authorized keys file is writable by group or others (mode "
            f"{stat.S_IMODE(st.st_mode):04o}): anyone who can write it can authorize a key; "
            f"run `chmod go-w {path}`", code=ErrorCode.KEY_FILE_PERMISSIONS)
    keys = set()
    for number, line in enumerate(lines, start=1):
        line = line.strip()
        if line and not line.startswith("#"):
            keys.add(parse_public_key(line, where=f"{path}:{number}"))
    return frozenset(keys)


def _not_a_verifier(line: str, problem: str) -> str:
    """Why a line is not a collector verifier key, saying what it looks like instead."""
    where = ("the collector's verifier key is DATA/collector.vkey (`sealtail collector-key "
             "--data DATA`)")
    if line.startswith(PRIVATE_TAG + " "):
        return f"this is an agent private key, not a verifier key; {where}"
    if line.startswith(PUBLIC_TAG + " "):
        return f"this looks like an agent public key, not a verifier key; {where}"
    if problem.startswith("a verifier key is"):
        return f"not a verifier key (expected one line name+keyid+base64); {where}"
    return f"not a verifier key (name+keyid+base64): {problem}"


def load_note_verifier(path: Path) -> NoteVerifier:
    """Read a checkpoint verifier key (``name+keyid+base64``, the first non-comment line)."""
    try:
        lines = path.read_text().splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise KeyFileError(f"{path}: cannot read verifier key: {exc}") from exc
    for line in lines:
        line = line.strip()
        if line and not line.startswith("#"):
            try:
                return NoteVerifier.parse(line)
            except ValueError as exc:
                raise KeyFileError(f"{path}: {_not_a_verifier(line, str(exc))}") from exc
    raise KeyFileError(f"{path}: no verifier key in the file")
