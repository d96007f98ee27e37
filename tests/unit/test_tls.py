"""TLS settings: every bad certificate or key file is refused at start-up and by `config
check`, naming the file and the key; nothing listens beyond loopback in clear unless asked."""

from __future__ import annotations

from pathlib import Path

import pytest

from agent import config as cfg
from agent.configcheck import check_file
from agent.errors import ConfigError
from agent.keys import generate_key_file
from agent.tls import client_tls, server_credentials
from tests.certs import CertAuthority, Issued


@pytest.fixture
def ca(tmp_path: Path) -> CertAuthority:
    return CertAuthority(tmp_path / "pki")


@pytest.fixture
def server(ca: CertAuthority) -> Issued:
    return ca.issue("collector", server=True)


def tls(cert: Path | str, key: Path | str, **kw: object) -> cfg.ServerTLSConfig:
    return cfg.ServerTLSConfig(cert_file=str(cert), key_file=str(key), **kw)  # type: ignore[arg-type]


def refused(conf: cfg.ServerTLSConfig) -> ConfigError:
    with pytest.raises(ConfigError) as info:
        server_credentials(conf, file="c.toml")
    return info.value


def test_a_valid_pair_with_a_client_ca_gives_credentials(server: Issued, ca: CertAuthority) -> None:
    """The happy path: certificate, its key and a client CA load."""
    conf = tls(server.cert, server.key, client_ca_file=str(ca.cert), require_client_cert=True)
    assert server_credentials(conf) is not None
    assert server_credentials(cfg.ServerTLSConfig()) is None


def test_a_missing_certificate_file_is_named(tmp_path: Path, server: Issued) -> None:
    """A missing file: the path, the key and the OS reason."""
    err = refused(tls(tmp_path / "nope.crt", server.key))
    assert str(err) == (f"c.toml: collector.tls.cert_file: '{tmp_path / 'nope.crt'}': cannot "
                        "read: No such file or directory (config_invalid)")


def test_an_unreadable_key_file_is_named(tmp_path: Path, server: Issued) -> None:
    """A path that cannot be read as a file (a directory here; root reads any mode)."""
    err = refused(tls(server.cert, tmp_path))
    assert err.key == "collector.tls.key_file" and "cannot read" in str(err)


def test_a_file_without_a_certificate_is_refused(tmp_path: Path, server: Issued) -> None:
    """A key given as certificate (or any non-PEM) says no certificate is in it."""
    err = refused(tls(server.key, server.key))
    assert err.key == "collector.tls.cert_file" and "no PEM certificate" in str(err)


def test_a_key_of_another_certificate_is_refused(ca: CertAuthority, server: Issued) -> None:
    """Mismatched pair: both files named."""
    other = ca.issue("other", server=True)
    err = refused(tls(server.cert, other.key))
    assert err.key == "collector.tls.key_file"
    assert f"'{other.key}' is not the private key of '{server.cert}'" in str(err)


def test_a_key_readable_by_others_is_refused(server: Issued) -> None:
    """Like the signing keys: a private key others can read is an error."""
    server.key.chmod(0o644)
    err = refused(tls(server.cert, server.key))
    assert "accessible by others (mode 0644)" in str(err)


def test_a_non_pem_client_ca_is_refused(tmp_path: Path, server: Issued) -> None:
    """The client CA file must hold certificates."""
    junk = tmp_path / "ca.pem"
    junk.write_text("hello\n")
    err = refused(tls(server.cert, server.key, client_ca_file=str(junk),
                      require_client_cert=True))
    assert err.key == "collector.tls.client_ca_file" and "no PEM certificate" in str(err)


def test_a_client_with_a_mismatched_pair_is_refused_under_its_table(
        ca: CertAuthority) -> None:
    """Client side: the same checks, named under agent.tls."""
    a, b = ca.issue("a", server=False), ca.issue("b", server=False)
    conf = cfg.ClientTLSConfig(ca_file=str(ca.cert), cert_file=str(a.cert), key_file=str(b.key))
    with pytest.raises(ConfigError) as info:
        client_tls(conf, file="agent.toml", prefix="agent.tls")
    assert info.value.key == "agent.tls.key_file"


@pytest.mark.parametrize(("table", "key", "message"), [
    ({"cert_file": "a.crt"}, "collector.tls.key_file", "go together"),
    ({"require_client_cert": True, "cert_file": "a", "key_file": "b"},
     "collector.tls.client_ca_file", "give the CA"),
    ({"client_ca_file": "ca", "cert_file": "a", "key_file": "b"},
     "collector.tls.client_ca_file", "only used with require_client_cert"),
])
def test_inconsistent_collector_tls_tables_are_refused(
        table: dict[str, object], key: str, message: str) -> None:
    """Half-configured TLS never silently runs as something else."""
    conf = cfg.build(cfg.CollectorConfig, {"collector": {
        "data_dir": "d", "authorized_keys": "k", "tls": table}}, file="c.toml")
    with pytest.raises(ConfigError) as info:
        conf.check("c.toml")
    assert info.value.key == key and message in str(info.value)


@pytest.mark.parametrize("listen", ["0.0.0.0:7600", "10.1.2.3:7600", "collector.example:7600",
                                    "[::]:7600"])
def test_a_non_loopback_listener_without_tls_is_refused(listen: str) -> None:
    """Exposed beyond this host in clear only with collector.allow_plaintext."""
    section = {"data_dir": "d", "authorized_keys": "k", "listen": listen}
    conf = cfg.build(cfg.CollectorConfig, {"collector": section}, file="c.toml")
    with pytest.raises(ConfigError) as info:
        conf.check("c.toml")
    assert info.value.key == "collector.listen" and "allow_plaintext" in str(info.value)
    allowed = cfg.build(cfg.CollectorConfig, {"collector": {**section, "allow_plaintext": True}},
                        file="c.toml")
    allowed.check("c.toml")


@pytest.mark.parametrize("listen", ["127.0.0.1:7600", "127.0.0.2:0", "localhost:7600",
                                    "[::1]:7600"])
def test_loopback_listeners_need_no_tls(listen: str) -> None:
    """The default and other loopback addresses are fine in clear."""
    cfg.build(cfg.CollectorConfig, {"collector": {"data_dir": "d", "authorized_keys": "k",
                                                  "listen": listen}}, file="c.toml").check()


def test_listener_defaults_stay_on_loopback_or_off() -> None:
    """Nothing listens beyond 127.0.0.1 unless configured: collector, client, HTTP ops."""
    assert cfg.CollectorSection().listen.startswith("127.0.0.1:")
    assert cfg.ClientSection().collector.startswith("127.0.0.1:")
    assert cfg.OpsConfig().http_listen == "" and cfg.CollectorOpsConfig().http_listen == ""


def test_config_check_opens_the_tls_files_of_an_agent_file(
        tmp_path: Path, ca: CertAuthority) -> None:
    """`sealtail config check` catches a missing client certificate like start-up."""
    key = tmp_path / "agent.key"
    generate_key_file(key)
    client = ca.issue("agent", server=False)
    conf = tmp_path / "agent.toml"
    conf.write_text(f'[agent]\nname = "a"\ncollector = "c.example:7600"\nkey = "{key}"\n'
                    f'state_dir = "{tmp_path / "state"}"\n[tail]\npaths = ["/var/log/*.log"]\n'
                    f'[agent.tls]\nca_file = "{ca.cert}"\ncert_file = "{tmp_path / "gone.crt"}"'
                    f'\nkey_file = "{client.key}"\n')
    with pytest.raises(ConfigError) as info:
        check_file(conf)
    assert info.value.key == "agent.tls.cert_file" and "gone.crt" in str(info.value)
    conf.write_text(conf.read_text().replace(str(tmp_path / "gone.crt"), str(client.cert)))
    assert check_file(conf).kind == "agent"
