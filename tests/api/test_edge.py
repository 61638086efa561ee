"""The REST edge (Envoy) and the gRPC surface: envelope, errors, ids, health, TLS."""

from __future__ import annotations

import json
import socket
import ssl
import subprocess
import sys
from pathlib import Path

import grpc
import pytest
import requests
from grpc_health.v1 import health_pb2, health_pb2_grpc

from backoffice.v1 import sandbox_service_pb2 as sandbox_pb
from backoffice.v1 import sandbox_service_pb2_grpc as sandbox_grpc
from server import app, gateway
from server.api import stream_calls
from server.run import DESCRIPTOR_SET, Stack
from tests.common import envelope
from tests.conftest import Rest


def test_success_envelope_and_request_id_echo(rest: Rest) -> None:
    response = rest.get("/v1/sandbox/clock", headers={"X-Request-ID": "req-edge-1"})
    data = envelope.success(response)
    assert response.headers["X-Request-ID"] == "req-edge-1"
    assert response.json()["meta"]["requestId"] == "req-edge-1"
    assert data["clock"]["now"].endswith("Z")
    # Documented fields appear even when zero.
    assert data["clock"]["offsetSeconds"] >= 0


def test_request_id_is_generated_when_missing_or_invalid(rest: Rest) -> None:
    first = rest.get("/v1/sandbox/clock")
    second = rest.get("/v1/sandbox/clock", headers={"X-Request-ID": "bad id\twith spaces"})
    for response in (first, second):
        envelope.success(response)
        assert len(response.headers["X-Request-ID"]) >= 16
    assert first.headers["X-Request-ID"] != second.headers["X-Request-ID"]


def test_validation_error_envelope(rest: Rest) -> None:
    response = rest.post("/v1/sandbox/clock:advance", json={"days": 1, "seconds": 5})
    envelope.error(response, 422, "VALIDATION_ERROR", field="seconds")
    envelope.error(rest.post("/v1/sandbox/clock:advance", json={}), 422, "VALIDATION_ERROR")
    envelope.error(
        rest.post("/v1/sandbox/clock:advance", json={"days": 400}), 422, "VALIDATION_ERROR", "days"
    )


def test_advance_moves_the_clock_forward(rest: Rest) -> None:
    before = envelope.success(rest.get("/v1/sandbox/clock"))["clock"]["offsetSeconds"]
    after = envelope.success(rest.post("/v1/sandbox/clock:advance", json={"seconds": 90}))
    assert after["clock"]["offsetSeconds"] == before + 90


@pytest.mark.parametrize(
    "body",
    [
        b'{"days": 1,',  # truncated
        b"not json at all",
        b'{"days": "one"}',  # wrong type
        b'{"days": 1.5}',  # not an integer
        b'{"days": {"n": 1}}',  # object for a number
        b"[1, 2]",  # array for an object
    ],
)
def test_malformed_json_is_a_400_envelope(rest: Rest, body: bytes) -> None:
    response = rest.post(
        "/v1/sandbox/clock:advance", data=body, headers={"Content-Type": "application/json"}
    )
    envelope.error(response, 400, "INVALID_REQUEST")


def test_unknown_query_parameters_are_ignored(rest: Rest) -> None:
    envelope.success(rest.get("/v1/sandbox/clock?utm_source=mail&cache=1"))


def test_an_rpc_not_built_would_be_501_and_every_rpc_is_built() -> None:
    # ReportService, the last service declared and not built, now is: what an
    # RPC without a servicer method would answer is checked on the mapping.
    error = stream_calls._bank_error("/backoffice.v1.X/Y", NotImplementedError())
    assert (error.reason, error.grpc_status, error.http_status) == (
        "NOT_IMPLEMENTED",
        "UNIMPLEMENTED",
        501,
    )
    assert "not implemented" in error.message
    assert set(app._generated_services()) == set(app.implemented_services())


def test_grpc_errors_carry_error_info_and_bad_request(grpc_channel: grpc.Channel) -> None:
    stub = sandbox_grpc.SandboxServiceStub(grpc_channel)
    with pytest.raises(grpc.RpcError) as caught:
        stub.AdvanceClock(sandbox_pb.AdvanceClockRequest(days=2, seconds=1), timeout=10)
    info = envelope.grpc_error(caught.value, grpc.StatusCode.INVALID_ARGUMENT, "VALIDATION_ERROR")
    assert info.metadata["field"] == "seconds"


def test_grpc_success_is_a_plain_resource(grpc_channel: grpc.Channel) -> None:
    stub = sandbox_grpc.SandboxServiceStub(grpc_channel)
    reply, call = stub.GetClock.with_call(
        sandbox_pb.GetClockRequest(), metadata=[("x-request-id", "grpc-req-1")], timeout=10
    )
    assert reply.clock.now.seconds > 0
    assert ("x-request-id", "grpc-req-1") in call.initial_metadata()


def test_health_serving(grpc_channel: grpc.Channel) -> None:
    stub = health_pb2_grpc.HealthStub(grpc_channel)
    for service in ("", "backoffice.v1.TransactionService", "backoffice.v1.SandboxService"):
        reply = stub.Check(health_pb2.HealthCheckRequest(service=service), timeout=10)
        assert reply.status == health_pb2.HealthCheckResponse.SERVING


def test_reflection_lists_every_service_via_grpcurl(stack: Stack, admin_token: str) -> None:
    grpcurl = str(Path(sys.executable).with_name("grpcurl"))
    listed = subprocess.run(
        [grpcurl, "-plaintext", stack.grpc_target, "list"],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    ).stdout.split()
    for service in gateway.service_names(DESCRIPTOR_SET):
        assert service in listed
    assert "grpc.health.v1.Health" in listed
    described = subprocess.run(
        [grpcurl, "-plaintext", stack.grpc_target, "describe", "backoffice.v1.TransactionService"],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    ).stdout
    assert "CreateTransfer" in described
    method = "backoffice.v1.SandboxService/GetClock"
    bearer = f"authorization: Bearer {admin_token}"
    reply = subprocess.run(
        [grpcurl, "-plaintext", "-H", bearer, stack.grpc_target, method],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    ).stdout
    assert "now" in json.loads(reply)["clock"]
    refused = subprocess.run(
        [grpcurl, "-plaintext", stack.grpc_target, method],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert refused.returncode != 0 and "Unauthenticated" in refused.stderr


def test_tls_13_with_hsts(stack: Stack, admin_token: str) -> None:
    cert, _ = gateway.ensure_dev_certificate(stack.settings.data_dir / "tls")
    response = requests.get(
        stack.https_url + "/v1/sandbox/clock",
        verify=str(cert),
        timeout=30,
        headers={"Authorization": f"Bearer {admin_token}"},
    )
    envelope.success(response)
    assert response.headers["Strict-Transport-Security"].startswith("max-age=")
    context = ssl.create_default_context(cafile=str(cert))
    with (
        socket.create_connection(
            (stack.settings.host, stack.settings.https_port), timeout=10
        ) as raw,
        context.wrap_socket(raw, server_hostname="localhost") as tls,
    ):
        assert tls.version() == "TLSv1.3"


def test_tls_12_is_refused(stack: Stack) -> None:
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    context.maximum_version = ssl.TLSVersion.TLSv1_2
    with (
        socket.create_connection(
            (stack.settings.host, stack.settings.https_port), timeout=10
        ) as raw,
        pytest.raises(ssl.SSLError),
    ):
        context.wrap_socket(raw, server_hostname="localhost")


def test_plain_http_has_no_hsts(rest: Rest) -> None:
    assert "Strict-Transport-Security" not in rest.get("/v1/sandbox/clock").headers


def test_envoy_config_validates(stack: Stack) -> None:
    config = stack.write_envoy_config()
    result = gateway.validate_envoy_config(config)
    assert result.returncode == 0, result.stdout + result.stderr


def test_oversized_body_is_a_413_envelope(rest: Rest) -> None:
    body = b'{"days": 1, "pad": "' + b"x" * (1_100_000) + b'"}'
    response = rest.post(
        "/v1/sandbox/clock:advance", data=body, headers={"Content-Type": "application/json"}
    )
    envelope.error(response, 413, "PAYLOAD_TOO_LARGE")
