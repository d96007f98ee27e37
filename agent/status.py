"""What a running agent reports about itself: STATE/status.json, read by `sealtail status`.

The agent rewrites the file every STATUS_INTERVAL_SECS (and once more when it stops). The
write is a plain temp file + rename without fsync: the file is advice for an operator, not
state, and it must cost nothing. On a full disk it cannot be refreshed; `updated_unix` then
shows how old it is, and the agent's log carries the report.
"""

from __future__ import annotations

import dataclasses
import json
import os
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

STATUS_FILE = "status.json"
STATUS_INTERVAL_SECS = 1.0


@dataclass(frozen=True, slots=True)
class AgentStatus:
    """One snapshot of every stage's statistics and a one-word verdict.

    `state` is the first that applies: "refused" (the collector refused a segment for good:
    shipping stopped), "disk_full" (spool writes fail; reading stopped), "spool_full"
    (waiting for acknowledgements; reading stopped), "backoff" (the collector is not
    reachable or overloaded; retrying), "ok".
    """

    agent: str
    pid: int
    updated_unix: float
    running: bool
    state: str
    problem: str
    spool: dict[str, Any]
    ship: dict[str, Any]
    seal: dict[str, Any]
    tail: dict[str, Any]

    @classmethod
    def build(cls, agent: str, *, spool: Any, ship: Any, seal: Any, tail: Any) -> AgentStatus:
        sp, sh = dataclasses.asdict(spool), dataclasses.asdict(ship)
        state, problem = "ok", ""
        if sh["state"] == "refused":
            state, problem = "refused", sh["last_error"]
        elif sp["disk_full"]:
            state, problem = "disk_full", "the spool's disk is full; reading stopped"
        elif sp["full"]:
            state, problem = "spool_full", (f"spool full ({sp['segments']} segments, "
                                            f"{sp['bytes']} bytes); reading stopped")
        elif sh["state"] == "backoff":
            state, problem = "backoff", sh["last_error"]
        return cls(agent=agent, pid=os.getpid(), updated_unix=time.time(), running=True,
                   state=state, problem=problem, spool=sp, ship=sh,
                   seal=dataclasses.asdict(seal), tail=dataclasses.asdict(tail))


def write_status(path: Path, status: AgentStatus) -> None:
    """Replace `path` with the status as JSON (best effort: errors are the caller's)."""
    tmp = path.with_name(f".{path.name}.tmp")
    try:
        tmp.write_text(json.dumps(dataclasses.asdict(status), indent=1, default=str) + "\n")
        os.replace(tmp, path)
    except OSError:
        tmp.unlink(missing_ok=True)
        raise


def read_status(state_dir: Path) -> dict[str, Any]:
    """The last status an agent wrote in `state_dir` (OSError / ValueError when unreadable)."""
    data: dict[str, Any] = json.loads((state_dir / STATUS_FILE).read_text())
    return data
