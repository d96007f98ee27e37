"""tail: follow files matching globs through rotation and truncation; emit `LineBatch`es."""

from agent.config import TailConfig
from agent.tail._lines import LineSplitter, utf8_prefix
from agent.tail._tailer import CursorKeeper, Tailer, TailStatistics

__all__ = ["CursorKeeper", "LineSplitter", "TailConfig", "TailStatistics", "Tailer", "utf8_prefix"]
