"""What the stored movement functions (m0021, m0025) are handed and give back,
on the Python side: the amount parsed for each currency exponent, whether
texts can be PostgreSQL values at all, and the accounts as the functions
locked them, as model instances.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

from server import metrics
from server.domain import errors
from server.domain.money import CURRENCY_EXPONENTS, parse_amount
from server.store import tx
from server.store.models import Account

# One currency per exponent: what parse_amount is asked for each item.
_CURRENCY_OF_EXPONENT = {
    places: currency for currency, places in reversed(list(CURRENCY_EXPONENTS.items()))
}


def count_posted(kind: str, overdraft_fee: bool) -> None:
    """A function's transaction (and its overdraft FEE) posted: counted once
    committed (server.metrics; the Python path counts at server.store.outbox)."""
    kinds = [kind, "FEE"] if overdraft_fee else [kind]
    tx.after_commit(lambda: metrics.posted(kinds))


def minor_by_exponent(amount: object) -> dict[str, int | None]:
    """The amount in minor units for each currency exponent (None: refused),
    so that the function picks the one of the account's currency."""
    minor: dict[str, int | None] = {}
    for places, currency in _CURRENCY_OF_EXPONENT.items():
        try:
            minor[str(places)] = parse_amount(amount, currency)  # type: ignore[arg-type]
        except errors.InvalidAmount:
            minor[str(places)] = None
    return minor


def texts_fit(texts: Iterable[object]) -> bool:
    """Whether every text is a string a PostgreSQL text value can hold (UTF-8,
    no NUL character). A request with one that is not is left to the Python
    path, whose failure then is its own."""
    for text in texts:
        if not isinstance(text, str) or "\x00" in text:
            return False
        try:
            text.encode("utf-8")
        except UnicodeEncodeError:
            return False
    return True


class Accounts:
    """The locked accounts as a function read them after its lock (rows of
    `row_to_json`, each with its owner's name under "owner_name")."""

    def __init__(self, rows: Mapping[str, dict[str, Any]]) -> None:
        self._rows = rows
        self._data: dict[str, dict[str, Any]] = {}

    def data(self, account_id: str) -> dict[str, Any]:
        """The account's field values (peewee field names) as locked."""
        found = self._data.get(account_id)
        if found is None:
            found = self._data[account_id] = _field_values(self._rows[account_id])
        return found

    def owner_name(self, account_id: str) -> str | None:
        name = self._rows[account_id].get("owner_name")
        return None if name is None else str(name)

    def instance(self, account_id: str, balance_minor: int, held_minor: int) -> Account:
        account = Account(__no_default__=1)
        account.__data__ = {
            **self.data(account_id),
            "balance_minor": balance_minor,
            "held_minor": held_minor,
        }
        return account


def _field_values(row: Mapping[str, Any]) -> dict[str, Any]:
    values: dict[str, Any] = {}
    for model_field in Account._meta.sorted_fields:
        value = row[model_field.column_name]
        if value is not None and isinstance(model_field, _DATETIME_FIELDS):
            value = datetime.fromisoformat(value)
        values[model_field.name] = value
    return values


_DATETIME_FIELDS = (type(Account.created_at),)
