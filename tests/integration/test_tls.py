"""Mutual TLS between agents, clients and the collector (real processes, certificates made by
the tests)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import grpc
import pytest

from tests.certs import CertAuthority, Issued
from tests.integration.harness import (
    Agent,
    Collector,
    fast_agent_config,
    run_cli,
    wait_until,
)

pytestmark = pytest.mark.integration


@dataclass
class Pki:
    ca: CertAuthority
    server: Issued
    client: Issued
    other_ca: CertAuthority
    rogue: Issued  # a client certificate from a CA the collector does not trust

    def credentials(self, client: Issued | None = None) -> grpc.ChannelCredentials:
        client = client or self.client
        return grpc.ssl_channel_credentials(self.ca.cert.read_bytes(), client.key.read_bytes(),
                                            client.cert.read_bytes())

    def flags(self, client: Issued | None = None) -> tuple[str, ...]:
        client = client or self.client
        return ("--ca-file", str(self.ca.cert), "--cert-file", str(client.cert),
                "--key-file", str(client.key))


@pytest.fixture
def pki(tmp_path: Path) -> Pki:
    ca = CertAuthority(tmp_path / "pki", "sealtail-test-ca")
    other = CertAuthority(tmp_path / "pki-other", "other-ca")
    return Pki(ca, ca.issue("collector", server=True), ca.issue("agent-1", server=False),
               other, other.issue("rogue", server=False))


def tls_collector_config(path: Path, pki: Pki, *, require_client_cert: bool = True) -> Path:
    lines = ["[collector.tls]", f'cert_file = "{pki.server.cert}"',
             f'key_file = "{pki.server.key}"']
    if require_client_cert:
        lines += [f'client_ca_file = "{pki.ca.cert}"', "require_client_cert = true"]
    path.write_text("\n".join(lines) + "\n")
    return path


@pytest.fixture
def mtls_collector(tmp_path: Path, authorized_keys: Path, pki: Pki) -> Iterator[Collector]:
    conf = tls_collector_config(tmp_path / "collector.toml", pki)
    c = Collector(tmp_path, authorized_keys, extra_args=("--config", str(conf)),
                  credentials=pki.credentials())
    c.start()
    try:
        yield c
    finally:
        c.stop()


def agent_tls_config(path: Path, pki: Pki, client: Issued) -> Path:
    fast_agent_config(path)
    with path.open("a") as f:
        f.write(f'[agent.tls]\nca_file = "{pki.ca.cert}"\ncert_file = "{client.cert}"\n'
                f'key_file = "{client.key}"\n')
    return path


def query_count(collector: Collector, *flags: str) -> int:
    return int(run_cli("query", "--collector", collector.address, "--count", *flags).stdout)


def test_agent_ships_over_mutual_tls_and_the_log_verifies_and_proves(
        tmp_path: Path, mtls_collector: Collector, agent_key: Path, pki: Pki) -> None:
    """With client certificates required, an agent holding one ships every line; query,
    verify and prove reach the collector over mTLS too."""
    logs = tmp_path / "logs"
    logs.mkdir()
    (logs / "auth.log").write_bytes(b"".join(b"sshd: line %d\n" % i for i in range(40)))
    agent = Agent(tmp_path, agent_key, mtls_collector.address, [str(logs / "*.log")],
                  config=agent_tls_config(tmp_path / "agent.toml", pki, pki.client))
    agent.start()
    try:
        wait_until(lambda: query_count(mtls_collector, *pki.flags()) == 40, 60,
                   message="40 lines stored over mTLS")
    finally:
        assert agent.stop() == 0
    out = run_cli("verify", "--collector", mtls_collector.address, *pki.flags()).stdout
    assert out.startswith("OK: 1 agents") and "40 lines" in out
    bundle = tmp_path / "line.proof.json"
    run_cli("prove", "--collector", mtls_collector.address, "--agent", "host-a", "--seq", "0",
            "--index", "3", "--out", str(bundle), *pki.flags())
    ok = run_cli("verify", "--bundle", str(bundle), "--collector-key",
                 str(mtls_collector.data / "collector.vkey"), "--agent-key", f"{agent_key}.pub")
    assert ok.stdout.startswith("OK: line 3 of host-a")
    report = json.loads(run_cli("summary", "--collector", mtls_collector.address, "--json",
                                *pki.flags()).stdout)
    assert sum(report["counts_by_category"].values()) == 40


def test_a_client_certificate_from_another_ca_is_refused_and_the_error_says_so(
        tmp_path: Path, mtls_collector: Collector, agent_key: Path, pki: Pki) -> None:
    """A certificate the collector's client CA did not sign gets nothing: the query fails
    naming the certificate, and an agent holding it stores nothing and says why."""
    proc = run_cli("query", "--collector", mtls_collector.address, "--count",
                   *pki.flags(pki.rogue), check=False)
    assert proc.returncode == 1
    assert "does not accept this client certificate" in proc.stderr
    assert str(pki.rogue.cert) in proc.stderr

    logs = tmp_path / "logs"
    logs.mkdir()
    (logs / "auth.log").write_bytes(b"one line\n")
    agent = Agent(tmp_path, agent_key, mtls_collector.address, [str(logs / "*.log")],
                  config=agent_tls_config(tmp_path / "agent.toml", pki, pki.rogue))
    agent.start()
    try:
        wait_until(lambda: "does not accept this client certificate" in agent.log(), 30,
                   message="the agent's log naming the refused certificate")
    finally:
        agent.stop()
    assert query_count(mtls_collector, *pki.flags()) == 0


def test_a_query_without_a_client_certificate_is_refused_when_one_is_required(
        mtls_collector: Collector, pki: Pki) -> None:
    """require_client_cert covers queries: TLS alone is not enough, and the error says a
    certificate is required."""
    proc = run_cli("query", "--collector", mtls_collector.address, "--count", "--ca-file",
                   str(pki.ca.cert), check=False)
    assert proc.returncode == 1 and "requires a client certificate" in proc.stderr
    proc = run_cli("verify", "--collector", mtls_collector.address, "--ca-file",
                   str(pki.ca.cert), check=False)
    assert proc.returncode == 1 and "requires a client certificate" in proc.stderr


def test_a_plaintext_client_against_a_tls_collector_fails_clearly(
        mtls_collector: Collector) -> None:
    """A client without TLS is told the collector speaks TLS, not just 'Socket closed'."""
    proc = run_cli("query", "--collector", mtls_collector.address, "--count", check=False)
    assert proc.returncode == 1
    assert "the collector speaks TLS on this port and this client does not" in proc.stderr


def test_a_client_that_trusts_another_ca_refuses_the_collector(
        mtls_collector: Collector, pki: Pki) -> None:
    """The collector's certificate must be signed by the client's ca_file (wrong CA)."""
    proc = run_cli("query", "--collector", mtls_collector.address, "--count", "--ca-file",
                   str(pki.other_ca.cert), "--cert-file", str(pki.client.cert), "--key-file",
                   str(pki.client.key), check=False)
    assert proc.returncode == 1
    assert "the collector's certificate is not signed by a CA in ca_file" in proc.stderr


def test_a_tls_client_against_a_plaintext_collector_fails_clearly(
        collector: Collector, pki: Pki) -> None:
    """TLS spoken to a plaintext port says so."""
    proc = run_cli("query", "--collector", collector.address, "--count", *pki.flags(),
                   check=False)
    assert proc.returncode == 1 and "does not speak TLS" in proc.stderr


def test_server_only_tls_with_a_token_serves_queries_to_token_holders(
        tmp_path: Path, authorized_keys: Path, pki: Pki) -> None:
    """TLS without client certificates: the token is what queries need (sent encrypted)."""
    token = tmp_path / "query.token"
    token.write_text("s3cret\n")
    conf = tls_collector_config(tmp_path / "collector.toml", pki, require_client_cert=False)
    collector = Collector(tmp_path, authorized_keys,
                          extra_args=("--config", str(conf), "--query-token-file", str(token)),
                          credentials=grpc.ssl_channel_credentials(pki.ca.cert.read_bytes()))
    collector.start()
    try:
        ca = ("--ca-file", str(pki.ca.cert))
        proc = run_cli("query", "--collector", collector.address, "--count", *ca, check=False)
        assert proc.returncode == 1 and "UNAUTHENTICATED" in proc.stderr
        assert query_count(collector, *ca, "--token-file", str(token)) == 0
    finally:
        collector.stop()


def test_a_collector_with_a_key_that_is_not_its_certificates_stops_naming_the_file(
        tmp_path: Path, authorized_keys: Path, pki: Pki) -> None:
    """Start-up (and `config check`) refuse a mismatched key with exit 2, naming it."""
    conf = tmp_path / "collector.toml"
    conf.write_text(f'[collector]\ndata_dir = "{tmp_path / "data"}"\n'
                    f'authorized_keys = "{authorized_keys}"\n[collector.tls]\n'
                    f'cert_file = "{pki.server.cert}"\nkey_file = "{pki.client.key}"\n')
    proc = run_cli("collector", "--config", str(conf), check=False, timeout=60)
    assert proc.returncode == 2
    assert f"'{pki.client.key}' is not the private key of '{pki.server.cert}'" in proc.stderr
    assert "collector.tls.key_file" in proc.stderr
    check = run_cli("config", "check", str(conf), check=False)
    assert check.returncode == 2 and "is not the private key of" in check.stderr


def test_clients_read_tls_from_the_client_table_of_a_config_file(
        tmp_path: Path, mtls_collector: Collector, pki: Pki) -> None:
    """[client] collector and [client.tls] in --config are what query uses."""
    conf = tmp_path / "client.toml"
    conf.write_text(f'[client]\ncollector = "{mtls_collector.address}"\n[client.tls]\n'
                    f'ca_file = "{pki.ca.cert}"\ncert_file = "{pki.client.cert}"\n'
                    f'key_file = "{pki.client.key}"\n')
    assert run_cli("query", "--config", str(conf), "--count").stdout.strip() == "0"


def test_a_certificate_for_another_name_needs_server_name(
        tmp_path: Path, authorized_keys: Path, pki: Pki) -> None:
    """A collector certificate naming only collector.internal is refused at 127.0.0.1 with
    a hint, and accepted with --server-name collector.internal."""
    named = pki.ca.issue("internal", server=True, dns=("collector.internal",), ips=())
    conf = tmp_path / "collector.toml"
    conf.write_text(f'[collector.tls]\ncert_file = "{named.cert}"\nkey_file = "{named.key}"\n')
    collector = Collector(tmp_path, authorized_keys, extra_args=("--config", str(conf)),
                          credentials=grpc.ssl_channel_credentials(pki.ca.cert.read_bytes()),
                          server_name="collector.internal")
    collector.start()
    try:
        ca = ("--ca-file", str(pki.ca.cert))
        proc = run_cli("query", "--collector", collector.address, "--count", *ca, check=False)
        assert proc.returncode == 1 and "set server_name / --server-name" in proc.stderr
        assert query_count(collector, *ca, "--server-name", "collector.internal") == 0
    finally:
        collector.stop()


def test_an_expired_collector_certificate_is_named_as_expired(
        tmp_path: Path, authorized_keys: Path, pki: Pki) -> None:
    """Clients say the certificate expired, not just that the handshake failed."""
    expired = pki.ca.issue("expired", server=True, days=-0.01)  # ended 14 minutes ago
    conf = tmp_path / "collector.toml"
    conf.write_text(f'[collector.tls]\ncert_file = "{expired.cert}"\n'
                    f'key_file = "{expired.key}"\n')
    collector = Collector(tmp_path, authorized_keys, extra_args=("--config", str(conf)),
                          credentials=grpc.ssl_channel_credentials(pki.ca.cert.read_bytes()))
    # No health check can pass over an expired certificate: do not wait for one.
    collector.wait_serving = lambda timeout=30: None  # type: ignore[method-assign]
    collector.start()
    try:
        proc = run_cli("query", "--collector", collector.address, "--count", "--ca-file",
                       str(pki.ca.cert), check=False)
        assert proc.returncode == 1
        assert "the collector's certificate has expired" in proc.stderr
    finally:
        collector.stop()


def test_listening_beyond_loopback_in_clear_needs_allow_plaintext_and_warns(
        tmp_path: Path, authorized_keys: Path) -> None:
    """0.0.0.0 without TLS: refused at start (exit 2, collector.listen named); with
    collector.allow_plaintext it starts and says PLAINTEXT at WARNING."""
    proc = run_cli("collector", "--listen", "0.0.0.0:0", "--data", str(tmp_path / "d"),
                   "--authorized-keys", str(authorized_keys), check=False, timeout=60)
    assert proc.returncode == 2 and "collector.listen" in proc.stderr
    assert "allow_plaintext" in proc.stderr
    conf = tmp_path / "collector.toml"
    conf.write_text("[collector]\nallow_plaintext = true\n")
    collector = Collector(tmp_path, authorized_keys,
                          extra_args=("--listen", "0.0.0.0:0", "--config", str(conf)))
    collector.start()
    try:
        assert "level=WARNING" in collector.log() and "PLAINTEXT" in collector.log()
    finally:
        collector.stop()
