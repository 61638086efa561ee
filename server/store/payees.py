"""Payee rows: read, insert, soft-delete; typed records out, never ORM rows.

The customer's number at the payee is sealed (server.store.sealed
.PAYEE_ACCOUNT_NUMBER, bound to the payee's id) and opened only to compare
it with a new payee's; its last four characters are kept readable for the
masked responses. Deleting sets `deleted_at`: past payments keep naming the
payee, lists and reads no longer show it.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import peewee

from server.crypto.fields import FieldSealer
from server.domain import errors
from server.domain import payees as rules
from server.domain.ids import new_id
from server.domain.user_fields import Address
from server.store import sealed, text_match
from server.store.db import is_postgres
from server.store.models import Payee, User


@dataclass(frozen=True, slots=True)
class OwnerRecord:
    """What a new payee's checks need of its owner."""

    id: str
    role: str
    status: str


@dataclass(frozen=True, slots=True)
class PayeePage:
    payees: list[rules.PayeeRecord]
    total: int
    # (lower-cased name, id) of the last row when another page follows.
    next_key: list[Any] | None


def _record(row: Payee) -> rules.PayeeRecord:
    return rules.PayeeRecord(
        id=row.id,
        owner_id=row.owner_id,
        name=row.name,
        type=row.type,
        account_number_last4=row.account_number_last4,
        category=row.category or None,
        nickname=row.nickname or None,
        address=Address.from_dict(json.loads(row.address)) if row.address else None,
        created_at=row.created_at,
    )


def _active() -> peewee.ModelSelect[Payee]:
    return Payee.select().where(Payee.deleted_at.is_null())


# -- Reads -------------------------------------------------------------------------------
def get_payee(payee_id: str) -> rules.PayeeRecord | None:
    """The payee, or None when there is none or it was deleted."""
    row = _active().where(Payee.id == payee_id).first()
    return _record(row) if row is not None else None


def lock_owner(owner_id: str) -> OwnerRecord | None:
    """The owner, locked on PostgreSQL so that one owner's creates run one at a time
    (the 500-payee cap and the duplicate check then see every earlier one). On
    SQLite the write transaction already holds the only write lock."""
    query = User.select(User.id, User.role, User.status).where(User.id == owner_id)
    if is_postgres():
        query = query.for_update()
    row = query.first()
    return OwnerRecord(row.id, row.role, row.status) if row is not None else None


def names_of(owner_id: str) -> list[tuple[str, str]]:
    """(id, name) of every payee the owner has (deleted ones left out)."""
    query = _active().select(Payee.id, Payee.name).where(Payee.owner == owner_id)
    return [(row.id, row.name) for row in query]


def account_number(payee_id: str, sealer: FieldSealer) -> str:
    """The payee's full account number, opened (UnreadableField when it does not)."""
    stored = Payee.select(Payee.account_number).where(Payee.id == payee_id).scalar()
    number = sealed.open_value(sealer, sealed.PAYEE_ACCOUNT_NUMBER, payee_id, stored)
    return number or ""


def _filtered(query: rules.PayeeQuery) -> peewee.ModelSelect[Payee]:
    select = _active()
    if query.owner_id is not None:
        scope = Payee.owner == query.owner_id
        if query.include_bank_wide:
            scope = scope | Payee.owner.is_null()
        select = select.where(scope)
    if query.type is not None:
        select = select.where(Payee.type == query.type)
    if query.category is not None:
        select = select.where(Payee.category == query.category)
    if query.search is not None:
        select = select.where(
            text_match.contains(Payee.name, query.search)
            | text_match.contains(peewee.fn.COALESCE(Payee.nickname, ""), query.search)
        )
    return select


def list_payees(
    query: rules.PayeeQuery, *, limit: int, offset: int, after: list[Any] | None
) -> PayeePage:
    """One page by name (ignoring case), then id: by offset or after a keyset position."""
    base = _filtered(query)
    total = base.count()
    key = peewee.fn.LOWER(Payee.name)
    select = base.select_extend(key.alias("sort_key"))
    if after is not None:
        if len(after) != 2 or not all(isinstance(part, str) for part in after):
            raise errors.ValidationFailed("page_token is not valid", field="page_token")
        # Values go back exactly as the database gave them (converter off).
        value = peewee.Value(after[0], converter=False)
        last_id = peewee.Value(after[1], converter=False)
        select = select.where((key > value) | ((key == value) & (Payee.id > last_id)))
    else:
        select = select.offset(offset)
    rows: list[Any] = list(select.order_by(key.asc(), Payee.id.asc()).limit(limit + 1))
    more = len(rows) > limit
    rows = rows[:limit]
    next_key = [rows[-1].sort_key, rows[-1].id] if more else None
    return PayeePage([_record(row) for row in rows], total, next_key)


# -- Writes ------------------------------------------------------------------------------
def insert_payee(
    owner_id: str, payee: rules.NewPayee, sealer: FieldSealer, now: datetime
) -> rules.PayeeRecord:
    payee_id = new_id("payee")
    row = Payee.create(
        id=payee_id,
        owner=owner_id,
        name=payee.name,
        type=payee.type,
        account_number=sealed.seal(
            sealer, sealed.PAYEE_ACCOUNT_NUMBER, payee_id, payee.account_number
        ),
        account_number_last4=payee.account_number[-4:],
        category=payee.category or "",
        nickname=payee.nickname,
        address=(
            json.dumps(payee.address.to_dict(), sort_keys=True)
            if payee.address is not None
            else None
        ),
        created_at=now,
    )
    return _record(row)


def mark_deleted(payee_id: str, now: datetime) -> bool:
    """Soft-deletes the payee; False when it was already deleted (or never was)."""
    changed = (
        Payee.update(deleted_at=now)
        .where((Payee.id == payee_id) & Payee.deleted_at.is_null())
        .execute()
    )
    return bool(changed)
