"""seal: group labeled lines into Merkle-rooted, Ed25519-signed, hash-chained segments."""

from agent.config import SealConfig
from agent.seal._sealer import Sealer, SealStatistics

__all__ = ["SealConfig", "SealStatistics", "Sealer"]
