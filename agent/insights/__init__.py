"""Insights from the sealed log: summaries, highlights and anomalies, each pointing at the
sealed lines behind it. See `_model.py` for the data passed in and out."""

from agent.insights._extract import AUTH_CATEGORIES, Attempt, auth_attempt, parse_attempt
from agent.insights._model import (
    AgentActivity,
    Anomaly,
    AuditGroup,
    AuditLine,
    AuthEvent,
    CountedKey,
    LineRef,
    Series,
    Summary,
    TemplateStats,
    UserHistory,
    WindowData,
)

__all__ = [
    "AUTH_CATEGORIES",
    "AgentActivity",
    "Anomaly",
    "Attempt",
    "AuditGroup",
    "AuditLine",
    "AuthEvent",
    "CountedKey",
    "LineRef",
    "Series",
    "Summary",
    "TemplateStats",
    "UserHistory",
    "WindowData",
    "auth_attempt",
    "parse_attempt",
]
