"""`summary_to_json` / `summary_from_json`: the Summary as a versioned JSON object.

The mapping is driven by the dataclasses' own type hints, so a field added to `_model.py`
(with a default) is carried without touching this file, and decoding checks every value's
type: a JSON object that is not exactly a summary of this format is refused, with the path
of the first bad value.
"""

from __future__ import annotations

import dataclasses
import math
import types
import typing
from functools import cache
from typing import Any, Literal, get_args, get_origin

from agent.errors import SummaryFormatError
from agent.insights import _model
from agent.insights._model import Summary

FORMAT = "sealtail-summary/v1"


@cache
def _hints(cls: type) -> dict[str, Any]:
    # The model's own namespace: public names may be re-homed to `agent.insights`.
    return typing.get_type_hints(cls, globalns=vars(_model))


def _encode(value: Any) -> Any:
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: _encode(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, dict):
        return {str(k): _encode(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_encode(v) for v in value]
    if isinstance(value, float) and not math.isfinite(value):
        raise ValueError(f"cannot encode a non-finite number ({value}) as JSON")
    return value


def summary_to_json(summary: Summary) -> dict[str, Any]:
    """The summary as a JSON-ready dict with `"format": "sealtail-summary/v1"`.

    Series keys (bucket starts, integers) become decimal strings, as JSON keys must be.
    """
    if not isinstance(summary, Summary):
        raise TypeError(f"summary_to_json: expected Summary, got {type(summary).__name__}")
    return {"format": FORMAT, **_encode(summary)}


def _fail(path: str, message: str) -> SummaryFormatError:
    return SummaryFormatError(f"summary JSON: {path}: {message}")


def _name(v: Any) -> str:
    return "null" if v is None else type(v).__name__


def _decode(tp: Any, value: Any, path: str) -> Any:
    origin = get_origin(tp)
    if dataclasses.is_dataclass(tp) and isinstance(tp, type):
        return _decode_class(tp, value, path)
    if origin in (typing.Union, types.UnionType):
        options = get_args(tp)
        if value is None and type(None) in options:
            return None
        (inner,) = [o for o in options if o is not type(None)]
        return _decode(inner, value, path)
    if origin is Literal:
        if value not in get_args(tp) or not isinstance(value, str):
            raise _fail(path, f"expected one of {', '.join(get_args(tp))}, got {value!r}")
        return value
    if origin is list or origin is tuple:
        if not isinstance(value, list):
            raise _fail(path, f"expected an array, got {_name(value)}")
        item = get_args(tp)[0]
        items = [_decode(item, v, f"{path}[{i}]") for i, v in enumerate(value)]
        return items if origin is list else tuple(items)
    if origin is dict:
        if not isinstance(value, dict):
            raise _fail(path, f"expected an object, got {_name(value)}")
        key_type, value_type = get_args(tp)
        out = {}
        for k, v in value.items():
            key: Any = k
            if key_type is int:
                try:
                    key = int(k)
                except ValueError:
                    raise _fail(path, f"expected integer keys, got {k!r}") from None
                if str(key) != k:
                    raise _fail(path, f"expected integer keys in decimal, got {k!r}")
            out[key] = _decode(value_type, v, f"{path}.{k}")
        return out
    if tp is bool:
        if not isinstance(value, bool):
            raise _fail(path, f"expected true or false, got {_name(value)}")
        return value
    if tp is int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise _fail(path, f"expected an integer, got {_name(value)}")
        return value
    if tp is float:
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise _fail(path, f"expected a number, got {_name(value)}")
        if not math.isfinite(value):
            raise _fail(path, f"expected a finite number, got {value}")
        return float(value)
    if tp is str:
        if not isinstance(value, str):
            raise _fail(path, f"expected a string, got {_name(value)}")
        return value
    raise TypeError(f"summary JSON: {path}: no decoder for {tp!r}")  # a model type we lack


def _decode_class(cls: type, value: Any, path: str) -> Any:
    if not isinstance(value, dict):
        raise _fail(path, f"expected an object, got {_name(value)}")
    hints = _hints(cls)
    fields = {f.name: f for f in dataclasses.fields(cls)}
    unknown = sorted(set(value) - set(fields))
    if unknown:
        raise _fail(path, f"unknown field {unknown[0]!r}")
    args = {}
    for name, f in fields.items():
        if name not in value:
            if f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING:
                raise _fail(path, f"missing field {name!r}")
            continue
        args[name] = _decode(hints[name], value[name], f"{path}.{name}")
    return cls(**args)


def summary_from_json(obj: dict[str, Any]) -> Summary:
    """The Summary that `summary_to_json` wrote; `summary_from_json(summary_to_json(s)) == s`.

    Raises:
        SummaryFormatError (code malformed_summary): `obj` is not an object, its "format" is
            missing or another version, a field is missing, unknown or of the wrong type.
            The message names the path, e.g. `summary JSON: $.anomalies[2].score: expected a
            number, got str`.
    """
    if not isinstance(obj, dict):
        raise _fail("$", f"expected an object, got {_name(obj)}")
    fmt = obj.get("format")
    if fmt != FORMAT:
        raise _fail("$.format", f"expected {FORMAT!r}, got {fmt!r}"
                    + (" (a newer or older sealtail wrote it)"
                       if isinstance(fmt, str) and fmt.startswith("sealtail-summary/") else ""))
    rest = {k: v for k, v in obj.items() if k != "format"}
    summary = _decode_class(Summary, rest, "$")
    assert isinstance(summary, Summary)
    return summary
