"""The sealer writes each line's template id, as the classifier gave it, into its entry."""

from __future__ import annotations

import asyncio

import nacl.signing

from agent._pb import sealtail_pb2 as pb
from agent.classify import Classifier, ClassifyConfig, mask, template_id
from agent.formats import verify_segment
from agent.records import (
    ChainHead,
    Cursor,
    FileIdentity,
    LabeledBatch,
    LineBatch,
    RawLine,
    SealedSegment,
)
from agent.seal import SealConfig, Sealer

LINES = [b"Failed password for root from 203.0.113.9 port 22 ssh2",
         b"Accepted publickey for alice from 198.51.100.4 port 50022 ssh2",
         b"GET /index.html 200"]


async def test_each_sealed_entry_carries_its_lines_template_id() -> None:
    """Entry.template_id == template_id(mask(line)) for every line, and the segment verifies."""
    classifier = Classifier(ClassifyConfig(model=False))
    cursor = Cursor("/var/log/auth.log", FileIdentity(1, 2, bytes(32), 0), 200)
    batch = LineBatch(cursor, tuple(RawLine(line, i, 1_000 + i) for i, line in enumerate(LINES)))
    out: list[SealedSegment] = []

    async def sink(seg: SealedSegment) -> None:
        out.append(seg)

    inbox: asyncio.Queue[LabeledBatch | None] = asyncio.Queue()
    sealer = Sealer(SealConfig(), nacl.signing.SigningKey.generate(), "h", ChainHead.genesis(),
                    inbox, sink)
    await inbox.put(classifier.classify(batch))
    await inbox.put(None)
    await sealer.run()
    seg = out[0]
    verified = verify_segment(seg.header, seg.signature, seg.entries)
    ids = [pb.Entry.FromString(e).template_id for e in verified.entries]
    assert ids == [template_id(mask(line)) for line in LINES]
