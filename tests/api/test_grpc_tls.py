"""The gRPC port under BANK_GRPC_TLS=mutual: who may connect, and who counts as Envoy.

One stack of its own (SQLite, sandbox data, two server processes): the
server on mutual TLS, Envoy reaching it with its client certificate. The rotation test changes
the files under the running server, so it comes last.
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import grpc
import pytest
import requests
from grpc_health.v1 import health_pb2, health_pb2_grpc

from backoffice.v1 import account_service_pb2 as pb
from backoffice.v1 import account_service_pb2_grpc as pb_grpc
from backoffice.v1 import sandbox_service_pb2 as sandbox_pb
from backoffice.v1 import sandbox_service_pb2_grpc as sandbox_grpc
from server import tls
from server.app import build_server
from server.config import Settings
from server.run import Stack, grpc_channel, grpcurl_arguments
from tests.common.auth import token_over_rest
from tests.common.client_rules import configured_client
from tests.common.stack import free_ports, stack_settings, started

FORGED = ("x-bank-client-ip", "10.1.2.3")


@pytest.fixture(scope="module")
def mutual_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    tmp = tmp_path_factory.mktemp("stack-mutual-tls")
    # Two server processes: each worker serves the same files.
    with started(stack_settings(tmp, grpc_tls="mutual", server_processes=2)) as stack:
        yield stack


@pytest.fixture(scope="module")
def token(mutual_stack: Stack) -> str:
    return str(token_over_rest(mutual_stack.http_url)["access_token"])


def _files_of(settings: Settings) -> tls.Files:
    return tls.Files(settings.grpc_tls_files_dir)


def _files(stack: Stack) -> tls.Files:
    return _files_of(stack.settings)


def _secure(stack: Stack, credentials: grpc.ChannelCredentials) -> grpc.Channel:
    return grpc.secure_channel(
        stack.grpc_target,
        credentials,
        options=[("grpc.ssl_target_name_override", tls.SERVER_NAME)],
    )


def _clock(channel: grpc.Channel, token: str, *extra: tuple[str, str]) -> grpc.RpcError | None:
    try:
        sandbox_grpc.SandboxServiceStub(channel).GetClock(
            sandbox_pb.GetClockRequest(),
            metadata=[("authorization", f"Bearer {token}"), *extra],
            timeout=10,
        )
    except grpc.RpcError as exc:
        return exc
    return None


def _accounts(channel: grpc.Channel, token: str, *extra: tuple[str, str]) -> grpc.RpcError | None:
    try:
        pb_grpc.AccountServiceStub(channel).ListAccounts(
            pb.ListAccountsRequest(limit=1),
            metadata=[("authorization", f"Bearer {token}"), *extra],
            timeout=10,
        )
    except grpc.RpcError as exc:
        return exc
    return None


def _refused_at_the_handshake(error: grpc.RpcError | None) -> None:
    assert error is not None
    assert error.code() == grpc.StatusCode.UNAVAILABLE, error


def test_rest_reaches_the_server_through_envoy_with_its_certificate(
    mutual_stack: Stack, token: str
) -> None:
    # The token itself came over REST; a read of the API does too.
    response = requests.get(
        f"{mutual_stack.http_url}/v1/sandbox/clock",
        headers={"Authorization": f"Bearer {token}"},
        timeout=30,
    )
    assert response.status_code == 200, response.text
    assert response.json()["success"] is True, response.text


def test_an_internal_caller_with_the_operator_certificate_calls_grpc(
    mutual_stack: Stack, token: str
) -> None:
    with grpc_channel(mutual_stack.settings) as channel:
        assert _clock(channel, token) is None


def test_grpcurl_reaches_it_as_the_banner_says(mutual_stack: Stack, token: str) -> None:
    grpcurl = str(Path(sys.executable).with_name("grpcurl"))
    options = grpcurl_arguments(mutual_stack.settings)
    listed = subprocess.run(
        [grpcurl, *options, "list"], capture_output=True, text=True, timeout=30, check=False
    )
    assert listed.returncode == 0, listed.stderr
    assert "backoffice.v1.SandboxService" in listed.stdout.split()
    called = subprocess.run(
        [
            grpcurl,
            "-H",
            f"authorization: Bearer {token}",
            *options,
            "backoffice.v1.SandboxService/GetClock",
        ],
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    assert called.returncode == 0, called.stderr
    assert "clock" in json.loads(called.stdout)
    # Without its certificate grpcurl gets no further than the handshake.
    refused = subprocess.run(
        [grpcurl, *options[:4], options[-1], "list"],
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    assert refused.returncode != 0


def test_plaintext_callers_are_refused(mutual_stack: Stack, token: str) -> None:
    with grpc.insecure_channel(mutual_stack.grpc_target) as channel:
        _refused_at_the_handshake(_clock(channel, token))


def test_callers_without_a_certificate_are_refused(mutual_stack: Stack, token: str) -> None:
    trust_only = grpc.ssl_channel_credentials(_files(mutual_stack).ca.read_bytes())
    with _secure(mutual_stack, trust_only) as channel:
        _refused_at_the_handshake(_clock(channel, token))


@pytest.mark.parametrize("stranger_side", ["caller", "server"])
def test_both_sides_must_come_from_the_one_ca(
    mutual_stack: Stack, token: str, tmp_path: Path, stranger_side: str
) -> None:
    """A caller's certificate of another CA is refused; a caller that does not
    know the server's CA does not call it either."""
    ours, stranger = _files(mutual_stack), tls.ensure_files(tmp_path / "other", "127.0.0.1")
    trusted = stranger if stranger_side == "server" else ours
    presented = stranger if stranger_side == "caller" else ours
    credentials = grpc.ssl_channel_credentials(trusted.ca.read_bytes(), *presented.operator.read())
    with _secure(mutual_stack, credentials) as channel:
        _refused_at_the_handshake(_clock(channel, token))


def test_only_envoys_certificate_makes_a_trusted_proxy(mutual_stack: Stack) -> None:
    """Loopback alone is not enough under mutual TLS: x-bank-client-ip needs Envoy's certificate."""
    client = configured_client(mutual_stack, ip_allowlist=["10.0.0.0/8"])
    files = _files(mutual_stack)
    ca = files.ca.read_bytes()
    as_operator = grpc.ssl_channel_credentials(ca, *files.operator.read())
    as_envoy = grpc.ssl_channel_credentials(ca, *files.envoy.read())
    with _secure(mutual_stack, as_operator) as channel:
        # The forged address is ignored: the caller is judged at 127.0.0.1.
        refused = _accounts(channel, client.token, FORGED)
        assert refused is not None
        assert refused.code() == grpc.StatusCode.PERMISSION_DENIED
    with _secure(mutual_stack, as_envoy) as channel:
        assert _accounts(channel, client.token, FORGED) is None


def test_rest_clients_are_judged_by_the_address_envoy_saw(mutual_stack: Stack) -> None:
    allowed = configured_client(mutual_stack, ip_allowlist=["127.0.0.0/8"])
    elsewhere = configured_client(mutual_stack, ip_allowlist=["10.0.0.0/8"])
    url = f"{mutual_stack.http_url}/v1/accounts"
    spoofing = {"X-Bank-Client-IP": "10.1.2.3", "X-Forwarded-For": "10.1.2.3"}
    assert requests.get(url, headers={**allowed.bearer, **spoofing}, timeout=30).status_code == 200
    refused = requests.get(url, headers={**elsewhere.bearer, **spoofing}, timeout=30)
    assert refused.status_code == 403, refused.text
    assert refused.json()["error"]["code"] == "FORBIDDEN"


def test_new_files_are_served_without_a_restart(
    mutual_stack: Stack, token: str, tmp_path: Path
) -> None:
    """Rotation: a whole new CA and certificates, picked up at the next handshake."""
    files = _files(mutual_stack)
    old_ca = files.ca.read_bytes()
    old_operator = files.operator.read()
    fresh = tls.ensure_files(tmp_path / "next-pki", "127.0.0.1")

    def copy(*names: str) -> None:
        for name in names:
            (files.directory / name).write_bytes((fresh.directory / name).read_bytes())

    old_credentials = grpc.ssl_channel_credentials(old_ca, *old_operator)
    # Half-way (a new certificate beside the old key): grpc refuses the pair
    # and keeps serving what it had.
    copy("ca.pem", "server.pem")
    with _secure(mutual_stack, old_credentials) as channel:
        assert _clock(channel, token) is None
    copy("server-key.pem", "operator.pem", "operator-key.pem")
    with _secure(mutual_stack, old_credentials) as channel:
        _refused_at_the_handshake(_clock(channel, token))
    with grpc_channel(mutual_stack.settings) as channel:
        assert _clock(channel, token) is None


def test_server_only_tls_needs_no_caller_certificate(tmp_path: Path) -> None:
    """BANK_GRPC_TLS=tls: callers check the server; they need no certificate of their own."""
    (port,) = free_ports(1)
    settings = replace(
        Settings.from_env({}),
        grpc_port=port,
        data_dir=tmp_path,
        grpc_tls="tls",
        worker_threads=2,
        metrics_port=0,
    )
    tls.ensure_files(settings.grpc_tls_files_dir, settings.host)  # as serve() does first
    server, _health = build_server(settings)
    server.start()
    try:
        files = _files_of(settings)
        trust_only = grpc.ssl_channel_credentials(files.ca.read_bytes())
        target = f"127.0.0.1:{port}"
        options = [("grpc.ssl_target_name_override", tls.SERVER_NAME)]
        for credentials in (trust_only, tls.channel_credentials(files, "tls")):
            with grpc.secure_channel(target, credentials, options=options) as channel:
                reply = health_pb2_grpc.HealthStub(channel).Check(
                    health_pb2.HealthCheckRequest(), timeout=10
                )
                assert reply.status == health_pb2.HealthCheckResponse.SERVING
        with grpc.insecure_channel(target) as channel:
            with pytest.raises(grpc.RpcError) as refused:
                health_pb2_grpc.HealthStub(channel).Check(
                    health_pb2.HealthCheckRequest(), timeout=10
                )
            assert refused.value.code() == grpc.StatusCode.UNAVAILABLE
    finally:
        server.stop(0).wait()
