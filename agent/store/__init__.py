"""store: the collector's append-only storage (SQLite; PostgreSQL arrives later)."""

from agent.store._sqlite import (
    AgentRow,
    AppendResult,
    EntryRow,
    SearchFilter,
    SegmentRow,
    SQLiteStore,
)

__all__ = ["AgentRow", "AppendResult", "EntryRow", "SQLiteStore", "SearchFilter", "SegmentRow"]
