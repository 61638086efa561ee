"""The figures `bank_post_transfers` (m0021) holds are the domain's.

The function carries the rules' constants as literals (bank_transfer_constants)
and writes amounts as Python writes floats in JSON (bank_major_text). When a
constant changes in Python, this fails: a new migration must replace the
function's figures. PostgreSQL only.
"""

from __future__ import annotations

import json
from collections.abc import Iterator

import peewee
import pytest

from server.domain import limit_checks, limits, movements
from server.domain.money import CURRENCY_EXPONENTS, to_major
from server.store import sql
from server.store.bootstrap import internal_account_id
from server.store.db import is_postgres


@pytest.fixture(autouse=True)
def _postgres(database: peewee.Database) -> Iterator[None]:
    if not is_postgres():
        pytest.skip("SQLite has no bank_post_transfers")
    yield


def test_the_functions_figures_are_the_domains() -> None:
    constants = sql.scalar("SELECT bank_transfer_constants()")
    types = limits.DEFAULT_LIMITS_MAJOR
    assert constants == {
        "exponents": CURRENCY_EXPONENTS,
        "limits_major": {
            kind: {
                limits.DAILY_TRANSFER: table[limits.DAILY_TRANSFER],
                limits.MONTHLY_TRANSFER: table[limits.MONTHLY_TRANSFER],
            }
            for kind, table in types.items()
        },
        "per_transaction_internal_transfer_max_major": (
            limits.PER_TRANSACTION_INTERNAL_TRANSFER_MAX_MAJOR
        ),
        "per_transaction_min_cents": limits.PER_TRANSACTION_MIN_CENTS,
        "transfer_usage_classes": sorted(limits.USAGE_CLASSES[limits.DAILY_TRANSFER]),
        "warning_percent": limit_checks.LIMIT_WARNING_PERCENT,
        "overdraft_fee_minor": movements.OVERDRAFT_FEE_MINOR,
        "overdraft_types": sorted(movements.OVERDRAFT_ACCOUNT_TYPES),
        "fee_income_accounts": {
            currency: internal_account_id("FEE_INCOME", currency) for currency in CURRENCY_EXPONENTS
        },
    }
    assert (
        limits.USAGE_CLASSES[limits.DAILY_TRANSFER] == limits.USAGE_CLASSES[limits.MONTHLY_TRANSFER]
    )
    assert set(limits.OVERRIDABLE) >= {
        limits.DAILY_TRANSFER,
        limits.MONTHLY_TRANSFER,
        limits.PER_TRANSACTION_INTERNAL_TRANSFER_MAX,
    }


@pytest.mark.parametrize("currency", ["USD", "JPY"])
def test_major_text_is_how_python_writes_the_float(currency: str) -> None:
    values = [1, 5, 10, 33, 99, 100, 101, 110, 3500, 12_345, 500_000, 10**9 + 7, 10**13, 10**13 - 1]
    places = CURRENCY_EXPONENTS[currency]
    texts = sql.execute(
        "SELECT bank_major_text(v, ?) FROM unnest(?::bigint[]) AS v", (places, values)
    ).fetchall()
    assert [text for (text,) in texts] == [json.dumps(to_major(v, currency)) for v in values]
