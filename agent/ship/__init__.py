"""ship: stream spooled segments to the collector over gRPC, with acks and reconnects."""

from agent.config import ShipConfig
from agent.ship._shipper import (
    HISTORY_CODES,
    Shipper,
    ShipState,
    ShipStatistics,
    fetch_chain_head,
)

__all__ = ["HISTORY_CODES", "ShipConfig", "ShipState", "ShipStatistics", "Shipper",
           "fetch_chain_head"]
