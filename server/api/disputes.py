"""DisputeService: customers open and follow disputes; staff resolve them."""

from __future__ import annotations

from typing import Any

import grpc

from backoffice.v1 import dispute_pb2 as resource_pb
from backoffice.v1 import dispute_service_pb2 as pb
from backoffice.v1 import dispute_service_pb2_grpc as pb_grpc
from server.api import call, paging
from server.api import transaction_views as views
from server.api.convert import timestamp
from server.api.transaction_base import request_context
from server.config import Settings
from server.crypto.fields import LiveKeyring
from server.domain import errors
from server.domain.money import to_major
from server.services import disputes as use_cases
from server.store.dispute_rows import DisputeRecord

STATUS = resource_pb.DisputeStatusEnum.DisputeStatus
REASON = resource_pb.DisputeReasonEnum.DisputeReason
OUTCOME = resource_pb.DisputeOutcomeEnum.DisputeOutcome


class DisputeServicer(pb_grpc.DisputeServiceServicer):
    def __init__(self, settings: Settings) -> None:
        self._settings = settings
        # Seals the DISPUTE_UPDATE messages told to the account's owner.
        self._keyring = LiveKeyring(settings.data_dir / "keys")

    def CreateDispute(
        self, request: pb.CreateDisputeRequest, context: grpc.ServicerContext
    ) -> pb.CreateDisputeResponse:
        record = use_cases.open_dispute(
            use_cases.DisputeInput(
                transaction_id=request.transaction_id,
                reason=_word(REASON, request.reason),
                amount=request.amount if request.HasField("amount") else None,
                description=request.description,
            ),
            request_context(context, sandbox=self._settings.sandbox),
            self._keyring,
        )
        call.current().created("Dispute opened")
        return pb.CreateDisputeResponse(dispute=dispute_message(record))

    def ListDisputes(
        self, request: pb.ListDisputesRequest, context: grpc.ServicerContext
    ) -> pb.ListDisputesResponse:
        found = paging.case_list(
            request, _status_word, use_cases.list_query, use_cases.list_disputes
        )
        call.current().ok("Disputes retrieved successfully")
        return pb.ListDisputesResponse(
            disputes=[dispute_message(record) for record in found.page.disputes],
            pagination=found.pagination,
            next_page_token=found.next_page_token,
        )

    def GetDispute(
        self, request: pb.GetDisputeRequest, context: grpc.ServicerContext
    ) -> pb.GetDisputeResponse:
        record = use_cases.get_dispute(call.current().principal, request.dispute_id)
        call.current().ok("Dispute retrieved successfully")
        return pb.GetDisputeResponse(dispute=dispute_message(record))

    def ResolveDispute(
        self, request: pb.ResolveDisputeRequest, context: grpc.ServicerContext
    ) -> pb.ResolveDisputeResponse:
        resolved = use_cases.resolve(
            call.current().principal,
            request.dispute_id,
            outcome=_word(OUTCOME, request.outcome),
            note=request.note,
            context=request_context(context, sandbox=self._settings.sandbox),
            sealer=self._keyring,
        )
        call.current().ok("Dispute resolved")
        return pb.ResolveDisputeResponse(
            dispute=dispute_message(resolved.dispute),
            transaction=(
                views.created_message(resolved.movement) if resolved.movement is not None else None
            ),
        )


def _word(enum: Any, value: int) -> str:
    """An enum's documented word; "" when unset (an undefined number is refused by the rules)."""
    if not value:
        return ""
    try:
        return str(enum.Name(value))
    except ValueError:
        return str(value)


def _status_word(value: int) -> str:
    """The documented word of a status filter; "" for any status."""
    if value == 0:
        return ""
    try:
        return str(STATUS.Name(value))
    except ValueError:
        raise errors.ValidationFailed("status is not a dispute status", field="status") from None


def dispute_message(record: DisputeRecord) -> resource_pb.Dispute:
    """A dispute as Dispute: the fields that do not apply (yet) stay unset."""
    return resource_pb.Dispute(
        id=record.id,
        transaction_id=record.transaction_id,
        account_id=record.account_id,
        amount=to_major(record.amount_minor, record.currency),
        currency=record.currency,
        reason=record.reason,  # type: ignore[arg-type]
        description=record.description or None,
        status=record.status,  # type: ignore[arg-type]
        investigation_deadline=timestamp(record.investigation_deadline),
        provisional_credit_status=record.credit_status,  # type: ignore[arg-type]
        provisional_credit_amount=to_major(record.amount_minor, record.currency),
        provisional_credit_due=timestamp(record.credit_due),
        provisional_credit_transaction_id=record.credit_transaction_id or None,
        provisional_credited_at=timestamp(record.credited_at),
        credit_reversal_transaction_id=record.reversal_transaction_id or None,
        outcome=record.outcome or None,  # type: ignore[arg-type]
        resolution_note=record.resolution_note or None,
        resolved_by=record.resolved_by or None,
        resolved_at=timestamp(record.resolved_at),
        opened_by=record.opened_by or None,
        created_at=timestamp(record.created_at),
        updated_at=timestamp(record.updated_at),
    )


SERVICES = {"DisputeService": DisputeServicer}
