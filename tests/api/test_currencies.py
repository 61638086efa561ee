"""Accounts in other currencies move the bank's books of their own currency.

Every internal account exists once per currency, so a EUR deposit moves the
EUR cash vault, never the USD one, and the database refuses a posting whose
currency is not its account's.
"""

from __future__ import annotations

import pytest

from server.run import Stack
from server.store.bootstrap import internal_account_id
from tests.common import envelope
from tests.common.accounts import open_account
from tests.common.money import assert_ledger_consistent, query
from tests.common.users import create_rest, db_execute
from tests.conftest import Rest


def _balance(stack: Stack, account_id: str) -> int:
    return int(
        query(stack, "SELECT balance_minor FROM accounts WHERE id = %s", (account_id,))[0][0]
    )


@pytest.mark.parametrize(
    ("currency", "amount", "minor"), [("EUR", 250.5, 25_050), ("JPY", 3000, 3_000)]
)
def test_cash_in_another_currency_moves_that_currencys_vault(
    rest: Rest, stack: Stack, currency: str, amount: float, minor: int
) -> None:
    owner = create_rest(rest)
    account = open_account(rest, owner["id"], currency=currency)
    vault = internal_account_id("CASH_VAULT", currency)
    usd_vault = internal_account_id("CASH_VAULT", "USD")
    vault_before, usd_before = _balance(stack, vault), _balance(stack, usd_vault)

    deposit = envelope.success(
        rest.post(
            "/v1/transactions/deposit",
            json={"accountId": account["id"], "amount": amount, "method": "CASH"},
        ),
        201,
    )["transaction"]
    assert deposit["currency"] == currency
    withdrawal = envelope.success(
        rest.post(
            "/v1/transactions/withdrawal",
            json={
                "accountId": account["id"],
                "amount": amount,
                "method": "BRANCH",
                "location": "Main St branch",
            },
        ),
        201,
    )["transaction"]
    assert withdrawal["currency"] == currency

    assert _balance(stack, account["id"]) == 0
    # The cash came in and went out of this currency's vault; USD never moved.
    assert _balance(stack, vault) == vault_before
    legs = query(
        stack,
        "SELECT account_id, currency, amount_minor FROM postings WHERE transaction_id = %s",
        (deposit["id"],),
    )
    assert sorted(legs) == sorted([(account["id"], currency, minor), (vault, currency, -minor)])
    assert _balance(stack, usd_vault) == usd_before
    assert_ledger_consistent(stack)


def test_the_database_refuses_a_posting_in_another_currency_than_its_account(
    stack: Stack,
) -> None:
    usd_vault = internal_account_id("CASH_VAULT", "USD")
    eur_vault = internal_account_id("CASH_VAULT", "EUR")
    txn = query(stack, "SELECT id FROM ledger_transactions ORDER BY created_at LIMIT 1")[0][0]
    # Balanced in EUR, so only the currency rule can refuse it.
    with pytest.raises(Exception, match=r"(?i)currency|foreign key"):
        db_execute(
            stack,
            "INSERT INTO postings (transaction_id, account_id, currency, amount_minor,"
            " balance_after_minor, created_at) VALUES"
            " (%s, %s, 'EUR', 1, 1, CURRENT_TIMESTAMP), (%s, %s, 'EUR', -1, -1, CURRENT_TIMESTAMP)",
            (txn, usd_vault, txn, eur_vault),
        )
