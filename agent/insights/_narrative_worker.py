"""The narrative worker: a one-shot process that loads an instruct GGUF model and continues
one prompt.

    python -m agent.insights._narrative_worker '{"path": ..., "max_tokens": N}' < prompt

Prints `OK\\n<text>` or `ERROR <message>`. A native crash ends this process only; the caller
sees a non-zero exit and falls back to the deterministic narrative.

Binds `libctransformers.so` from the ctransformers wheel through ctypes, with the guards of
MODEL-NOTES §7: the GGUF header is checked before loading (version 1 segfaults), the file is
loaded with mmap=False (a truncated file then fails cleanly), text is tokenized into our own
buffer of len(bytes) + 8 ids, ids are kept inside the vocabulary, the prompt is cut so
prompt + answer fit the context, and decoding is greedy (the same facts give the same text).
"""

from __future__ import annotations

import ctypes
import importlib.util
import json
import struct
import sys
from pathlib import Path

CONTEXT = 2048
_int_p = ctypes.POINTER(ctypes.c_int)


class _Config(ctypes.Structure):
    _fields_ = [("context_length", ctypes.c_int), ("gpu_layers", ctypes.c_int),
                ("mmap", ctypes.c_bool), ("mlock", ctypes.c_bool)]


class WorkerError(Exception):
    pass


def _library() -> ctypes.CDLL:
    spec = importlib.util.find_spec("ctransformers")  # locate, do not import (network, 1 s)
    if spec is None or not spec.submodule_search_locations:
        raise WorkerError("the ctransformers package is not installed")
    try:
        flags = Path("/proc/cpuinfo").read_text().split()
    except OSError:
        flags = []
    variant = "avx2" if "avx2" in flags else "avx" if "avx" in flags else "basic"
    path = Path(spec.submodule_search_locations[0]) / "lib" / variant / "libctransformers.so"
    lib = ctypes.CDLL(str(path))
    vp, ci, cf = ctypes.c_void_p, ctypes.c_int, ctypes.c_float
    lib.ctransformers_llm_create.argtypes = [ctypes.c_char_p, ctypes.c_char_p, _Config]
    lib.ctransformers_llm_create.restype = vp
    lib.ctransformers_llm_tokenize.argtypes = [vp, ctypes.c_char_p, ctypes.c_bool, _int_p]
    lib.ctransformers_llm_tokenize.restype = ci
    lib.ctransformers_llm_detokenize.argtypes = [vp, ci]
    lib.ctransformers_llm_detokenize.restype = ctypes.c_char_p
    lib.ctransformers_llm_is_eos_token.argtypes = [vp, ci]
    lib.ctransformers_llm_is_eos_token.restype = ctypes.c_bool
    lib.ctransformers_llm_vocab_size.argtypes = [vp]
    lib.ctransformers_llm_vocab_size.restype = ci
    lib.ctransformers_llm_batch_eval.argtypes = [vp, _int_p, ci, ci, ci, ci]
    lib.ctransformers_llm_batch_eval.restype = ctypes.c_bool
    lib.ctransformers_llm_sample.argtypes = [vp, _int_p, ci, ci, cf, cf, cf, ci]
    lib.ctransformers_llm_sample.restype = ci
    return lib


def check_gguf(path: Path) -> None:
    """Refuse what is known to crash the loader: not GGUF, GGUF v1, a truncated header."""
    try:
        with path.open("rb") as f:
            head = f.read(24)
    except OSError as exc:
        raise WorkerError(f"{path}: cannot read: {exc.strerror}") from exc
    if len(head) < 24 or head[:4] != b"GGUF":
        raise WorkerError(f"{path}: not a GGUF file")
    (version,) = struct.unpack("<I", head[4:8])
    if version < 2:
        raise WorkerError(f"{path}: GGUF version {version} is not supported (need 2 or 3)")


def generate(path: Path, prompt: str, max_tokens: int) -> str:
    check_gguf(path)
    lib = _library()
    h = lib.ctransformers_llm_create(str(path).encode(), b"llama",
                                     _Config(context_length=CONTEXT, gpu_layers=0, mmap=False,
                                             mlock=False))
    if not h:
        raise WorkerError(f"{path}: ctransformers could not load the model")
    vocab = lib.ctransformers_llm_vocab_size(h)
    data = prompt.encode("utf-8", errors="replace").replace(b"\0", b" ")
    buf = (ctypes.c_int * (len(data) + 8))()
    n = lib.ctransformers_llm_tokenize(h, data, True, buf)
    ids = [i for i in buf[: max(0, min(n, len(buf)))] if 0 <= i < vocab]
    if not ids:
        ids = [1]
    budget = CONTEXT - max_tokens - 1
    ids = ids[:1] + ids[1:][-(budget - 1):] if len(ids) > budget else ids
    arr = (ctypes.c_int * len(ids))(*ids)
    if not lib.ctransformers_llm_batch_eval(h, arr, len(ids), 0, 64, 2):
        raise WorkerError("ctransformers failed to evaluate the prompt")
    context = list(ids)
    out = b""
    for _ in range(max_tokens):
        last = context[-64:]
        last_arr = (ctypes.c_int * len(last))(*last)
        # top_k=1: greedy, so the same facts give the same narrative.
        tok = lib.ctransformers_llm_sample(h, last_arr, len(last), 1, 1.0, 1.0, 1.1, 0)
        if not 0 <= tok < vocab or lib.ctransformers_llm_is_eos_token(h, tok):
            break
        out += lib.ctransformers_llm_detokenize(h, tok) or b""
        if b"###" in out:
            break
        one = (ctypes.c_int * 1)(tok)
        if not lib.ctransformers_llm_batch_eval(h, one, 1, len(context), 1, 2):
            raise WorkerError("ctransformers failed to evaluate a token")
        context.append(tok)
    return out.decode("utf-8", errors="replace")


def main() -> int:
    try:
        spec = json.loads(sys.argv[1])
        text = generate(Path(spec["path"]), sys.stdin.buffer.read().decode("utf-8", "replace"),
                        int(spec["max_tokens"]))
    except (WorkerError, KeyError, ValueError, IndexError) as exc:
        sys.stdout.write(f"ERROR {exc}\n")
        return 2
    sys.stdout.write("OK\n" + text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
