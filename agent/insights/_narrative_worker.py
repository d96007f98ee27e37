"""The narrative worker: a one-shot process that loads an instruct GGUF model and continues
one prompt.

    python -m agent.insights._narrative_worker '{"path": ..., "max_tokens": N}' < prompt

Prints `OK\\n<text>` or `ERROR <message>`. A native crash ends this process only; the caller
sees a non-zero exit and falls back to the deterministic narrative. The model is run by
`agent.classify.generate_text`, the project's one ctypes binding of ctransformers, with the
guards of MODEL-NOTES §7 (file checked first, mmap=False, own tokenization buffer, ids inside
the vocabulary, prompt cut to the context, greedy decoding).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from agent.classify import generate_text
from agent.errors import ModelError


def main() -> int:
    try:
        spec = json.loads(sys.argv[1])
        text = generate_text(Path(spec["path"]),
                             sys.stdin.buffer.read().decode("utf-8", "replace"),
                             int(spec["max_tokens"]))
    except (ModelError, KeyError, ValueError, IndexError) as exc:
        sys.stdout.write(f"ERROR {exc}\n")
        return 2
    sys.stdout.write("OK\n" + text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
