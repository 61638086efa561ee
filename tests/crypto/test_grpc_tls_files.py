"""The gRPC port's TLS files (server.tls) and the settings that ask for them."""

from __future__ import annotations

import ipaddress
import os
import stat
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from server import gateway, tls
from server.config import REPO_ROOT, ConfigError, Settings
from tests.common.stack import free_ports


def _certificate(path: Path) -> x509.Certificate:
    return x509.load_pem_x509_certificate(path.read_bytes())


def _common_name(certificate: x509.Certificate) -> str:
    return str(certificate.subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value)


def test_a_local_ca_issues_every_file(tmp_path: Path) -> None:
    files = tls.ensure_files(tmp_path / "pki", "10.0.0.5")
    ca = _certificate(files.ca)
    assert ca.extensions.get_extension_for_class(x509.BasicConstraints).value.ca
    for pair, name, usage in (
        (files.server, tls.SERVER_NAME, ExtendedKeyUsageOID.SERVER_AUTH),
        (files.envoy, tls.ENVOY_COMMON_NAME, ExtendedKeyUsageOID.CLIENT_AUTH),
        (files.operator, tls.OPERATOR_COMMON_NAME, ExtendedKeyUsageOID.CLIENT_AUTH),
    ):
        leaf = _certificate(pair.certificate)
        assert _common_name(leaf) == name
        assert leaf.issuer == ca.subject
        leaf.verify_directly_issued_by(ca)
        assert list(leaf.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value) == [usage]
        # Keys are for their owner's eyes only.
        assert stat.S_IMODE(pair.key.stat().st_mode) == 0o600
    assert stat.S_IMODE(files.ca_key.stat().st_mode) == 0o600
    names = (
        _certificate(files.server.certificate)
        .extensions.get_extension_for_class(x509.SubjectAlternativeName)
        .value
    )
    assert names.get_values_for_type(x509.DNSName) == ["localhost"]
    assert set(names.get_values_for_type(x509.IPAddress)) == {
        ipaddress.ip_address("127.0.0.1"),
        ipaddress.ip_address("::1"),
        ipaddress.ip_address("10.0.0.5"),  # BANK_HOST
    }


def test_files_in_place_are_kept(tmp_path: Path) -> None:
    files = tls.ensure_files(tmp_path, "127.0.0.1")
    before = {path.name: path.read_bytes() for path in tmp_path.iterdir()}
    tls.ensure_files(tmp_path, "127.0.0.1")
    assert {path.name: path.read_bytes() for path in tmp_path.iterdir()} == before
    # A missing leaf is issued again by the same CA; the others stay.
    files.operator.certificate.unlink()
    tls.ensure_files(tmp_path, "127.0.0.1")
    _certificate(files.operator.certificate).verify_directly_issued_by(_certificate(files.ca))
    assert files.server.certificate.read_bytes() == before["server.pem"]


def test_a_banks_own_pki_is_never_reissued(tmp_path: Path) -> None:
    """Without the CA's key, a missing file is an error that names it, not a new CA."""
    files = tls.ensure_files(tmp_path, "127.0.0.1")
    files.ca_key.unlink()
    tls.ensure_files(tmp_path, "127.0.0.1")  # complete: fine
    files.envoy.key.unlink()
    with pytest.raises(tls.TlsError, match=r"envoy\.pem or its key"):
        tls.ensure_files(tmp_path, "127.0.0.1")


def test_leaves_without_their_ca_are_an_error(tmp_path: Path) -> None:
    files = tls.ensure_files(tmp_path, "127.0.0.1")
    files.ca.unlink()
    with pytest.raises(tls.TlsError, match=r"ca\.pem is missing"):
        tls.ensure_files(tmp_path, "127.0.0.1")


def test_settings_read_the_mode_and_the_directory() -> None:
    assert Settings.from_env({}).grpc_tls == "off"
    settings = Settings.from_env(
        {"BANK_GRPC_TLS": "Mutual", "BANK_GRPC_TLS_DIR": "/etc/bank/grpc", "BANK_DATA_DIR": "/d"}
    )
    assert (settings.grpc_tls, settings.grpc_tls_files_dir) == ("mutual", Path("/etc/bank/grpc"))
    assert Settings.from_env({"BANK_DATA_DIR": "/d"}).grpc_tls_files_dir == Path("/d/tls/grpc")
    with pytest.raises(ConfigError, match="BANK_GRPC_TLS must be one of off, tls, mutual"):
        Settings.from_env({"BANK_GRPC_TLS": "yes"})


@pytest.mark.parametrize("host", ["0.0.0.0", "10.0.0.5", "bank.internal", "::"])  # noqa: S104
def test_production_refuses_plaintext_grpc_beyond_loopback(host: str) -> None:
    with pytest.raises(ConfigError, match="needs BANK_GRPC_TLS=mutual"):
        Settings.from_env({"BANK_MODE": "production", "BANK_HOST": host})
    for mode in ("tls", "mutual"):
        assert (
            Settings.from_env(
                {"BANK_MODE": "production", "BANK_HOST": host, "BANK_GRPC_TLS": mode}
            ).host
            == host
        )
    # The sandbox holds only made-up data; it may listen anywhere.
    assert Settings.from_env({"BANK_HOST": host}).grpc_tls == "off"


@pytest.mark.parametrize("host", ["127.0.0.1", "127.0.0.2", "::1", "localhost"])
def test_production_may_keep_loopback_plaintext(host: str) -> None:
    settings = Settings.from_env({"BANK_MODE": "production", "BANK_HOST": host})
    assert settings.grpc_tls == "off"
    # The rule holds however the settings are made.
    with pytest.raises(ConfigError):
        replace(settings, host="192.0.2.1")


def _rendered(tmp_path: Path, host: str, upstream: gateway.UpstreamTls | None = None) -> Path:
    cert, key = gateway.ensure_dev_certificate(tmp_path / "edge")
    return gateway.write_envoy_config(
        tmp_path / f"envoy-{host}.yaml",
        http_port=0,
        https_port=0,
        admin_port=0,
        grpc_port=50051,
        descriptor_set=gateway.DESCRIPTOR_SET_PATH,
        cert=cert,
        key=key,
        lua_path=gateway.LUA_PATH,
        services=gateway.service_names(gateway.DESCRIPTOR_SET_PATH),
        host=host,
        upstream_tls=upstream,
    )


@pytest.mark.parametrize(
    ("host", "address"),
    [("127.0.0.1", "127.0.0.1"), ("0.0.0.0", "127.0.0.1"), ("::", "::1"), ("10.0.0.5", "10.0.0.5")],  # noqa: S104
)
def test_envoy_reaches_the_server_where_it_binds(tmp_path: Path, host: str, address: str) -> None:
    text = _rendered(tmp_path, host).read_text()
    assert f'socket_address: {{ address: "{address}", port_value: 50051 }}' in text
    assert "UpstreamTlsContext" not in text  # plaintext unless BANK_GRPC_TLS says otherwise


@pytest.mark.parametrize("mutual", [False, True])
def test_envoy_presents_its_certificate_only_to_a_mutual_port(tmp_path: Path, mutual: bool) -> None:
    files = tls.ensure_files(tmp_path / "pki", "127.0.0.1")
    upstream = gateway.UpstreamTls(
        ca=files.ca,
        server_name=tls.SERVER_NAME,
        certificate=files.envoy.certificate if mutual else None,
        key=files.envoy.key if mutual else None,
    )
    config = _rendered(tmp_path, "127.0.0.1", upstream)
    text = config.read_text()
    assert "UpstreamTlsContext" in text
    assert f'trusted_ca: {{ filename: "{files.ca}" }}' in text
    assert (str(files.envoy.key) in text) is mutual
    # And Envoy itself accepts it.
    result = gateway.validate_envoy_config(config)
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_rest_listeners_certificate_is_made_once_and_kept(tmp_path: Path) -> None:
    cert, key = gateway.ensure_dev_certificate(tmp_path)
    made = _certificate(cert)
    made.verify_directly_issued_by(made)  # self-signed
    names = made.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert list(names) == tls.loopback_names()
    assert stat.S_IMODE(key.stat().st_mode) == 0o600
    assert gateway.ensure_dev_certificate(tmp_path) == (cert, key)
    assert _certificate(cert) == made
    key.unlink()  # half a pair is made again, whole
    gateway.ensure_dev_certificate(tmp_path)
    assert _certificate(cert) != made


def test_serve_refuses_files_it_cannot_use_with_a_clear_message(tmp_path: Path) -> None:
    pki = tls.ensure_files(tmp_path / "bank-pki", "127.0.0.1")
    pki.ca_key.unlink()  # the bank's own PKI: nothing is issued here
    pki.server.key.unlink()
    (port,) = free_ports(1)
    env = {
        **os.environ,
        "BANK_GRPC_TLS": "mutual",
        "BANK_GRPC_TLS_DIR": str(pki.directory),
        "BANK_DATA_DIR": str(tmp_path / "data"),
        "GRPC_PORT": str(port),
    }
    result = subprocess.run(
        [sys.executable, "-m", "server", "serve"],
        cwd=REPO_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 2, result.stderr
    assert "configuration error:" in result.stderr
    assert "server.pem or its key is missing" in result.stderr
    assert "Traceback" not in result.stderr
