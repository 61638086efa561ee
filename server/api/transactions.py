"""TransactionService: movements, one transaction, history and search."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import grpc

from backoffice.v1 import common_pb2
from backoffice.v1 import transaction_pb2 as tpb
from backoffice.v1 import transaction_service_pb2 as pb
from backoffice.v1 import transaction_service_pb2_grpc as pb_grpc
from server.api import (
    call,
    external_views,
    paging,
    payment_views,
    transactions_generic,
)
from server.api import transaction_views as views
from server.api.convert import alias, parse_date
from server.api.transaction_base import MovementMethods
from server.api.transactions_batch import BatchTransferMethods
from server.api.transactions_corrections import CorrectionMethods
from server.api.transactions_export import ExportMethods
from server.api.transactions_external import ExternalTransferMethods
from server.api.transactions_payments import PaymentMethods
from server.api.transactions_recurring import RecurringMethods
from server.api.transactions_transfer import TransferMethods, transfer_input, transfer_message
from server.config import Settings
from server.domain import errors
from server.domain.adjustments import KINDS as STAFF_POSTINGS
from server.domain.money import parse_amount, to_major
from server.services import deposits, steps, transfers, withdrawals
from server.services.context import Movement, RequestContext
from server.store import history, transactions

TYPE = tpb.TransactionTypeEnum.TransactionType
STATUS = tpb.TransactionStatusEnum.TransactionStatus
METHOD = tpb.TransactionMethodEnum.TransactionMethod
DEPOSIT_METHOD = tpb.DepositMethodEnum.DepositMethod
WITHDRAWAL_METHOD = tpb.WithdrawalMethodEnum.WithdrawalMethod
ATM_NETWORK = tpb.AtmNetworkEnum.AtmNetwork
DIRECTION = tpb.TransactionDirectionEnum.TransactionDirection
FILTER_VALUES_MAX = 10
KEYWORD_LENGTH_MAX = 50


class TransactionServicer(
    TransferMethods,
    BatchTransferMethods,
    ExternalTransferMethods,
    PaymentMethods,
    CorrectionMethods,
    RecurringMethods,
    ExportMethods,
    MovementMethods,
    pb_grpc.TransactionServiceServicer,
):
    """Deposits, withdrawals and reads here; the other kinds in their mixins."""

    def __init__(self, settings: Settings) -> None:
        self._settings = settings

    def CreateDeposit(
        self, request: pb.CreateDepositRequest, context: grpc.ServicerContext
    ) -> pb.CreateDepositResponse:
        method = DEPOSIT_METHOD.Name(request.method) if request.method else ""
        result = deposits.deposit(
            _deposit_input(request, method),
            self._context(context),
        )
        call.current().created("Deposit completed successfully")
        return pb.CreateDepositResponse(transaction=views.created_message(result))

    def CreateWithdrawal(
        self, request: pb.CreateWithdrawalRequest, context: grpc.ServicerContext
    ) -> pb.CreateWithdrawalResponse:
        method = WITHDRAWAL_METHOD.Name(request.method) if request.method else ""
        result = withdrawals.withdrawal(
            _withdrawal_input(request, method), self._context(context), self._settings
        )
        call.current().created("Withdrawal completed successfully")
        return pb.CreateWithdrawalResponse(transaction=views.created_message(result))

    def CreateTransaction(
        self, request: pb.CreateTransactionRequest, context: grpc.ServicerContext
    ) -> pb.CreateTransactionResponse:
        held = transactions_generic.held(self._settings, _kind(request), request, context)
        if held is not None:
            return held
        result, message = _dispatch(
            request,
            self._context(context),
            self._settings,
            self._pay_movement,
            self._external_movement,
        )
        views.announce_created(result, message)
        transaction = views.created_message(result)
        if result.transaction.type == "PAYMENT":
            payment_views.add_stored_payment_fields(transaction, result.transaction.id)
        if result.transaction.type == "EXTERNAL_TRANSFER":
            external_views.add_stored_facts(transaction)
        return pb.CreateTransactionResponse(transaction=transaction)

    def GetTransaction(
        self, request: pb.GetTransactionRequest, context: grpc.ServicerContext
    ) -> pb.GetTransactionResponse:
        principal = call.current().principal
        view = transactions.get(request.transaction_id, principal)
        call.current().ok("Transaction retrieved successfully")
        return pb.GetTransactionResponse(transaction=views.view_message(view, principal))

    def ListTransactions(
        self, request: pb.ListTransactionsRequest, context: grpc.ServicerContext
    ) -> pb.ListTransactionsResponse:
        query = _list_query(request)
        items, page, totals, token = _history(
            query, request.page, request.limit, request.page_token
        )
        call.current().ok("Transactions retrieved successfully")
        return pb.ListTransactionsResponse(
            transactions=items, pagination=page, summary=totals, next_page_token=token or None
        )

    def SearchTransactions(
        self, request: pb.SearchTransactionsRequest, context: grpc.ServicerContext
    ) -> pb.SearchTransactionsResponse:
        query = _search_query(request)
        items, page, totals, token = _history(
            query, request.page, request.limit, request.page_token
        )
        call.current().ok("Transactions retrieved successfully")
        return pb.SearchTransactionsResponse(
            transactions=items, pagination=page, summary=totals, next_page_token=token or None
        )


# --- requests -> domain ------------------------------------------------------


def _deposit_input(request: Any, method: str) -> deposits.DepositInput:
    """From CreateDepositRequest or the generic CreateTransactionRequest."""
    return deposits.DepositInput(
        account_id=request.account_id,
        amount=request.amount,
        method=method,
        currency=request.currency,
        location=request.location,
        reference=request.reference,
        description=request.description,
    )


def _withdrawal_input(request: Any, method: str) -> withdrawals.WithdrawalInput:
    """From CreateWithdrawalRequest or the generic CreateTransactionRequest."""
    return withdrawals.WithdrawalInput(
        account_id=request.account_id,
        amount=request.amount,
        method=method,
        currency=request.currency,
        location=request.location,
        location_country=request.location_country,
        pin=request.pin,
        card_number=request.card_number,
        description=request.description,
    )


_ONLY_FOR = {
    "from_account_id": {"TRANSFER", "EXTERNAL_TRANSFER", "PAYMENT"},
    "to_account_id": {"TRANSFER"},
    "account_id": {"DEPOSIT", "WITHDRAWAL", "FEE", "INTEREST", "ADJUSTMENT"},
    "method": {"DEPOSIT", "WITHDRAWAL"},
    "pin": {"WITHDRAWAL"},
    "card_number": {"WITHDRAWAL"},
    "location_country": {"WITHDRAWAL"},
    "location": {"DEPOSIT", "WITHDRAWAL"},
    "payee_id": {"PAYMENT"},
    "payment_date": {"PAYMENT"},
    "account_number": {"PAYMENT"},
    "memo": {"PAYMENT"},
    # A payment has a memo for the payee, and no reference or schedule of a transfer.
    "description": {"TRANSFER", "EXTERNAL_TRANSFER", "DEPOSIT", "WITHDRAWAL", *STAFF_POSTINGS},
    "reference": {"TRANSFER", "EXTERNAL_TRANSFER", "DEPOSIT", "WITHDRAWAL"},
    # An external transfer is never scheduled: it goes out at the next submission time.
    "scheduled_date": {"TRANSFER", "DEPOSIT", "WITHDRAWAL"},
    "scheduled": {"TRANSFER", "DEPOSIT", "WITHDRAWAL"},
    "purpose": {"EXTERNAL_TRANSFER"},
    "rail": {"EXTERNAL_TRANSFER"},
    # A reversal moves what the original moved; a refund's currency is the original's.
    "amount": {
        "TRANSFER",
        "EXTERNAL_TRANSFER",
        "DEPOSIT",
        "WITHDRAWAL",
        "PAYMENT",
        "REFUND",
        *STAFF_POSTINGS,
    },
    "currency": {
        "TRANSFER",
        "EXTERNAL_TRANSFER",
        "DEPOSIT",
        "WITHDRAWAL",
        "PAYMENT",
        *STAFF_POSTINGS,
    },
    "original_transaction_id": {"REVERSAL", "REFUND"},
    "reversal_reason": {"REVERSAL"},
    "notes": {"REVERSAL"},
    "direction": {"ADJUSTMENT"},
}
_TYPES = (
    "TRANSFER",
    "EXTERNAL_TRANSFER",
    "DEPOSIT",
    "WITHDRAWAL",
    "PAYMENT",
    "REVERSAL",
    "REFUND",
    *STAFF_POSTINGS,
)


def _kind(request: pb.CreateTransactionRequest) -> str:
    """The generic request's type, its fields checked against it."""
    kind = TYPE.Name(request.type) if request.type else ""
    if kind not in _TYPES:
        raise errors.ValidationFailed(f"type must be one of {', '.join(_TYPES)}", field="type")
    for name, kinds in _ONLY_FOR.items():
        value = getattr(request, name)
        if value and kind not in kinds:
            raise errors.ValidationFailed(
                f"{name} does not apply to {kind}", field=name, metadata={"type": kind}
            )
    if request.HasField("beneficiary") and kind != "EXTERNAL_TRANSFER":
        raise errors.ValidationFailed(
            f"beneficiary does not apply to {kind}", field="beneficiary", metadata={"type": kind}
        )
    return kind


def _dispatch(
    request: pb.CreateTransactionRequest,
    context: RequestContext,
    settings: Settings,
    pay: Callable[[Any, RequestContext], tuple[Movement, str]],
    send_external: Callable[[Any, RequestContext], tuple[Movement, str]],
) -> tuple[Movement, str]:
    """The generic POST /transactions: one of the movements, by `type`."""
    kind = _kind(request)
    method = METHOD.Name(request.method) if request.method else ""
    if kind in {"REVERSAL", "REFUND", *STAFF_POSTINGS}:
        return transactions_generic.staff_only(kind, request, context)
    if kind == "PAYMENT":
        return pay(request, context)
    if kind == "EXTERNAL_TRANSFER":
        return send_external(request, context)
    if kind == "TRANSFER":
        result = transfers.transfer(transfer_input(request), context)
        return result, transfer_message(result)
    if kind == "DEPOSIT":
        return deposits.deposit(
            _deposit_input(request, method),
            context,
        ), "Deposit completed successfully"
    return withdrawals.withdrawal(
        _withdrawal_input(request, method), context, settings
    ), "Withdrawal completed successfully"


def _amount_bound(request: Any, name: str, currency: str = "USD") -> int | None:
    if not request.HasField(name):
        return None
    value = getattr(request, name)
    try:
        minor = parse_amount(value, currency, field=name) if value else 0
    except errors.InvalidAmount as exc:
        raise errors.ValidationFailed(exc.message, field=name) from None
    return minor


def _base_query(account_id: str, sort: str, order: str, **kwargs: Any) -> history.HistoryQuery:
    if not account_id:
        raise errors.ValidationFailed("accountId is required", field="accountId")
    account = steps.customer_account(account_id, call.current().principal, "accountId")
    return history.HistoryQuery(account_id=account.id, sort=sort, order=order, **kwargs)


def _sort(request: Any) -> tuple[str, str]:
    field = paging.sort_field(
        request.sort_by,
        request.sort,
        {"date": "date", "created_at": "date", "timestamp": "date", "amount": "amount"},
        "date",
    )
    return field, paging.sort_order(request.sort_order, request.order)


def _list_query(request: pb.ListTransactionsRequest) -> history.HistoryQuery:
    sort, order = _sort(request)
    start = alias(request.start_date, request.date_from, "startDate")
    end = alias(request.end_date, request.date_to, "endDate")
    query = _base_query(
        request.account_id,
        sort,
        order,
        types=(TYPE.Name(request.type),) if request.type else (),
        statuses=(STATUS.Name(request.status),) if request.status else (),
        date_from=parse_date(start, "startDate"),
        date_to=parse_date(end, "endDate"),
        amount_min_minor=_amount_bound(request, "min_amount"),
        amount_max_minor=_amount_bound(request, "max_amount"),
        keywords=(request.search.strip(),) if request.search.strip() else (),
    )
    _check_ranges(query)
    return query


def _search_query(request: pb.SearchTransactionsRequest) -> history.HistoryQuery:
    sort, order = _sort(request)
    filters = request.filters
    for name in ("types", "status", "keywords"):
        if len(getattr(filters, name)) > FILTER_VALUES_MAX:
            raise errors.ValidationFailed(
                f"filters.{name} takes at most {FILTER_VALUES_MAX} values",
                field=f"filters.{name}",
            )
    keywords = tuple(word.strip() for word in filters.keywords if word.strip())
    if any(len(word) > KEYWORD_LENGTH_MAX for word in keywords):
        raise errors.ValidationFailed(
            f"keywords are at most {KEYWORD_LENGTH_MAX} characters", field="filters.keywords"
        )
    query = _base_query(
        request.account_id,
        sort,
        order,
        types=tuple(TYPE.Name(t) for t in filters.types if t),
        statuses=tuple(STATUS.Name(s) for s in filters.status if s),
        date_from=parse_date(getattr(filters.date_range, "from"), "filters.dateRange.from"),
        date_to=parse_date(filters.date_range.to, "filters.dateRange.to"),
        amount_min_minor=_amount_bound(filters.amount_range, "min"),
        amount_max_minor=_amount_bound(filters.amount_range, "max"),
        keywords=keywords,
    )
    _check_ranges(query)
    return query


def _check_ranges(query: history.HistoryQuery) -> None:
    if query.date_from and query.date_to and query.date_from > query.date_to:
        raise errors.ValidationFailed("the date range ends before it starts", field="endDate")
    low, high = query.amount_min_minor, query.amount_max_minor
    if low is not None and high is not None and low > high:
        raise errors.ValidationFailed("minAmount is above maxAmount", field="maxAmount")


def _history(
    query: history.HistoryQuery, page: int, limit: int, token: str
) -> tuple[list[tpb.TransactionListItem], common_pb2.Pagination, tpb.TransactionTotals, str]:
    request = paging.page_request(page, limit, token, query.filters())
    known = history.Totals(*request.carried) if request.carried is not None else None
    result = history.read(query, request.offset, request.limit, request.after, known)
    carried = [result.total, result.debits_minor, result.credits_minor]
    next_token = (
        paging.encode_token(result.next_key, query.filters(), carried, page=request.next_page)
        if result.next_key
        else ""
    )
    has_next = result.next_key is not None
    currency = result.rows[0].currency if result.rows else "USD"
    totals = tpb.TransactionTotals(
        total_debits=to_major(result.debits_minor, currency),
        total_credits=to_major(result.credits_minor, currency),
        net_change=to_major(result.credits_minor - result.debits_minor, currency),
        currency=currency,
    )
    items = [views.list_item(row) for row in result.rows]
    return items, paging.pagination(request, result.total, next_token, has_next), totals, next_token


SERVICES = {"TransactionService": TransactionServicer}
