"""Insights from the sealed log: summaries, highlights and anomalies, each pointing at the
sealed lines behind it.

    WindowData (collector's aggregates) -> summarize() -> Summary -> render_text / render_html
                                                                  -> summary_to_json / _from_json

See `_model.py` for the data passed in and out, `_detect.py` for each detector's rule.
"""

from agent.errors import SummaryFormatError
from agent.insights._auth import AuthReducer, KeyRanking, auth_window, rank_keys
from agent.insights._extract import AUTH_CATEGORIES, Attempt, auth_attempt, parse_attempt
from agent.insights._html import render_html
from agent.insights._json import FORMAT as SUMMARY_FORMAT
from agent.insights._json import summary_from_json, summary_to_json
from agent.insights._model import (
    AgentActivity,
    Anomaly,
    AuditGroup,
    AuditLine,
    AuthEvent,
    AuthWindow,
    CountedKey,
    FailureTally,
    LineRef,
    Series,
    SuccessAfter,
    Summary,
    TemplateStats,
    UserHistory,
    WindowData,
)
from agent.insights._narrative import deterministic_narrative
from agent.insights._settings import InsightSettings
from agent.insights._summarize import summarize
from agent.insights._text import escape_terminal, render_text

__all__ = [
    "AUTH_CATEGORIES",
    "SUMMARY_FORMAT",
    "AgentActivity",
    "Anomaly",
    "Attempt",
    "AuditGroup",
    "AuditLine",
    "AuthEvent",
    "AuthReducer",
    "AuthWindow",
    "CountedKey",
    "FailureTally",
    "InsightSettings",
    "KeyRanking",
    "LineRef",
    "Series",
    "SuccessAfter",
    "Summary",
    "SummaryFormatError",
    "TemplateStats",
    "UserHistory",
    "WindowData",
    "auth_attempt",
    "auth_window",
    "deterministic_narrative",
    "escape_terminal",
    "parse_attempt",
    "rank_keys",
    "render_html",
    "render_text",
    "summarize",
    "summary_from_json",
    "summary_to_json",
]

for _name in __all__:
    _obj = globals()[_name]
    # Tracebacks and reprs name `agent.insights.X`, not the private module it lives in.
    if callable(_obj) and getattr(_obj, "__module__", "").startswith("agent.insights._"):
        _obj.__module__ = __name__
