"""Writes every `backoffice.v1` call to the audit log, once it has finished.

Placement: FIRST in the server's interceptor list, i.e. outside
`CallInterceptor`:

    interceptors=[AuditInterceptor(settings), CallInterceptor(settings)]

From outside it sees every call whole: authentication failures, rate
limits, refused or replayed Idempotency-Keys and INTERNAL errors, which the
call interceptor answers before (or instead of) the servicer. An interceptor
inside it would see only the calls that reach the servicer. What it needs
from inside, it reads from the call's own records once the call is over:
- request id and principal from the call's CallInfo (`call.observe()`);
- the outcome code from the trailing metadata the error model set
  (`x-bank-error-code`), `OK` when the call returned normally;
- resource ids from the request's fields ending in `_id` (and the id of the
  resource a response carries, e.g. the user a CreateUser made), filtered by
  shape in `server.domain.audit`. Never a body.
- the caller's IP from `x-bank-client-ip` (set by Envoy from the connection,
  client-sent values dropped) or else the gRPC peer.

The event is appended before the answer leaves. While unwritten events wait
(the audit store failed), new calls are refused with UNAVAILABLE before they
run: see `server.store.audit`.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable, Iterable
from typing import Any, NamedTuple, NoReturn
from urllib.parse import quote

import grpc
from google.protobuf import descriptor
from google.protobuf.message import Message

from server.api import authn, call
from server.api.guards import caller_address
from server.api.interceptors import SERVICE_PREFIX, to_rpc_status
from server.config import Settings
from server.domain import audit as rules
from server.domain import errors
from server.domain.audit_drafts import AuditDraft
from server.domain.principal import Principal
from server.store import audit as store

_REQUEST_ID_RE = re.compile(r"^[A-Za-z0-9._:\-]{1,128}$")
_UNAUTHENTICATED = "UNAUTHORIZED"


class _Refusal(NamedTuple):
    """A `grpc.Status` with the REST facts the edge builds its envelope from."""

    code: grpc.StatusCode
    details: str
    trailing_metadata: tuple[tuple[str, str | bytes], ...]


def _metadata(context: grpc.ServicerContext) -> dict[str, str]:
    return {k: v for k, v in context.invocation_metadata() or () if isinstance(v, str)}


def client_ip(info: call.CallInfo | None, context: grpc.ServicerContext, settings: Settings) -> str:
    """The caller's address as the call worked it out (guards.caller_address),
    or works it out the same way for a call refused before that."""
    address = info.client_address if info is not None else caller_address(context, settings)[0]
    return str(address) if address is not None else ""


def _message_ids(message: Message, prefix: str = "") -> Iterable[tuple[str, str]]:
    """(field name, value) of a message's top-level string fields."""
    for field, value in message.ListFields():
        if field.type != descriptor.FieldDescriptor.TYPE_STRING:
            continue
        if field.is_repeated:
            yield from ((prefix + field.name, str(item)) for item in value)
        else:
            yield prefix + field.name, str(value)


def _request_fields(request: Any) -> tuple[tuple[str, str], ...]:
    """(field name, value) of the request's string fields: the ids it names."""
    return tuple(_message_ids(request)) if isinstance(request, Message) else ()


def _response_fields(response: Any) -> list[tuple[str, str]]:
    """(`<field>.id`, value) of each resource a response holds."""
    pairs: list[tuple[str, str]] = []
    if isinstance(response, Message):
        for field, value in response.ListFields():
            is_single_message = (
                field.type == descriptor.FieldDescriptor.TYPE_MESSAGE and not field.is_repeated
            )
            if is_single_message and "id" in value.DESCRIPTOR.fields_by_name:
                pairs.append((f"{field.name}.id", str(value.id)))
    return pairs


def _draft(
    method: str, request: Any, *, request_id: str, principal: Principal | None, ip_address: str
) -> AuditDraft:
    return AuditDraft(
        actor_id=(principal.user_id or "") if principal is not None else "",
        client_id=principal.client_id if principal is not None else "",
        method=method,
        request_id=request_id,
        ip_address=ip_address,
        request_fields=_request_fields(request),
    )


def _outcome(context: grpc.ServicerContext) -> str:
    """The error code the error model answered with; INTERNAL when there is none."""
    for key, value in context.trailing_metadata() or ():  # type: ignore[attr-defined]
        if key == "x-bank-error-code" and isinstance(value, str):
            return value
    return "INTERNAL"


def _entry(
    method: str,
    request: Any,
    response: Any,
    context: grpc.ServicerContext,
    *,
    request_id: str,
    principal: Principal | None,
    ip_address: str,
    outcome: str,
) -> rules.AuditEntry:
    # A call refused for its credentials was made by nobody we know.
    if outcome == _UNAUTHENTICATED:
        principal = None
    made = _draft(
        method, request, request_id=request_id, principal=principal, ip_address=ip_address
    )
    return made.entry(outcome, _response_fields(response), store.now())


def _refuse(
    method: str, request: Any, context: grpc.ServicerContext, settings: Settings
) -> NoReturn:
    """Answers UNAVAILABLE without running the call: it could not be audited."""
    error = errors.Unavailable("The audit log cannot be written; retry shortly")
    given = _metadata(context).get("x-request-id", "")
    request_id = given if _REQUEST_ID_RE.match(given) else str(uuid.uuid4())
    store.record(
        _entry(
            method,
            request,
            None,
            context,
            request_id=request_id,
            principal=None,
            ip_address=client_ip(None, context, settings),
            outcome=error.reason,
        )
    )
    context.abort_with_status(
        _Refusal(
            grpc.StatusCode[error.grpc_status],
            error.message,
            (
                ("grpc-status-details-bin", to_rpc_status(error).SerializeToString()),
                ("x-request-id", request_id),
                ("x-bank-http-status", str(error.http_status)),
                ("x-bank-error-code", error.reason),
                ("x-bank-error-message", quote(error.message, safe="")),
            ),
        )
    )
    raise AssertionError("abort_with_status returned")


def _audited(
    method: str, behavior: Callable[[Any, grpc.ServicerContext], Any], settings: Settings
) -> Callable[[Any, grpc.ServicerContext], Any]:
    def handle(request: Any, context: grpc.ServicerContext) -> Any:
        if not store.accepting():
            _refuse(method, request, context, settings)
        with call.observe() as seen:
            response = None
            outcome = rules.OUTCOME_OK
            try:
                response = behavior(request, context)
            except BaseException:
                outcome = _outcome(context)
                raise
            finally:
                info = seen[0] if seen else None
                draft = info.audit_draft if info is not None else None
                if draft is None or draft.written != outcome:
                    _record(method, request, response, context, info, outcome, settings)
            return response

    return handle


def _record(  # noqa: PLR0917 (the call's facts, as handle holds them)
    method: str,
    request: Any,
    response: Any,
    context: grpc.ServicerContext,
    info: call.CallInfo | None,
    outcome: str,
    settings: Settings,
) -> None:
    store.record(
        _entry(
            method,
            request,
            response,
            context,
            request_id=info.request_id if info is not None else "",
            # Public endpoints (OAuth) run unauthenticated.
            principal=(
                info.principal if info is not None and not authn.is_public(method) else None
            ),
            ip_address=client_ip(info, context, settings),
            outcome=outcome,
        )
    )


def draft(method: str, request: Message) -> AuditDraft:
    """The current call's audit event, for the transaction posting its work to
    append (server.domain.audit_drafts); remembered by the call, so that the
    interceptor appends no second one."""
    info = call.current()
    address = info.client_address
    made = _draft(
        method,
        request,
        request_id=info.request_id,
        principal=info.principal,
        ip_address=str(address) if address is not None else "",
    )
    info.audit_draft = made
    return made


class AuditInterceptor(grpc.ServerInterceptor):
    """Appends one audit event per `backoffice.v1` call (see the module's doc)."""

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
                stream_calls.wrap_audit(method, handler.unary_stream, self._settings),
                request_deserializer=handler.request_deserializer,
                response_serializer=handler.response_serializer,
            )
        if handler is None or not method.startswith(SERVICE_PREFIX) or handler.unary_unary is None:
            return handler
        return grpc.unary_unary_rpc_method_handler(
            _audited(method, handler.unary_unary, self._settings),
            request_deserializer=handler.request_deserializer,
            response_serializer=handler.response_serializer,
        )
