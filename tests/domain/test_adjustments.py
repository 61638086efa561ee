"""Staff postings' rules: sides, description, debits within the available balance."""

from __future__ import annotations

import pytest

from server.domain import adjustments, errors
from server.domain.movements import Funds


def test_fee_debits_interest_credits_adjustment_says() -> None:
    assert adjustments.direction("FEE", None) == "DEBIT"
    assert adjustments.direction("INTEREST", None) == "CREDIT"
    assert adjustments.direction("ADJUSTMENT", "CREDIT") == "CREDIT"
    assert adjustments.direction("ADJUSTMENT", "DEBIT") == "DEBIT"
    for word in (None, "", "TRANSACTION_DIRECTION_UNSPECIFIED", "7"):
        with pytest.raises(errors.ValidationFailed) as raised:
            adjustments.direction("ADJUSTMENT", word)
        assert raised.value.field == "direction"


def test_each_kind_has_its_internal_account() -> None:
    assert adjustments.INTERNAL_ACCOUNT == {
        "FEE": "FEE_INCOME",
        "INTEREST": "INTEREST_EXPENSE",
        "ADJUSTMENT": "SUSPENSE",
    }
    assert set(adjustments.KINDS) == set(adjustments.INTERNAL_ACCOUNT)


def test_description_is_required_and_bounded() -> None:
    assert adjustments.description("  Monthly interest ") == "Monthly interest"
    assert adjustments.description("x" * 255) == "x" * 255
    for bad in ("", "   ", "x" * 256):
        with pytest.raises(errors.ValidationFailed) as raised:
            adjustments.description(bad)
        assert raised.value.field == "description"


def test_a_debit_fits_the_available_balance_with_the_overdraft_line() -> None:
    funds = Funds(balance=100_00, held=20_00, pending_debits=10_00, overdraft_limit=50_00)
    adjustments.check_debit(funds, 120_00)
    with pytest.raises(errors.InsufficientFunds):
        adjustments.check_debit(funds, 120_01)
