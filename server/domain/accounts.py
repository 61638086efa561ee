"""Account rules: types, statuses and their transitions, who may do what, masking.

Plain Python; the store applies these inside its transactions. Money is in
integer minor units of the account's currency.

Decisions the protos leave to the server, written down here:
- Unknown owner on create: NOT_FOUND (field `owner_id`), as for any other
  missing resource; an owner who is not ACTIVE: VALIDATION_ERROR (422,
  FAILED_PRECONDITION, field `owner_id`).
- A currency the bank does not hold: VALIDATION_ERROR with field `currency`
  (not TXN006, which is about a movement in another currency than its
  account's).
- Malformed money (too many decimals, NaN, negative, above its maximum) in
  `overdraft_limit` or a limit override: TXN005 like every amount; an
  overdraft line on a SAVINGS account: VALIDATION_ERROR.
- Freezing a FROZEN account, unfreezing an ACTIVE one and closing a CLOSED
  one answer the account unchanged (the protos' comments), so a retried
  request succeeds; a CLOSED account refuses every other change with
  CONFLICT (409, FAILED_PRECONDITION).
"""

from __future__ import annotations

import secrets
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime

from server.domain import errors
from server.domain.limits import OVERRIDABLE, Limits, Periods, format_major
from server.domain.masking import mask_account_number
from server.domain.money import CURRENCY_EXPONENTS, exponent, parse_signed_amount
from server.domain.movements import Funds
from server.domain.principal import ADMIN, OPERATIONS, Principal

# Kinds of account (accounts.kind): customers' deposit accounts, and the
# bank's own general-ledger accounts, which this API never shows.
KIND_CUSTOMER = "CUSTOMER"

SAVINGS = "SAVINGS"
CHECKING = "CHECKING"
BUSINESS = "BUSINESS"
TYPES = (SAVINGS, CHECKING, BUSINESS)
# An overdraft line is a checking product; savings accounts never go below 0.
OVERDRAFT_TYPES = frozenset({CHECKING, BUSINESS})

ACTIVE = "ACTIVE"
FROZEN = "FROZEN"
INACTIVE = "INACTIVE"
CLOSED = "CLOSED"
STATUSES = (ACTIVE, FROZEN, INACTIVE, CLOSED)
FREEZABLE = frozenset({ACTIVE, INACTIVE})
UNFREEZABLE = frozenset({FROZEN, INACTIVE})

USER_ACTIVE = "ACTIVE"
DEFAULT_CURRENCY = "USD"
NICKNAME_LENGTH_MAX = 50
REASON_LENGTH_MAX = 500
ACCOUNT_ID_LENGTH_MAX = 64
OWNER_ID_LENGTH_MAX = 64
OPEN_ACCOUNTS_PER_OWNER_MAX = 1_000
OVERDRAFT_LIMIT_MAX_MAJOR = 100_000
# Offset paging stops here (page * limit); page_token reads deeper.
LIST_DEPTH_MAX = 10_000

ACCOUNT_NUMBER_DIGITS = 10
# 9xxxxxxxxx numbers belong to the bank's internal accounts; customer numbers
# never start with 9 (nor with 0, so that they keep ten digits as numbers).
ACCOUNT_NUMBER_FIRST_DIGITS = "12345678"
ACCOUNT_NUMBER_ATTEMPTS_MAX = 20

# Who may freeze, unfreeze, close others' accounts and change limits.
ACCOUNT_OFFICERS = frozenset({OPERATIONS, ADMIN})

SORT_FIELDS = {
    "created_at": "created_at",
    "createdat": "created_at",
    "balance": "balance",
}


class AccountStateConflict(errors.Conflict):
    """The account's state forbids the change (409, gRPC FAILED_PRECONDITION)."""

    grpc_status = "FAILED_PRECONDITION"


# --- identifiers ----------------------------------------------------------


def new_account_number(randbelow: Callable[[int], int] = secrets.randbelow) -> str:
    """A random 10-digit customer account number, never 0xxx or 9xxx."""
    first = ACCOUNT_NUMBER_FIRST_DIGITS[randbelow(len(ACCOUNT_NUMBER_FIRST_DIGITS))]
    rest = randbelow(10 ** (ACCOUNT_NUMBER_DIGITS - 1))
    number = f"{first}{rest:0{ACCOUNT_NUMBER_DIGITS - 1}d}"
    assert len(number) == ACCOUNT_NUMBER_DIGITS and number[0] not in "09", number
    return number


def not_found(account_id: str) -> errors.NotFound:
    """Missing, internal, or another customer's: all answer the same."""
    return errors.NotFound("Account not found", metadata={"account_id": account_id[:80]})


def check_account_id(account_id: str) -> str:
    """A well-formed account id, or NOT_FOUND (a malformed id names no account)."""
    if not account_id.startswith("acc_") or len(account_id) > ACCOUNT_ID_LENGTH_MAX:
        raise not_found(account_id)
    return account_id


# --- input ----------------------------------------------------------------


def check_type(type_name: str) -> str:
    if type_name not in TYPES:
        raise errors.ValidationFailed(
            f"type must be one of {', '.join(TYPES)}",
            field="type",
            metadata={"type": type_name[:40]},
        )
    return type_name


def check_currency(code: str) -> str:
    """An ISO 4217 currency the bank holds (upper-cased); default USD."""
    currency = code.strip().upper() or DEFAULT_CURRENCY
    if currency not in CURRENCY_EXPONENTS:
        raise errors.ValidationFailed(
            f"Currency {currency[:10]} is not offered; use one of "
            f"{', '.join(sorted(CURRENCY_EXPONENTS))}",
            field="currency",
            metadata={"currency": currency[:10]},
        )
    return currency


def check_nickname(nickname: str) -> str:
    value = nickname.strip()
    if len(value) > NICKNAME_LENGTH_MAX or any(not ch.isprintable() for ch in value):
        raise errors.ValidationFailed(
            f"nickname must be at most {NICKNAME_LENGTH_MAX} printable characters",
            field="nickname",
            metadata={"length_max": str(NICKNAME_LENGTH_MAX)},
        )
    return value


def check_reason(reason: str, *, required: bool) -> str:
    value = reason.strip()
    if (required and not value) or len(value) > REASON_LENGTH_MAX:
        raise errors.ValidationFailed(
            f"reason must be {'1' if required else '0'} to {REASON_LENGTH_MAX} characters",
            field="reason",
            metadata={"length_max": str(REASON_LENGTH_MAX)},
        )
    return value


def parse_overdraft_limit(value: float, currency: str) -> int:
    """Minor units of an overdraft line: 0 to 100,000.00, exact, else TXN005."""
    minor = parse_signed_amount(value, currency, "overdraft_limit")
    maximum = OVERDRAFT_LIMIT_MAX_MAJOR * 10 ** exponent(currency)
    if not 0 <= minor <= maximum:
        raise errors.InvalidAmount(
            f"overdraft_limit must be between 0 and {OVERDRAFT_LIMIT_MAX_MAJOR:,}",
            field="overdraft_limit",
            metadata={"max": str(OVERDRAFT_LIMIT_MAX_MAJOR)},
        )
    return minor


def check_overdraft_allowed(principal: Principal, account_type: str, minor: int) -> None:
    """Only writing staff set an overdraft line, and only on checking products."""
    principal.require_staff(write=True)
    if minor and account_type not in OVERDRAFT_TYPES:
        raise errors.ValidationFailed(
            f"{account_type} accounts have no overdraft line",
            field="overdraft_limit",
            metadata={"type": account_type},
        )


def limit_resets(kinds: list[str]) -> frozenset[str]:
    """The limits named in reset_to_default (AccountLimitKind words), validated."""
    names = [kind.lower() for kind in kinds]
    if len(names) > len(OVERRIDABLE) or len(set(names)) != len(names):
        raise errors.ValidationFailed(
            f"reset_to_default takes at most {len(OVERRIDABLE)} different limits",
            field="reset_to_default",
        )
    unknown = [kind for kind, name in zip(kinds, names, strict=True) if name not in OVERRIDABLE]
    if unknown:
        raise errors.ValidationFailed(
            "reset_to_default names an unknown limit",
            field="reset_to_default",
            metadata={"limit": unknown[0][:40] or "ACCOUNT_LIMIT_KIND_UNSPECIFIED"},
        )
    return frozenset(names)


def check_page_depth(page: int, limit: int) -> None:
    if page * limit > LIST_DEPTH_MAX:
        raise errors.ValidationFailed(
            f"page times limit may not exceed {LIST_DEPTH_MAX:,}; use page_token",
            field="page",
            metadata={"depth_max": str(LIST_DEPTH_MAX)},
        )


# --- who may do what ------------------------------------------------------


def owner_for_create(principal: Principal, owner_id: str) -> str:
    """The owner of a new account: customers open for themselves only."""
    principal.require_write()
    if principal.is_customer:
        assert principal.user_id, "a customer principal carries its user id"
        if owner_id and owner_id != principal.user_id:
            raise errors.Forbidden(
                "Customers open accounts for themselves only", metadata={"owner_id": owner_id[:80]}
            )
        return principal.user_id
    if not principal.is_staff:
        raise errors.Forbidden("Not allowed to open accounts", metadata={"role": principal.role})
    if not owner_id:
        raise errors.ValidationFailed("owner_id is required", field="owner_id")
    if len(owner_id) > OWNER_ID_LENGTH_MAX:
        raise owner_not_found(owner_id)
    return owner_id


def owner_not_found(owner_id: str) -> errors.NotFound:
    return errors.NotFound(
        "Owner not found", field="owner_id", metadata={"owner_id": owner_id[:80]}
    )


def check_owner_can_hold(owner_id: str, owner_status: str | None, open_accounts: int) -> None:
    """The owner exists, is ACTIVE, and has room for one more open account."""
    if owner_status is None:
        raise owner_not_found(owner_id)
    if owner_status != USER_ACTIVE:
        raise errors.BusinessRuleViolation(
            f"The owner is {owner_status}; accounts are opened for ACTIVE users only",
            field="owner_id",
            metadata={"owner_id": owner_id, "owner_status": owner_status},
        )
    if open_accounts >= OPEN_ACCOUNTS_PER_OWNER_MAX:
        raise errors.BusinessRuleViolation(
            f"An owner may hold at most {OPEN_ACCOUNTS_PER_OWNER_MAX:,} open accounts",
            field="owner_id",
            metadata={"owner_id": owner_id, "max": str(OPEN_ACCOUNTS_PER_OWNER_MAX)},
        )


def check_can_read(principal: Principal, account_id: str, owner_id: str | None) -> None:
    """Staff read every account; customers their own; anything else is NOT_FOUND."""
    if not principal.can_see(owner_id):
        raise not_found(account_id)


def check_can_update(principal: Principal, account_id: str, owner_id: str | None) -> None:
    check_can_read(principal, account_id, owner_id)
    principal.require_write()
    if not principal.is_customer:
        principal.require_staff(write=True)


def check_can_close(principal: Principal, account_id: str, owner_id: str | None) -> None:
    """The owner, or staff in OPERATIONS or ADMIN."""
    check_can_read(principal, account_id, owner_id)
    if principal.is_customer:
        return
    require_officer(principal)


def check_can_administer(principal: Principal, account_id: str, owner_id: str | None) -> None:
    """Freeze, unfreeze, limits: OPERATIONS and ADMIN staff only."""
    check_can_read(principal, account_id, owner_id)
    require_officer(principal)


def require_officer(principal: Principal) -> None:
    if principal.role not in ACCOUNT_OFFICERS:
        raise errors.Forbidden(
            "This operation is reserved to OPERATIONS and ADMIN staff",
            metadata={"role": principal.role},
        )


def list_owner_scope(principal: Principal, owner_id: str) -> str | None:
    """Owner filter of a list: customers always see only themselves.

    None means every owner (staff without a filter). A customer asking for
    another owner gets a filter that matches nothing, hence an empty page.
    """
    if principal.is_staff:
        return owner_id or None
    # A customer (or a principal without a user) sees only its own accounts;
    # "" matches no account, since every customer account has an owner.
    own = principal.user_id or ""
    if owner_id and owner_id != own:
        return ""
    return own


def visible_account_number(principal: Principal, owner_id: str | None, number: str) -> str:
    """Full for the owner and staff; `****7890` for everyone else."""
    return number if principal.can_see(owner_id) else mask_account_number(number)


# --- state machine --------------------------------------------------------


def _closed(account_id: str, action: str) -> AccountStateConflict:
    return AccountStateConflict(
        f"The account is closed and cannot be {action}",
        metadata={"account_id": account_id, "status": CLOSED},
    )


def check_not_closed(account_id: str, status: str, action: str = "changed") -> None:
    if status == CLOSED:
        raise _closed(account_id, action)


def freeze_changes(account_id: str, status: str) -> bool:
    """True when freezing changes the account; False when already FROZEN."""
    check_not_closed(account_id, status, "frozen")
    return status in FREEZABLE


def unfreeze_changes(account_id: str, status: str) -> bool:
    """True when unfreezing changes the account; False when already ACTIVE."""
    check_not_closed(account_id, status, "unfrozen")
    return status in UNFREEZABLE


@dataclass(frozen=True, slots=True)
class CloseState:
    """What must be zero before an account closes."""

    account_id: str
    status: str
    currency: str
    balance_minor: int
    held_minor: int
    pending_debits_minor: int
    pending_holds: int
    pending_entries: int


def close_changes(state: CloseState) -> bool:
    """True when the account may close now; False when already CLOSED.

    Anything left on or promised by the account blocks the close: the money
    must be moved out first, holds must resolve, movements in flight must
    finish, so that nothing can land on a closed account.
    """
    if state.status == CLOSED:
        return False
    figures = {
        "account_id": state.account_id,
        "balance": format_major(state.balance_minor, state.currency),
        "held_amount": format_major(state.held_minor, state.currency),
        "pending_debits": format_major(state.pending_debits_minor, state.currency),
        "pending_holds": str(state.pending_holds),
        "pending_transactions": str(state.pending_entries),
        "currency": state.currency,
    }
    if state.balance_minor != 0:
        raise AccountStateConflict(
            f"The balance must be 0 to close the account; it is "
            f"{figures['balance']} {state.currency}",
            metadata=figures,
        )
    if state.held_minor != 0 or state.pending_holds:
        raise AccountStateConflict(
            "The account has pending holds; it can close once they are resolved",
            metadata=figures,
        )
    if state.pending_debits_minor != 0 or state.pending_entries:
        raise AccountStateConflict(
            "The account has transactions in flight; it can close once they complete",
            metadata=figures,
        )
    return True


# --- what readers see -----------------------------------------------------


def available_minor(
    balance_minor: int, held_minor: int, pending_debits_minor: int, overdraft_limit_minor: int
) -> int:
    """balance - held - pending debits + overdraft line: what debits may use."""
    return Funds(balance_minor, held_minor, pending_debits_minor, overdraft_limit_minor).available


def spendable_minor(available: int) -> int:
    """What a debit may take now: the available balance, never below 0."""
    return max(0, available)


@dataclass(frozen=True, slots=True)
class LimitsReport:
    """Limits in effect, the type's defaults, and use in the current periods."""

    currency: str
    limits: Limits
    defaults: Limits
    used: Mapping[str, int]
    periods: Periods


@dataclass(frozen=True, slots=True)
class AccountView:
    """One account as a given caller may see it."""

    id: str
    account_number: str  # already masked for the caller when it must be
    type: str
    status: str
    currency: str
    owner_id: str
    holder: str
    nickname: str
    balance_minor: int
    held_minor: int
    pending_debits_minor: int
    overdraft_limit_minor: int
    freeze_reason: str
    frozen_at: datetime | None
    created_at: datetime
    updated_at: datetime
    closed_at: datetime | None
    close_reason: str
    limits: LimitsReport

    @property
    def available_minor(self) -> int:
        return available_minor(
            self.balance_minor,
            self.held_minor,
            self.pending_debits_minor,
            self.overdraft_limit_minor,
        )


@dataclass(frozen=True, slots=True)
class BalanceView:
    account_id: str
    currency: str
    balance_minor: int
    held_minor: int
    pending_debits_minor: int
    pending_credits_minor: int
    overdraft_limit_minor: int
    as_of: datetime

    @property
    def available_minor(self) -> int:
        return available_minor(
            self.balance_minor,
            self.held_minor,
            self.pending_debits_minor,
            self.overdraft_limit_minor,
        )

    @property
    def spendable_minor(self) -> int:
        return spendable_minor(self.available_minor)


@dataclass(frozen=True, slots=True)
class HoldView:
    id: str
    account_id: str
    amount_minor: int
    currency: str
    reason: str
    description: str
    transaction_id: str
    status: str
    release_date: str
    created_at: datetime
    resolved_at: datetime | None


@dataclass(frozen=True, slots=True)
class Page:
    """One page of a list, and the sort key to resume after its last row."""

    items: list[AccountView] | list[HoldView]
    total: int
    has_next: bool
    next_key: list[object] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class AccountQuery:
    """Validated ListAccounts filters and sort."""

    owner_id: str | None  # None: every owner; "": nobody
    type: str | None
    status: str | None
    currency: str | None
    sort: str  # "created_at" or "balance"
    order: str  # "asc" or "desc"

    def token_filters(self) -> dict[str, object]:
        """What a page token is bound to: a token only resumes the same query."""
        return {
            "owner": self.owner_id,
            "type": self.type,
            "status": self.status,
            "currency": self.currency,
            "sort": self.sort,
            "order": self.order,
        }


def list_query(
    principal: Principal,
    *,
    owner_id: str,
    type_name: str,
    status: str,
    currency: str,
    sort: str,
    order: str,
) -> AccountQuery:
    """Validated filters; `type_name`/`status` are enum words or "" for any."""
    if type_name:
        check_type(type_name)
    if status and status not in STATUSES:
        raise errors.ValidationFailed(
            f"status must be one of {', '.join(STATUSES)}",
            field="status",
            metadata={"status": status[:40]},
        )
    code = currency.strip().upper()
    if code and (len(code) != 3 or not code.isalpha() or not code.isascii()):
        raise errors.ValidationFailed(
            "currency must be an ISO 4217 code such as USD",
            field="currency",
            metadata={"currency": code[:10]},
        )
    return AccountQuery(
        owner_id=list_owner_scope(principal, owner_id[: OWNER_ID_LENGTH_MAX + 1]),
        type=type_name or None,
        status=status or None,
        currency=code or None,
        sort=sort,
        order=order,
    )
