"""A minimal ctypes binding to ctransformers' llama.cpp library, guarded against its crashes.

Calls `libctransformers.so` from the ctransformers wheel directly instead of importing the
`ctransformers` package: that import pulls in huggingface_hub (network, 35 MiB), probes the CPU
for a second, and its `tokenize()` overflows the heap on emoji (MODEL-NOTES §4, §7). Guards, one
per hazard in MODEL-NOTES §7:
  1. tokenize into our own buffer of len(bytes) + 8 ids (never the library's len(text) + 1);
  2. text decoded with replacement, NULs removed (`_prompt.prompt_text`);
  3. ids outside 0 <= id < vocab dropped before eval;
  4. prompts cut to MAX_PROMPT_TOKENS, far below the context;
  5. never an empty prompt (BOS at least);
  6. the file is checked (`_gguf.read_gguf`) and loaded with mmap=False;
  7. one instance per process, used by one thread (the worker);
  8. the context is reset for every prompt: evaluated at n_past=0, or (prefix reuse) at
     n_past=k where the first k ids equal the previous prompt's, so positions < k already
     hold exactly this prompt's keys and values and every later one is rewritten. k stops
     one id short of the prompt, so each eval has at least one id (an empty eval would
     leave the previous logits). MODEL-NOTES §4 measured identical logits; so does a test.
Run this only inside the worker process (`_worker`): a crash we did not foresee still
takes down the worker, never the agent.
"""

from __future__ import annotations

import ctypes
import importlib.util
import math
from collections.abc import Sequence
from pathlib import Path

from agent.classify._gguf import GGUFInfo, read_gguf
from agent.classify._prompt import MODEL_CONTEXT, fit_ids, prompt_text, suffix_tokens
from agent.errors import ModelError

_int_p = ctypes.POINTER(ctypes.c_int)
_float_p = ctypes.POINTER(ctypes.c_float)


class _ConfigStruct(ctypes.Structure):
    _fields_ = [("context_length", ctypes.c_int), ("gpu_layers", ctypes.c_int),
                ("mmap", ctypes.c_bool), ("mlock", ctypes.c_bool)]


def library_path() -> Path:
    """The wheel's library for this CPU: avx2, avx or basic, read from /proc/cpuinfo."""
    spec = importlib.util.find_spec("ctransformers")  # locates without importing it
    if spec is None or not spec.submodule_search_locations:
        raise ModelError("the ctransformers package is not installed (pip install ctransformers)")
    try:
        flags = Path("/proc/cpuinfo").read_text().split()
    except OSError:
        flags = []
    variant = "avx2" if "avx2" in flags else "avx" if "avx" in flags else "basic"
    path = Path(spec.submodule_search_locations[0]) / "lib" / variant / "libctransformers.so"
    if not path.is_file():
        raise ModelError(f"{path}: ctransformers library not found")
    return path


_LIB: ctypes.CDLL | None = None


def _lib() -> ctypes.CDLL:
    global _LIB
    if _LIB is None:
        lib = ctypes.CDLL(str(library_path()))
        lib.ctransformers_llm_create.argtypes = [ctypes.c_char_p, ctypes.c_char_p, _ConfigStruct]
        lib.ctransformers_llm_create.restype = ctypes.c_void_p
        lib.ctransformers_llm_delete.argtypes = [ctypes.c_void_p]
        lib.ctransformers_llm_delete.restype = None
        lib.ctransformers_llm_tokenize.argtypes = [ctypes.c_void_p, ctypes.c_char_p,
                                                   ctypes.c_bool, _int_p]
        lib.ctransformers_llm_tokenize.restype = ctypes.c_int
        lib.ctransformers_llm_vocab_size.argtypes = [ctypes.c_void_p]
        lib.ctransformers_llm_vocab_size.restype = ctypes.c_int
        lib.ctransformers_llm_batch_eval.argtypes = [ctypes.c_void_p, _int_p, ctypes.c_int,
                                                     ctypes.c_int, ctypes.c_int, ctypes.c_int]
        lib.ctransformers_llm_batch_eval.restype = ctypes.c_bool
        lib.ctransformers_llm_logits_data.argtypes = [ctypes.c_void_p]
        lib.ctransformers_llm_logits_data.restype = _float_p
        lib.ctransformers_llm_logits_size.argtypes = [ctypes.c_void_p]
        lib.ctransformers_llm_logits_size.restype = ctypes.c_int
        # For generate_text (the insights narrative):
        lib.ctransformers_llm_detokenize.argtypes = [ctypes.c_void_p, ctypes.c_int]
        lib.ctransformers_llm_detokenize.restype = ctypes.c_char_p
        lib.ctransformers_llm_is_eos_token.argtypes = [ctypes.c_void_p, ctypes.c_int]
        lib.ctransformers_llm_is_eos_token.restype = ctypes.c_bool
        lib.ctransformers_llm_sample.argtypes = [ctypes.c_void_p, _int_p, ctypes.c_int,
                                                 ctypes.c_int, ctypes.c_float, ctypes.c_float,
                                                 ctypes.c_float, ctypes.c_int]
        lib.ctransformers_llm_sample.restype = ctypes.c_int
        _LIB = lib
    return _LIB


def resolve_labels(info: GGUFInfo, labels: Sequence[str], tokenize: object) -> list[int]:
    """Token id of each label: an exact vocabulary entry, else the first token of its text."""
    assert callable(tokenize)
    index = {tok: i for i, tok in enumerate(info.tokens)}
    ids = []
    for label in labels:
        if label in index:
            ids.append(index[label])
            continue
        toks = tokenize(label)[1:]  # drop BOS
        if not toks:
            raise ModelError(f"label {label!r} tokenizes to nothing")
        ids.append(toks[0])
    if len(set(ids)) != len(ids):
        raise ModelError(f"labels {list(labels)} do not start with distinct tokens")
    return ids


class LabelModel:
    """One loaded model: scores a template against a fixed set of label tokens."""

    def __init__(self, handle: int, info: GGUFInfo, labels: Sequence[str], prompt: str,
                 threads: int, reuse_prefix: bool = True) -> None:
        self._lib = _lib()
        self._h: int | None = handle
        self.reuse_prefix = reuse_prefix
        self._last: list[int] = []  # ids whose keys/values the context holds (prefix reuse)
        self.evaluated = self.reused = 0  # ids evaluated, ids skipped thanks to the prefix
        self.info = info
        self.prompt = prompt
        self.threads = threads
        self.vocab = self._lib.ctransformers_llm_vocab_size(handle)
        self.label_ids = resolve_labels(info, labels, self._tokenize)
        if max(self.label_ids) >= self.vocab:
            raise ModelError(f"label ids {self.label_ids} outside the vocabulary ({self.vocab})")
        self.tail = suffix_tokens(self._tokenize, prompt)
        bos = info.metadata.get("tokenizer.ggml.bos_token_id", 1)
        self._bos = int(bos) if 0 <= int(bos) < self.vocab else 1

    @classmethod
    def load(cls, path: Path, labels: Sequence[str], prompt: str, threads: int = 1,
             reuse_prefix: bool = True) -> LabelModel:
        """Check and load `path`; ModelError names the file when it is unusable."""
        info = read_gguf(path)
        config = _ConfigStruct(context_length=MODEL_CONTEXT, gpu_layers=0, mmap=False,
                               mlock=False)
        handle = _lib().ctransformers_llm_create(str(path).encode(), b"llama", config)
        if not handle:
            raise ModelError(f"{path}: ctransformers could not load the model")
        return cls(handle, info, labels, prompt, threads, reuse_prefix)

    def _tokenize(self, text: str) -> list[int]:
        data = text.encode("utf-8", errors="replace")
        # BOS, the leading "▁" and byte fallback can give more ids than characters; the
        # library's own wrapper allocates len(text) + 1 and overflows the heap (hazard 1).
        buf = (ctypes.c_int * (len(data) + 8))()
        n = self._lib.ctransformers_llm_tokenize(self._handle(), data, True, buf)
        return list(buf[: max(0, min(n, len(buf)))])

    def _handle(self) -> int:
        if self._h is None:
            raise RuntimeError("model is closed")
        return self._h

    def prompt_ids(self, template: bytes) -> list[int]:
        """Token ids evaluated for `template`: bounded, in-vocabulary, never empty."""
        ids = [i for i in self._tokenize(prompt_text(template, self.prompt))
               if 0 <= i < self.vocab]
        if not ids or ids[0] != self._bos:
            ids.insert(0, self._bos)
        return fit_ids(ids, self.tail)

    def _logits_of_ids(self, ids: list[int]) -> list[float]:
        keep = 0
        if self.reuse_prefix:
            last = self._last
            limit = min(len(ids) - 1, len(last))
            while keep < limit and ids[keep] == last[keep]:
                keep += 1
        todo = ids[keep:]
        arr = (ctypes.c_int * len(todo))(*todo)
        self._last = []  # until the eval succeeds, the context holds nothing reusable
        # n_past=keep rewrites the KV cache from position `keep`; positions before it hold
        # this prompt's own ids (guard 8): no state of another prompt is read.
        if not self._lib.ctransformers_llm_batch_eval(self._handle(), arr, len(todo), keep,
                                                      len(todo), self.threads):
            raise ModelError("ctransformers failed to evaluate a prompt")
        self._last = ids
        self.evaluated += len(todo)
        self.reused += keep
        logits = self._lib.ctransformers_llm_logits_data(self._handle())
        return [float(logits[i]) for i in self.label_ids]

    def label_logits(self, template: bytes) -> list[float]:
        return self._logits_of_ids(self.prompt_ids(template))

    @staticmethod
    def _answer(logits: list[float]) -> tuple[int, float]:
        top = max(range(len(logits)), key=logits.__getitem__)
        total = sum(math.exp(x - logits[top]) for x in logits)
        return top, 1.0 / total

    def classify(self, template: bytes) -> tuple[int, float]:
        """(label index, softmax probability over the labels) for `template`."""
        return self._answer(self.label_logits(template))

    def classify_many(self, templates: Sequence[bytes]) -> list[tuple[int, float]]:
        """`classify` of each template, in order; evaluated sorted by token ids, so that
        neighbours share the longest prefixes (prefix reuse evaluates only the rest)."""
        ids = [self.prompt_ids(t) for t in templates]
        answers: list[tuple[int, float]] = [(0, 0.0)] * len(templates)
        for i in sorted(range(len(ids)), key=ids.__getitem__):
            answers[i] = self._answer(self._logits_of_ids(ids[i]))
        return answers

    def close(self) -> None:
        if self._h is not None:
            self._lib.ctransformers_llm_delete(self._h)
            self._h = None


GENERATE_CONTEXT = 2048


def generate_text(path: Path, prompt: str, max_tokens: int) -> str:
    """Continue `prompt` greedily (the same facts give the same text) with the GGUF model at
    `path`, with the same guards as LabelModel: the file checked first and loaded with
    mmap=False, our own tokenization buffer, ids inside the vocabulary, the prompt cut so
    prompt + answer fit the context, never an empty prompt. Stops at EOS or "###".
    Run it only in a throwaway process (agent.insights' narrative worker). Raises ModelError."""
    read_gguf(path)
    lib = _lib()
    config = _ConfigStruct(context_length=GENERATE_CONTEXT, gpu_layers=0, mmap=False,
                           mlock=False)
    h = lib.ctransformers_llm_create(str(path).encode(), b"llama", config)
    if not h:
        raise ModelError(f"{path}: ctransformers could not load the model")
    try:
        vocab = lib.ctransformers_llm_vocab_size(h)
        data = prompt.encode("utf-8", errors="replace").replace(b"\0", b" ")
        buf = (ctypes.c_int * (len(data) + 8))()
        n = lib.ctransformers_llm_tokenize(h, data, True, buf)
        ids = [i for i in buf[: max(0, min(n, len(buf)))] if 0 <= i < vocab] or [1]
        budget = GENERATE_CONTEXT - max_tokens - 1
        ids = ids[:1] + ids[1:][-(budget - 1):] if len(ids) > budget else ids
        arr = (ctypes.c_int * len(ids))(*ids)
        if not lib.ctransformers_llm_batch_eval(h, arr, len(ids), 0, 64, 2):
            raise ModelError(f"{path}: ctransformers failed to evaluate the prompt")
        context = list(ids)
        out = b""
        for _ in range(max_tokens):
            last = context[-64:]
            last_arr = (ctypes.c_int * len(last))(*last)
            tok = lib.ctransformers_llm_sample(h, last_arr, len(last), 1, 1.0, 1.0, 1.1, 0)
            if not 0 <= tok < vocab or lib.ctransformers_llm_is_eos_token(h, tok):
                break
            out += lib.ctransformers_llm_detokenize(h, tok) or b""
            if b"###" in out:
                break
            one = (ctypes.c_int * 1)(tok)
            if not lib.ctransformers_llm_batch_eval(h, one, 1, len(context), 1, 2):
                raise ModelError(f"{path}: ctransformers failed to evaluate a token")
            context.append(tok)
        return out.decode("utf-8", errors="replace")
    finally:
        lib.ctransformers_llm_delete(h)
