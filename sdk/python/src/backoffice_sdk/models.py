"""Typed resources: frozen dataclasses read from the API's camelCase JSON.

Money is `decimal.Decimal` (exact, as printed), never float. Each model
names the fields a client usually needs; `raw` keeps the whole object as
the server sent it (numbers as Decimal), so nothing is lost when the API
grows a field before the SDK does.
"""

from __future__ import annotations

import functools
import types
import typing
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from decimal import Decimal
from typing import Any, Self, TypeVar, get_args, get_origin


def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part.title() for part in rest)


@functools.cache
def _hints(cls: type) -> dict[str, Any]:
    return typing.get_type_hints(cls)


# Minor-unit digits of the currencies the bank keeps that do not have two.
_DIGITS = {"JPY": 0, "KRW": 0, "BHD": 3, "KWD": 3, "OMR": 3, "TND": 3}


def _scaled(value: Decimal, currency: str | None) -> Decimal:
    """The amount with its currency's decimals (`100` -> `100.00`), digits never dropped."""
    if not currency:
        return value
    digits = _DIGITS.get(currency.upper(), 2)
    exponent = value.as_tuple().exponent
    if value.is_finite() and isinstance(exponent, int) and exponent > -digits:
        return value.quantize(Decimal(1).scaleb(-digits))
    return value


def _convert(hint: Any, value: Any, currency: str | None) -> Any:
    if value is None:
        return None
    origin = get_origin(hint)
    if origin in (types.UnionType, typing.Union):
        options = [arg for arg in get_args(hint) if arg is not type(None)]
        return _convert(options[0], value, currency) if len(options) == 1 else value
    if hint is Decimal:
        amount = value if isinstance(value, Decimal) else Decimal(str(value))
        return _scaled(amount, currency)
    if origin is list and isinstance(value, list):
        (item,) = get_args(hint)
        return [_convert(item, one, currency) for one in value]
    if isinstance(hint, type) and issubclass(hint, Model) and isinstance(value, Mapping):
        return hint.from_json(value, currency=currency)
    return value


@dataclass(frozen=True, kw_only=True)
class Model:
    raw: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @classmethod
    def from_json(cls, data: Mapping[str, Any], *, currency: str | None = None) -> Self:
        """The model of one JSON object; amounts get the currency's decimals
        (the object's `currency`, else the enclosing object's)."""
        hints = _hints(cls)  # type: ignore[arg-type]
        currency = str(data.get("currency") or currency or "") or None
        values: dict[str, Any] = {}
        for one in fields(cls):
            if one.name == "raw" or one.metadata.get("local"):
                continue
            key = one.metadata.get("json") or _camel(one.name)
            if key in data:
                values[one.name] = _convert(hints[one.name], data[key], currency)
        return cls(raw=dict(data), **values)


M = TypeVar("M", bound=Model)


def _local() -> Any:
    """A field the SDK fills in, not read from the resource's JSON."""
    return field(default=None, metadata={"local": True}, compare=False)


@dataclass(frozen=True, kw_only=True)
class AccountRef(Model):
    id: str = ""
    account_number: str = ""
    holder: str | None = None
    balance: Decimal | None = None


@dataclass(frozen=True, kw_only=True)
class Account(Model):
    id: str = ""
    account_number: str = ""
    type: str = ""
    status: str = ""
    currency: str = ""
    owner_id: str = ""
    holder: str = ""
    nickname: str | None = None
    balance: Decimal = Decimal(0)
    available_balance: Decimal = Decimal(0)
    held_amount: Decimal = Decimal(0)
    pending_debits: Decimal = Decimal(0)
    overdraft_limit: Decimal = Decimal(0)
    freeze_reason: str | None = None
    created_at: str | None = None
    updated_at: str | None = None
    closed_at: str | None = None


@dataclass(frozen=True, kw_only=True)
class Balance(Model):
    account_id: str = ""
    currency: str = ""
    balance: Decimal = Decimal(0)
    available_balance: Decimal = Decimal(0)
    held_amount: Decimal = Decimal(0)
    pending_debits: Decimal = Decimal(0)
    pending_credits: Decimal = Decimal(0)
    overdraft_limit: Decimal = Decimal(0)
    spendable_amount: Decimal = Decimal(0)
    as_of: str | None = None


@dataclass(frozen=True, kw_only=True)
class Challenge(Model):
    """Step-up verification a held movement waits for (202)."""

    id: str = ""
    methods: list[str] = field(default_factory=list)
    expires_at: str | None = None


@dataclass(frozen=True, kw_only=True)
class Transaction(Model):
    id: str = ""
    transaction_number: str = ""
    type: str = ""
    status: str = ""
    amount: Decimal = Decimal(0)
    currency: str = ""
    fee: Decimal | None = None
    description: str | None = None
    reference: str | None = None
    from_account: AccountRef | None = None
    to_account: AccountRef | None = None
    account_id: str | None = None
    balance_after: Decimal | None = None
    method: str | None = None
    hold_id: str | None = None
    available_date: str | None = None
    scheduled_date: str | None = None
    timestamp: str | None = None
    completed_at: str | None = None
    failure_reason: str | None = None
    failure_code: str | None = None
    # Filled in from the answer, not the resource:
    challenge: Challenge | None = _local()  # noqa: RUF009  # set when the movement waits (HTTP 202)
    replayed: bool | None = _local()  # True: the first answer to this Idempotency-Key again
    http_status: int | None = _local()


@dataclass(frozen=True, kw_only=True)
class User(Model):
    id: str = ""
    email: str | None = None
    name: str | None = None
    phone: str | None = None
    role: str | None = None
    status: str | None = None
    created_at: str | None = None
    updated_at: str | None = None


@dataclass(frozen=True, kw_only=True)
class WebhookSubscription(Model):
    id: str = ""
    url: str = ""
    events: list[str] = field(default_factory=list)
    active: bool = False
    client_id: str = ""
    secret: str | None = None  # only in the answers of create and rotate-secret
    description: str | None = None
    created_at: str | None = None
    updated_at: str | None = None
    disabled_reason: str | None = None


@dataclass(frozen=True, kw_only=True)
class WebhookEvent(Model):
    id: str = ""
    type: str = ""
    data: dict[str, Any] = field(default_factory=dict)
    created_at: str | None = None


@dataclass(frozen=True, kw_only=True)
class WebhookDelivery(Model):
    id: str = ""
    event_id: str | None = None
    status: str | None = None
    attempts: int | None = None


@dataclass(frozen=True, kw_only=True)
class ReportSummary(Model):
    transaction_count: int = 0
    total_debits: Decimal = Decimal(0)
    total_credits: Decimal = Decimal(0)
    net_change: Decimal = Decimal(0)
    fees_collected: Decimal = Decimal(0)
    opening_balance: Decimal | None = None
    closing_balance: Decimal | None = None
    debit_count: int = 0
    credit_count: int = 0


@dataclass(frozen=True, kw_only=True)
class Report(Model):
    id: str = ""
    type: str = ""
    status: str = ""
    currency: str = ""
    period: dict[str, str] | None = None
    group_by: str | None = None
    format: str | None = None
    summary: ReportSummary | None = None
    totals_by_type: list[dict[str, Any]] = field(default_factory=list)
    groups: list[dict[str, Any]] = field(default_factory=list)
    download_url: str | None = None
    created_at: str | None = None
    completed_at: str | None = None
    failure_reason: str | None = None


@dataclass(frozen=True, kw_only=True)
class Pagination(Model):
    current_page: int = 1
    per_page: int = 0
    total_pages: int = 0
    total_count: int = 0
    has_next: bool = False
    has_previous: bool = False
    next_page_token: str | None = None
