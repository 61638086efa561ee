"""AuditService: listing and verifying the audit log (administrators and auditors)."""

from __future__ import annotations

import functools
import importlib
import pkgutil
from collections import defaultdict

import grpc

import backoffice.v1
from backoffice.v1 import audit_pb2
from backoffice.v1 import audit_service_pb2 as pb
from backoffice.v1 import audit_service_pb2_grpc as pb_grpc
from server.api import call, convert, paging
from server.config import Settings
from server.domain import audit as rules
from server.store import audit_log as store


class AuditServicer(pb_grpc.AuditServiceServicer):
    def __init__(self, settings: Settings) -> None:
        self._settings = settings

    def ListAuditEvents(
        self, request: pb.ListAuditEventsRequest, context: grpc.ServicerContext
    ) -> pb.ListAuditEventsResponse:
        rules.check_reader(call.current().principal)
        query = rules.audit_query(
            actor_id=request.actor_id,
            client_id=request.client_id,
            methods=_methods(request.method.strip()),
            outcome=request.outcome,
            resource_id=request.resource_id,
            since=convert.instant(request, "since", "since"),
            until=convert.instant(request, "until", "until"),
            order=request.order,
        )
        page = paging.page_request(request.page, request.limit, request.page_token, query.filters())
        rules.check_page_depth(page.page, page.limit, keyset=page.after is not None)
        result = store.list_events(
            query, limit=page.limit, offset=page.offset, after=rules.keyset_after(page.after)
        )
        token = (
            paging.encode_token(result.next_key, query.filters(), page=page.next_page)
            if result.next_key
            else ""
        )
        call.current().ok("Audit events retrieved successfully")
        return pb.ListAuditEventsResponse(
            events=[_event(event) for event in result.events],
            pagination=paging.pagination(page, result.total, token, bool(token)),
        )

    def VerifyAuditLog(
        self, request: pb.VerifyAuditLogRequest, context: grpc.ServicerContext
    ) -> pb.VerifyAuditLogResponse:
        rules.check_reader(call.current().principal)
        result = store.verify(request.from_sequence, request.to_sequence)
        call.current().ok("Audit log verified" if result.ok else "Audit log chain is broken")
        return pb.VerifyAuditLogResponse(
            ok=result.ok,
            checked_count=result.checked_count,
            first_broken_id=result.first_broken_id or None,
            first_broken_sequence=result.first_broken_sequence or None,
            failure=result.failure or None,
            from_sequence=result.from_sequence,
            to_sequence=result.to_sequence,
            last_hash=result.last_hash or None,
        )


@functools.cache
def _full_method_names() -> dict[str, tuple[str, ...]]:
    """RPC name -> its full names (`FreezeAccount` -> `/backoffice.v1.AccountService/...`)."""
    found: defaultdict[str, list[str]] = defaultdict(list)
    for info in pkgutil.iter_modules(backoffice.v1.__path__):
        if not info.name.endswith("_service_pb2"):
            continue
        module = importlib.import_module(f"backoffice.v1.{info.name}")
        for service in module.DESCRIPTOR.services_by_name.values():
            for method in service.methods:
                found[method.name].append(f"/{service.full_name}/{method.name}")
    return {name: tuple(names) for name, names in found.items()}


def _methods(value: str) -> tuple[str, ...] | None:
    """The full method names a `method` filter means; None for any."""
    if not value:
        return None
    if "/" in value:
        return ("/" + value.lstrip("/"),)
    # An unknown RPC name matches nothing, as an unknown full name would.
    return _full_method_names().get(value, ())


def _event(event: rules.AuditEvent) -> audit_pb2.AuditEvent:
    return audit_pb2.AuditEvent(
        id=event.id,
        sequence=event.sequence,
        actor_id=event.actor_id or None,
        client_id=event.client_id or None,
        method=event.method,
        resource_ids=list(event.resource_ids),
        outcome_code=event.outcome_code or None,
        request_id=event.request_id or None,
        ip_address=event.ip_address or None,
        created_at=convert.timestamp(event.created_at),
        hash=event.hash,
        previous_hash=event.previous_hash,
    )


SERVICES = {"AuditService": AuditServicer}
