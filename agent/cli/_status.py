"""`sealtail status` and `sealtail reload`: look at and steer a running agent.

Both find the agent through its state directory: ``STATE/http.address`` is written by an agent
whose HTTP endpoint is on (``ops.http_listen``). `status` falls back to reading the state
directory alone (what was acknowledged, what waits in the spool, the anchor) when the agent is
stopped or has no endpoint.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import signal
import sys
import time
from pathlib import Path
from typing import Any

import click

from agent import config as cfg
from agent.cli import UsageError, config_option, fail
from agent.errors import SealtailError

HTTP_TIMEOUT_SECS = 5.0


def _state_dir(config_file: Path | None, state: Path | None) -> Path | None:
    if state is not None:
        return state
    if config_file is not None:
        try:
            conf = cfg.load(cfg.AgentConfig, config_file)
        except SealtailError as exc:
            raise fail(exc) from exc
        return Path(conf.agent.state_dir) if conf.agent.state_dir else None
    return None


def _endpoint(state: Path | None, url: str | None) -> str | None:
    if url:
        return url if url.startswith("http") else f"http://{url}"
    if state is not None:
        try:
            address = (state / "http.address").read_text().strip()
        except OSError:
            return None
        return f"http://{address}" if address else None
    return None


def _request(url: str, method: str = "GET") -> tuple[int, bytes]:
    # Imported here: urllib.request pulls in http.client and email, which every process
    # running this CLI (the agent too) would otherwise keep in memory.
    import urllib.error
    import urllib.request

    req = urllib.request.Request(url, method=method)
    try:
        with urllib.request.urlopen(req, timeout=HTTP_TIMEOUT_SECS) as r:
            return r.status, r.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read()


def offline_status(state: Path) -> dict[str, Any]:
    """What the state directory alone tells (the agent need not run)."""
    from agent.errors import VerificationError
    from agent.formats import peek_checkpoint

    if not state.is_dir():
        raise UsageError(f"{state}: no such state directory")
    out: dict[str, Any] = {"state_dir": str(state), "live": False}
    head_file = state / "head.json"
    files = []
    try:
        head = json.loads(head_file.read_text())
        out["acknowledged"] = {"next_seq": head["next_seq"], "lines_total": head["lines_total"],
                               "last_ack_unix": head_file.stat().st_mtime}
        files = [{"path": c["path"], "inode": c["inode"], "offset": c["offset"], "size": None}
                 for c in head.get("cursors", [])]
    except (OSError, ValueError, KeyError, TypeError):
        out["acknowledged"] = None
    for f in files:
        try:
            st = os.stat(f["path"])
            if st.st_ino == f["inode"]:
                f["size"] = st.st_size
        except OSError:
            pass
    out["files"] = sorted(files, key=lambda f: f["path"])
    segs = sorted((state / "spool").glob("*.seg"))
    stats = [p.stat() for p in segs]
    out["spool"] = {"segments": len(segs), "bytes": sum(s.st_size for s in stats),
                    "oldest_seq": int(segs[0].stem) if segs else None,
                    "oldest_age_secs": round(time.time() - stats[0].st_mtime, 3) if segs else 0.0}
    out["checkpoint"] = None
    anchor = state / "anchor.checkpoint"
    if anchor.exists():
        try:
            cp = peek_checkpoint(anchor.read_bytes())
            out["checkpoint"] = {"origin": cp.origin, "size": cp.size, "root": cp.root.hex()}
        except (OSError, VerificationError):
            out["checkpoint"] = {"error": "unreadable anchor.checkpoint"}
    return out


def _when(unix: float | None) -> str:
    if unix is None:
        return "never (since start)"
    ago = time.time() - unix
    stamp = dt.datetime.fromtimestamp(unix, dt.UTC).isoformat(timespec="seconds")
    return f"{stamp} ({ago:.0f} s ago)"


def render(st: dict[str, Any]) -> str:
    """A readable table."""
    rows: list[tuple[str, str]] = []
    if st.get("live"):
        rows.append(("agent", f"{st['agent']} (pid {st['pid']}), collector {st['collector']}"))
        h = st["health"]
        rows.append(("health", f"{'healthy' if h['healthy'] else 'UNHEALTHY'}: {h['reason']}"))
    else:
        rows.append(("agent", f"not reachable: offline view of {st['state_dir']}"))
    sp = st["spool"]
    rows.append(("spool", f"{sp['segments']} segments, {sp['bytes']} bytes waiting"
                 + (f"; oldest seq {sp['oldest_seq']}, {sp['oldest_age_secs']:.1f} s old"
                    if sp["segments"] else "")))
    if st.get("live"):
        sh = st["ship"]
        link = ("connected" if sh["connected"] else
                {"connecting": "not connected (connecting)", "backoff":
                 "not connected (retrying)", "refused": "not connected (refused)"}.get(
                     sh.get("state", ""), "not connected"))
        rows.append(("shipping", f"{link}; "
                     f"{sh['segments_acknowledged']} segments / {sh['lines_acknowledged']} lines "
                     f"acknowledged since start; {sh['reconnects']} reconnects, "
                     f"{sh['refusals']} refusals"
                     + (f"; last error: {sh['last_error']}" if sh["last_error"] else "")))
        rows.append(("last ack", _when(sh["last_ack_unix"])))
        tail = st.get("tail", {})
        waiting = tail.get("files_waiting", 0)
        rows.append(("files", f"{tail.get('files_open', 0)} open"
                     + (f", {waiting} waiting for a slot (tail.max_open_files)"
                        if waiting else "")))
        rows.append(("next seq", str(sp["next_seq"])))
    else:
        ack = st.get("acknowledged")
        rows.append(("last ack", "none recorded" if ack is None else
                     f"{_when(ack['last_ack_unix'])}: through seq {ack['next_seq'] - 1}, "
                     f"{ack['lines_total']} lines"))
    cp = st.get("checkpoint")
    rows.append(("checkpoint", "none yet (anchor.checkpoint)" if cp is None else
                 cp.get("error") or f"{cp['origin']} size {cp['size']} root {cp['root'][:16]}…"))
    width = max(len(k) for k, _ in rows)
    lines = [f"{k.ljust(width)}  {v}" for k, v in rows]
    files = st.get("files", [])
    lines.append("")
    header = ("FILE", "INODE", "OFFSET", "SIZE", "BEHIND")
    table = [header]
    for f in files:
        size = f["size"]
        # Bytes not yet in a durable segment: still in the file, or read and waiting in memory
        # (disk full, spool full). Offline, the saved cursor is the sealed offset.
        sealed = f.get("sealed_offset")
        sealed = f["offset"] if sealed is None else sealed
        behind = "-" if size is None else str(max(0, size - min(sealed, f["offset"])))
        table.append((f["path"], str(f["inode"]), str(f["offset"]),
                      "-" if size is None else str(size), behind))
    widths = [max(len(r[i]) for r in table) for i in range(len(header))]
    for r in table:
        lines.append("  ".join(c.ljust(w) if i == 0 else c.rjust(w)
                               for i, (c, w) in enumerate(zip(r, widths, strict=True))).rstrip())
    if not files:
        lines.append("(no files tailed)" if st.get("live") else "(no saved cursors)")
    return "\n".join(lines)


@click.command()
@config_option
@click.option("--state", type=click.Path(path_type=Path, file_okay=False),
              help="The agent's state directory (default: agent.state_dir of --config).")
@click.option("--url", help="The agent's HTTP endpoint HOST:PORT (default: STATE/http.address).")
@click.option("--json", "as_json", is_flag=True, help="Print the status as JSON.")
def status(config_file: Path | None, state: Path | None, url: str | None,
           as_json: bool) -> None:
    """Show a running agent's files and offsets, spool, last acknowledgement and collector
    checkpoint. Asks the agent's HTTP endpoint; without one, reads the state directory.

    Example: sealtail status --state /var/lib/sealtail
    """
    state_dir = _state_dir(config_file, state)
    endpoint = _endpoint(state_dir, url)
    st: dict[str, Any] | None = None
    if endpoint is not None:
        try:
            code, body = _request(f"{endpoint}/status")
            if code == 200:
                st = {**json.loads(body), "live": True}
        except (OSError, ValueError):
            st = None
    if st is None:
        if state_dir is None:
            raise UsageError(f"agent at {endpoint} not reachable and no --state to read"
                             if endpoint else "give --state, --config or --url")
        st = offline_status(state_dir)
    delivery = _delivery(state_dir)
    if delivery is not None:
        st["delivery"] = delivery
    problems = attention(st, delivery)
    if as_json:
        st["attention"] = problems
    click.echo(json.dumps(st, indent=1) if as_json else render(st))
    if delivery is not None and not as_json:
        click.echo(render_delivery(delivery))
    if problems:
        if not as_json:
            click.echo("attention: " + "; ".join(problems))
        sys.exit(1)


def attention(st: dict[str, Any], delivery: dict[str, Any] | None) -> list[str]:
    """Why an operator should look (empty: all is well). `sealtail status` exits 1 on any:
    the agent not running or not reachable, unhealthy, refused, disk or spool full."""
    out = []
    live = bool(st.get("live"))
    if not live:
        out.append("the agent is not running (or its HTTP endpoint is off: this is the "
                   "offline view)" if delivery is None or delivery["stale"] else
                   "the agent's HTTP endpoint did not answer")
    elif not st["health"]["healthy"]:
        out.append(f"unhealthy: {st['health']['reason']}")
    if (not live and delivery is not None and not delivery["stale"]
            and delivery.get("ship", {}).get("awaiting_chain_head")):
        # Live, the health verdict already says so; offline, status.json is all there is.
        out.append("nothing is sealed: waiting for the collector to say where this agent's "
                   "chain stands (ChainHead)")
    if delivery is not None and delivery["state"] in ("refused", "disk_full", "spool_full"):
        when = "when it stopped" if delivery["stale"] else "now"
        out.append(f"delivery {delivery['state']} ({when}): {delivery['problem']}")
    return out


STALE_STATUS_SECS = 10.0


def _delivery(state_dir: Path | None) -> dict[str, Any] | None:
    """What the agent last wrote to STATE/status.json (every second while it runs)."""
    from agent.status import read_status

    if state_dir is None:
        return None
    try:
        st = read_status(state_dir)
    except (OSError, ValueError):
        return None
    age = time.time() - float(st["updated_unix"])
    return {**st, "age_secs": round(age, 1),
            "stale": not st["running"] or age > STALE_STATUS_SECS}


def render_delivery(st: dict[str, Any]) -> str:
    sp, sh = st["spool"], st["ship"]
    return "\n".join([
        f"delivery: {st['state']}" + (f": {st['problem']}" if st["problem"] else "")
        + (f" [not running: last status {st['age_secs']:.0f}s old]" if st["stale"] else ""),
        f"spool: {sp['segments']}/{sp['max_segments']} segments, {sp['bytes']}/"
        f"{sp['max_bytes']} bytes, oldest unacknowledged {sp['oldest_age_secs']:.1f}s, policy "
        f"{sp['policy']}" + (", FULL: reading stopped" if sp["full"] else "")
        + (", DISK FULL" if sp["disk_full"] else ""),
        f"ship: {sh['state']}, {sh['segments_acked']} acknowledged, {sh['refusals']} refusals, "
        f"{sh['reconnects']} reconnects"
        + (f", last error: {sh['last_error']}" if sh["last_error"] else "")])


@click.command()
@config_option
@click.option("--state", type=click.Path(path_type=Path, file_okay=False),
              help="The agent's state directory (its http.address names the endpoint).")
@click.option("--url", help="The agent's HTTP endpoint HOST:PORT.")
@click.option("--pid", type=int, help="Send SIGHUP to this process instead (no answer comes "
                                       "back: look in the agent's log).")
def reload(config_file: Path | None, state: Path | None, url: str | None,
           pid: int | None) -> None:
    """Make a running agent re-read its config: new globs start, removed ones stop after
    draining, rule changes apply to new lines. An invalid config is refused (exit 1) and the
    running one stays.

    Example: sealtail reload --state /var/lib/sealtail
    """
    if pid is not None:
        from agent.ops import agent_pid_problem

        problem = agent_pid_problem(pid)
        if problem:
            raise UsageError(problem)
        try:
            os.kill(pid, signal.SIGHUP)
        except OSError as exc:
            raise UsageError(f"pid {pid}: {exc.strerror}") from exc
        click.echo(f"sent SIGHUP to {pid}")
        return
    endpoint = _endpoint(_state_dir(config_file, state), url)
    if endpoint is None:
        raise UsageError("no endpoint: give --url, --state of an agent with ops.http_listen, "
                         "or --pid")
    try:
        code, body = _request(f"{endpoint}/reload", method="POST")
    except OSError as exc:
        raise click.ClickException(f"{endpoint}: {exc}") from exc
    click.echo(body.decode().rstrip())
    if code != 200:
        raise SystemExit(1)
