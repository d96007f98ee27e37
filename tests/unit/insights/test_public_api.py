"""agent.insights: the names the collector side calls, exactly."""

from __future__ import annotations

import inspect

import agent.insights as insights


def test_all_lists_exactly_the_public_names():
    """Every public name is in __all__ and every name in __all__ exists."""
    public = {n for n in vars(insights) if not n.startswith("_")
              and not inspect.ismodule(getattr(insights, n))}
    assert set(insights.__all__) == public


def test_entry_points_have_the_agreed_signatures():
    """summarize, the renderers and the JSON pair keep the signatures the collector uses."""
    assert str(inspect.signature(insights.summarize)) == (
        "(data: 'WindowData', *, settings: 'InsightSettings | None' = None) -> 'Summary'")
    for name in ("render_text", "render_html", "summary_to_json"):
        assert list(inspect.signature(getattr(insights, name)).parameters) == ["summary"]
    assert list(inspect.signature(insights.summary_from_json).parameters) == ["obj"]


def test_public_functions_and_classes_report_the_package_as_their_module():
    """Tracebacks name agent.insights.X, not the private module behind it."""
    for name in ("summarize", "render_text", "InsightSettings", "Summary", "WindowData"):
        assert getattr(insights, name).__module__ == "agent.insights"
