"""`sealtail config check FILE`."""

from __future__ import annotations

from pathlib import Path

import click

from agent.cli import fail
from agent.errors import SealtailError


@click.group(name="config")
def config_group() -> None:
    """Check configuration files.

    Example: sealtail config check /etc/sealtail/agent.toml
    """


@config_group.command(name="check")
@click.argument("file", type=click.Path(path_type=Path, dir_okay=False))
def check(file: Path) -> None:
    """Validate an agent or collector config FILE as start-up would: keys, types, values,
    globs, and the key files it names. Exit 0 when valid, 2 naming file, key, value and what
    is allowed.

    Example: sealtail config check /etc/sealtail/agent.toml
    """
    from agent.configcheck import check_file

    try:
        checked = check_file(file)
    except SealtailError as exc:
        raise fail(exc) from exc
    click.echo(f"{file}: valid {checked.kind} config")
