"""The model worker: a separate process that owns one model and answers batches of templates.

    python -m agent.classify._worker '<json spec>'

Protocol on stdin/stdout (`_wire`): a request holds up to MAX_BATCH templates, the answer one
(label index, confidence) per template in request order. At start it prints one line,
`READY <vocab size>` or `ERROR <message>`. A native crash ends this process only; the agent
sees EOF on the pipe. Out-of-bounds counts or lengths end it with status 3.
"""

from __future__ import annotations

import json
import signal
import sys
from pathlib import Path
from typing import BinaryIO

from agent.classify._wire import ANSWER, COUNT, MAX_BATCH, MAX_REQUEST_BYTES, REQUEST


def _read_exact(stream: BinaryIO, n: int) -> bytes | None:
    data = b""
    while len(data) < n:
        chunk = stream.read(n - len(data))
        if not chunk:
            return None
        data += chunk
    return data


def serve(spec: dict[str, object], stdin: BinaryIO, stdout: BinaryIO) -> int:
    from agent.classify._llm import LabelModel
    from agent.errors import ModelError

    try:
        labels = spec["labels"]
        assert isinstance(labels, list)
        model = LabelModel.load(Path(str(spec["path"])), [str(x) for x in labels],
                                str(spec["prompt"]), reuse_prefix=bool(spec.get("reuse", True)))
    except ModelError as exc:
        stdout.write(f"ERROR {exc.message}\n".encode())
        stdout.flush()
        return 2
    stdout.write(f"READY {model.vocab}\n".encode())
    stdout.flush()
    while True:
        head = _read_exact(stdin, COUNT.size)
        if head is None:
            return 0
        (count,) = COUNT.unpack(head)
        if not 0 < count <= MAX_BATCH:
            return 3
        templates = []
        for _ in range(count):
            size = _read_exact(stdin, REQUEST.size)
            if size is None:
                return 0
            (n,) = REQUEST.unpack(size)
            if n > MAX_REQUEST_BYTES:
                return 3
            template = _read_exact(stdin, n)
            if template is None:
                return 0
            templates.append(template)
        answers = model.classify_many(templates)
        stdout.write(b"".join(ANSWER.pack(index, confidence) for index, confidence in answers))
        stdout.flush()


def main() -> int:
    # Ctrl-C and systemd's SIGTERM reach the whole process group; the agent still drains its
    # lines after them, so the worker lives on until the agent closes the pipe (EOF).
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    return serve(json.loads(sys.argv[1]), sys.stdin.buffer, sys.stdout.buffer)


if __name__ == "__main__":
    sys.exit(main())
