"""Log lines on stderr that journald and `kubectl logs` keep whole: one line per event.

Two forms, chosen by ``ops.log_format`` or ``--log-format``:

* ``keyvalue`` (default): ``2026-12-03 10:00:00,123 level=INFO logger=sealtail.ship msg=…``
* ``json``: ``{"time": "2026-12-03T10:00:00.123456+00:00", "level": "INFO", "logger": …,
  "msg": …}`` with ``exc`` holding a traceback when there is one.

Newlines inside a message or traceback are escaped so one event never spans two lines.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import sys

KEYVALUE = "%(asctime)s level=%(levelname)s logger=%(name)s msg=%(message)s"


class KeyValueFormatter(logging.Formatter):
    def __init__(self) -> None:
        super().__init__(KEYVALUE)

    def format(self, record: logging.LogRecord) -> str:
        return super().format(record).replace("\n", "\\n")


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        out = {
            "time": dt.datetime.fromtimestamp(record.created, dt.UTC).isoformat(),
            "level": record.levelname, "logger": record.name, "msg": record.getMessage(),
        }
        if record.exc_info:
            out["exc"] = self.formatException(record.exc_info)
        return json.dumps(out, ensure_ascii=False)


def setup(level: str = "INFO", form: str = "keyvalue") -> None:
    """Send every log record to stderr, one line each, in `form` ("keyvalue" or "json")."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter() if form == "json" else KeyValueFormatter())
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(getattr(logging, level.upper(), logging.INFO))
    logging.getLogger("watchfiles").setLevel(logging.WARNING)
