"""TransactionService, bill payments to payees: CreatePayment.

A person's payment at or above the step-up threshold answers 202 with its
challenge and moves nothing (server.api.step_up); `_pay` runs it once the
challenge is answered (server.api.challenges).
"""

from __future__ import annotations

import functools
from typing import Any

import grpc

from backoffice.v1 import transaction_service_pb2 as pb
from server.api import step_up
from server.api import transaction_views as views
from server.api.payment_views import add_payment_fields
from server.api.transaction_base import MovementMethods
from server.crypto.fields import LiveKeyring
from server.services import payments
from server.services.context import Movement, RequestContext

CREATE_PAYMENT = "/backoffice.v1.TransactionService/CreatePayment"


class PaymentMethods(MovementMethods):
    """Bill payments to payees: CreatePayment."""

    @functools.cached_property
    def _payment_keyring(self) -> LiveKeyring:
        # Seals the number a payment sends to its payee; opens the payee's.
        return LiveKeyring(self._settings.data_dir / "keys")

    def CreatePayment(
        self, request: pb.CreatePaymentRequest, context: grpc.ServicerContext
    ) -> pb.CreatePaymentResponse:
        pending = step_up.hold_movement(self._settings, CREATE_PAYMENT, request, context)
        if pending is not None:
            return pb.CreatePaymentResponse(challenge=pending.challenge())
        message, transaction = self._pay(request, self._context(context))
        views.announce_message(transaction, message)
        return pb.CreatePaymentResponse(transaction=transaction)

    def _pay_movement(self, request: Any, context: RequestContext) -> tuple[Movement, str]:
        """The generic CreateTransaction's PAYMENT: the movement and the answer's message."""
        result = payments.pay(payment_input(request), context, self._payment_keyring)
        return result.movement, _message(result.movement)

    def _pay(self, request: Any, context: RequestContext) -> tuple[str, Any]:
        """Pays from CreatePaymentRequest or the generic CreateTransactionRequest;
        the answer's message and the Transaction."""
        result = payments.pay(payment_input(request), context, self._payment_keyring)
        transaction = add_payment_fields(views.created_message(result.movement), result.payment)
        return _message(result.movement), transaction


def _message(movement: Movement) -> str:
    if movement.transaction.status == "SCHEDULED":
        return "Payment scheduled successfully"
    return "Payment sent successfully"


def payment_input(request: Any) -> payments.PaymentInput:
    return payments.PaymentInput(
        from_account_id=request.from_account_id,
        payee_id=request.payee_id,
        amount=request.amount,
        currency=request.currency,
        payment_date=request.payment_date,
        account_number=request.account_number,
        memo=request.memo,
    )
