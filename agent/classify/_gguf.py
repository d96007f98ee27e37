"""A small GGUF reader that checks a model file before the native loader ever sees it.

ctransformers 0.2.27 segfaults on a corrupt header, on GGUF version 1 and on a tokenizer without
all 256 byte tokens, and reports every other failure without a reason (MODEL-NOTES §1, §3, §7).
So the agent reads the header itself, in Python, with bounded sizes, and refuses anything the
loader would choke on, naming the file and the reason.
"""

from __future__ import annotations

import struct
from pathlib import Path
from typing import Any, BinaryIO, NamedTuple

from agent.errors import ModelError

_MAX_COUNT = 100_000          # keys or tensors in a header
_MAX_STRING = 1 << 20         # bytes of one string
_MAX_ARRAY = 10_000_000       # items of one array
# ggml type → (block elements, block bytes); only the types ctransformers 0.2.27 loads.
_TYPES = {0: (1, 4), 1: (1, 2), 2: (32, 18), 3: (32, 20), 6: (32, 22), 7: (32, 24), 8: (32, 34)}
_SCALARS = {0: "<B", 1: "<b", 2: "<H", 3: "<h", 4: "<I", 5: "<i", 6: "<f", 7: "<?", 10: "<Q",
            11: "<q", 12: "<d"}
_REQUIRED_KEYS = ("llama.context_length", "llama.embedding_length", "llama.block_count",
                  "llama.feed_forward_length", "llama.attention.head_count",
                  "llama.attention.layer_norm_rms_epsilon", "tokenizer.ggml.model",
                  "tokenizer.ggml.tokens", "tokenizer.ggml.scores", "tokenizer.ggml.token_type")
_LAYER_TENSORS = ("attn_norm", "attn_q", "attn_k", "attn_v", "attn_output", "ffn_norm",
                  "ffn_gate", "ffn_up", "ffn_down")


# NamedTuples, not dataclasses: the model worker imports this module, and `dataclasses`
# (inspect, ast, dis, tokenize) would add ~1.3 MiB to its resident memory.
class TensorInfo(NamedTuple):
    name: str
    shape: tuple[int, ...]
    type: int
    offset: int


class GGUFInfo(NamedTuple):
    """What the agent needs from a checked model file."""

    version: int
    metadata: dict[str, Any]
    tensors: tuple[TensorInfo, ...]
    tokens: tuple[str, ...]

    @property
    def vocab_size(self) -> int:
        return len(self.tokens)


class _Reader:
    def __init__(self, f: BinaryIO, path: Path) -> None:
        self.f = f
        self.path = path

    def fail(self, why: str) -> ModelError:
        return ModelError(f"{self.path}: not a usable GGUF model: {why}")

    def take(self, n: int) -> bytes:
        data = self.f.read(n)
        if len(data) != n:
            raise self.fail("file ends inside the header (truncated?)")
        return data

    def unpack(self, fmt: str) -> Any:
        return struct.unpack(fmt, self.take(struct.calcsize(fmt)))[0]

    def string(self) -> str:
        n = self.unpack("<Q")
        if n > _MAX_STRING:
            raise self.fail(f"string of {n} bytes in the header")
        return self.take(n).decode("utf-8", errors="replace")

    def value(self, kind: int) -> Any:
        if kind in _SCALARS:
            return self.unpack(_SCALARS[kind])
        if kind == 8:
            return self.string()
        if kind == 9:
            item, n = self.unpack("<I"), self.unpack("<Q")
            if n > _MAX_ARRAY or item == 9:
                raise self.fail(f"array of {n} items of type {item}")
            if item in _SCALARS:  # read in one go: the vocabulary scores are 10^4 floats
                fmt = _SCALARS[item]
                size = struct.calcsize(fmt)
                return list(struct.unpack(f"<{n}{fmt[1]}", self.take(n * size)))
            return [self.value(item) for _ in range(n)]
        raise self.fail(f"unknown value type {kind}")


def read_gguf(path: Path) -> GGUFInfo:
    """Parse and check `path`; raise ModelError naming the file for anything unusable."""
    try:
        f = path.open("rb")
    except OSError as exc:
        raise ModelError(f"{path}: cannot open the model file: {exc.strerror}") from exc
    with f:
        r = _Reader(f, path)
        if r.take(4) != b"GGUF":
            raise r.fail("no GGUF magic at the start")
        version = r.unpack("<I")
        if version not in (2, 3):  # version 1 segfaults the loader; later ones are unknown
            raise r.fail(f"GGUF version {version} (2 or 3 supported)")
        n_tensors, n_kv = r.unpack("<Q"), r.unpack("<Q")
        if n_tensors > _MAX_COUNT or n_kv > _MAX_COUNT:
            raise r.fail(f"{n_tensors} tensors and {n_kv} keys in the header")
        meta: dict[str, Any] = {}
        for _ in range(n_kv):
            key = r.string()
            meta[key] = r.value(r.unpack("<I"))
        tensors = []
        for _ in range(n_tensors):
            name = r.string()
            n_dims = r.unpack("<I")
            if not 1 <= n_dims <= 4:
                raise r.fail(f"tensor {name} has {n_dims} dimensions")
            dims = tuple(r.unpack("<Q") for _ in range(n_dims))
            tensors.append(TensorInfo(name, dims, r.unpack("<I"), r.unpack("<Q")))
        alignment = int(meta.get("general.alignment", 32))
        data_start = -(-f.tell() // max(1, alignment)) * max(1, alignment)
        size = path.stat().st_size
    info = GGUFInfo(version, meta, tuple(tensors), tuple(meta.get("tokenizer.ggml.tokens", ())))
    _check(info, data_start, size, r)
    return info


def _check(info: GGUFInfo, data_start: int, size: int, r: _Reader) -> None:
    meta = info.metadata
    if meta.get("general.architecture") != "llama":
        raise r.fail(f"architecture {meta.get('general.architecture')!r}, expected 'llama'")
    missing = [k for k in _REQUIRED_KEYS if k not in meta]
    if missing:
        raise r.fail(f"missing keys {missing}")
    if meta["tokenizer.ggml.model"] != "llama":
        raise r.fail(f"tokenizer {meta['tokenizer.ggml.model']!r}, expected 'llama' "
                     "(SentencePiece)")
    tokens = set(info.tokens)
    absent = [f"<0x{b:02X}>" for b in range(256) if f"<0x{b:02X}>" not in tokens]
    if absent:  # a missing byte token aborts the process on the first line that needs it
        raise r.fail(f"vocabulary lacks byte tokens {absent[:4]}{'…' if len(absent) > 4 else ''}")
    n = len(info.tokens)
    if len(meta["tokenizer.ggml.scores"]) != n or len(meta["tokenizer.ggml.token_type"]) != n:
        raise r.fail("token scores or types do not match the token list")
    dim, heads = meta["llama.embedding_length"], meta["llama.attention.head_count"]
    if not (0 < heads <= dim and dim % heads == 0):
        raise r.fail(f"embedding length {dim} is not a multiple of {heads} heads")
    names = {t.name for t in info.tensors}
    expected = {"token_embd.weight", "output_norm.weight", "output.weight"} | {
        f"blk.{i}.{t}.weight" for i in range(meta["llama.block_count"]) for t in _LAYER_TENSORS}
    if names != expected:
        wrong = sorted(expected - names)[:3] + sorted(names - expected)[:3]
        raise r.fail(f"tensor set differs from a llama model's (e.g. {wrong})")
    for t in info.tensors:
        if t.type not in _TYPES:
            raise r.fail(f"tensor {t.name} has unsupported type {t.type}")
        block, block_bytes = _TYPES[t.type]
        elements = 1
        for d in t.shape:
            elements *= d
        if t.shape[0] % block:
            raise r.fail(f"tensor {t.name} rows of {t.shape[0]} are not a multiple of {block}")
        end = data_start + t.offset + elements // block * block_bytes
        if end > size:  # a truncated file loads with mmap and segfaults on first use
            raise r.fail(f"tensor {t.name} ends at byte {end}, file has {size} (truncated?)")
