"""Real sealtail processes for integration tests: start, wait until ready, query, stop, kill."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc

from tests.conftest import REPO

SEALTAIL = [sys.executable, "-m", "agent"]


def run_cli(*args: str, check: bool = True,
            timeout: float = 120) -> subprocess.CompletedProcess[str]:
    proc = subprocess.run([*SEALTAIL, *args], cwd=REPO, capture_output=True, text=True,
                          timeout=timeout)
    if check and proc.returncode != 0:
        raise AssertionError(f"sealtail {' '.join(args)} exited {proc.returncode}:\n"
                             f"{proc.stdout}\n{proc.stderr}")
    return proc


RUNNING: list[Process] = []  # started processes, to dump their stacks when a wait times out


def wait_until(predicate: Callable[[], Any], timeout: float = 60, interval: float = 0.2,
               message: str = "condition") -> Any:
    deadline = time.monotonic() + timeout
    last: Any = None
    while time.monotonic() < deadline:
        last = predicate()
        if last:
            return last
        time.sleep(interval)
    for proc in RUNNING:
        if proc.alive():
            proc.dump_stacks()
    raise AssertionError(f"timed out after {timeout}s waiting for {message} (last: {last!r})")


def make_key(directory: Path, name: str = "agent.key") -> Path:
    path = directory / name
    run_cli("keygen", "--out", str(path))
    return path


class Process:
    def __init__(self, args: list[str], log_path: Path) -> None:
        self.args = args
        self.log_path = log_path
        self.proc: subprocess.Popen[str] | None = None
        self.env: dict[str, str] = {}  # added to the environment at start

    def start(self) -> None:
        self._log = open(self.log_path, "a")  # noqa: SIM115 - closed in wait()
        self.proc = subprocess.Popen([*SEALTAIL, *self.args], cwd=REPO, stdout=subprocess.PIPE,
                                     stderr=self._log, text=True,
                                     env={**os.environ, **self.env} if self.env else None)
        RUNNING.append(self)

    def dump_stacks(self) -> None:
        """SIGUSR1: the process writes its task and thread stacks to its log."""
        assert self.proc is not None
        self.proc.send_signal(signal.SIGUSR1)
        time.sleep(0.5)

    def log(self) -> str:
        return self.log_path.read_text() if self.log_path.exists() else ""

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def kill(self) -> None:
        """SIGKILL: no chance to clean up."""
        assert self.proc is not None
        self.proc.send_signal(signal.SIGKILL)
        self.wait()

    def stop(self, timeout: float = 30) -> int:
        """SIGTERM, then SIGKILL if it hangs. Returns the exit code."""
        if self.proc is None:
            return 0
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        return self.wait(timeout)

    def wait(self, timeout: float = 30) -> int:
        assert self.proc is not None
        try:
            code = self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            code = self.proc.wait()
        if self.proc.stdout:
            self.proc.stdout.close()
        self._log.close()
        return code


class Collector(Process):
    def __init__(self, workdir: Path, authorized_keys: Path, port: int = 0,
                 extra_args: tuple[str, ...] = (),
                 credentials: grpc.ChannelCredentials | None = None,
                 server_name: str = "") -> None:
        self.data = workdir / "collector-data"
        self.port = port
        self.credentials = credentials  # for the health check of a TLS collector
        self.options = [("grpc.ssl_target_name_override", server_name)] if server_name else []
        self.authorized_keys = authorized_keys
        self.extra_args = extra_args
        super().__init__([], workdir / "collector.log")

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.port}"

    def start(self) -> None:
        self.args = ["collector", "--listen", f"127.0.0.1:{self.port}", "--data", str(self.data),
                     "--authorized-keys", str(self.authorized_keys), *self.extra_args]
        super().start()
        assert self.proc is not None and self.proc.stdout is not None
        line = self.proc.stdout.readline()  # "sealtail collector listening on HOST:PORT"
        if "listening on" not in line:
            self.wait(5)
            raise AssertionError(f"collector did not start:\n{self.log()}")
        self.port = int(line.rsplit(":", 1)[1])
        self.wait_serving()

    def wait_serving(self, timeout: float = 30) -> None:
        def serving() -> bool:
            try:
                with (grpc.insecure_channel(self.address) if self.credentials is None
                      else grpc.secure_channel(self.address, self.credentials,
                                               options=self.options)) as channel:
                    stub = health_pb2_grpc.HealthStub(channel)
                    reply = stub.Check(health_pb2.HealthCheckRequest(service=""), timeout=2)
                    return reply.status == health_pb2.HealthCheckResponse.SERVING
            except grpc.RpcError:
                return False

        wait_until(serving, timeout, message="collector health SERVING")

    def count(self, *filters: str) -> int:
        return int(run_cli("query", "--collector", self.address, "--count", *filters).stdout)

    def entries(self, *filters: str) -> list[dict[str, Any]]:
        out = run_cli("query", "--collector", self.address, "--json", *filters).stdout
        return [json.loads(line) for line in out.splitlines()]


class Agent(Process):
    def __init__(self, workdir: Path, key: Path, collector_address: str, globs: list[str],
                 name: str = "host-a", config: Path | None = None,
                 state: Path | None = None, extra_args: tuple[str, ...] = ()) -> None:
        self.state = state or workdir / f"state-{name}"
        args = ["agent", "--collector", collector_address, "--key", str(key),
                "--state", str(self.state), "--name", name, *extra_args]
        if config is not None:
            args += ["--config", str(config)]
        super().__init__([*args, *globs], workdir / f"agent-{name}.log")

    def start(self) -> None:
        """Start and wait until the agent is about to tail (or has exited).

        Tests that rotate files soon after start need the agent watching first; start-up
        includes the model check and its worker process.
        """
        super().start()
        wait_until(lambda: "starting: chain continues" in self.log() or not self.alive(), 60,
                   message="agent start-up")


# A brand-new agent allowed to start its chain with no collector reachable.
NEW_AGENT: dict[str, object] = {"offline_new_chain": True}


def fast_agent_config(path: Path, *, seal: dict[str, object] | None = None,
                      ship: dict[str, object] | None = None,
                      spool: dict[str, object] | None = None,
                      agent: dict[str, object] | None = None, **tail: object) -> Path:
    """An agent config with short timers, so tests do not wait on production defaults.

    A test that starts a brand-new agent with no collector reachable passes
    agent=NEW_AGENT: without it nothing is sealed until a collector answers.
    """
    settings = {"partial_idle_secs": 1.0, "rotate_wait_secs": 2.0, "poll_interval_ms": 100,
                **tail}
    sealing = {"max_segment_age_ms": 200, **(seal or {})}
    shipping = {"backoff_initial_ms": 100, "backoff_max_ms": 1000, "shutdown_grace_secs": 3,
                **(ship or {})}
    lines = ["[agent]"] + [f"{k} = {json.dumps(v)}" for k, v in (agent or {}).items()]
    lines += ["[tail]"] + [f"{k} = {json.dumps(v)}" for k, v in settings.items()]
    lines += ["[seal]"] + [f"{k} = {json.dumps(v)}" for k, v in sealing.items()]
    lines += ["[ship]"] + [f"{k} = {json.dumps(v)}" for k, v in shipping.items()]
    if spool:
        lines += ["[spool]"] + [f"{k} = {json.dumps(v)}" for k, v in spool.items()]
    path.write_text("\n".join(lines) + "\n")
    return path


def env_ci() -> bool:
    return os.environ.get("CI") == "true"


def ship(address: str, *segments: Any) -> list[Any]:
    """Send segments on one Ingest stream; the acks (pb.Ack) in order."""
    from agent._pb import sealtail_pb2_grpc as pb_grpc

    with grpc.insecure_channel(address) as channel:
        return list(pb_grpc.IngestStub(channel).Ship(iter(segments), timeout=30))


def query_stub(address: str) -> tuple[grpc.Channel, Any]:
    from agent._pb import sealtail_pb2_grpc as pb_grpc

    channel = grpc.insecure_channel(address)
    return channel, pb_grpc.QueryStub(channel)


def edit_store_as_attacker(data: Path, edit: Callable[[Any], None]) -> None:
    """Edit a copy of a collector's store the way someone holding the file would: drop the
    append-only triggers, then run `edit(connection)` in one transaction."""
    import sqlite3

    conn = sqlite3.connect(data / "sealtail.db", isolation_level=None)
    for (name,) in conn.execute("SELECT name FROM sqlite_master WHERE type='trigger'").fetchall():
        conn.execute(f"DROP TRIGGER {name}")
    conn.execute("BEGIN")
    edit(conn)
    conn.execute("COMMIT")
    conn.close()
