"""store: the collector's append-only storage (SQLite; PostgreSQL arrives later)."""

from agent.store._aggregates import (
    BUCKET_NS,
    StoredLine,
    check_segment_rows,
    segment_rows,
    stored_line,
)
from agent.store._sqlite import (
    AgentRow,
    AppendResult,
    CheckpointRow,
    EntryRow,
    EquivocationRow,
    SearchFilter,
    SearchPage,
    SegmentRow,
    SQLiteStore,
)

__all__ = ["BUCKET_NS", "AgentRow", "AppendResult", "CheckpointRow", "EntryRow",
           "EquivocationRow", "SQLiteStore", "SearchFilter", "SearchPage", "SegmentRow",
           "StoredLine", "check_segment_rows", "segment_rows", "stored_line"]
