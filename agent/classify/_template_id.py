"""Template ids: a short stable name for a template, signed into every entry.

The id is the first 8 bytes of SHA-256 of the masked template (`mask`). Lines of one kind
share it, so the collector counts by template without re-mining the text, and because it
sits in the signed leaf nobody can re-label a line's template afterwards.
"""

from __future__ import annotations

import hashlib

TEMPLATE_ID_BYTES = 8


def template_id(template: bytes) -> bytes:
    """The id of a masked template (as `mask` returns it): SHA-256(template)[:8]."""
    return hashlib.sha256(template).digest()[:TEMPLATE_ID_BYTES]
