"""AccountService: opening, reading, freezing and closing accounts; balances, holds, limits."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import grpc

from backoffice.v1 import account_pb2 as resource_pb
from backoffice.v1 import account_service_pb2 as pb
from backoffice.v1 import account_service_pb2_grpc as pb_grpc
from backoffice.v1 import common_pb2
from server.api import call, convert, paging
from server.api.convert import timestamp
from server.config import Settings
from server.domain import accounts as rules
from server.domain import limits
from server.domain.money import to_major
from server.store import accounts as store

_LIMIT_FIELDS = {  # UpdateAccountLimitsRequest field -> limit name
    limits.wire_field(name): name for name in limits.OVERRIDABLE
}


class AccountServicer(pb_grpc.AccountServiceServicer):
    def __init__(self, settings: Settings) -> None:
        self._settings = settings

    def ListAccounts(
        self, request: pb.ListAccountsRequest, context: grpc.ServicerContext
    ) -> pb.ListAccountsResponse:
        query = rules.list_query(
            call.current().principal,
            owner_id=request.owner_id,
            type_name=_word(resource_pb.AccountTypeEnum.AccountType, request.type),
            status=_word(resource_pb.AccountStatusEnum.AccountStatus, request.status),
            currency=request.currency,
            sort=paging.sort_field(request.sort, request.sort_by, rules.SORT_FIELDS, "created_at"),
            order=paging.sort_order(request.order, request.sort_order),
        )
        page = _page(request.page, request.limit, request.page_token, query.token_filters())
        result = store.list_accounts(
            call.current().principal, query, page.offset, page.limit, page.after
        )
        call.current().ok("Accounts retrieved successfully")
        return pb.ListAccountsResponse(
            accounts=[_account(view) for view in result.items],  # type: ignore[arg-type]
            pagination=_pagination(page, result, query.token_filters()),
        )

    def CreateAccount(
        self, request: pb.CreateAccountRequest, context: grpc.ServicerContext
    ) -> pb.CreateAccountResponse:
        spec = store.NewAccount(
            type=_word(resource_pb.AccountTypeEnum.AccountType, request.type),
            currency=request.currency,
            owner_id=request.owner_id,
            nickname=request.nickname,
            overdraft_limit=request.overdraft_limit,
        )
        view = store.create_account(call.current().principal, spec)
        call.current().created("Account created successfully")
        return pb.CreateAccountResponse(account=_account(view))

    def GetAccount(
        self, request: pb.GetAccountRequest, context: grpc.ServicerContext
    ) -> pb.GetAccountResponse:
        view = store.get_account(call.current().principal, request.account_id)
        call.current().ok("Account retrieved successfully")
        return pb.GetAccountResponse(account=_account(view))

    def UpdateAccount(
        self, request: pb.UpdateAccountRequest, context: grpc.ServicerContext
    ) -> pb.UpdateAccountResponse:
        view = store.update_account(
            call.current().principal,
            request.account_id,
            nickname=request.nickname if request.HasField("nickname") else None,
            overdraft_limit=(
                request.overdraft_limit if request.HasField("overdraft_limit") else None
            ),
        )
        call.current().ok("Account updated successfully")
        return pb.UpdateAccountResponse(account=_account(view))

    def CloseAccount(
        self, request: pb.CloseAccountRequest, context: grpc.ServicerContext
    ) -> pb.CloseAccountResponse:
        view = store.close_account(call.current().principal, request.account_id, request.reason)
        call.current().ok("Account closed successfully")
        return pb.CloseAccountResponse(account=_account(view))

    def FreezeAccount(
        self, request: pb.FreezeAccountRequest, context: grpc.ServicerContext
    ) -> pb.FreezeAccountResponse:
        view = store.freeze_account(call.current().principal, request.account_id, request.reason)
        call.current().ok("Account frozen successfully")
        return pb.FreezeAccountResponse(account=_account(view))

    def UnfreezeAccount(
        self, request: pb.UnfreezeAccountRequest, context: grpc.ServicerContext
    ) -> pb.UnfreezeAccountResponse:
        view = store.unfreeze_account(call.current().principal, request.account_id, request.reason)
        call.current().ok("Account unfrozen successfully")
        return pb.UnfreezeAccountResponse(account=_account(view))

    def GetAccountBalance(
        self, request: pb.GetAccountBalanceRequest, context: grpc.ServicerContext
    ) -> pb.GetAccountBalanceResponse:
        as_of = convert.instant(request, "as_of", "asOf")
        view = store.get_balance(call.current().principal, request.account_id, as_of)
        call.current().ok("Account balance retrieved successfully")
        return pb.GetAccountBalanceResponse(balance=_balance(view))

    def ListAccountHolds(
        self, request: pb.ListAccountHoldsRequest, context: grpc.ServicerContext
    ) -> pb.ListAccountHoldsResponse:
        status = _word(resource_pb.AccountHoldStatusEnum.AccountHoldStatus, request.status)
        filters = {"account_id": request.account_id, "status": status}
        page = paging.page_request(request.page, request.limit, request.page_token, filters)
        result = store.list_holds(
            call.current().principal,
            request.account_id,
            status=status or None,
            offset=page.offset,
            limit=page.limit,
            after=page.after,
        )
        call.current().ok("Account holds retrieved successfully")
        return pb.ListAccountHoldsResponse(
            holds=[_hold(view) for view in result.items],  # type: ignore[arg-type]
            pagination=_pagination(page, result, filters),
        )

    def UpdateAccountLimits(
        self, request: pb.UpdateAccountLimitsRequest, context: grpc.ServicerContext
    ) -> pb.UpdateAccountLimitsResponse:
        changes = {
            name: getattr(request, wire)
            for wire, name in _LIMIT_FIELDS.items()
            if request.HasField(wire)
        }
        resets = rules.limit_resets(
            [
                _word(resource_pb.AccountLimitKindEnum.AccountLimitKind, kind)
                for kind in request.reset_to_default
            ]
        )
        report = store.update_limits(
            call.current().principal, request.account_id, changes, resets, request.reason
        )
        call.current().ok("Account limits updated successfully")
        return pb.UpdateAccountLimitsResponse(limits=_limits(report))


# --- decoding -------------------------------------------------------------


def _word(enum: Any, value: int) -> str:
    """The documented word of an enum value; "" when unset; the number when unknown."""
    if value == 0:
        return ""
    try:
        return str(enum.Name(value))
    except ValueError:
        return str(value)  # refused by the domain's validation


def _page(page: int, limit: int, token: str, filters: dict[str, Any]) -> paging.PageRequest:
    request = paging.page_request(page, limit, token, filters)
    if request.after is None:
        rules.check_page_depth(request.page, request.limit)
    return request


def _pagination(
    page: paging.PageRequest, result: rules.Page, filters: dict[str, Any]
) -> common_pb2.Pagination:
    token = (
        paging.encode_token(result.next_key, filters, page=page.next_page)
        if result.has_next
        else ""
    )
    return paging.pagination(page, result.total, token, result.has_next)


# --- encoding -------------------------------------------------------------


def _account(view: rules.AccountView) -> resource_pb.Account:
    major = _major(view.currency)
    return resource_pb.Account(
        id=view.id,
        account_number=view.account_number,
        type=view.type,
        status=view.status,
        currency=view.currency,
        owner_id=view.owner_id,
        holder=view.holder,
        nickname=view.nickname or None,
        balance=major(view.balance_minor),
        available_balance=major(view.available_minor),
        held_amount=major(view.held_minor),
        pending_debits=major(view.pending_debits_minor),
        overdraft_limit=major(view.overdraft_limit_minor),
        freeze_reason=view.freeze_reason or None,
        frozen_at=timestamp(view.frozen_at),
        limits=_limits(view.limits),
        created_at=timestamp(view.created_at),
        updated_at=timestamp(view.updated_at),
        closed_at=timestamp(view.closed_at),
        close_reason=view.close_reason or None,
    )


def _limits(report: rules.LimitsReport) -> resource_pb.AccountLimits:
    major = _major(report.currency)
    current, defaults = report.limits, report.defaults

    def usage(name: str) -> resource_pb.AccountLimitUsage:
        limit, used = current.get(name), report.used.get(name, 0)
        return resource_pb.AccountLimitUsage(
            limit=major(limit),
            used=major(used),
            remaining=major(max(0, limit - used)),
            overridden=name in current.overridden,
            default_limit=major(defaults.get(name)),
        )

    return resource_pb.AccountLimits(
        daily_atm_withdrawal=usage(limits.DAILY_ATM_WITHDRAWAL),
        daily_transfer=usage(limits.DAILY_TRANSFER),
        daily_bill_payment=usage(limits.DAILY_BILL_PAYMENT),
        monthly_transfer=usage(limits.MONTHLY_TRANSFER),
        monthly_external_transfer=usage(limits.MONTHLY_EXTERNAL_TRANSFER),
        per_transaction_internal_transfer_max=major(current.per_transaction_internal_transfer_max),
        per_transaction_external_transfer_max=major(current.per_transaction_external_transfer_max),
        per_transaction_atm_withdrawal_max=major(current.per_transaction_atm_withdrawal_max),
        per_transaction_min=major(current.per_transaction_min),
        per_transaction_internal_transfer_max_overridden=(
            limits.PER_TRANSACTION_INTERNAL_TRANSFER_MAX in current.overridden
        ),
        daily_reset_at=timestamp(report.periods.day_end),
        monthly_reset_at=timestamp(report.periods.month_end),
    )


def _balance(view: rules.BalanceView) -> resource_pb.AccountBalance:
    major = _major(view.currency)
    return resource_pb.AccountBalance(
        account_id=view.account_id,
        currency=view.currency,
        balance=major(view.balance_minor),
        available_balance=major(view.available_minor),
        held_amount=major(view.held_minor),
        pending_debits=major(view.pending_debits_minor),
        pending_credits=major(view.pending_credits_minor),
        overdraft_limit=major(view.overdraft_limit_minor),
        spendable_amount=major(view.spendable_minor),
        as_of=timestamp(view.as_of),
    )


def _hold(view: rules.HoldView) -> resource_pb.AccountHold:
    return resource_pb.AccountHold(
        id=view.id,
        account_id=view.account_id,
        amount=to_major(view.amount_minor, view.currency),
        currency=view.currency,
        reason=_hold_reason(view.reason),
        description=view.description or None,
        transaction_id=view.transaction_id or None,
        status=view.status,
        release_date=view.release_date or None,
        created_at=timestamp(view.created_at),
        resolved_at=timestamp(view.resolved_at),
    )


def _hold_reason(word: str) -> str:
    """A reason this API version does not know shows as OTHER (see description)."""
    known = resource_pb.AccountHoldReasonEnum.AccountHoldReason.keys()
    return word if word in known else "OTHER"


def _major(currency: str) -> Callable[[int], float]:
    return lambda minor: to_major(minor, currency)


SERVICES = {"AccountService": AccountServicer}
