"""store: the collector's append-only storage (SQLite; PostgreSQL arrives later)."""

from agent.store._sqlite import (
    AgentRow,
    AppendResult,
    CheckpointRow,
    EntryRow,
    EquivocationRow,
    SearchFilter,
    SegmentRow,
    SQLiteStore,
)

__all__ = ["AgentRow", "AppendResult", "CheckpointRow", "EntryRow", "EquivocationRow",
           "SQLiteStore", "SearchFilter", "SegmentRow"]
