"""TOML configuration → frozen, typed config objects, validated on load.

One dataclass per TOML table. Every field has a help string (``metadata["help"]``) used by
``sealtail config`` docs. Unknown keys are errors; messages name the file, the key and the rule.
Command-line flags override file values through `merge_overrides`.
"""

from __future__ import annotations

import dataclasses
import re
import tomllib
import types
import typing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from agent.errors import ConfigError

T = TypeVar("T")


def _opt(default: Any, help: str) -> Any:
    if isinstance(default, list):
        return field(default_factory=lambda: list(default), metadata={"help": help})
    return field(default=default, metadata={"help": help})


@dataclass(frozen=True, slots=True)
class Rule:
    """A user classification rule: lines matching `pattern` get `category`."""

    pattern: str = _opt("", "regular expression searched in the line (Python syntax, bytes)")
    category: str = _opt("", "category given to matching lines")


@dataclass(frozen=True, slots=True)
class TailConfig:
    paths: list[str] = _opt([], "glob patterns of files to tail")
    exclude: list[str] = _opt([], "glob patterns of files never to tail")
    poll_interval_ms: int = _opt(250, "rescan period when no change event arrives")
    partial_idle_secs: float = _opt(5.0, "ship a last line without newline after this idle time")
    max_line_bytes: int = _opt(1024 * 1024, "longer lines are truncated and flagged")
    rotate_wait_secs: float = _opt(5.0, "keep a rotated-away file open this long after its end")
    max_rotated_open_secs: float = _opt(
        300.0, "close a rotated or deleted file after this long even if unread (counted)")
    read_from: str = _opt("beginning", "where files found at the very first start begin: "
                          "beginning or end (files appearing later: always beginning)")
    read_chunk_bytes: int = _opt(256 * 1024, "bytes read per file per turn")
    max_open_files: int = _opt(1024, "files held open at once; more wait for a free slot")
    close_idle_secs: float = _opt(60.0, "close a file idle this long; reopened when it grows")


@dataclass(frozen=True, slots=True)
class ClassifyConfig:
    rules: list[Rule] = _opt([], "user rules, tried in order before the default rules")
    default_rules: bool = _opt(True, "apply the built-in rule set after the user rules")
    model: bool = _opt(True, "label lines no user rule matched with the language model")
    model_file: str = _opt("", "GGUF llama-family model to use instead of the shipped one")
    model_sha256: str = _opt("", "SHA-256 the model file must have (checked at start-up)")
    model_prompt: str = _opt("{line}\n", "prompt text; {line} stands for the line's template")
    model_labels: list[str] = _opt(
        [], "with model_file: CATEGORY=TOKEN pairs; the model's next token picks the category")
    model_min_confidence: float = _opt(
        0.9, "below this probability the model's answer is ignored: the line gets the rules' "
              "label, else unclassified")
    model_check_answers: bool = _opt(
        False, "with model_file: an answer of error, login, failed_login, admin_change or "
               "security_alert stands only when the line holds words of that kind, else the "
               "line is normal (the shipped model is always checked: its manifest says so)")
    model_workers: int = _opt(1, "model worker processes (one model instance each)")
    max_wait_ms: int = _opt(200, "longest a line waits for the model before it is sealed with "
                                 "the rules' label (layer fallback)")
    max_queued_templates: int = _opt(10_000, "templates waiting for the model; more fall back")
    cache_templates: int = _opt(100_000, "templates whose label is kept in memory (LRU)")
    cache_persist: bool = _opt(True, "save the model's template labels in the state directory")


@dataclass(frozen=True, slots=True)
class SealConfig:
    max_segment_bytes: int = _opt(512 * 1024, "close a segment at this many entry bytes")
    max_segment_lines: int = _opt(10_000, "close a segment at the first batch end at or past "
                                          "this many lines (a batch, one read of one file of up "
                                          "to tail.read_chunk_bytes, is never split: a segment "
                                          "may exceed this by one batch)")
    max_segment_age_ms: int = _opt(1000, "close a segment this long after its first line")


@dataclass(frozen=True, slots=True)
class ShipConfig:
    max_in_flight: int = _opt(16, "segments sent and not yet acknowledged")
    backoff_initial_ms: int = _opt(200, "first reconnect delay")
    backoff_max_ms: int = _opt(30_000, "largest reconnect delay")
    shutdown_grace_secs: float = _opt(5.0, "on SIGTERM, wait this long for acknowledgements")
    keepalive_time_ms: int = _opt(10_000, "send an HTTP/2 ping this often on the connection")
    keepalive_timeout_ms: int = _opt(5_000, "a ping unanswered this long: the connection is "
                                            "dead (half-open), reconnect")
    ack_timeout_secs: float = _opt(60.0, "a segment unacknowledged this long: drop the "
                                         "stream and reconnect (a stuck collector)")
    compression: str = _opt("zstd", "zstd (level 1, used when the collector announces it) or "
                                    "none")


SPOOL_POLICIES = ("block",)


@dataclass(frozen=True, slots=True)
class SpoolConfig:
    max_bytes: int = _opt(1024 ** 3, "unacknowledged segment bytes kept on disk; when full, "
                                     "reading stops (one segment always fits)")
    max_segments: int = _opt(100_000, "unacknowledged segments kept on disk; when full, "
                                      "reading stops")
    full_policy: str = _opt("block", "what happens when the spool is full: block (stop "
                                     "reading until acknowledgements free room; never drop)")


@dataclass(frozen=True, slots=True)
class ClientTLSConfig:
    """How a client (agent, query, prove, verify) connects to a collector over TLS."""

    enabled: bool = _opt(False, "connect with TLS (implied when ca_file or cert_file is set)")
    ca_file: str = _opt("", "PEM CA certificate(s) the collector's certificate must be signed "
                            "by (empty: the system's trusted roots)")
    cert_file: str = _opt("", "PEM client certificate, for a collector that requires one")
    key_file: str = _opt("", "PEM private key of cert_file (not readable by others)")
    server_name: str = _opt("", "name the collector's certificate must carry, instead of the "
                                "host of the address (e.g. when connecting by IP)")

    @property
    def on(self) -> bool:
        return self.enabled or bool(self.ca_file or self.cert_file)


@dataclass(frozen=True, slots=True)
class ServerTLSConfig:
    """TLS of the collector's one gRPC port (Ingest, Query and Health share it)."""

    cert_file: str = _opt("", "PEM certificate (chain) the collector presents; with key_file "
                              "it turns TLS on for collector.listen")
    key_file: str = _opt("", "PEM private key of cert_file (not readable by others)")
    client_ca_file: str = _opt("", "PEM CA certificate(s) client certificates must be signed "
                                   "by (needs require_client_cert = true)")
    require_client_cert: bool = _opt(False, "refuse every connection without a client "
                                            "certificate from client_ca_file: agents, queries "
                                            "and health checks alike (they share the port)")

    @property
    def on(self) -> bool:
        return bool(self.cert_file or self.key_file)


@dataclass(frozen=True, slots=True)
class AgentSection:
    name: str = _opt("", "agent name, signed into every segment")
    collector: str = _opt("", "collector address HOST:PORT")
    key: str = _opt("", "path of the agent's Ed25519 private key (mode 0600)")
    state_dir: str = _opt("", "directory for the spool and cursors")
    collector_key: str = _opt("", "file holding the collector's checkpoint verifier key "
                                  "(name+id+base64, from `sealtail collector-key`); when unset, "
                                  "checkpoints in acks are stored unverified")
    offline_new_chain: bool = _opt(False, "with an empty state directory and the collector "
                                          "unreachable, start a new chain at seq 0 instead of "
                                          "waiting for the collector's ChainHead answer; only "
                                          "for a brand-new agent key (if the state was lost, "
                                          "the collector refuses that chain as equivocation)")
    tls: ClientTLSConfig = field(default_factory=ClientTLSConfig,
                                 metadata={"help": "TLS to the collector ([agent.tls])"})


LOG_FORMATS = ("keyvalue", "json")


@dataclass(frozen=True, slots=True)
class OpsConfig:
    """How the agent is run and watched: its HTTP endpoint, health rule and log format."""

    http_listen: str = _opt("", "HOST:PORT for /metrics, /healthz, /status and POST /reload "
                                "(empty = off; port 0 = any free port)")
    unhealthy_after_secs: float = _opt(300.0, "/healthz fails when segments have waited this "
                                               "long without any acknowledgement")
    log_format: str = _opt("keyvalue", "stderr log lines: keyvalue or json (one line per event)")


@dataclass(frozen=True, slots=True)
class CollectorOpsConfig:
    http_listen: str = _opt("", "HOST:PORT for /metrics (empty = off; port 0 = any free port)")
    log_format: str = _opt("keyvalue", "stderr log lines: keyvalue or json (one line per event)")


@dataclass(frozen=True, slots=True)
class AgentConfig:
    agent: AgentSection = field(default_factory=AgentSection)
    tail: TailConfig = field(default_factory=TailConfig)
    classify: ClassifyConfig = field(default_factory=ClassifyConfig)
    seal: SealConfig = field(default_factory=SealConfig)
    spool: SpoolConfig = field(default_factory=SpoolConfig)
    ship: ShipConfig = field(default_factory=ShipConfig)
    ops: OpsConfig = field(default_factory=OpsConfig)

    def check(self, file: str = "command line") -> AgentConfig:
        """Raise ConfigError for anything missing or out of range."""
        for key in ("name", "collector", "key", "state_dir"):
            if not getattr(self.agent, key):
                raise ConfigError("is required", file=file, key=f"agent.{key}")
        _check_address(self.agent.collector, file, "agent.collector")
        problem = agent_name_problem(self.agent.name)
        if problem:
            raise ConfigError(problem, file=file, key="agent.name")
        if not self.tail.paths:
            raise ConfigError("give at least one glob", file=file, key="tail.paths")
        positives = {
            "tail.poll_interval_ms": self.tail.poll_interval_ms,
            "tail.max_line_bytes": self.tail.max_line_bytes,
            "tail.read_chunk_bytes": self.tail.read_chunk_bytes,
            "tail.max_open_files": self.tail.max_open_files,
            "seal.max_segment_bytes": self.seal.max_segment_bytes,
            "seal.max_segment_lines": self.seal.max_segment_lines,
            "seal.max_segment_age_ms": self.seal.max_segment_age_ms,
            "spool.max_bytes": self.spool.max_bytes,
            "spool.max_segments": self.spool.max_segments,
            "ship.max_in_flight": self.ship.max_in_flight,
            "ship.backoff_initial_ms": self.ship.backoff_initial_ms,
            "ship.backoff_max_ms": self.ship.backoff_max_ms,
            "ship.keepalive_time_ms": self.ship.keepalive_time_ms,
            "ship.keepalive_timeout_ms": self.ship.keepalive_timeout_ms,
            "ship.ack_timeout_secs": self.ship.ack_timeout_secs,
        }
        for key, value in positives.items():
            if value <= 0:
                raise ConfigError(f"must be > 0, got {value}", file=file, key=key)
        if self.ship.compression not in ("zstd", "none"):
            raise ConfigError(f"expected \"zstd\" or \"none\", got {self.ship.compression!r}",
                              file=file, key="ship.compression")
        if self.spool.full_policy not in SPOOL_POLICIES:
            raise ConfigError(f"expected one of {', '.join(SPOOL_POLICIES)}, got "
                              f"{self.spool.full_policy!r} (an audit log never drops lines)",
                              file=file, key="spool.full_policy")
        if self.tail.read_from not in ("beginning", "end"):
            raise ConfigError(f"expected \"beginning\" or \"end\", got {self.tail.read_from!r}",
                              file=file, key="tail.read_from")
        for i, pattern in enumerate(self.tail.paths):
            _check_glob(pattern, file, f"tail.paths[{i}]")
        for i, pattern in enumerate(self.tail.exclude):
            _check_glob(pattern, file, f"tail.exclude[{i}]")
        _check_ops(self.ops.http_listen, self.ops.log_format, file)
        check_client_tls(self.agent.tls, file, "agent.tls")
        if self.ops.unhealthy_after_secs <= 0:
            raise ConfigError(f"must be > 0, got {self.ops.unhealthy_after_secs}",
                              file=file, key="ops.unhealthy_after_secs")
        check_classify(self.classify, file)
        for i, rule in enumerate(self.classify.rules):
            try:
                re.compile(rule.pattern.encode())
            except re.error as exc:
                raise ConfigError(f"invalid regular expression {rule.pattern!r}: {exc}",
                                  file=file, key=f"classify.rules[{i}].pattern") from exc
            if not rule.category:
                raise ConfigError("is required", file=file, key=f"classify.rules[{i}].category")
        return self


# Agent names: 1-64 of [A-Za-z0-9._-]. They are printed by query, verify and status and used
# as labels; no spaces, controls, newlines or bidi characters that could forge output lines.
AGENT_NAME_RULE = "1-64 characters of A-Z a-z 0-9 . _ -"
_AGENT_NAME = re.compile(r"[A-Za-z0-9._-]{1,64}")


def agent_name_problem(name: str) -> str | None:
    """Why `name` is not a valid agent name (None when it is)."""
    if _AGENT_NAME.fullmatch(name):
        return None
    return f"invalid agent name {name!r}: use {AGENT_NAME_RULE}"


def check_classify(c: ClassifyConfig, file: str) -> None:
    """Raise ConfigError for classify settings out of range or inconsistent."""
    for key in ("model_workers", "max_wait_ms", "max_queued_templates", "cache_templates"):
        if getattr(c, key) <= 0:
            raise ConfigError(f"must be > 0, got {getattr(c, key)}", file=file,
                              key=f"classify.{key}")
    if not 0.0 <= c.model_min_confidence <= 1.0:
        raise ConfigError(f"must be within 0..1, got {c.model_min_confidence}", file=file,
                          key="classify.model_min_confidence")
    if "{line}" not in c.model_prompt:
        raise ConfigError("must contain {line}", file=file, key="classify.model_prompt")
    if c.model_labels and not c.model_file:
        raise ConfigError("only with classify.model_file", file=file, key="classify.model_labels")
    if c.model_file and not c.model_labels:
        raise ConfigError("give CATEGORY=TOKEN pairs for your model", file=file,
                          key="classify.model_labels")
    for i, pair in enumerate(c.model_labels):
        category, sep, token = pair.partition("=")
        if not sep or not category or not token:
            raise ConfigError(f"expected CATEGORY=TOKEN, got {pair!r}", file=file,
                              key=f"classify.model_labels[{i}]")
    if c.model_sha256 and not re.fullmatch(r"[0-9a-fA-F]{64}", c.model_sha256):
        raise ConfigError("expected 64 hex digits", file=file, key="classify.model_sha256")


@dataclass(frozen=True, slots=True)
class CollectorSection:
    listen: str = _opt("127.0.0.1:7600", "address to listen on (HOST:PORT; port 0 = any free)")
    data_dir: str = _opt("", "directory of the store and the collector's key")
    authorized_keys: str = _opt("", "file of agent public keys allowed to write, one per line")
    max_message_bytes: int = _opt(64 * 1024 * 1024, "largest accepted gRPC message")
    max_streams: int = _opt(1024, "Ship streams (agents) served at once; more are answered "
                                  "RESOURCE_EXHAUSTED and back off")
    max_inflight_bytes: int = _opt(256 * 1024 * 1024, "bytes of received segments being "
                                   "verified and stored at once; more: RESOURCE_EXHAUSTED")
    summary_max_auth_keys: int = _opt(
        1000, "users and addresses with a success whose failure runs one summary follows "
              "(the most failed first), and successful logins it keeps: bounds a summary's "
              "memory under a brute force; totals stay exact, what is left out is in its notes")
    origin: str = _opt("", "checkpoint origin and key name of the collector-wide log (default "
                           "sealtail/<collector key id>); fixed at the first start")
    checkpoint_interval_secs: float = _opt(60.0, "sign a checkpoint this often while the log "
                                                 "grows (acks and queries also sign on demand)")
    query_token_file: str = _opt("", "file holding a bearer token every Query call must carry "
                                     "(`authorization: Bearer <token>`); unset = open queries")
    allow_plaintext: bool = _opt(False, "listen without TLS on an address other than loopback "
                                        "(refused otherwise: lines, queries and tokens would "
                                        "cross the network in clear)")
    tls: ServerTLSConfig = field(default_factory=ServerTLSConfig,
                                 metadata={"help": "TLS of the port ([collector.tls])"})


@dataclass(frozen=True, slots=True)
class CollectorConfig:
    collector: CollectorSection = field(default_factory=CollectorSection)
    ops: CollectorOpsConfig = field(default_factory=CollectorOpsConfig)

    def check(self, file: str = "command line") -> CollectorConfig:
        for key in ("data_dir", "authorized_keys"):
            if not getattr(self.collector, key):
                raise ConfigError("is required", file=file, key=f"collector.{key}")
        _check_address(self.collector.listen, file, "collector.listen")
        for key in ("max_streams", "max_inflight_bytes", "summary_max_auth_keys"):
            if getattr(self.collector, key) <= 0:
                raise ConfigError(f"must be > 0, got {getattr(self.collector, key)}",
                                  file=file, key=f"collector.{key}")
        if self.collector.checkpoint_interval_secs <= 0:
            raise ConfigError(f"must be > 0, got {self.collector.checkpoint_interval_secs}",
                              file=file, key="collector.checkpoint_interval_secs")
        _check_ops(self.ops.http_listen, self.ops.log_format, file)
        _check_server_tls(self.collector.tls, file)
        if (not self.collector.tls.on and not self.collector.allow_plaintext
                and not is_loopback(self.collector.listen)):
            raise ConfigError(
                f"{self.collector.listen!r} is reachable from other hosts and TLS is off: set "
                "[collector.tls] cert_file and key_file, or collector.allow_plaintext = true "
                "to accept it in clear", file=file, key="collector.listen")
        return self


@dataclass(frozen=True, slots=True)
class ClientSection:
    collector: str = _opt("127.0.0.1:7600", "collector address HOST:PORT for query/verify")
    tls: ClientTLSConfig = field(default_factory=ClientTLSConfig,
                                 metadata={"help": "TLS to the collector ([client.tls])"})


@dataclass(frozen=True, slots=True)
class ClientConfig:
    client: ClientSection = field(default_factory=ClientSection)


def _check_address(value: str, file: str, key: str) -> None:
    host, sep, port = value.rpartition(":")
    if not sep or not host or not port.isdigit():
        raise ConfigError(f"expected HOST:PORT, got {value!r}", file=file, key=key)
    if not 0 <= int(port) <= 65535:
        raise ConfigError(f"port {port} is out of range (0-65535) in {value!r}", file=file,
                          key=key)


def is_loopback(address: str) -> bool:
    """Whether HOST:PORT can only be reached from this host (127.0.0.0/8, ::1, localhost)."""
    import ipaddress

    host = address.rpartition(":")[0].strip("[]")
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:  # a name: whatever it resolves to may be reachable
        return False


def _check_server_tls(tls: ServerTLSConfig, file: str) -> None:
    if bool(tls.cert_file) != bool(tls.key_file):
        missing = "key_file" if tls.cert_file else "cert_file"
        raise ConfigError("cert_file and key_file go together", file=file,
                          key=f"collector.tls.{missing}")
    if tls.client_ca_file and not tls.cert_file:
        raise ConfigError("client certificates need TLS: set cert_file and key_file",
                          file=file, key="collector.tls.client_ca_file")
    if tls.require_client_cert and not tls.client_ca_file:
        raise ConfigError("give the CA client certificates must be signed by", file=file,
                          key="collector.tls.client_ca_file")
    if tls.client_ca_file and not tls.require_client_cert:
        # gRPC either requires and verifies a client certificate or never asks for one.
        raise ConfigError("is only used with require_client_cert = true (gRPC cannot ask for "
                          "an optional client certificate)", file=file,
                          key="collector.tls.client_ca_file")


def check_client_tls(tls: ClientTLSConfig, file: str, prefix: str) -> None:
    """Raise ConfigError for a client TLS table that cannot work."""
    if bool(tls.cert_file) != bool(tls.key_file):
        missing = "key_file" if tls.cert_file else "cert_file"
        raise ConfigError("cert_file and key_file go together", file=file,
                          key=f"{prefix}.{missing}")
    if tls.server_name and not tls.on:
        raise ConfigError("only with TLS (set enabled = true or ca_file)", file=file,
                          key=f"{prefix}.server_name")


def _check_ops(http_listen: str, log_format: str, file: str) -> None:
    if http_listen:
        _check_address(http_listen, file, "ops.http_listen")
    if log_format not in LOG_FORMATS:
        raise ConfigError(f"expected one of {', '.join(LOG_FORMATS)}, got {log_format!r}",
                          file=file, key="ops.log_format")


def _check_glob(pattern: str, file: str, key: str) -> None:
    """Reject globs that would silently match nothing or something else than meant."""
    problem = None
    if not pattern.strip():
        problem = "an empty glob matches nothing"
    elif "\0" in pattern:
        problem = "a NUL byte cannot be in a path"
    elif pattern.count("[") != pattern.count("]"):
        problem = "unbalanced [ ] (a character class must be closed)"
    elif any("**" in part and part != "**" for part in pattern.split("/")):
        problem = "** must be a whole path component (as in /var/log/**/*.log)"
    if problem:
        raise ConfigError(f"bad glob {pattern!r}: {problem}", file=file, key=key)


def load_toml(path: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as f:
            return tomllib.load(f)
    except FileNotFoundError as exc:
        raise ConfigError("file not found", file=str(path)) from exc
    except OSError as exc:
        raise ConfigError(f"cannot read: {exc.strerror}", file=str(path)) from exc
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"not valid TOML: {exc}", file=str(path)) from exc
    except UnicodeDecodeError as exc:
        raise ConfigError(f"not UTF-8 (TOML files must be): byte 0x{exc.object[exc.start]:02x} "
                          f"at offset {exc.start}", file=str(path)) from exc


def build(cls: type[T], data: dict[str, Any], *, file: str, prefix: str = "",
          ignore: frozenset[str] = frozenset()) -> T:
    """Build dataclass `cls` from a TOML table, checking keys and types."""
    fields = {f.name: f for f in dataclasses.fields(cls)}  # type: ignore[arg-type]
    kwargs: dict[str, Any] = {}
    for key, value in data.items():
        path = f"{prefix}{key}"
        if key in ignore:
            continue
        if key not in fields:
            allowed = ", ".join(sorted(fields))
            raise ConfigError(f"unknown key (allowed here: {allowed})", file=file, key=path)
        kwargs[key] = _convert(typing.get_type_hints(cls)[key], value, file=file, key=path)
    return cls(**kwargs)


def _convert(tp: Any, value: Any, *, file: str, key: str) -> Any:
    origin = typing.get_origin(tp)
    if dataclasses.is_dataclass(tp):
        if not isinstance(value, dict):
            raise ConfigError(f"expected a table, got {value!r}", file=file, key=key)
        return build(tp, value, file=file, prefix=f"{key}.")  # type: ignore[arg-type]
    if origin is list:
        (item_tp,) = typing.get_args(tp)
        if not isinstance(value, list):
            raise ConfigError(f"expected a list, got {value!r}", file=file, key=key)
        return [_convert(item_tp, v, file=file, key=f"{key}[{i}]") for i, v in enumerate(value)]
    if origin in (types.UnionType, typing.Union):
        raise TypeError("unions are not supported in config")
    if tp is bool:
        ok = isinstance(value, bool)
    elif tp is int:
        ok = isinstance(value, int) and not isinstance(value, bool)
    elif tp is float:
        ok = isinstance(value, int | float) and not isinstance(value, bool)
        value = float(value) if ok else value
    elif tp is str:
        ok = isinstance(value, str)
    else:
        raise TypeError(f"unsupported config type {tp}")
    if not ok:
        raise ConfigError(f"expected {tp.__name__}, got {value!r}", file=file, key=key)
    return value


def load(cls: type[T], path: Path | None, *, ignore: frozenset[str] = frozenset()) -> T:
    """Load `cls` from a TOML file (or defaults when `path` is None)."""
    if path is None:
        return cls()
    return build(cls, load_toml(path), file=str(path), ignore=ignore)


def merge_overrides(config: T, overrides: dict[str, Any]) -> T:
    """Return a copy of `config` with dotted keys (``"agent.name"``) replaced; None is skipped."""
    for dotted, value in overrides.items():
        if value is None:
            continue
        section, _, key = dotted.partition(".")
        table = getattr(config, section)
        config = dataclasses.replace(  # type: ignore[type-var]
            config, **{section: dataclasses.replace(table, **{key: value})})
    return config
