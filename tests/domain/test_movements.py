"""Rules of money movements: request checks, per-transaction amounts, fees."""

from __future__ import annotations

import pytest

from server.domain import errors, movements


def test_text_is_trimmed_and_bounded() -> None:
    assert movements.text("  Rent  ", "description", 10) == "Rent"
    with pytest.raises(errors.ValidationFailed) as refused:
        movements.text("x" * 11, "description", 10)
    assert refused.value.field == "description"
    assert refused.value.metadata["length_max"] == "10"


def test_required_id() -> None:
    assert movements.required_id("acc_1", "accountId") == "acc_1"
    with pytest.raises(errors.ValidationFailed) as refused:
        movements.required_id("", "accountId")
    assert refused.value.field == "accountId"


@pytest.mark.parametrize("status", ["FROZEN", "CLOSED", "PENDING"])
def test_only_active_accounts_move_money(status: str) -> None:
    movements.require_active("acc_1", "ACTIVE", "fromAccountId")
    with pytest.raises(errors.AccountNotActive) as refused:
        movements.require_active("acc_1", status, "fromAccountId")
    assert refused.value.reason == "TXN003"
    assert refused.value.metadata["status"] == status


def test_currency_defaults_to_the_accounts_and_must_match_it() -> None:
    assert movements.currency_of("", "USD") == "USD"
    assert movements.currency_of(" usd ", "USD") == "USD"
    with pytest.raises(errors.CurrencyMismatch) as refused:
        movements.currency_of("EUR", "USD")
    assert refused.value.reason == "TXN006"
    with pytest.raises(errors.CurrencyMismatch) as refused:
        movements.check_destination_currency("USD", "EUR")
    assert refused.value.field == "toAccountId"


def test_per_transaction_bounds() -> None:
    movements.check_per_transaction(1, 1, 500_00, "USD")
    movements.check_per_transaction(500_00, 1, 500_00, "USD")
    movements.check_per_transaction(10**12, 1, None, "USD")
    with pytest.raises(errors.InvalidAmount) as low:
        movements.check_per_transaction(0, 1, None, "USD")
    assert low.value.metadata["minimum"] == "0.01"
    with pytest.raises(errors.InvalidAmount) as high:
        movements.check_per_transaction(500_01, 1, 500_00, "USD")
    assert high.value.metadata["maximum"] == "500.00"


def test_deposit_methods_and_maximums() -> None:
    movements.check_deposit_fields("MOBILE_CHECK")
    with pytest.raises(errors.ValidationFailed):
        movements.check_deposit_fields("BITCOIN")
    assert movements.deposit_max_minor("MOBILE_CHECK") == 10_000_00
    assert movements.deposit_max_minor("CASH") == movements.DEPOSIT_MAX_DEFAULT_MINOR
    assert movements.method_words("MOBILE_CHECK") == "Mobile Check"


def _funds(balance: int, overdraft: int = 0, held: int = 0) -> movements.Funds:
    return movements.Funds(balance=balance, held=held, pending_debits=0, overdraft_limit=overdraft)


def test_overdraft_fee_when_a_checking_debit_goes_below_zero() -> None:
    assert movements.debit_fees(_funds(100_00, 500_00), "CHECKING", 100_00) == 0
    assert movements.debit_fees(_funds(100_00, 500_00), "CHECKING", 100_01) == 35_00
    # The debit and its fee must fit in the available balance.
    with pytest.raises(errors.InsufficientFunds):
        movements.debit_fees(_funds(100_00, 500_00), "CHECKING", 565_01)
    # SAVINGS has no overdraft: the balance is the floor, and no fee.
    with pytest.raises(errors.InsufficientFunds):
        movements.debit_fees(_funds(50_00), "SAVINGS", 50_01)
    # Held money is not available.
    with pytest.raises(errors.InsufficientFunds):
        movements.debit_fees(_funds(100_00, held=60_00), "SAVINGS", 50_00)
