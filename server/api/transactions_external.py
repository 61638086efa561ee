"""TransactionService, external transfers: ACH, domestic and international wires.

A person's external transfer at or above the step-up threshold answers 202
with its challenge and moves nothing (server.api.step_up); `_send_external`
runs it once the challenge is answered (server.api.challenges).
"""

from __future__ import annotations

from typing import Any

import grpc

from backoffice.v1 import transaction_pb2 as tpb
from backoffice.v1 import transaction_service_pb2 as pb
from server.api import external_views, step_up
from server.api import transaction_views as views
from server.api.transaction_base import MovementMethods
from server.crypto.fields import LiveKeyring
from server.domain.beneficiaries import BeneficiaryInput
from server.services import external
from server.services.context import Movement, RequestContext

RAIL = tpb.TransferRailEnum.TransferRail
PURPOSE = tpb.TransferPurposeEnum.TransferPurpose
ACCOUNT_TYPE = tpb.BeneficiaryAccountTypeEnum.BeneficiaryAccountType
CREATE_EXTERNAL_TRANSFER = "/backoffice.v1.TransactionService/CreateExternalTransfer"


class ExternalTransferMethods(MovementMethods):
    """CreateExternalTransfer."""

    _keyring: LiveKeyring | None = None

    def CreateExternalTransfer(
        self, request: pb.CreateExternalTransferRequest, context: grpc.ServicerContext
    ) -> pb.CreateExternalTransferResponse:
        pending = step_up.hold_movement(self._settings, CREATE_EXTERNAL_TRANSFER, request, context)
        if pending is not None:
            return pb.CreateExternalTransferResponse(challenge=pending.challenge())
        transaction, message = self._send_external(request, self._context(context))
        views.announce_message(transaction, message)
        return pb.CreateExternalTransferResponse(transaction=transaction)

    def _send_external(self, request: Any, context: RequestContext) -> tuple[Any, str]:
        """An external transfer from CreateExternalTransferRequest (also once its
        challenge is answered): the Transaction and the answer's message."""
        result = external.create(external_transfer_input(request), context, self._sealer())
        message = external_views.add_facts(views.created_message(result.movement), result.facts)
        return message, "External transfer initiated"

    def _external_movement(self, request: Any, context: RequestContext) -> tuple[Movement, str]:
        """The generic CreateTransaction's EXTERNAL_TRANSFER: the movement and the message."""
        result = external.create(external_transfer_input(request), context, self._sealer())
        return result.movement, "External transfer initiated"

    def _sealer(self) -> LiveKeyring:
        # Made on first use: the servicer's __init__ belongs to TransactionServicer.
        if self._keyring is None:
            self._keyring = LiveKeyring(self._settings.data_dir / "keys")
        return self._keyring


def external_transfer_input(request: Any) -> external.ExternalTransferInput:
    """The use case's input from CreateExternalTransferRequest or the generic
    CreateTransactionRequest (same field names)."""
    given = request.beneficiary
    return external.ExternalTransferInput(
        from_account_id=request.from_account_id,
        beneficiary=BeneficiaryInput(
            name=given.name,
            account_number=given.account_number,
            routing_number=given.routing_number,
            bank_name=given.bank_name,
            account_type=ACCOUNT_TYPE.Name(given.account_type) if given.account_type else "",
            bank_country=given.bank_country,
            swift_code=given.swift_code,
            iban=given.iban,
            address=given.address,
        ),
        amount=request.amount,
        rail=RAIL.Name(request.rail) if request.rail else "",
        purpose=PURPOSE.Name(request.purpose) if request.purpose else "",
        currency=request.currency,
        description=request.description,
        reference=request.reference,
    )
