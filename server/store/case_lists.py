"""Lists of a customer's cases (refund requests, disputes): the same filters
and the same paging, newest or oldest first by creation time, then id.

A page is read by offset or, with a page token, after the (created_at, id)
of the last row of the page before (keyset): stable while new cases arrive.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Generic, TypeVar

import peewee

from server.domain import errors
from server.domain.principal import Principal

Row = TypeVar("Row", bound=peewee.Model)


@dataclass(frozen=True, slots=True)
class CaseQuery:
    """What a list selects: `owner_id` narrows a customer's list to their own."""

    owner_id: str | None
    status: str | None
    account_id: str | None
    transaction_id: str | None
    ascending: bool

    @classmethod
    def of(
        cls,
        principal: Principal,
        *,
        status: str,
        account_id: str,
        transaction_id: str,
        ascending: bool,
    ) -> CaseQuery:
        """The filters asked for (empty: any), a customer's narrowed to the
        cases on their own accounts; staff see every case."""
        return cls(
            owner_id=None if principal.is_staff else (principal.user_id or ""),
            status=status or None,
            account_id=account_id or None,
            transaction_id=transaction_id or None,
            ascending=ascending,
        )


@dataclass(frozen=True, slots=True)
class CasePage(Generic[Row]):
    rows: list[Row]
    total: int
    next_key: list[Any] | None  # (created_at, id) of the last row when another page follows


def _key(after: list[Any]) -> tuple[datetime, str]:
    """A page token's (created_at, id); a token of another shape is refused."""
    try:
        if len(after) != 2 or not all(isinstance(part, str) for part in after):
            raise ValueError("shape")
        return datetime.fromisoformat(after[0]), after[1]
    except ValueError:
        raise errors.ValidationFailed("page_token is not valid", field="page_token") from None


def page(
    model: type[Row], query: CaseQuery, *, limit: int, offset: int, after: list[Any] | None
) -> CasePage[Row]:
    """One page of `model`'s rows (columns owner_id, status, account_id,
    transaction_id, created_at, id), with the count of every match."""
    select = model.select()
    for name, value in (
        ("owner_id", query.owner_id),
        ("status", query.status),
        ("account_id", query.account_id),
        ("transaction_id", query.transaction_id),
    ):
        if value is not None:
            select = select.where(getattr(model, name) == value)
    total = select.count()
    created, key_id = model.created_at, model.id  # type: ignore[attr-defined]
    if after is not None:
        stamp, last_id = _key(after)
        if query.ascending:
            select = select.where((created > stamp) | ((created == stamp) & (key_id > last_id)))
        else:
            select = select.where((created < stamp) | ((created == stamp) & (key_id < last_id)))
    else:
        select = select.offset(offset)
    order = [created.asc(), key_id.asc()] if query.ascending else [created.desc(), key_id.desc()]
    rows = list(select.order_by(*order).limit(limit + 1))
    more = len(rows) > limit
    rows = rows[:limit]
    last: Any = rows[-1] if rows else None
    next_key = [last.created_at.isoformat(), last.id] if more and last is not None else None
    return CasePage(rows, total, next_key)
