"""ship: stream spooled segments to the collector over gRPC, with acks and reconnects."""

from agent.config import ShipConfig
from agent.ship._shipper import Shipper, ShipState, ShipStatistics, fetch_chain_head

__all__ = ["ShipConfig", "ShipState", "ShipStatistics", "Shipper", "fetch_chain_head"]
