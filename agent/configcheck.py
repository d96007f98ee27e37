"""`sealtail config check FILE`: everything start-up would reject, found without starting.

The file's kind is told by its tables: ``[collector]`` (and ``[ops]``) is a collector file;
``[agent]``, ``[tail]``, ``[classify]``, ``[seal]``, ``[ship]`` an agent file. It is then
loaded through the same `config.build` and `.check()` as at start-up, and the files it names
(keys, authorized keys, token, TLS certificates) are opened the way the daemon opens them, and
the agent's state directory must be (or be creatable as) a writable directory.
Every problem is a ConfigError naming the file, the key and the value.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from agent import config as cfg
from agent.errors import ConfigError, SealtailError

AGENT_TABLES = frozenset({"agent", "tail", "classify", "seal", "ship"})
COLLECTOR_TABLES = frozenset({"collector"})


@dataclass(frozen=True, slots=True)
class Checked:
    kind: str  # "agent" or "collector"
    config: cfg.AgentConfig | cfg.CollectorConfig


def check_file(path: Path) -> Checked:
    """Load and validate an agent or collector config file, and the files it names.

    Raises:
        ConfigError: missing or unreadable file, not UTF-8, not TOML, unknown key, wrong type
            or table type, value out of range, bad glob, unreadable or invalid key file.
    """
    file = str(path)
    data = cfg.load_toml(path)
    tables = set(data)
    if tables & COLLECTOR_TABLES and tables & AGENT_TABLES:
        raise ConfigError("has both collector and agent tables; use one file per process "
                          f"(found {', '.join(sorted(tables))})", file=file)
    if tables & COLLECTOR_TABLES:
        collector = cfg.build(cfg.CollectorConfig, data, file=file).check(file)
        _check_collector_files(collector, file)
        return Checked("collector", collector)
    if not tables & AGENT_TABLES:
        raise ConfigError("neither an agent file (tables agent, tail, classify, seal, ship) "
                          "nor a collector file (table collector)", file=file)
    agent = cfg.build(cfg.AgentConfig, data, file=file).check(file)
    _check_agent_files(agent, file)
    return Checked("agent", agent)


def _check_agent_files(conf: cfg.AgentConfig, file: str) -> None:
    from agent.keys import load_note_verifier, load_signing_key
    from agent.spool import check_state_dir
    from agent.tls import client_tls

    _named_file(load_signing_key, conf.agent.key, file, "agent.key")
    try:
        check_state_dir(Path(conf.agent.state_dir))
    except SealtailError as exc:
        raise ConfigError(exc.message, file=file, key="agent.state_dir") from exc
    if conf.agent.collector_key:
        _named_file(load_note_verifier, conf.agent.collector_key, file, "agent.collector_key")
    client_tls(conf.agent.tls, file=file, prefix="agent.tls")


def _check_collector_files(conf: cfg.CollectorConfig, file: str) -> None:
    from agent.keys import load_authorized_keys
    from agent.tls import server_credentials

    _named_file(load_authorized_keys, conf.collector.authorized_keys, file,
                "collector.authorized_keys")
    server_credentials(conf.collector.tls, file=file, prefix="collector.tls")
    token = conf.collector.query_token_file
    if token:
        try:
            text = Path(token).read_text()
        except (OSError, UnicodeDecodeError) as exc:
            raise ConfigError(f"{token!r}: cannot read the token file: {exc}", file=file,
                              key="collector.query_token_file") from exc
        if not text.strip():
            raise ConfigError(f"{token!r}: the token file is empty", file=file,
                              key="collector.query_token_file")


def _named_file(loader: Any, value: str, file: str, key: str) -> None:
    try:
        loader(Path(value))
    except SealtailError as exc:
        why = exc.message.removeprefix(f"{value}: ")
        raise ConfigError(f"{value!r}: {why}", file=file, key=key) from exc
