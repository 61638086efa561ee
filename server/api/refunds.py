"""RefundService: staff review of refund requests; customers follow their own.

Customers create requests with TransactionService.RefundTransaction
(server.api.transactions_corrections); both encode with `refund_message`.
"""

from __future__ import annotations

import grpc

from backoffice.v1 import refund_pb2 as resource_pb
from backoffice.v1 import refund_service_pb2 as pb
from backoffice.v1 import refund_service_pb2_grpc as pb_grpc
from server.api import call, paging
from server.api import transaction_views as views
from server.api.convert import timestamp
from server.api.transaction_base import request_context
from server.config import Settings
from server.domain import errors
from server.domain.money import to_major
from server.services import refunds as use_cases
from server.store.refund_rows import RefundRecord

STATUS = resource_pb.RefundRequestStatusEnum.RefundRequestStatus


class RefundServicer(pb_grpc.RefundServiceServicer):
    def __init__(self, settings: Settings) -> None:
        self._settings = settings

    def ListRefundRequests(
        self, request: pb.ListRefundRequestsRequest, context: grpc.ServicerContext
    ) -> pb.ListRefundRequestsResponse:
        found = paging.case_list(
            request, _status_word, use_cases.list_query, use_cases.list_requests
        )
        call.current().ok("Refund requests retrieved successfully")
        return pb.ListRefundRequestsResponse(
            refund_requests=[refund_message(record) for record in found.page.requests],
            pagination=found.pagination,
            next_page_token=found.next_page_token,
        )

    def GetRefundRequest(
        self, request: pb.GetRefundRequestRequest, context: grpc.ServicerContext
    ) -> pb.GetRefundRequestResponse:
        record = use_cases.get_request(call.current().principal, request.refund_request_id)
        call.current().ok("Refund request retrieved successfully")
        return pb.GetRefundRequestResponse(refund_request=refund_message(record))

    def ApproveRefundRequest(
        self, request: pb.ApproveRefundRequestRequest, context: grpc.ServicerContext
    ) -> pb.ApproveRefundRequestResponse:
        approved = use_cases.approve(
            call.current().principal,
            request.refund_request_id,
            amount=request.amount if request.HasField("amount") else None,
            notes=request.notes,
            context=request_context(context, sandbox=self._settings.sandbox),
        )
        call.current().ok("Refund approved and credited")
        return pb.ApproveRefundRequestResponse(
            refund_request=refund_message(approved.request),
            transaction=views.created_message(approved.movement),
        )

    def RejectRefundRequest(
        self, request: pb.RejectRefundRequestRequest, context: grpc.ServicerContext
    ) -> pb.RejectRefundRequestResponse:
        record = use_cases.reject(
            call.current().principal, request.refund_request_id, request.reason
        )
        call.current().ok("Refund request rejected")
        return pb.RejectRefundRequestResponse(refund_request=refund_message(record))


def _status_word(value: int) -> str:
    """The documented word of a status filter; "" for any status."""
    if value == 0:
        return ""
    try:
        return str(STATUS.Name(value))
    except ValueError:
        raise errors.ValidationFailed(
            "status is not a refund request status", field="status"
        ) from None


def refund_message(record: RefundRecord) -> resource_pb.RefundRequest:
    """A request as RefundRequest: the fields that do not apply (yet) stay unset."""
    return resource_pb.RefundRequest(
        id=record.id,
        original_transaction=record.transaction_id,
        amount=to_major(record.amount_minor, record.currency),
        currency=record.currency,
        reason=record.reason,  # type: ignore[arg-type]
        description=record.description or None,
        status=record.status,  # type: ignore[arg-type]
        expected_resolution=timestamp(record.expected_resolution),
        account_id=record.account_id,
        requested_by=record.requested_by or None,
        reviewed_by=record.reviewed_by or None,
        reviewed_at=timestamp(record.reviewed_at),
        review_notes=record.review_notes or None,
        rejection_reason=record.rejection_reason or None,
        refund_transaction_id=record.refund_transaction_id or None,
        created_at=timestamp(record.created_at),
        completed_at=timestamp(record.completed_at),
        approved_amount=(
            None
            if record.approved_minor is None
            else to_major(record.approved_minor, record.currency)
        ),
    )


SERVICES = {"RefundService": RefundServicer}
