"""TransactionService, recurring transfers and payments: create, list, get, cancel.

A person's schedule at or above the step-up threshold answers 202 with its
challenge and makes nothing (server.api.step_up); `_create_recurring` makes
it once the challenge is answered (server.api.challenges).
"""

from __future__ import annotations

import functools
from typing import Any

import grpc

from backoffice.v1 import transaction_pb2 as tpb
from backoffice.v1 import transaction_service_pb2 as pb
from server.api import call, paging, step_up
from server.api.convert import parse_date
from server.api.recurring_views import recurring_message
from server.api.transaction_base import MovementMethods
from server.crypto.fields import LiveKeyring
from server.services import recurring
from server.services.context import RequestContext

RECURRING_CREATED = "Recurring transaction created"
CREATE_RECURRING = "/backoffice.v1.TransactionService/CreateRecurringTransaction"
FREQUENCY = tpb.RecurringFrequencyEnum.RecurringFrequency
STATUS = tpb.RecurringTransactionStatusEnum.RecurringTransactionStatus


class RecurringMethods(MovementMethods):
    """Recurring transfers and payments: create, list, get, cancel."""

    @functools.cached_property
    def _recurring_keyring(self) -> LiveKeyring:
        # Seals a payment schedule's number at the payee; a first run made at
        # once opens it.
        return LiveKeyring(self._settings.data_dir / "keys")

    def CreateRecurringTransaction(
        self, request: pb.CreateRecurringTransactionRequest, context: grpc.ServicerContext
    ) -> pb.CreateRecurringTransactionResponse:
        pending = step_up.hold_movement(self._settings, CREATE_RECURRING, request, context)
        if pending is not None:
            return pb.CreateRecurringTransactionResponse(challenge=pending.challenge())
        made = self._create_recurring(request, self._context(context))
        return pb.CreateRecurringTransactionResponse(recurring_transaction=made)

    def _create_recurring(
        self, request: pb.CreateRecurringTransactionRequest, context: RequestContext
    ) -> tpb.RecurringTransaction:
        """Makes the schedule (201); also what a verified challenge runs."""
        record = recurring.create(_create_input(request), context, self._recurring_keyring)
        call.current().created(RECURRING_CREATED)
        return recurring_message(record)

    def ListRecurringTransactions(
        self, request: pb.ListRecurringTransactionsRequest, context: grpc.ServicerContext
    ) -> pb.ListRecurringTransactionsResponse:
        principal = call.current().principal
        status = _word(STATUS, request.status)
        query = recurring.list_query(principal, request.account_id, status)
        filters = {"account_id": query.account_id, "status": query.status}
        page = paging.page_request(request.page, request.limit, request.page_token, filters)
        result = recurring.list_page(
            principal, query, limit=page.limit, offset=page.offset, after=page.after
        )
        token = (
            paging.encode_token(result.next_key, filters, page=page.next_page)
            if result.next_key
            else ""
        )
        call.current().ok("Recurring transactions retrieved successfully")
        return pb.ListRecurringTransactionsResponse(
            recurring_transactions=[recurring_message(record) for record in result.records],
            pagination=paging.pagination(page, result.total, token, bool(token)),
            next_page_token=token or None,
        )

    def GetRecurringTransaction(
        self, request: pb.GetRecurringTransactionRequest, context: grpc.ServicerContext
    ) -> pb.GetRecurringTransactionResponse:
        record = recurring.get(request.recurring_id, call.current().principal)
        call.current().ok("Recurring transaction retrieved successfully")
        return pb.GetRecurringTransactionResponse(recurring_transaction=recurring_message(record))

    def CancelRecurringTransaction(
        self, request: pb.CancelRecurringTransactionRequest, context: grpc.ServicerContext
    ) -> pb.CancelRecurringTransactionResponse:
        record = recurring.cancel(request.recurring_id, call.current().principal)
        call.current().ok("Recurring transaction cancelled")
        return pb.CancelRecurringTransactionResponse(
            recurring_transaction=recurring_message(record)
        )


def _word(enum: Any, value: int) -> str:
    """The documented word of an enum value; "" when unset; the number when unknown."""
    if value == 0:
        return ""
    try:
        return str(enum.Name(value))
    except ValueError:
        return str(value)  # refused by the use case's validation


def _create_input(request: pb.CreateRecurringTransactionRequest) -> recurring.RecurringInput:
    return recurring.RecurringInput(
        from_account_id=request.from_account_id,
        to_account_id=request.to_account_id,
        payee_id=request.payee_id,
        amount=request.amount,
        currency=request.currency,
        description=request.description,
        frequency=_word(FREQUENCY, request.frequency),
        start_date=parse_date(request.start_date, "startDate"),
        end_date=parse_date(request.end_date, "endDate"),
        day_of_month=request.day_of_month if request.HasField("day_of_month") else None,
        account_number=request.account_number,
    )
