"""Cross-cutting concerns, written once: request ids, the error model, logs.

`CallInterceptor` wraps every unary `backoffice.v1` method (and the
server-streaming ones through `server.api.stream_calls`):
- takes the request id from `x-request-id` metadata (Envoy always sends one)
  or makes one, and echoes it;
- sends the per-call REST facts (`server.api.call.CallInfo`) as initial
  metadata on success;
- turns a `BankError` into `google.rpc.Status` + `ErrorInfo` (+ `BadRequest`
  when a field is named) with the REST facts in trailing metadata, and any
  other exception into INTERNAL without internals;
- logs one structured line per call.
"""

from __future__ import annotations

import contextlib
import logging
import re
import time
import uuid
from collections.abc import Callable
from typing import Any, NamedTuple
from urllib.parse import quote

import grpc
import peewee
from google.protobuf import any_pb2
from google.rpc import code_pb2, error_details_pb2, status_pb2

from server import logs, metrics
from server.api import authn, authz, call, guards, idempotency, ratelimit, validation
from server.config import Settings
from server.domain import errors, requests
from server.store import clock, db
from server.store.db import per_use_connection

log = logging.getLogger("server.rpc")

SERVICE_PREFIX = "/backoffice.v1."
_REQUEST_ID_RE = re.compile(r"^[A-Za-z0-9._:\-]{1,128}$")


class _AbortStatus(NamedTuple):
    """A `grpc.Status` carrying our trailing metadata."""

    code: grpc.StatusCode
    details: str
    trailing_metadata: tuple[tuple[str, str | bytes], ...]


def _request_id(metadata: tuple[tuple[str, str | bytes], ...] | None) -> str:
    for key, value in metadata or ():
        if key == "x-request-id" and isinstance(value, str) and _REQUEST_ID_RE.match(value):
            return value
    return str(uuid.uuid4())


def to_rpc_status(error: errors.BankError) -> status_pb2.Status:
    """The `google.rpc.Status` clients read an error from."""
    metadata = error.metadata
    if error.field:
        # gRPC callers read proto field names (`page_token`), REST clients JSON names.
        field = requests.snake(error.field)
        metadata = {**metadata, "field": field}
    info = error_details_pb2.ErrorInfo(
        reason=error.reason, domain=errors.ERROR_DOMAIN, metadata=metadata
    )
    details = [info]
    if error.field:
        details.append(
            error_details_pb2.BadRequest(
                field_violations=[
                    error_details_pb2.BadRequest.FieldViolation(
                        field=field, description=error.message
                    )
                ]
            )
        )
    packed = []
    for detail in details:
        holder = any_pb2.Any()
        holder.Pack(detail)
        packed.append(holder)
    return status_pb2.Status(
        code=code_pb2.Code.Value(error.grpc_status), message=error.message, details=packed
    )


def _abort_status(error: errors.BankError, info: call.CallInfo) -> _AbortStatus:
    rich = to_rpc_status(error)
    trailing: list[tuple[str, str | bytes]] = [
        ("grpc-status-details-bin", rich.SerializeToString()),
        ("x-request-id", info.request_id),
        ("x-bank-http-status", str(error.http_status)),
        ("x-bank-error-code", error.reason),
        ("x-bank-error-message", quote(error.message, safe="")),
    ]
    if error.details:
        trailing.append(("x-bank-error-details", quote(error.details, safe="")))
    if error.field:
        trailing.append(("x-bank-error-field", quote(_json_name(error.field, info), safe="")))
    trailing.extend((k.lower(), v) for k, v in info.headers.items())
    retry_after = error.metadata.get("retry_after_seconds")
    if retry_after and not any(k.lower() == "retry-after" for k in info.headers):
        # A busy hashing pool (503) says when to come back, as a rate limit does.
        trailing.append(("retry-after", retry_after))
    return _AbortStatus(grpc.StatusCode[error.grpc_status], error.message, tuple(trailing))


def _json_name(field: str, info: call.CallInfo) -> str:
    """A field as REST names it: the key the client sent, else lowerCamelCase."""
    sent = info.field_names.get(requests.snake(field)) if info.field_names else None
    return sent or requests.camel(field)


def _invoke(
    method: str,
    behavior: Callable[[Any, grpc.ServicerContext], Any],
    serialize: Callable[[Any], bytes],
    request: Any,
    context: grpc.ServicerContext,
) -> Any:
    """Calls the servicer, through the idempotency store when a key is given."""
    if idempotency.is_idempotent(method) and method not in idempotency.OWN_KEYS:
        key = idempotency.key_from(context)
        if key is not None:
            return idempotency.run(
                method, key, request, lambda: behavior(request, context), serialize
            )
    return behavior(request, context)


def _wrap(
    method: str,
    behavior: Callable[[Any, grpc.ServicerContext], Any],
    serialize: Callable[[Any], bytes],
    settings: Settings,
) -> Callable[..., Any]:
    def handle(request: Any, context: grpc.ServicerContext) -> Any:
        request_id = _request_id(context.invocation_metadata())
        token = call.begin(method, request_id)
        info = call.current()
        info.client_address, info.via_trusted_proxy = guards.caller_address(context, settings)
        log_token = logs.request_id_var.set(request_id)
        started = time.perf_counter()
        outcome = "OK"
        with clock.call_scope():
            connection = per_use_connection()
            entered = False
            try:
                try:
                    # Inside the try: a database that refuses the connection is
                    # answered through the error model (503), like any other outage.
                    connection.__enter__()
                    entered = True
                    if not authn.is_public(method):
                        principal = authn.authenticate(method, context, settings)
                        call.current().principal = principal
                        guards.check(method, request, principal, context, settings)
                        ratelimit.check(method, principal, settings)
                        authz.authorize(method, principal)
                    validation.check(method, request, context.invocation_metadata() or ())
                    response = _invoke(method, behavior, serialize, request, context)
                except errors.BankError as exc:
                    raise exc
                except NotImplementedError:
                    # The generated base servicer raises this for RPCs that are
                    # declared in the protos but not built yet.
                    raise errors.NotImplementedYet(
                        f"{method.rsplit('/', 1)[-1]} is not implemented yet",
                        metadata={"method": method},
                    ) from None
                except (peewee.OperationalError, peewee.InterfaceError):
                    # The database went away or is locked: nothing is known to be
                    # committed beyond what idempotency keys make safe to retry.
                    log.exception("database unavailable", extra={"method": method})
                    db.mark_unreachable()
                    raise errors.Unavailable(
                        "The database is unavailable; retry (with the same Idempotency-Key)"
                    ) from None
                except Exception:
                    log.exception("unhandled error", extra={"method": method})
                    raise errors.InternalError() from None
                context.send_initial_metadata(call.current().initial_metadata())
                return response
            except errors.BankError as exc:
                outcome = exc.reason
                context.abort_with_status(_abort_status(exc, call.current()))
            finally:
                elapsed = time.perf_counter() - started
                metrics.call_finished(method, outcome, elapsed)
                log.info(
                    "rpc",
                    extra={
                        "method": method,
                        "outcome": outcome,
                        "duration_ms": round(elapsed * 1000, 2),
                    },
                )
                if entered:
                    with contextlib.suppress(Exception):
                        connection.__exit__(None, None, None)
                logs.request_id_var.reset(log_token)
                call.end(token)

    return handle


class CallInterceptor(grpc.ServerInterceptor):
    """Request ids, authentication, error model and per-call logs for every API method."""

    def __init__(self, settings: Settings) -> None:
        self._settings = settings

    def intercept_service(
        self,
        continuation: Callable[[grpc.HandlerCallDetails], grpc.RpcMethodHandler | None],
        handler_call_details: grpc.HandlerCallDetails,
    ) -> grpc.RpcMethodHandler | None:
        handler = continuation(handler_call_details)
        method = handler_call_details.method  # type: ignore[attr-defined]
        if handler is not None and method.startswith(SERVICE_PREFIX) and handler.unary_stream:
            from server.api import stream_calls  # noqa: PLC0415 (it builds on this module)

            return grpc.unary_stream_rpc_method_handler(
                stream_calls.wrap_call(method, handler.unary_stream, self._settings),
                request_deserializer=handler.request_deserializer,
                response_serializer=handler.response_serializer,
            )
        if handler is None or not method.startswith(SERVICE_PREFIX) or handler.unary_unary is None:
            return handler
        serialize = handler.response_serializer

        def serialize_or_replay(response: Any) -> bytes:
            # A replayed idempotent response is already the stored bytes.
            return response if isinstance(response, bytes) else serialize(response)  # type: ignore[no-any-return]

        return grpc.unary_unary_rpc_method_handler(
            _wrap(method, handler.unary_unary, serialize, self._settings),
            request_deserializer=handler.request_deserializer,
            response_serializer=serialize_or_replay,
        )
