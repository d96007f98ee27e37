"""`sealtail status`: what the table says about the link and the files, and when it exits 1."""

from __future__ import annotations

from typing import Any

from agent.cli._status import attention, render


def live(**ship: Any) -> dict[str, Any]:
    base = {"connected": False, "state": "backoff", "segments_acknowledged": 0,
            "lines_acknowledged": 0, "reconnects": 3, "refusals": 0,
            "last_error": "UNAVAILABLE: connection refused", "last_ack_unix": None}
    return {"live": True, "agent": "web-17", "pid": 1, "collector": "127.0.0.1:1",
            "health": {"healthy": True, "reason": "nothing waiting to ship"},
            "spool": {"segments": 0, "bytes": 0, "oldest_seq": None, "oldest_age_secs": 0.0,
                      "next_seq": 0},
            "ship": {**base, **ship}, "checkpoint": None,
            "files": [{"path": "/var/log/a.log", "inode": 7, "offset": 900,
                       "sealed_offset": 300, "size": 1000}]}


def test_a_link_without_an_open_stream_is_not_called_connected() -> None:
    """Retrying after UNAVAILABLE: 'not connected (retrying)', never 'connected'."""
    out = render(live())
    assert "shipping    not connected (retrying);" in out
    assert "connected; " not in out.replace("not connected (retrying); ", "")


def test_behind_counts_lines_read_but_not_yet_sealed() -> None:
    """Read to 900 but sealed only to 300 of 1000 bytes: 700 behind, not 100."""
    row = next(ln for ln in render(live()).splitlines() if ln.startswith("/var/log/a.log"))
    assert row.split()[1:] == ["7", "900", "1000", "700"]


def test_status_needs_attention_when_not_running_or_unhealthy() -> None:
    """Offline view, an unhealthy agent, or a stopped agent whose last state was refused."""
    offline = {"live": False, "state_dir": "s", "spool": {}, "files": []}
    assert attention(offline, None)[0].startswith("the agent is not running")
    refused = {"state": "refused", "problem": "name_taken", "stale": True}
    assert any("delivery refused (when it stopped): name_taken" in p
               for p in attention(offline, refused))
    sick = live()
    sick["health"] = {"healthy": False, "reason": "the spool's disk is full"}
    assert attention(sick, None) == ["unhealthy: the spool's disk is full"]
    assert attention(live(), None) == []


def test_an_agent_waiting_for_its_chain_head_is_named_in_the_offline_view() -> None:
    """status.json says nothing is sealed until the collector answers ChainHead: say why."""
    offline = {"live": False, "state_dir": "s", "spool": {}, "files": []}
    waiting = {"state": "backoff", "problem": "UNAVAILABLE", "stale": False,
               "ship": {"awaiting_chain_head": True}}
    assert any("waiting for the collector to say where this agent's chain stands" in p
               for p in attention(offline, waiting))


def test_files_waiting_for_a_slot_are_counted_beside_the_open_ones() -> None:
    st = live()
    st["tail"] = {"files_open": 1024, "files_waiting": 3}
    assert any(ln.split() == ["files", "1024", "open,", "3", "waiting", "for", "a", "slot",
                              "(tail.max_open_files)"] for ln in render(st).splitlines())
    st["tail"] = {"files_open": 2, "files_waiting": 0}
    assert any(ln.split() == ["files", "2", "open"] for ln in render(st).splitlines())
