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
from agent.errors import ConfigError, KeyFileError, ModelError, SealtailError, VerificationError

F = TypeVar("F", bound=Callable[..., Any])


class UsageError(click.ClickException):
    exit_code = 2


def fail(exc: SealtailError) -> click.ClickException:
    if isinstance(exc, ConfigError | KeyFileError | ModelError):
        return UsageError(str(exc))
    return click.ClickException(str(exc))


def setup_logging(level: str = "INFO") -> None:
    # One line per event on stderr, key=value: journald and `kubectl logs` keep it whole.
    logging.basicConfig(
        level=getattr(logging, level.upper(), logging.INFO), stream=sys.stderr,
        format="%(asctime)s level=%(levelname)s logger=%(name)s msg=%(message)s")
    logging.getLogger("watchfiles").setLevel(logging.WARNING)


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
@click.option("--log-level", default="INFO", show_default=True)
@click.argument("globs", nargs=-1)
def agent(config_file: Path | None, collector: str | None, key: Path | None,
          state: Path | None, name: str | None, log_level: str, globs: tuple[str, ...]) -> None:
    """Tail files matching GLOBS, seal and ship them to a collector.

    Example: sealtail agent --collector 127.0.0.1:7600 --key agent.key --state ./state
    --name web-17 '/var/log/app/*.log'
    """
    from agent.daemon import run_agent

    setup_logging(log_level)
    try:
        conf = cfg.load(cfg.AgentConfig, config_file)
        conf = cfg.merge_overrides(conf, {
            "agent.collector": collector, "agent.key": str(key) if key else None,
            "agent.state_dir": str(state) if state else None, "agent.name": name,
            "tail.paths": list(globs) if globs else None})
        conf.check(str(config_file) if config_file else "command line")
        asyncio.run(run_agent(conf))
    except SealtailError as exc:
        logging.getLogger("sealtail").error("%s", exc)
        raise fail(exc) from exc


@main.command()
@config_option
@click.option("--listen", help="Address to listen on, HOST:PORT (port 0 picks a free port).")
@click.option("--data", type=click.Path(path_type=Path), help="Data directory (store, key).")
@click.option("--authorized-keys", type=click.Path(path_type=Path),
              help="File of agent public keys allowed to write (one per line).")
@click.option("--log-level", default="INFO", show_default=True)
def collector(config_file: Path | None, listen: str | None, data: Path | None,
              authorized_keys: Path | None, log_level: str) -> None:
    """Receive, verify and store segments; answer queries.

    Example: sealtail collector --listen 127.0.0.1:7600 --data ./store
    --authorized-keys agents.pub
    """
    from agent.daemon import run_collector

    setup_logging(log_level)
    try:
        conf = cfg.load(cfg.CollectorConfig, config_file)
        conf = cfg.merge_overrides(conf, {
            "collector.listen": listen, "collector.data_dir": str(data) if data else None,
            "collector.authorized_keys": str(authorized_keys) if authorized_keys else None})
        conf.check(str(config_file) if config_file else "command line")
        asyncio.run(run_collector(conf))
    except SealtailError as exc:
        logging.getLogger("sealtail").error("%s", exc)
        raise fail(exc) from exc


def client_address(config_file: Path | None, flag: str | None) -> str:
    """The collector address: the flag, else the config file's, else the default."""
    if flag:
        return flag
    if config_file is None:
        return cfg.ClientSection().collector
    data = cfg.load_toml(config_file)
    for table, key in (("client", "collector"), ("agent", "collector"), ("collector", "listen")):
        value = data.get(table, {}).get(key)
        if isinstance(value, str) and value:
            return value
    raise ConfigError("no collector address (set client.collector)", file=str(config_file))


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
@click.option("--limit", type=click.IntRange(min=0), default=0, help="At most N lines.")
@click.option("--count", "count_only", is_flag=True, help="Print only the number of matches.")
@click.option("--json", "as_json", is_flag=True, help="One JSON object per line (JSON Lines).")
def query(config_file: Path | None, address: str | None, agent_name: str, category: str,
          contains: str, since: str | None, until: str | None, limit: int, count_only: bool,
          as_json: bool) -> None:
    """Print stored lines matching the filters, in log order.

    Example: sealtail query --collector 127.0.0.1:7600 --category failed_login --since 24h
    """
    try:
        addr = client_address(config_file, address)
    except SealtailError as exc:
        raise fail(exc) from exc
    request = pb.SearchRequest(
        agent=agent_name, category=category, contains=contains.encode(),
        since_ns=parse_time(since) if since else 0, until_ns=parse_time(until) if until else 0,
        limit=limit, count_only=count_only)
    try:
        with grpc.insecure_channel(addr, options=[
                ("grpc.max_receive_message_length", 256 * 1024 * 1024)]) as channel:
            stub = pb_grpc.QueryStub(channel)
            for page in stub.Search(request, timeout=600):
                if count_only:
                    if not page.results:
                        click.echo(page.count)
                    continue
                for r in page.results:
                    click.echo(_render(r, as_json))
    except grpc.RpcError as exc:
        raise click.ClickException(f"collector {addr}: {exc.code().name}: {exc.details()}"
                                   ) from exc


def _render(r: pb.SearchResult, as_json: bool) -> str:
    e = pb.Entry.FromString(r.entry)
    if not as_json:
        return f"{format_time(e.time_ns)} {r.agent} {e.category} {escape_line(e.line)}"
    flags = [name for bit, name in ((1, "partial"), (2, "truncated"), (4, "continued"))
             if e.flags & bit]
    return json.dumps({
        "agent": r.agent, "seq": r.seq, "index": r.index, "source": r.source,
        "offset": e.offset, "time": format_time(e.time_ns), "time_ns": e.time_ns,
        "category": e.category, "layer": pb.Layer.Name(e.layer).removeprefix("LAYER_").lower(),
        "confidence": round(e.confidence, 4), "flags": flags,
        "line": escape_line(e.line), "line_b64": base64.b64encode(e.line).decode(),
    }, ensure_ascii=False)


@main.command()
@config_option
@click.option("--collector", "address", help="Verify everything a running collector holds.")
@click.option("--agent", "agent_name", default="", help="With --collector: only this agent.")
@click.option("--data", type=click.Path(path_type=Path), help="A collector's data directory.")
@click.option("--spool", type=click.Path(path_type=Path), help="An agent's state directory.")
@click.option("--pubkey", type=click.Path(path_type=Path), multiple=True,
              help="Agent public key file(s) the chains must be signed by.")
@click.option("--json", "as_json", is_flag=True, help="Print the result as JSON.")
def verify(config_file: Path | None, address: str | None, agent_name: str, data: Path | None,
           spool: Path | None, pubkey: tuple[Path, ...], as_json: bool) -> None:
    """Check signatures, Merkle roots and hash chains; exit 1 naming the first failure.

    Example: sealtail verify --data /var/lib/sealtail-collector
    """
    from agent.keys import load_public_key
    from agent.verify import verify_remote, verify_spool, verify_store

    chosen = [x for x in (address, data, spool) if x]
    if len(chosen) > 1:
        raise UsageError("give one of --collector, --data, --spool")
    try:
        keys = frozenset(load_public_key(p) for p in pubkey)
        if data:
            report = verify_store(data)
        elif spool:
            if len(keys) != 1:
                raise UsageError("--spool needs exactly one --pubkey (the agent's .pub file)")
            report = verify_spool(spool, next(iter(keys)))
        else:
            report = verify_remote(client_address(config_file, address), agent_name,
                                   pinned_keys=keys)
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
        click.echo(json.dumps({"ok": True, "segments": report.segments, "lines": report.lines,
                               "agents": [{"agent": c.agent, "first_seq": c.first_seq,
                                           "last_seq": c.last_seq, "segments": c.segments,
                                           "lines": c.lines} for c in report.chains]}))
    else:
        click.echo(report.summary())


LAYER_NAMES = {0: "none", 1: "rules", 2: "model", 3: "fallback"}


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
        out = sys.stdout
        for source in sources:
            with source:
                while chunk := source.readlines(1 << 20):
                    lines = [c[:-1] if c.endswith(b"\n") else c for c in chunk]
                    for line, label in zip(lines, classifier.label_many(lines), strict=True):
                        layer = LAYER_NAMES.get(label.layer, str(label.layer))
                        if as_json:
                            out.write(json.dumps({
                                "category": label.category, "layer": layer,
                                "confidence": round(label.confidence, 4),
                                "line": escape_line(line)}, ensure_ascii=False) + "\n")
                        else:
                            out.write(f"{label.category}\t{layer}\t{label.confidence:.3f}\t"
                                      f"{escape_line(line)}\n")
    except OSError as exc:
        raise click.ClickException(f"{exc.filename}: {exc.strerror}") from exc
    finally:
        classifier.close()


@main.group()
def model() -> None:
    """The line-classification model: train it, check a model file."""


@model.command(context_settings={"ignore_unknown_options": True, "allow_extra_args": True})
@click.pass_context
def train(ctx: click.Context) -> None:
    """Train and export the classifier (needs: pip install 'sealtail[train]').

    Options are those of `python -m agent.classify.training --help`.

    Example: sealtail model train --seed 1 --out ./model
    """
    try:
        from agent.classify.training.train import main as train_main
    except ImportError as exc:
        raise UsageError(f"training needs the [train] extra (torch, sentencepiece, gguf): {exc}"
                         ) from exc
    sys.exit(train_main(list(ctx.args)))


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
