"""collector: the gRPC server that authorizes, verifies and stores segments and answers queries."""

from agent.collector._checkpoints import Checkpointer, default_origin
from agent.collector._lock import lock_data_dir
from agent.collector._server import IngestService, QueryService, build_server

__all__ = ["Checkpointer", "IngestService", "QueryService", "build_server", "default_origin",
           "lock_data_dir"]
