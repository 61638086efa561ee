"""The ledger read at an instant: an account's balance then, and the trial balance.

Postings never change once written (the databases refuse it), and every
posting of one journal transaction carries the same created_at, so sums
over `created_at <= instant` include a transaction whole or not at all:
grouped by account they balance for any instant. Each query is one
statement, so it reads one snapshot even while movements commit.
An account's balance then is read through `postings_account_created_idx`
(account_id, created_at, id; m0027).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import peewee

from server.domain import ledger_reports as rules
from server.store.models import Account, Hold, Posting


def balance_as_of(account_id: str, instant: datetime) -> int:
    """The balance right after the account's last posting at or before
    `instant` (by time, then by posting order); 0 before its first."""
    last = (
        Posting.select(Posting.balance_after_minor)
        .where((Posting.account == account_id) & (Posting.created_at <= instant))
        .order_by(Posting.created_at.desc(), Posting.id.desc())
        .limit(1)
        .scalar()
    )
    return int(last or 0)


def held_as_of(account_id: str, instant: datetime) -> int:
    """The holds placed at or before `instant` and not resolved by then."""
    total = (
        Hold.select(peewee.fn.COALESCE(peewee.fn.SUM(Hold.amount_minor), 0))
        .where(
            (Hold.account_id == account_id)
            & (Hold.created_at <= instant)
            & (Hold.resolved_at.is_null() | (Hold.resolved_at > instant))
        )
        .scalar()
    )
    return int(total or 0)


def gl_groups(instant: datetime, currency: str | None) -> list[rules.GlGroup]:
    """Sums of the postings at or before `instant`: customer accounts by
    product type and currency, the bank's accounts one by one.

    The postings are summed per account first (one pass, grouped by a
    single key), and only those sums are joined to their accounts."""
    sums = Posting.select(
        Posting.account.alias("account_id"),
        Posting.currency.alias("currency"),
        peewee.fn.SUM(Posting.amount_minor).alias("net"),
    ).where(Posting.created_at <= instant)
    if currency is not None:
        sums = sums.where(Posting.currency == currency)
    sums = sums.group_by(Posting.account, Posting.currency).alias("sums")
    customer = Account.kind == "CUSTOMER"
    group_key = peewee.Case(None, [(customer, Account.type)], Account.id)
    query = (
        Account.select(
            Account.kind,
            group_key.alias("group_key"),
            sums.c.currency,
            peewee.fn.SUM(sums.c.net).alias("net"),
            peewee.fn.COUNT(Account.id).alias("accounts"),
            peewee.fn.MAX(Account.code).alias("code"),
            peewee.fn.MAX(Account.name).alias("name"),
        )
        .join(sums, on=(sums.c.account_id == Account.id))
        .group_by(Account.kind, group_key, sums.c.currency)
    )
    groups: list[rules.GlGroup] = []
    rows: list[tuple[Any, ...]] = list(query.tuples())  # type: ignore[arg-type]
    for kind, key, code_currency, net, accounts, code, name in rows:
        if kind == "CUSTOMER":
            groups.append(
                rules.GlGroup(
                    kind=rules.KIND_CUSTOMER_DEPOSITS,
                    currency=code_currency,
                    net_minor=int(net),
                    account_count=int(accounts),
                    account_type=key,
                )
            )
        else:
            groups.append(
                rules.GlGroup(
                    kind=rules.KIND_BANK,
                    currency=code_currency,
                    net_minor=int(net),
                    account_count=int(accounts),
                    account_id=key,
                    code=code or key,
                    name=name,
                )
            )
    return groups
