"""agent/_pb is exactly what scripts/gen_proto.py generates from proto/."""

from __future__ import annotations

import subprocess
import sys

from tests.conftest import REPO


def test_generated_protobuf_code_is_in_sync_with_proto_files() -> None:
    proc = subprocess.run([sys.executable, "scripts/gen_proto.py", "--check"], cwd=REPO,
                          capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout + proc.stderr
