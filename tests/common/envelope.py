"""Assertions on the contract's REST envelope and on gRPC rich errors."""

from __future__ import annotations

from typing import Any

import grpc
import requests
from google.rpc import error_details_pb2
from grpc_status import rpc_status

INTERNAL_HEADER_PREFIXES = ("grpc-", "x-bank-", "x-envoy-")


def assert_no_internal_headers(response: requests.Response) -> None:
    leaked = [h for h in response.headers if h.lower().startswith(INTERNAL_HEADER_PREFIXES)]
    assert not leaked, f"internal headers reached the client: {leaked}"


def _assert_meta(body: dict[str, Any], response: requests.Response) -> None:
    meta = body["meta"]
    assert meta["version"] == "v1"
    assert meta["timestamp"].endswith("Z")
    assert meta["requestId"] == response.headers["X-Request-ID"]


def unclean(value: Any, path: str = "") -> list[str]:
    """Where `value` prints a field that does not apply: an empty string or an
    enum `*_UNSPECIFIED` (common.proto "Presence"); [] when none does."""
    if isinstance(value, dict):
        return [
            found
            for key, item in value.items()
            for found in unclean(item, f"{path}.{key}" if path else key)
        ]
    if isinstance(value, list):
        return [found for i, item in enumerate(value) for found in unclean(item, f"{path}[{i}]")]
    if isinstance(value, str) and (value == "" or value.endswith("_UNSPECIFIED")):
        return [path]
    return []


def success(response: requests.Response, status: int = 200) -> dict[str, Any]:
    """The `data` of a success envelope, after checking the envelope itself and
    that no field that does not apply is printed (see `unclean`)."""
    assert response.status_code == status, response.text
    assert response.headers["Content-Type"].startswith("application/json")
    body = response.json()
    assert body["success"] is True
    assert body["status"] == "success"
    assert isinstance(body["message"], str) and body["message"]
    _assert_meta(body, response)
    assert_no_internal_headers(response)
    printed = unclean(body)
    assert not printed, f"fields that do not apply were printed: {printed}"
    return body["data"]  # type: ignore[no-any-return]


def error(
    response: requests.Response, status: int, code: str, field: str | None = None
) -> dict[str, Any]:
    """The `error` of an error envelope, after checking status, code and field."""
    assert response.status_code == status, response.text
    assert response.headers["Content-Type"].startswith("application/json")
    body = response.json()
    assert body["success"] is False
    assert body["status"] == "error"
    assert body["error"]["code"] == code, body
    assert body["message"] == body["error"]["message"]
    if field is not None:
        assert body["error"].get("field") == field, body
    _assert_meta(body, response)
    assert_no_internal_headers(response)
    text = response.text
    assert "Traceback" not in text and "SELECT " not in text
    return body["error"]  # type: ignore[no-any-return]


def grpc_error(
    exc: grpc.RpcError, code: grpc.StatusCode, reason: str
) -> error_details_pb2.ErrorInfo:
    """The ErrorInfo of a rich gRPC error, after checking code and reason."""
    assert exc.code() == code, exc.details()
    status = rpc_status.from_call(exc)
    assert status is not None, "no google.rpc.Status in the trailers"
    infos = []
    for detail in status.details:
        info = error_details_pb2.ErrorInfo()
        if detail.Unpack(info):
            infos.append(info)
    assert len(infos) == 1, status
    assert infos[0].reason == reason
    assert infos[0].domain == "backoffice.bank"
    return infos[0]
