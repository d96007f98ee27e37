"""The `sealtail` command line: a thin layer over the library.

Exit codes: 0 success, 1 verification failed (or a runtime failure), 2 usage or config error.
"""

from __future__ import annotations

import asyncio
import base64
import dataclasses
import datetime as dt
import json
import logging
import os
import re
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, BinaryIO, TypeVar

import click
import grpc

from agent import config as cfg
from agent._pb import sealtail_pb2 as pb
from agent._pb import sealtail_pb2_grpc as pb_grpc
from agent.errors import (
    ConfigError,
    ErrorCode,
    KeyFileError,
    ModelError,
    SealtailError,
    VerificationError,
)

F = TypeVar("F", bound=Callable[..., Any])


class UsageError(click.ClickException):
    exit_code = 2


def fail(exc: SealtailError) -> click.ClickException:
    if isinstance(exc, ConfigError | KeyFileError | ModelError):
        return UsageError(str(exc))
    return click.ClickException(str(exc))


def setup_logging(level: str = "INFO", form: str = "keyvalue") -> None:
    # One line per event on stderr, key=value or JSON: journald and `kubectl logs` keep it whole.
    from agent import logfmt

    logfmt.setup(level, form)


def log_format_option(f: F) -> F:
    return click.option("--log-format", type=click.Choice(cfg.LOG_FORMATS),
                        help="stderr log lines: keyvalue or json (overrides ops.log_format)."
                        )(f)


def config_option(f: F) -> F:
    return click.option("--config", "config_file", type=click.Path(path_type=Path),
                        help="TOML config file (flags override its values).")(f)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="sealtail")
def main() -> None:
    """sealtail: tail logs, seal them into signed hash chains, ship and verify them."""


@main.command()
@click.option("--out", required=True, type=click.Path(path_type=Path),
              help="Private key file to create (mode 0600); the public key goes to OUT.pub.")
@click.option("--comment", default="", help="Comment stored in the .pub line.")
def keygen(out: Path, comment: str) -> None:
    """Create an Ed25519 key pair.

    Example: sealtail keygen --out /etc/sealtail/agent.key
    """
    from agent.keys import generate_key_file

    try:
        generate_key_file(out, comment)
    except SealtailError as exc:
        raise fail(exc) from exc
    click.echo(f"wrote {out} (private, 0600) and {out}.pub")


@main.command()
@config_option
@click.option("--collector", help="Collector address HOST:PORT.")
@click.option("--key", type=click.Path(path_type=Path), help="Agent private key file.")
@click.option("--state", type=click.Path(path_type=Path), help="State directory (spool, cursors).")
@click.option("--name", help="Agent name, signed into every segment.")
@click.option("--collector-key", type=click.Path(path_type=Path),
              help="File with the collector's verifier key (checkpoints in acks are checked).")
@click.option("--log-level", default="INFO", show_default=True)
@log_format_option
@click.option("--http-listen", help="HOST:PORT for /metrics, /healthz, /status, /reload.")
@click.argument("globs", nargs=-1)
def agent(config_file: Path | None, collector: str | None, key: Path | None,
          state: Path | None, name: str | None, collector_key: Path | None, log_level: str,
          log_format: str | None, http_listen: str | None, globs: tuple[str, ...]) -> None:
    """Tail files matching GLOBS, seal and ship them to a collector.

    Example: sealtail agent --collector 127.0.0.1:7600 --key agent.key --state ./state
    --name web-17 '/var/log/app/*.log'
    """
    from agent.daemon import run_agent

    setup_logging(log_level, log_format or "keyvalue")
    overrides = {
        "agent.collector": collector, "agent.key": str(key) if key else None,
        "agent.state_dir": str(state) if state else None, "agent.name": name,
        "agent.collector_key": str(collector_key) if collector_key else None,
        "tail.paths": list(globs) if globs else None, "ops.log_format": log_format,
        "ops.http_listen": http_listen}

    def load_config() -> cfg.AgentConfig:
        """The file and the flags, as at start: SIGHUP and /reload read them again."""
        conf = cfg.merge_overrides(cfg.load(cfg.AgentConfig, config_file), overrides)
        return conf.check(str(config_file) if config_file else "command line")

    try:
        conf = load_config()
        setup_logging(log_level, conf.ops.log_format)
        asyncio.run(run_agent(conf, load_config))
    except SealtailError as exc:
        logging.getLogger("sealtail").error("%s", exc)
        raise fail(exc) from exc


@main.command()
@config_option
@click.option("--listen", help="Address to listen on, HOST:PORT (port 0 picks a free port).")
@click.option("--data", type=click.Path(path_type=Path), help="Data directory (store, key).")
@click.option("--authorized-keys", type=click.Path(path_type=Path),
              help="File of agent public keys allowed to write (one per line).")
@click.option("--query-token-file", type=click.Path(path_type=Path),
              help="Require this bearer token on every query.")
@click.option("--log-level", default="INFO", show_default=True)
@log_format_option
@click.option("--http-listen", help="HOST:PORT for /metrics.")
def collector(config_file: Path | None, listen: str | None, data: Path | None,
              authorized_keys: Path | None, query_token_file: Path | None,
              log_level: str, log_format: str | None, http_listen: str | None) -> None:
    """Receive, verify and store segments; answer queries.

    Example: sealtail collector --listen 127.0.0.1:7600 --data ./store
    --authorized-keys agents.pub
    """
    from agent.daemon import run_collector

    setup_logging(log_level, log_format or "keyvalue")
    try:
        conf = cfg.load(cfg.CollectorConfig, config_file)
        conf = cfg.merge_overrides(conf, {
            "collector.listen": listen, "collector.data_dir": str(data) if data else None,
            "collector.authorized_keys": str(authorized_keys) if authorized_keys else None,
            "collector.query_token_file": str(query_token_file) if query_token_file else None,
            "ops.log_format": log_format, "ops.http_listen": http_listen})
        conf.check(str(config_file) if config_file else "command line")
        setup_logging(log_level, conf.ops.log_format)
        check_port_free(conf.collector.listen)  # before the data dir, store or key exist
        asyncio.run(run_collector(conf))
    except SealtailError as exc:
        logging.getLogger("sealtail").error("%s", exc)
        raise fail(exc) from exc


def check_port_free(listen: str) -> None:
    """Fail with listen_failed when something already listens on HOST:PORT (port 0: any free
    port will do). A start that would fail to listen must not first create a data directory,
    a store and a checkpoint key; the server's own bind still decides (a race stays possible).
    """
    import errno
    import socket

    host, _, port = listen.rpartition(":")
    if not port.isdigit() or int(port) == 0:
        return
    try:
        infos = socket.getaddrinfo(host.strip("[]") or None, int(port), type=socket.SOCK_STREAM,
                                   flags=socket.AI_PASSIVE)
    except OSError:
        return  # the server reports an address it cannot resolve
    for family, kind, proto, _name, address in infos[:1]:
        with socket.socket(family, kind, proto) as probe:
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as gRPC binds
            try:
                probe.bind(address)
            except OSError as exc:
                if exc.errno == errno.EADDRINUSE:
                    raise SealtailError(
                        f"cannot listen on {listen}: the address is in use by another "
                        "process (nothing was created)", code=ErrorCode.LISTEN_FAILED) from exc


@main.command(name="collector-key")
@click.option("--data", required=True, type=click.Path(path_type=Path),
              help="The collector's data directory.")
def collector_key(data: Path) -> None:
    """Print the collector's checkpoint verifier key (name+keyid+base64) for agents and
    auditors to pin. The collector writes it to DATA/collector.vkey at every start.

    Example: sealtail collector-key --data /var/lib/sealtail-collector > collector.vkey
    """
    from agent.keys import load_note_verifier

    try:
        verifier = load_note_verifier(data / "collector.vkey")
    except SealtailError as exc:
        raise UsageError(f"{exc} (start the collector once to create it)") from exc
    click.echo(verifier.vkey)


def client_address(config_file: Path | None, flag: str | None, *,
                   announce: bool = True) -> str:
    """The collector address: the flag, else the config file's, else the default (said on
    stderr when `announce`, so a command never silently talks to a collector nobody named)."""
    if flag:
        return flag
    if config_file is None:
        default = cfg.ClientSection().collector
        if announce:
            click.echo(f"using collector {default} (the default; pass --collector or "
                       "--config to choose)", err=True)
        return default
    data = cfg.load_toml(config_file)
    for table, key in (("client", "collector"), ("agent", "collector"), ("collector", "listen")):
        section = data.get(table, {})
        if not isinstance(section, dict):
            raise ConfigError(f"expected a table, got {section!r}", file=str(config_file),
                              key=table)
        value = section.get(key)
        if isinstance(value, str) and value:
            return value
    raise ConfigError("no collector address (set client.collector)", file=str(config_file))


def require_data_dir(path: Path) -> None:
    """A collector data directory: it exists and holds sealtail.db (else ConfigError)."""
    if not path.exists():
        raise ConfigError(f"{path}: no such directory", key="--data")
    if not (path / "sealtail.db").is_file():
        raise ConfigError(f"{path}: not a collector data directory (no sealtail.db)",
                          key="--data")


def require_state_dir(path: Path) -> None:
    """An agent state directory (head.json or spool/), or a spool directory of .seg files."""
    if not path.exists():
        raise ConfigError(f"{path}: no such directory", key="--spool")
    if not path.is_dir():
        raise ConfigError(f"{path}: not a directory", key="--spool")
    if not ((path / "head.json").exists() or (path / "spool").is_dir()
            or any(path.glob("*.seg"))):
        raise ConfigError(f"{path}: not an agent state directory (no head.json, no spool/)",
                          key="--spool")


def _remember_tls(ctx: click.Context, param: click.Parameter, value: Any) -> None:
    if value is not None and value is not False:
        ctx.meta.setdefault("sealtail.tls", {})[param.name] = (
            str(value) if isinstance(value, Path) else value)


def tls_options(f: F) -> F:
    """--tls, --ca-file, --cert-file, --key-file, --server-name (over the config file's
    [client.tls] or [agent.tls]); read them with `client_tls(config_file)`."""
    options = [
        click.option("--tls", "enabled", is_flag=True, default=False, expose_value=False,
                     callback=_remember_tls,
                     help="Connect with TLS (implied by --ca-file or --cert-file)."),
        click.option("--ca-file", "ca_file", type=click.Path(path_type=Path),
                     expose_value=False, callback=_remember_tls,
                     help="PEM CA the collector's certificate must be signed by."),
        click.option("--cert-file", "cert_file", type=click.Path(path_type=Path),
                     expose_value=False, callback=_remember_tls,
                     help="PEM client certificate, for a collector that requires one."),
        click.option("--key-file", "key_file", type=click.Path(path_type=Path),
                     expose_value=False, callback=_remember_tls,
                     help="PEM private key of --cert-file."),
        click.option("--server-name", "server_name", expose_value=False,
                     callback=_remember_tls,
                     help="Name the collector's certificate must carry (default: the host)."),
    ]
    for option in reversed(options):
        f = option(f)
    return f


def client_tls(config_file: Path | None) -> Any:
    """The TLS of a client command: the config file's [client.tls] (or [agent.tls] of an
    agent file), overridden by the --tls… flags. Raises ConfigError naming file and key."""
    from agent.tls import client_tls as make

    file, prefix = (str(config_file) if config_file else "command line"), "client.tls"
    conf = cfg.ClientTLSConfig()
    if config_file is not None:
        data = cfg.load_toml(config_file)
        for table in ("client", "agent"):
            section = data.get(table, {})
            if isinstance(section, dict) and isinstance(section.get("tls"), dict):
                prefix = f"{table}.tls"
                conf = cfg.build(cfg.ClientTLSConfig, section["tls"], file=file,
                                 prefix=f"{prefix}.")
                break
    flags = click.get_current_context().meta.get("sealtail.tls", {})
    if flags:
        conf = dataclasses.replace(conf, **flags)
    cfg.check_client_tls(conf, file, prefix)
    return make(conf, file=file, prefix=prefix)


_RELATIVE = re.compile(r"^(\d+(?:\.\d+)?)\s*(s|m|h|d|w)$")
_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}


def parse_time(value: str, *, now_ns: int | None = None) -> int:
    """Unix ns from ISO 8601 ('2026-12-03T10:00:00Z', a date) or an age ('15m', '24h')."""
    now_ns = time.time_ns() if now_ns is None else now_ns
    m = _RELATIVE.match(value.strip())
    if m:
        return now_ns - int(float(m.group(1)) * _UNITS[m.group(2)] * 1e9)
    try:
        when = dt.datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError as exc:
        raise click.BadParameter(f"{value!r}: expected ISO 8601 time or an age like 15m, 24h, 7d"
                                 ) from exc
    if when.tzinfo is None:
        when = when.replace(tzinfo=dt.UTC)
    return int(when.timestamp() * 1e9)


def escape_line(data: bytes) -> str:
    """Text form of a line: UTF-8 where valid, invalid bytes as \\xNN."""
    return data.decode("utf-8", errors="backslashreplace")


# C0 controls (but tab), DEL and C1 controls: a log line must not drive the terminal
# (colours, clearing, window titles, or \r overprinting a line with a forged one).
_TERMINAL_CONTROLS = {c: f"\\x{c:02x}" for c in (*range(0x20), 0x7F, *range(0x80, 0xA0))
                      if c != 0x09}


# Bidirectional overrides, embeddings, isolates and marks: they reorder what follows on the
# terminal, so a name or a line could display as something else ("Trojan Source").
_TERMINAL_CONTROLS.update({c: f"\\u{c:04x}" for c in (0x061C, 0x200E, 0x200F,
                                                       *range(0x202A, 0x202F),
                                                       *range(0x2066, 0x206A))})


def terminal_line(data: bytes) -> str:
    """`escape_line`, with control and bidi characters also escaped (for text output)."""
    return escape_line(data).translate(_TERMINAL_CONTROLS)


def terminal_text(text: str) -> str:
    """A name or other text from the collector, with control and bidi characters escaped."""
    return text.translate(_TERMINAL_CONTROLS)


def format_time(ns: int) -> str:
    return dt.datetime.fromtimestamp(ns / 1e9, dt.UTC).isoformat(timespec="microseconds")


@main.command()
@config_option
@click.option("--collector", "address", help="Collector address HOST:PORT.")
@click.option("--agent", "agent_name", default="", help="Only this agent's lines.")
@click.option("--category", default="", help="Only lines of this category.")
@click.option("--contains", default="", help="Only lines containing this text.")
@click.option("--since", default=None, help="From this time (ISO 8601 or age like 24h).")
@click.option("--until", default=None, help="Before this time (ISO 8601 or age).")
@click.option("--limit", type=click.IntRange(min=0), default=0,
              help="At most N lines (0, the default: no limit).")
@click.option("--count", "count_only", is_flag=True, help="Print only the number of matches.")
@click.option("--json", "as_json", is_flag=True, help="One JSON object per line (JSON Lines).")
@click.option("--token-file", type=click.Path(path_type=Path),
              help="File holding the bearer token the collector requires for queries.")
@tls_options
def query(config_file: Path | None, address: str | None, agent_name: str, category: str,
          contains: str, since: str | None, until: str | None, limit: int, count_only: bool,
          as_json: bool, token_file: Path | None) -> None:
    """Print stored lines matching the filters, in log order.

    Example: sealtail query --collector 127.0.0.1:7600 --category failed_login --since 24h
    """
    from agent.tls import open_channel
    from agent.verify import rpc_error

    try:
        addr = client_address(config_file, address, announce=not (as_json or count_only))
        tls = client_tls(config_file)
    except SealtailError as exc:
        raise fail(exc) from exc
    request = pb.SearchRequest(
        agent=agent_name, category=category, contains=contains.encode(),
        since_ns=parse_time(since) if since else 0, until_ns=parse_time(until) if until else 0,
        limit=limit, count_only=count_only)
    mismatches: list[str] = []
    try:
        with open_channel(addr, tls, [
                ("grpc.max_receive_message_length", 256 * 1024 * 1024)]) as channel:
            stub = pb_grpc.QueryStub(channel)
            count = printed = 0
            for page in stub.Search(request, timeout=600, metadata=token_metadata(token_file)):
                mismatches.extend(page.index_mismatches)
                count = page.count
                if not count_only:
                    for r in page.results:
                        click.echo(_render(r, as_json))
                        printed += 1
            if count_only:
                click.echo(count)
            unknown = unknown_category(category)
            if unknown and not (count if count_only else printed):
                raise UsageError(unknown)
    except grpc.RpcError as exc:
        raise click.ClickException(str(rpc_error(addr, exc, tls))) from exc
    if mismatches:
        for m in mismatches:
            click.echo(f"WARNING: {m}", err=True)
        click.echo(f"WARNING: the collector's index disagrees with {len(mismatches)} signed "
                   "line(s); results above follow the signed bytes. Run `sealtail verify "
                   "--collector` (index_mismatch).", err=True)
        sys.exit(1)


def unknown_category(category: str) -> str | None:
    """The message for a --category that is not built in (user rules may add categories,
    so it is said only when nothing matched)."""
    from agent.classify import CATEGORIES, UNCLASSIFIED

    known = (*CATEGORIES, UNCLASSIFIED)
    if not category or category in known:
        return None
    return (f"--category {category!r} is not a built-in category (built in: "
            f"{', '.join(known)}); user rules may add others, but no line matched it")


def _render(r: pb.SearchResult, as_json: bool) -> str:
    e = pb.Entry.FromString(r.entry)
    if not as_json:
        return (f"{format_time(e.time_ns)} {terminal_text(r.agent)} {terminal_text(e.category)} "
                f"{terminal_line(e.line)}")
    flags = [name for bit, name in ((1, "partial"), (2, "truncated"), (4, "continued"))
             if e.flags & bit]
    return json.dumps({
        "agent": r.agent, "seq": r.seq, "index": r.index, "source": r.source,
        "offset": e.offset, "time": format_time(e.time_ns), "time_ns": e.time_ns,
        "category": e.category, "layer": pb.Layer.Name(e.layer).removeprefix("LAYER_").lower(),
        "confidence": round(e.confidence, 4), "flags": flags,
        "original_length": e.original_length or len(e.line),
        "template_id": e.template_id.hex(),
        "line": escape_line(e.line), "line_b64": base64.b64encode(e.line).decode(),
    }, ensure_ascii=False)


def token_option(f: F) -> F:
    return click.option("--token-file", type=click.Path(path_type=Path),
                        help="File holding the bearer token the collector requires for "
                             "queries.")(f)


def token_metadata(path: Path | None) -> tuple[tuple[str, str], ...]:
    from agent.verify import auth_metadata

    return auth_metadata(read_token(path))


def read_token(path: Path | None) -> str | None:
    if path is None:
        return None
    try:
        token = path.read_text().strip()
    except OSError as exc:
        raise UsageError(f"{path}: cannot read token: {exc.strerror}") from exc
    if not token:
        raise UsageError(f"{path}: the token file is empty")
    return token


@main.command()
@config_option
@click.option("--collector", "address", help="Verify everything a running collector holds.")
@click.option("--agent", "agent_name", default="", help="With --collector: only this agent.")
@click.option("--data", type=click.Path(path_type=Path), help="A collector's data directory.")
@click.option("--spool", type=click.Path(path_type=Path), help="An agent's state directory.")
@click.option("--bundle", type=click.Path(path_type=Path),
              help="An offline proof bundle (from `sealtail prove`); needs --collector-key and "
                   "--agent-key.")
@click.option("--pubkey", "--agent-key", "pubkey", type=click.Path(path_type=Path),
              multiple=True, help="Agent public key file(s) the chains must be signed by.")
@click.option("--collector-key", type=click.Path(path_type=Path),
              help="The collector's verifier key file (`sealtail collector-key`): pins the key "
                   "checkpoints and anchors must be signed with.")
@click.option("--anchor", type=click.Path(path_type=Path), multiple=True,
              help="A checkpoint held outside the collector (file, or an agent's state "
                   "directory): the log must be consistent with it.")
@token_option
@tls_options
@click.option("--json", "as_json", is_flag=True, help="Print the result as JSON.")
def verify(config_file: Path | None, address: str | None, agent_name: str, data: Path | None,
           spool: Path | None, bundle: Path | None, pubkey: tuple[Path, ...],
           collector_key: Path | None, anchor: tuple[Path, ...], token_file: Path | None,
           as_json: bool) -> None:
    """Check signatures, Merkle roots, hash chains and the collector's signed log; exit 1
    naming the first failure.

    Example: sealtail verify --data /var/lib/sealtail-collector --anchor state/
    """
    from agent.keys import load_note_verifier, load_public_key
    from agent.verify import (
        load_anchors,
        verify_bundle_file,
        verify_remote,
        verify_spool,
        verify_store,
    )

    chosen = [x for x in (address, data, spool, bundle) if x]
    if len(chosen) > 1:
        raise UsageError("give one of --collector, --data, --spool, --bundle")
    try:
        keys = frozenset(load_public_key(p) for p in pubkey)
        ckey = load_note_verifier(collector_key) if collector_key else None
        anchors = load_anchors(anchor)
        if bundle:
            if ckey is None or len(keys) != 1:
                raise UsageError("--bundle needs --collector-key and exactly one --agent-key")
            line = verify_bundle_file(bundle, collector_key=ckey, agent_key=next(iter(keys)))
            _print_line(line, as_json)
            return
        if agent_name and not address and (data or spool):
            raise UsageError("--agent filters --collector only")
        if data:
            require_data_dir(data)
            report = verify_store(data, collector_key=ckey, anchors=anchors)
        elif spool:
            if len(keys) != 1:
                raise UsageError("--spool needs exactly one --pubkey (the agent's .pub file)")
            require_state_dir(spool)
            report = verify_spool(spool, next(iter(keys)))
        else:
            report = verify_remote(client_address(config_file, address, announce=not as_json),
                                   agent_name,
                                   pinned_keys=keys, collector_key=ckey, anchors=anchors,
                                   token=read_token(token_file),
                                   tls=client_tls(config_file))
    except VerificationError as exc:
        if as_json:
            click.echo(json.dumps({"ok": False, "code": str(exc.code), "agent": exc.agent,
                                   "seq": exc.seq, "line": exc.line, "message": exc.message}))
        else:
            click.echo(f"FAILED: {exc}", err=True)
        sys.exit(1)
    except SealtailError as exc:
        raise fail(exc) from exc
    if as_json:
        log = report.log
        click.echo(json.dumps({
            "ok": True, "segments": report.segments, "lines": report.lines,
            "unsealed_lines": report.unsealed_lines,
            "agents": [{"agent": c.agent, "first_seq": c.first_seq, "last_seq": c.last_seq,
                        "segments": c.segments, "lines": c.lines,
                        "last_time_ns": c.last_time_ns, "head": c.last_hash.hex()}
                       for c in report.chains],
            "log": None if log is None else {
                "size": log.size,
                "checkpoint_size": log.checkpoint.size if log.checkpoint else None,
                "key_pinned": log.key_pinned,
                "anchors": [a.size for a in log.anchors]},
            "anchored": bool(log and log.anchors),
            "equivocations_checked": report.equivocations_checked,
            "index_checked_lines": report.index_checked,
            "summary": report.summary()}))
    else:
        click.echo(report.summary())


def _print_line(line: Any, as_json: bool) -> None:
    from agent.formats import VerifiedLine, key_id

    assert isinstance(line, VerifiedLine)
    cp = line.checkpoint
    if as_json:
        click.echo(json.dumps({
            "ok": True, "agent": line.agent, "seq": line.seq, "index": line.index,
            "leaf_index": line.leaf_index, "origin": cp.origin, "tree_size": cp.size,
            "root": cp.root.hex(), "line": escape_line(line.entry.line),
            "line_b64": base64.b64encode(line.entry.line).decode()}))
        return
    click.echo(f"OK: line {line.index} of {terminal_text(line.agent)} "
               f"[{key_id(line.agent_key)}] seq "
               f"{line.seq} is in its signed segment, and the segment is leaf "
               f"{line.leaf_index} of {cp.origin} checkpoint size {cp.size} root "
               f"{cp.root.hex()[:16]}")
    click.echo(f"{format_time(line.entry.time_ns)} {line.entry.category} "
               f"{terminal_line(line.entry.line)}")

@main.command()
@config_option
@click.option("--collector", "address", help="Collector address HOST:PORT.")
@click.option("--data", type=click.Path(path_type=Path),
              help="Read a collector's data directory instead of asking a running collector.")
@click.option("--agent", "agent_name", default="", help="Only this agent's.")
@click.option("--json", "as_json", is_flag=True, help="One JSON object per line (JSON Lines).")
@token_option
@tls_options
def equivocations(config_file: Path | None, address: str | None, data: Path | None,
                  agent_name: str, as_json: bool, token_file: Path | None) -> None:
    """List segments an agent key signed twice for one seq with different contents (a
    forked chain, an agent restarted without its state, or a stolen key): the stored header
    and the refused one, each with its signature. Exit 1 when there is any.

    Example: sealtail equivocations --collector 127.0.0.1:7600 --json
    """
    from agent.verify import list_equivocations, read_store_equivocations

    try:
        if data is not None:
            if address:
                raise UsageError("give one of --collector, --data")
            require_data_dir(data)
            found = read_store_equivocations(data, agent_name)
        else:
            addr = client_address(config_file, address, announce=not as_json)
            found = list_equivocations(addr, agent_name, token=read_token(token_file),
                                       tls=client_tls(config_file))
    except SealtailError as exc:
        raise fail(exc) from exc
    if not found:
        if not as_json:
            click.echo("no equivocations" + (f" of agent {agent_name}" if agent_name else ""))
        return
    for e in found:
        click.echo(json.dumps(_equivocation_json(e)) if as_json else _equivocation_text(e))
    sys.exit(1)


def _signed_header_json(header: bytes, signature: bytes) -> dict[str, Any]:
    from agent.formats import segment_hash

    h = pb.SegmentHeader.FromString(header)
    return {"hash": segment_hash(header).hex(), "boot_id": h.boot_id.hex(),
            "prev_hash": h.prev_hash.hex(), "root": h.root.hex(), "count": h.count,
            "t_first_ns": h.t_first_ns, "t_last_ns": h.t_last_ns,
            "header_b64": base64.b64encode(header).decode(),
            "signature_b64": base64.b64encode(signature).decode()}


def _equivocation_json(e: Any) -> dict[str, Any]:
    from agent.formats import key_id

    return {"agent": e.agent, "agent_key": base64.b64encode(e.agent_key).decode(),
            "key_id": key_id(e.agent_key), "seq": e.seq, "received": format_time(e.received_ns),
            "stored": _signed_header_json(e.stored_header, e.stored_signature),
            "refused": _signed_header_json(e.header, e.signature)}


def _equivocation_text(e: Any) -> str:
    j = _equivocation_json(e)
    lines = [f"EQUIVOCATION {e.agent} [{j['key_id']}] seq {e.seq} (refused copy received "
             f"{j['received']})"]
    for which in ("stored", "refused"):
        s = j[which]
        span = (f"{format_time(s['t_first_ns'])}..{format_time(s['t_last_ns'])}"
                if s["count"] else "-")
        lines += [f"  {which:7} hash {s['hash']} boot {s['boot_id']} {s['count']} lines {span}",
                  f"          header {s['header_b64']}",
                  f"          signature {s['signature_b64']}"]
    return "\n".join(lines)


LAYER_NAMES = {0: "none", 1: "rules", 2: "model", 3: "fallback"}


@main.command()
@config_option
@click.option("--collector", "address", help="Collector address HOST:PORT.")
@click.option("--agent", "agent_name", required=True, help="Agent name.")
@click.option("--seq", type=click.IntRange(min=0), required=True, help="Segment seq.")
@click.option("--index", type=click.IntRange(min=0), required=True,
              help="Line index in the segment (see `query --json`).")
@click.option("--agent-key", type=click.Path(path_type=Path),
              help="The agent's .pub file (needed when several keys used the name).")
@click.option("--collector-key", type=click.Path(path_type=Path),
              help="Check the bundle with this verifier key before writing it.")
@click.option("--out", required=True, type=click.Path(path_type=Path),
              help="Bundle file to write.")
@token_option
@tls_options
def prove(config_file: Path | None, address: str | None, agent_name: str, seq: int, index: int,
          agent_key: Path | None, collector_key: Path | None, out: Path,
          token_file: Path | None) -> None:
    """Write an offline proof bundle for one line: its entry bytes, the signed segment header,
    the line's path to the segment root, the segment's path to a signed collector checkpoint.

    Example: sealtail prove --collector 127.0.0.1:7600 --agent web-17 --seq 3 --index 5
    --out line.proof.json
    """
    from agent.formats import verify_bundle
    from agent.keys import load_note_verifier, load_public_key
    from agent.verify import fetch_bundle

    try:
        pub = load_public_key(agent_key) if agent_key else b""
        data = fetch_bundle(client_address(config_file, address), agent_name, seq, index,
                            agent_key=pub, token=read_token(token_file),
                            tls=client_tls(config_file))
        if collector_key:
            verify_bundle(data, collector_keys=[load_note_verifier(collector_key)],
                          agent_key=pub or _header_key(data))
        out.write_bytes(data)
    except OSError as exc:
        raise click.ClickException(f"{out}: cannot write: {exc.strerror}") from exc
    except SealtailError as exc:
        raise fail(exc) from exc
    click.echo(f"wrote {out}: line {index} of {agent_name} seq {seq}"
               + (" (checked with the collector key)" if collector_key else ""))


def _header_key(bundle: bytes) -> bytes:
    """The key the bundle's header names (used only when no --agent-key pins one)."""
    from agent.formats import parse_bundle, parse_header

    return parse_header(parse_bundle(bundle).header).agent_key


def _register_commands() -> None:
    # Command modules import helpers from this module, so they are added once it is complete.
    from agent.cli._config import config_group
    from agent.cli._status import reload, status
    from agent.cli._summary import summary

    main.add_command(config_group)
    main.add_command(summary)
    main.add_command(status)
    main.add_command(reload)


@main.command()
@config_option
@click.option("--json", "as_json", is_flag=True, help="One JSON object per line (JSON Lines).")
@click.option("--no-model", is_flag=True, help="Rules only, as with classify.model = false.")
@click.argument("files", nargs=-1, type=click.Path(path_type=Path, dir_okay=False))
def classify(config_file: Path | None, as_json: bool, no_model: bool,
             files: tuple[Path, ...]) -> None:
    """Label lines of FILES (stdin when none) as the agent would, one output line per line.

    Prints category, layer (rules, model, none) and confidence, then the line. Unlike the
    agent, it always waits for the model, so no line gets the fallback label.

    Example: sealtail classify --json /var/log/auth.log
    """
    from agent.classify import Classifier

    try:
        conf = cfg.load(cfg.AgentConfig, config_file, ignore=frozenset()).classify
        if no_model:
            conf = dataclasses.replace(conf, model=False)
        cfg.check_classify(conf, str(config_file) if config_file else "command line")
        classifier = Classifier(conf)
    except SealtailError as exc:
        raise fail(exc) from exc
    try:
        sources: list[BinaryIO] = [p.open("rb") for p in files] if files else [sys.stdin.buffer]
    except OSError as exc:
        classifier.close()
        raise click.ClickException(f"{exc.filename}: {exc.strerror}") from exc
    out = sys.stdout
    try:
        for path, source in zip(files or (None,), sources, strict=True):
            with source:
                while chunk := _read_lines(source, path):
                    lines = [c[:-1] if c.endswith(b"\n") else c for c in chunk]
                    for line, label in zip(lines, classifier.label_many(lines), strict=True):
                        layer = LAYER_NAMES.get(label.layer, str(label.layer))
                        if as_json:
                            record = {
                                "category": label.category, "layer": layer,
                                "confidence": round(label.confidence, 4),
                                "template_id": label.template_id.hex(),
                                "line": escape_line(line),
                                "line_b64": base64.b64encode(line).decode()}
                            if len(files) > 1:
                                record["file"] = str(path)
                            out.write(json.dumps(record, ensure_ascii=False) + "\n")
                        else:
                            # terminal_line: a line must not drive the terminal (escapes, \r
                            # overprinting the label columns, bidi reordering)
                            out.write(f"{label.category}\t{layer}\t{label.confidence:.3f}\t"
                                      f"{terminal_line(line)}\n")
        out.flush()
    except BrokenPipeError:
        # the reader went away (| head): stop quietly, as cat and grep do
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        raise SystemExit(0) from None
    except OSError as exc:
        raise click.ClickException(f"writing the output: {exc.strerror}") from exc
    finally:
        classifier.close()


def _read_lines(source: BinaryIO, path: Path | None) -> list[bytes]:
    """The next lines of an input, up to about 1 MiB; a read error names the file."""
    try:
        return source.readlines(1 << 20)
    except OSError as exc:
        raise click.ClickException(f"{path or 'stdin'}: {exc.strerror}") from exc


@main.group()
def model() -> None:
    """The line-classification model: train it, check a model file."""


@model.command(context_settings={"ignore_unknown_options": True, "allow_extra_args": True})
@click.pass_context
def train(ctx: click.Context) -> None:
    """Train and export the classifier (needs: pip install 'sealtail[train]').

    Options are those of `python -m agent.classify.training --help`.

    Example: sealtail model train --seed 1 --out ./model
             sealtail model train --csv my-labelled-lines.csv --out ./my-model
    """
    try:
        from agent.classify.training.train import main as train_main
    except ImportError as exc:
        raise UsageError(f"training needs the [train] extra (torch, sentencepiece, gguf): {exc}"
                         ) from exc
    try:
        code = train_main(list(ctx.args))
    except SealtailError as exc:  # a bad --csv: named file and row, no traceback
        raise fail(exc) from exc
    sys.exit(code)


@model.command("check")
@click.argument("file", type=click.Path(path_type=Path, dir_okay=False), required=False)
@click.option("--sha256", default="", help="Hash the file must have.")
def model_check(file: Path | None, sha256: str) -> None:
    """Check a GGUF model file (default: the shipped one) without loading it.

    Example: sealtail model check /etc/sealtail/my-model.gguf --sha256 3f0c...
    """
    from agent.classify._pool import ModelSpec, check_model, shipped_spec

    try:
        spec = shipped_spec()
        if file is not None:
            spec = ModelSpec(file, sha256, "{line}", (), ())
        check_model(spec)
    except SealtailError as exc:
        raise fail(exc) from exc
    click.echo(f"OK: {spec.path}")


_register_commands()
