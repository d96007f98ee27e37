"""summary_to_json / summary_from_json: exact round trip, versioned, strict on input."""

from __future__ import annotations

import copy
import json

import pytest

from agent.errors import ErrorCode
from agent.insights import (
    SUMMARY_FORMAT,
    SummaryFormatError,
    summarize,
    summary_from_json,
    summary_to_json,
)
from tests.unit.insights.traffic import HOUR, Traffic


@pytest.fixture(scope="module")
def summary():
    t = Traffic(5)
    t.brute_force("alice", "198.18.0.66", failures=50, at_ns=t.window_start + 10 * HOUR)
    t.silence("db-1", hours=3)
    t.spike("GET /api/orders <*> <*>", factor=20)
    return summarize(t.build())


def test_round_trip_through_json_text_is_exact(summary):
    """A summary written as JSON text and read back equals the original, field for field."""
    text = json.dumps(summary_to_json(summary), allow_nan=False)
    back = summary_from_json(json.loads(text))
    assert back == summary
    assert back.anomalies and back.audit and back.category_timeline  # non-trivial


def test_json_carries_the_format_version(summary):
    """The object names its format, so readers can refuse what they do not know."""
    assert summary_to_json(summary)["format"] == SUMMARY_FORMAT == "sealtail-summary/v1"


def test_series_keys_are_decimal_strings(summary):
    """Bucket starts (integers) are JSON object keys, written in decimal."""
    timeline = summary_to_json(summary)["category_timeline"]
    key = next(iter(next(iter(timeline.values()))))
    assert isinstance(key, str) and str(int(key)) == key


def _bad(summary, change):
    obj = copy.deepcopy(summary_to_json(summary))
    change(obj)
    with pytest.raises(SummaryFormatError) as info:
        summary_from_json(obj)
    assert info.value.code == ErrorCode.MALFORMED_SUMMARY
    return str(info.value)


def test_another_format_version_is_refused(summary):
    """A v2 object is refused with a message naming both versions."""
    msg = _bad(summary, lambda o: o.update(format="sealtail-summary/v2"))
    assert "sealtail-summary/v1" in msg and "sealtail-summary/v2" in msg


def test_missing_format_is_refused(summary):
    """An object without "format" is not taken for a summary."""
    assert "$.format" in _bad(summary, lambda o: o.pop("format"))


def test_a_wrongly_typed_value_is_refused_with_its_path(summary):
    """A score given as a string is refused; the message gives the path to it."""
    msg = _bad(summary, lambda o: o["anomalies"][0].update(score="50"))
    assert "$.anomalies[0].score: expected a number, got str" in msg


@pytest.mark.parametrize("change, where", [
    (lambda o: o.pop("total_lines"), "missing field 'total_lines'"),
    (lambda o: o.update(extra=1), "unknown field 'extra'"),
    (lambda o: o["anomalies"][0].update(kind="made_up"), "$.anomalies[0].kind"),
    (lambda o: o["anomalies"][0]["refs"][0].update(seq=True), "$.anomalies[0].refs[0].seq"),
    (lambda o: o.update(total_lines=1.5), "$.total_lines: expected an integer"),
    (lambda o: o["category_timeline"].update(normal={"x": 1}), "integer keys"),
    (lambda o: o["category_timeline"].update(normal={"007": 1}), "decimal"),
    (lambda o: o.update(audit={}), "$.audit: expected an array"),
    (lambda o: o.update(agent_filter=3), "$.agent_filter: expected a string"),
])
def test_malformed_objects_are_refused(summary, change, where):
    """Missing, unknown and mistyped fields are each refused, naming the place."""
    assert where in _bad(summary, change)


def test_a_non_object_is_refused():
    """A list or a string is not a summary."""
    for value in ([], "sealtail-summary/v1", None):
        with pytest.raises(SummaryFormatError, match="expected an object"):
            summary_from_json(value)  # type: ignore[arg-type]
