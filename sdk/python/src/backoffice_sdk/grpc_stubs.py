"""The gRPC stubs of `backoffice.v1`, for internal callers (extra `grpc`).

`pip install 'bank-backoffice[grpc]'` brings grpcio and protobuf; the
generated modules ship inside this package (`_stubs/`, copied from the
repository's `gen/` by `scripts/bundle_stubs.py` when a wheel is built). An
editable install in the repository uses `gen/` itself. The generated code
imports itself as `backoffice.v1...`, so `load()` puts that directory on
`sys.path` once, unless a `backoffice` package is importable already.

    from backoffice_sdk import Client, grpc_stubs
    with Client.from_client_credentials("svc", "secret") as bank:
        v1 = grpc_stubs.load()
        channel = grpc_stubs.channel("127.0.0.1:50051", bank)   # Bearer token from `bank`
        stub = v1.account_service_pb2_grpc.AccountServiceStub(channel)
        try:
            stub.GetAccount(v1.account_service_pb2.GetAccountRequest(account_id="acc_..."))
        except grpc.RpcError as failure:
            raise grpc_stubs.bank_error(failure)   # NotFound, InsufficientFunds, ...
"""

from __future__ import annotations

import importlib
import importlib.util
import sys
import types
from pathlib import Path
from typing import TYPE_CHECKING, Any

from backoffice_sdk import errors

if TYPE_CHECKING:
    import grpc

    from backoffice_sdk.client import Client

_HERE = Path(__file__).resolve().parent
_CANDIDATES = (_HERE / "_stubs", _HERE.parents[3] / "gen")  # bundled; the repository's gen/
_GRPC_HTTP = {
    "INVALID_ARGUMENT": 400, "UNAUTHENTICATED": 401, "PERMISSION_DENIED": 403, "NOT_FOUND": 404,
    "ALREADY_EXISTS": 409, "ABORTED": 409, "FAILED_PRECONDITION": 422, "RESOURCE_EXHAUSTED": 429,
    "UNIMPLEMENTED": 501, "UNAVAILABLE": 503, "DEADLINE_EXCEEDED": 504,
}  # fmt: skip


class _V1(types.SimpleNamespace):
    """`backoffice.v1`'s generated modules as attributes (`v1.account_service_pb2`)."""

    def __getattr__(self, name: str) -> Any:
        module = importlib.import_module(f"backoffice.v1.{name}")
        setattr(self, name, module)
        return module


def load() -> Any:
    """The `backoffice.v1` stubs (importable as `backoffice.v1.*` afterwards)."""
    if importlib.util.find_spec("backoffice") is None:
        for directory in _CANDIDATES:
            if (directory / "backoffice" / "v1" / "__init__.py").is_file():
                sys.path.append(str(directory))
                break
        else:
            raise ImportError(
                "the backoffice.v1 stubs are not bundled: run scripts/bundle_stubs.py"
            )
    importlib.import_module("backoffice.v1")
    return _V1()


def channel(target: str, client: Client, *, credentials: Any = None) -> grpc.Channel:
    """A channel to the gRPC port whose unary calls carry `client`'s credentials
    (an OAuth token fetched and refreshed as for REST, or the API key).
    `credentials`: `grpc.ssl_channel_credentials(...)` for a TLS port;
    without them the channel is plaintext (the port without BANK_GRPC_TLS)."""
    import collections  # noqa: PLC0415

    import grpc  # noqa: PLC0415 (an optional dependency)

    fields = ("method", "timeout", "metadata", "credentials", "wait_for_ready", "compression")

    class Details(collections.namedtuple("Details", fields), grpc.ClientCallDetails):  # type: ignore[misc]
        pass

    class Credentials(grpc.UnaryUnaryClientInterceptor):  # type: ignore[misc]
        def intercept_unary_unary(self, continuation: Any, details: Any, request: Any) -> Any:
            metadata = [(k, v) for k, v in (details.metadata or ()) if k != "authorization"]
            metadata += [(k.lower(), v) for k, v in client.auth_headers().items()]
            return continuation(
                Details(details.method, details.timeout, metadata, details.credentials,
                        details.wait_for_ready, details.compression),
                request,
            )  # fmt: skip

    raw = (
        grpc.insecure_channel(target)
        if credentials is None
        else grpc.secure_channel(target, credentials)
    )
    return grpc.intercept_channel(raw, Credentials())


def bank_error(failure: grpc.RpcError) -> errors.BankError:
    """The SDK exception for a failed call: the contract code from
    `google.rpc.ErrorInfo.reason` (the field from its metadata)."""
    from google.rpc import error_details_pb2, status_pb2  # noqa: PLC0415

    status_name = failure.code().name  # type: ignore[attr-defined]
    message = failure.details() or status_name  # type: ignore[attr-defined]
    code: str | None = None
    field: str | None = None
    request_id: str | None = None
    for key, value in failure.trailing_metadata() or ():  # type: ignore[attr-defined]
        if key == "x-request-id":
            request_id = str(value)
        if key != "grpc-status-details-bin":
            continue
        status = status_pb2.Status.FromString(value)
        for detail in status.details:
            info = error_details_pb2.ErrorInfo()
            if detail.Unpack(info):
                code = info.reason or None
                field = info.metadata.get("field") or None
    http_status = _GRPC_HTTP.get(status_name, 500)
    cls = errors.error_class(code, http_status)
    return cls(message, code=code, http_status=cls.http_status if code else http_status,
               field=field, request_id=request_id)  # fmt: skip
