"""TLS on the gRPC port (BANK_GRPC_TLS), and the files it reads.

Modes:
- `off` (the default): plaintext gRPC, fine while the port is on loopback.
  Production refuses `off` when BANK_HOST is not a loopback address
  (`server.config`): bearer tokens would cross the network in the clear.
- `tls`: the server presents `server.pem`; callers check it against `ca.pem`.
- `mutual`: also every caller must present a certificate issued by `ca.pem`,
  Envoy included (`envoy.pem`). Only a peer whose certificate is Envoy's
  (common name ENVOY_COMMON_NAME) can then be a trusted proxy whose
  `x-bank-client-ip` is believed (`server.api.guards`).

The files live in BANK_GRPC_TLS_DIR (default `<BANK_DATA_DIR>/tls/grpc`):

    ca.pem                      the CA both sides trust
    server.pem, server-key.pem  the gRPC server's (SAN localhost, 127.0.0.1, ::1, BANK_HOST)
    envoy.pem, envoy-key.pem    Envoy's client certificate
    operator.pem, operator-key.pem
                                a client certificate for internal callers and grpcurl

A bank with its own PKI puts its files there under these names. When the
directory has none of them, a local CA (`ca-key.pem`) is made and issues
the rest; a missing leaf is issued again only by a CA whose key is there.
The server reads its certificate and the CA again on the next handshake
after either file changes, so certificates rotate without a restart (Envoy
reads its files at start).

Imports nothing from gen/ or the rest of server/; server.gateway makes the
REST listener's certificate with the same pieces.
"""

from __future__ import annotations

import datetime
import ipaddress
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path

import grpc
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from server import keys

MODES = ("off", "tls", "mutual")
ENVOY_COMMON_NAME = "backoffice-envoy"
OPERATOR_COMMON_NAME = "backoffice-operator"
SERVER_NAME = "localhost"  # the name clients check the server's certificate for
CA_LIFETIME = datetime.timedelta(days=3650)
LEAF_LIFETIME = datetime.timedelta(days=365)
# A certificate this close to expiry is issued again rather than reused.
RENEW_MARGIN = datetime.timedelta(days=7)


class TlsError(Exception):
    """The TLS files cannot be used (missing, unreadable, or not issued by ca.pem)."""


@dataclass(frozen=True)
class Pair:
    certificate: Path
    key: Path

    def read(self) -> tuple[bytes, bytes]:
        """(key PEM, certificate chain PEM), as grpc takes them."""
        return self.key.read_bytes(), self.certificate.read_bytes()


@dataclass(frozen=True)
class Files:
    directory: Path

    @property
    def ca(self) -> Path:
        return self.directory / "ca.pem"

    @property
    def ca_key(self) -> Path:
        return self.directory / "ca-key.pem"

    @property
    def server(self) -> Pair:
        return self._pair("server")

    @property
    def envoy(self) -> Pair:
        return self._pair("envoy")

    @property
    def operator(self) -> Pair:
        return self._pair("operator")

    def _pair(self, name: str) -> Pair:
        return Pair(self.directory / f"{name}.pem", self.directory / f"{name}-key.pem")


def utc_now() -> datetime.datetime:
    return datetime.datetime.now(datetime.UTC)


def write_pem(path: Path, content: bytes, *, mode: int) -> None:
    """Write atomically with `mode`, so a crash never leaves half a key behind."""
    keys.private_directory(path.parent)
    descriptor, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        os.fchmod(descriptor, mode)
        with os.fdopen(descriptor, "wb") as handle:
            handle.write(content)
        Path(temporary).replace(path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def write_pair(pair: Pair, key: ec.EllipticCurvePrivateKey, certificate: x509.Certificate) -> None:
    """The key first, readable by its owner only; the certificate, last, completes the pair."""
    write_pem(pair.key, key_pem(key), mode=0o600)
    write_pem(pair.certificate, certificate.public_bytes(serialization.Encoding.PEM), mode=0o644)


def name(common_name: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])


def loopback_names() -> list[x509.GeneralName]:
    """What a certificate for this machine's own callers names: localhost, 127.0.0.1, ::1."""
    return [
        x509.DNSName(SERVER_NAME),
        x509.IPAddress(ipaddress.ip_address("127.0.0.1")),
        x509.IPAddress(ipaddress.ip_address("::1")),
    ]


def builder(
    subject: x509.Name,
    issuer: x509.Name,
    key: ec.EllipticCurvePrivateKey,
    not_after: datetime.datetime,
) -> x509.CertificateBuilder:
    """A certificate for `key`'s public half, valid from a minute ago until `not_after`."""
    return (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        # A minute of slack for clocks that are slightly behind.
        .not_valid_before(utc_now() - datetime.timedelta(minutes=1))
        .not_valid_after(not_after)
    )


def key_pem(key: ec.EllipticCurvePrivateKey) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )


def is_valid(path: Path, margin: datetime.timedelta = RENEW_MARGIN) -> bool:
    """The certificate at `path` can be read and is valid for `margin` more at least."""
    try:
        certificate = x509.load_pem_x509_certificate(path.read_bytes())
    except (OSError, ValueError):
        return False
    return certificate.not_valid_after_utc - margin > utc_now()


def _issue_ca(files: Files) -> None:
    key = ec.generate_private_key(ec.SECP256R1())
    subject = name("Back office local gRPC CA")
    certificate = (
        builder(subject, subject, key, utc_now() + CA_LIFETIME)
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=False,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=True,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .sign(key, hashes.SHA256())
    )
    write_pair(Pair(files.ca, files.ca_key), key, certificate)


def _issue_leaf(files: Files, pair: Pair, common_name: str, *, server_host: str | None) -> None:
    ca_certificate = x509.load_pem_x509_certificate(files.ca.read_bytes())
    ca_key = serialization.load_pem_private_key(files.ca_key.read_bytes(), password=None)
    if not isinstance(ca_key, ec.EllipticCurvePrivateKey):
        raise TlsError(f"{files.ca_key} is not the EC key of a local CA")
    key = ec.generate_private_key(ec.SECP256R1())
    not_after = min(utc_now() + LEAF_LIFETIME, ca_certificate.not_valid_after_utc)
    leaf = (
        builder(name(common_name), ca_certificate.subject, key, not_after)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()),
            critical=False,
        )
    )
    if server_host is None:
        usage = ExtendedKeyUsageOID.CLIENT_AUTH
    else:
        usage = ExtendedKeyUsageOID.SERVER_AUTH
        names = loopback_names()
        extra = _host_name(server_host)
        if extra is not None and extra not in names:
            names.append(extra)
        leaf = leaf.add_extension(x509.SubjectAlternativeName(names), critical=False)
    certificate = leaf.add_extension(x509.ExtendedKeyUsage([usage]), critical=False).sign(
        ca_key, hashes.SHA256()
    )
    write_pair(pair, key, certificate)


def _host_name(host: str) -> x509.GeneralName | None:
    # Every address (a bind address, not a bind): the loopback names cover local callers.
    if host in ("", "0.0.0.0", "::"):  # noqa: S104
        return None
    try:
        return x509.IPAddress(ipaddress.ip_address(host))
    except ValueError:
        return x509.DNSName(host)


def ensure_files(directory: Path, host: str) -> Files:
    """The TLS files in `directory`, made by a local CA where missing (see the module doc)."""
    files = Files(keys.private_directory(Path(directory)))
    leaves = (
        (files.server, SERVER_NAME, host),
        (files.envoy, ENVOY_COMMON_NAME, None),
        (files.operator, OPERATOR_COMMON_NAME, None),
    )
    if not files.ca.exists():
        if any(pair.certificate.exists() for pair, _, _ in leaves):
            raise TlsError(f"{files.ca} is missing: the CA that issued the files beside it")
        _issue_ca(files)
    elif not is_valid(files.ca, datetime.timedelta(0)):
        raise TlsError(f"{files.ca} has expired or cannot be read")
    for pair, common_name, server_host in leaves:
        if pair.certificate.exists() and pair.key.exists() and is_valid(pair.certificate):
            continue
        if not files.ca_key.exists():
            raise TlsError(
                f"{pair.certificate} or its key is missing or expiring, and there is no"
                f" {files.ca_key.name} to issue it: put the bank's files in {files.directory}"
            )
        _issue_leaf(files, pair, common_name, server_host=server_host)
    return files


def _signature(paths: tuple[Path, ...]) -> tuple[tuple[int, int], ...]:
    stats = []
    for path in paths:
        status = path.stat()
        stats.append((status.st_mtime_ns, status.st_size))
    return tuple(stats)


def server_credentials(files: Files, mode: str) -> grpc.ServerCredentials:
    """Credentials for the gRPC port that pick up new files on the next handshake."""
    if mode not in ("tls", "mutual"):
        raise ValueError(f"no server credentials for mode {mode!r}")
    mutual = mode == "mutual"
    watched = (files.server.certificate, files.server.key, files.ca)

    def configuration() -> grpc.ServerCertificateConfiguration:
        key, chain = files.server.read()
        root = files.ca.read_bytes() if mutual else None
        return grpc.ssl_server_certificate_configuration([(key, chain)], root)

    try:
        seen = [_signature(watched)]
        initial = configuration()
    except OSError as exc:
        raise TlsError(f"cannot read the gRPC TLS files: {exc}") from None

    def fetch() -> grpc.ServerCertificateConfiguration | None:
        # Called by grpc before each new handshake; None keeps the current files.
        try:
            now = _signature(watched)
            if now == seen[0]:
                return None
            fresh = configuration()
        except OSError:
            return None  # mid-replacement: keep serving with what was read before
        seen[0] = now
        return fresh

    return grpc.dynamic_ssl_server_credentials(initial, fetch, require_client_authentication=mutual)


def channel_credentials(
    files: Files, mode: str, identity: Pair | None = None
) -> grpc.ChannelCredentials:
    """What a caller needs: trust in ca.pem, and a certificate when the port is mutual."""
    pair = identity or files.operator
    if mode == "mutual":
        key, chain = pair.read()
        return grpc.ssl_channel_credentials(files.ca.read_bytes(), key, chain)
    return grpc.ssl_channel_credentials(files.ca.read_bytes())


def peer_common_name(context: grpc.ServicerContext) -> str | None:
    """The common name of the caller's verified certificate, if it presented one."""
    names = context.auth_context().get("x509_common_name") or ()
    return names[0].decode("utf-8", "replace") if names else None
