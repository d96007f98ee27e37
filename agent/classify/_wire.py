"""The model worker's pipe protocol, shared by the worker and the pool (little-endian)."""

from __future__ import annotations

import struct

REQUEST = struct.Struct("<I")    # template length, then the template bytes
ANSWER = struct.Struct("<Hf")    # label index, confidence
MAX_REQUEST_BYTES = 64 * 1024
