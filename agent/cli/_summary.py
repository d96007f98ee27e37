"""`sealtail summary`: what happened in a window, each item naming its sealed lines."""

from __future__ import annotations

import json
import re
from pathlib import Path

import click
import grpc

from agent._pb import sealtail_pb2 as pb
from agent._pb import sealtail_pb2_grpc as pb_grpc
from agent.cli import client_address, config_option, fail, parse_time, token_metadata
from agent.errors import SealtailError

_DURATION = re.compile(r"^(\d+(?:\.\d+)?)\s*(s|m|h|d|w)$")
_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}


def parse_duration(value: str) -> int:
    """Nanoseconds of a duration like '90m', '24h', '7d'."""
    m = _DURATION.match(value.strip())
    if not m or float(m.group(1)) <= 0:
        raise click.BadParameter(f"{value!r}: expected a duration like 30m, 24h, 7d")
    return int(float(m.group(1)) * _UNITS[m.group(2)] * 1e9)


@click.command()
@config_option
@click.option("--collector", "address", help="Collector address HOST:PORT.")
@click.option("--agent", "agent_name", default="", help="Only this agent's lines.")
@click.option("--since", default="24h", show_default=True,
              help="Window start (ISO 8601 or age like 24h).")
@click.option("--until", default=None, help="Window end (ISO 8601 or age); default now.")
@click.option("--baseline", default="7d", show_default=True,
              help="History before the window that it is judged against.")
@click.option("--bucket", default=None,
              help="Series bucket (whole minutes, e.g. 5m, 1h); default chosen from the window.")
@click.option("--json", "as_json", is_flag=True, help="Print the summary as JSON.")
@click.option("--html", "html_file", type=click.Path(path_type=Path, dir_okay=False),
              help="Write a self-contained HTML report to this file.")
@click.option("--token-file", type=click.Path(path_type=Path),
              help="File holding the bearer token the collector requires for queries.")
def summary(config_file: Path | None, address: str | None, agent_name: str, since: str,
            until: str | None, baseline: str, bucket: str | None, as_json: bool,
            html_file: Path | None, token_file: Path | None) -> None:
    """Summarise a window: counts per category, the audit trail (admin changes, security
    alerts), failed logins by user and address, and anomalies with scores. Every item lists
    its lines as AGENT/SEQ/INDEX for `sealtail prove`.

    Example: sealtail summary --collector 127.0.0.1:7600 --since 24h --html report.html
    """
    from agent.insights import (
        SUMMARY_FORMAT,
        render_html,
        render_text,
        summary_from_json,
    )

    if as_json and html_file:
        raise click.UsageError("--json and --html are exclusive")
    try:
        addr = client_address(config_file, address)
    except SealtailError as exc:
        raise fail(exc) from exc
    request = pb.SummaryRequest(
        agent=agent_name, since_ns=parse_time(since), until_ns=parse_time(until) if until else 0,
        baseline_ns=parse_duration(baseline),
        bucket_ns=parse_duration(bucket) if bucket else 0)
    try:
        with grpc.insecure_channel(addr, options=[
                ("grpc.max_receive_message_length", 256 * 1024 * 1024)]) as channel:
            response = pb_grpc.QueryStub(channel).Summary(
                request, timeout=600, metadata=token_metadata(token_file))
    except grpc.RpcError as exc:
        raise click.ClickException(f"collector {addr}: {exc.code().name}: {exc.details()}"
                                   ) from exc
    if response.format != SUMMARY_FORMAT:
        raise click.ClickException(f"collector {addr} answered summary format "
                                   f"{response.format!r}; this client reads {SUMMARY_FORMAT!r}")
    obj = json.loads(response.summary_json)
    if as_json:
        click.echo(json.dumps(obj, indent=2, ensure_ascii=False))
        return
    try:
        result = summary_from_json(obj)
    except SealtailError as exc:
        raise fail(exc) from exc
    if html_file:
        try:
            html_file.write_text(render_html(result), encoding="utf-8")
        except OSError as exc:
            raise click.ClickException(f"{html_file}: {exc.strerror}") from exc
        click.echo(f"wrote {html_file}")
        return
    click.echo(render_text(result), nl=False)
