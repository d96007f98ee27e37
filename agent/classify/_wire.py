"""The model worker's pipe protocol, shared by the worker and the pool (little-endian).

request = u32 count, then per template: u32 length + the template bytes;
answer = per template, in request order: u16 label index + f32 confidence.
"""

from __future__ import annotations

import struct

COUNT = struct.Struct("<I")      # templates in this request
REQUEST = struct.Struct("<I")    # template length, then the template bytes
ANSWER = struct.Struct("<Hf")    # label index, confidence
MAX_REQUEST_BYTES = 64 * 1024    # per template
MAX_BATCH = 64                   # templates per request
