"""TLS for the gRPC links: certificate files named in config → grpc credentials.

gRPC takes PEM bytes and finds a bad file only at the first handshake, reporting it in its own
log without naming the file. So every file is checked here first with the standard `ssl`
module (readable, holds a certificate / a private key, the key belongs to the certificate,
not readable by others), and a problem is a ConfigError naming the file and the config key.
The same functions serve start-up and `sealtail config check`.
"""

from __future__ import annotations

import os
import ssl
import stat
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import grpc

from agent.config import ClientTLSConfig, ServerTLSConfig
from agent.errors import ConfigError


@dataclass(frozen=True, slots=True)
class ClientTLS:
    """What a client needs to open a channel: credentials (None: plaintext) and options."""

    credentials: grpc.ChannelCredentials | None
    options: tuple[tuple[str, str], ...] = ()
    config: ClientTLSConfig = ClientTLSConfig()  # what it was made from (for explanations)

    def explain(self, address: str, details: str) -> str | None:
        """`explain_failure` for this client."""
        return explain_failure(address, details, self.config)


PLAINTEXT = ClientTLS(None)


def server_credentials(tls: ServerTLSConfig, *, file: str = "command line",
                       prefix: str = "collector.tls") -> grpc.ServerCredentials | None:
    """Credentials for the collector's port (None when TLS is off).

    Raises:
        ConfigError: a file is missing, unreadable, not PEM, or the key is not the
            certificate's (or readable by others).
    """
    if not tls.on:
        return None
    cert, key = _pair(tls.cert_file, tls.key_file, file, prefix)
    ca = None
    if tls.client_ca_file:
        ca = _certificates(tls.client_ca_file, file, f"{prefix}.client_ca_file")
    return grpc.ssl_server_credentials([(key, cert)], root_certificates=ca,
                                       require_client_auth=tls.require_client_cert)


def client_tls(tls: ClientTLSConfig, *, file: str = "command line",
               prefix: str = "client.tls") -> ClientTLS:
    """Credentials and channel options for connecting to a collector (PLAINTEXT when off).

    Raises:
        ConfigError: as `server_credentials`.
    """
    if not tls.on:
        return PLAINTEXT
    ca = _certificates(tls.ca_file, file, f"{prefix}.ca_file") if tls.ca_file else None
    key = cert = None
    if tls.cert_file or tls.key_file:
        cert, key = _pair(tls.cert_file, tls.key_file, file, prefix)
    credentials = grpc.ssl_channel_credentials(root_certificates=ca, private_key=key,
                                               certificate_chain=cert)
    options = (("grpc.ssl_target_name_override", tls.server_name),) if tls.server_name else ()
    return ClientTLS(credentials, options, tls)


def _read(path: str, file: str, key: str) -> bytes:
    try:
        return Path(path).read_bytes()
    except OSError as exc:
        raise ConfigError(f"{path!r}: cannot read: {exc.strerror}", file=file, key=key) from exc


def _certificates(path: str, file: str, key: str) -> bytes:
    data = _read(path, file, key)
    try:
        ssl.create_default_context(cadata=data.decode("ascii"))
    except (UnicodeDecodeError, ssl.SSLError, ValueError) as exc:
        raise ConfigError(f"{path!r}: no PEM certificate in it (-----BEGIN CERTIFICATE-----)",
                          file=file, key=key) from exc
    return data


def _pair(cert_path: str, key_path: str, file: str, prefix: str) -> tuple[bytes, bytes]:
    if not cert_path or not key_path:
        missing = "key_file" if cert_path else "cert_file"
        raise ConfigError("cert_file and key_file go together", file=file,
                          key=f"{prefix}.{missing}")
    cert = _certificates(cert_path, file, f"{prefix}.cert_file")
    key = _read(key_path, file, f"{prefix}.key_file")
    where = f"{prefix}.key_file"
    mode = os.stat(key_path).st_mode
    if mode & stat.S_IRWXO:
        raise ConfigError(f"{key_path!r}: private key is accessible by others (mode "
                          f"{stat.S_IMODE(mode):04o}); run `chmod 600 {key_path}` (or 640 for a "
                          "group such as ssl-cert)", file=file, key=where)
    if b"PRIVATE KEY-----" not in key:
        raise ConfigError(f"{key_path!r}: no PEM private key in it (-----BEGIN PRIVATE KEY-----)",
                          file=file, key=where)
    if b"ENCRYPTED" in key:
        raise ConfigError(f"{key_path!r}: the private key is encrypted; gRPC cannot ask for a "
                          "passphrase (store it unencrypted, mode 0600)", file=file, key=where)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    try:
        context.load_cert_chain(cert_path, key_path, password=lambda: b"")
    except ssl.SSLError as exc:
        if exc.reason == "KEY_VALUES_MISMATCH":
            raise ConfigError(f"{key_path!r} is not the private key of {cert_path!r}",
                              file=file, key=where) from exc
        raise ConfigError(f"{key_path!r}: not a usable private key for {cert_path!r}: "
                          f"{exc.reason or exc}", file=file, key=where) from exc
    except OSError as exc:
        raise ConfigError(f"cannot read: {exc.strerror}", file=file, key=where) from exc
    return cert, key


def open_channel(address: str, tls: ClientTLS = PLAINTEXT,
                 options: Sequence[tuple[str, Any]] = ()) -> grpc.Channel:
    """A blocking-API channel to a collector, over TLS when `tls` has credentials."""
    opts = [*options, *tls.options]
    if tls.credentials is None:
        return grpc.insecure_channel(address, options=opts)
    return grpc.secure_channel(address, tls.credentials, options=opts)


def open_aio_channel(address: str, tls: ClientTLS = PLAINTEXT,
                     options: Sequence[tuple[str, Any]] = ()) -> grpc.aio.Channel:
    """`open_channel` for asyncio."""
    opts = [*options, *tls.options]
    if tls.credentials is None:
        return grpc.aio.insecure_channel(address, options=opts)
    return grpc.aio.secure_channel(address, tls.credentials, options=opts)


PROBE_SECS = 2.0


def explain_failure(address: str, details: str, tls: ClientTLSConfig) -> str | None:
    """What a failed connection most likely means for TLS, in words a user can act on.

    gRPC reports a refused client certificate, a missing one and plaintext spoken to a TLS
    port all as "Socket closed"; which one it is follows from what this client sent (and,
    for a plaintext client, from a short TLS handshake with the collector). None when the
    failure does not look TLS-related.
    """
    if "CERTIFICATE_VERIFY_FAILED" in details and "expired" in details:
        return "the collector's certificate has expired (renew collector.tls.cert_file)"
    if "CERTIFICATE_VERIFY_FAILED" in details and "not yet valid" in details:
        return "the collector's certificate is not valid yet (check the clocks)"
    if "CERTIFICATE_VERIFY_FAILED" in details:
        where = f"ca_file {tls.ca_file!r}" if tls.ca_file else "the system's trusted roots"
        return (f"the collector's certificate is not signed by a CA in {where} "
                "(wrong CA: set ca_file / --ca-file to the CA that issued it)")
    if "Hostname Verification" in details or "No match found for server name" in details:
        return (f"the collector's certificate does not name {address.rpartition(':')[0]!r} "
                "(set server_name / --server-name to a name it carries)")
    if "WRONG_VERSION_NUMBER" in details or "Handshake read failed" in details:
        return "the collector does not speak TLS on this port (turn TLS off on this client?)"
    if "Socket closed" not in details and "Connection reset" not in details:
        return None
    if tls.on and tls.cert_file:
        return (f"the collector ended the TLS handshake: it does not accept this client "
                f"certificate ({tls.cert_file!r}), which is not signed by a CA it trusts "
                "(its collector.tls.client_ca_file)")
    if tls.on:
        return ("the collector ended the TLS handshake: it requires a client certificate "
                "(set cert_file and key_file / --cert-file and --key-file)")
    if _speaks_tls(address):
        return ("the collector speaks TLS on this port and this client does not "
                "(set tls / --tls, with ca_file / --ca-file)")
    return None


def _speaks_tls(address: str) -> bool:
    """Whether a TLS handshake with `address` gets as far as the server's certificate."""
    import socket

    host, _, port = address.rpartition(":")
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE  # only asking whether it is TLS at all
    context.set_alpn_protocols(["h2"])
    try:
        with socket.create_connection((host.strip("[]"), int(port)), timeout=PROBE_SECS) as s, \
                context.wrap_socket(s, server_hostname=host.strip("[]") or None):
            return True
    except (OSError, ValueError):
        return False
