"""Withdrawal rules: fields per method, cards, PINs, ATM pricing."""

from __future__ import annotations

import pytest

from server.domain import errors, withdrawals


def test_fields_each_method_needs() -> None:
    fields = withdrawals.check_fields("ATM", " ATM-NYC-001 ", "", "4111111111111111", "1234")
    assert fields == withdrawals.WithdrawalFields("ATM-NYC-001", "")
    withdrawals.check_fields("CHECK", "", "Rent check", "", "")
    for method, location, card, pin, field in [
        ("WIRE", "", "", "", "method"),
        ("ATM", "", "4111111111111111", "1234", "location"),
        ("BRANCH", "", "", "", "location"),
        ("DEBIT_CARD", "", "", "", "cardNumber"),
        ("ATM", "ATM-NYC-001", "4111111111111111", "", "pin"),
        ("CHECK", "", "", "1" * 65, "pin"),
    ]:
        with pytest.raises(errors.ValidationFailed) as refused:
            withdrawals.check_fields(method, location, "", card, pin)
        assert refused.value.field == field


def test_card_numbers() -> None:
    assert withdrawals.card_digits("4111 1111 1111 1111") == "4111111111111111"
    for bad in ("4111", "4111-1111-1111-1111", "4" * 20):
        with pytest.raises(errors.ValidationFailed):
            withdrawals.card_digits(bad)


def test_the_card_must_be_the_accounts_and_active() -> None:
    digits = "4111111111111111"
    withdrawals.check_card(digits, "acc_1", card_account_id="acc_1", status="ACTIVE", last4="1111")
    for card_account_id in (None, "acc_2"):
        with pytest.raises(errors.ValidationFailed) as refused:
            withdrawals.check_card(
                digits, "acc_1", card_account_id=card_account_id, status="ACTIVE", last4=""
            )
        assert refused.value.metadata["card_last4"] == "1111"
    with pytest.raises(errors.CardLocked):
        withdrawals.check_card(
            digits, "acc_1", card_account_id="acc_1", status="LOCKED", last4="1111"
        )


def test_the_third_wrong_pin_locks_the_card() -> None:
    first = withdrawals.refuse_pin(1, "1111")
    assert isinstance(first, errors.InvalidPin)
    assert first.metadata["attempts_left"] == "2"
    assert not withdrawals.card_locks(2)
    third = withdrawals.refuse_pin(3, "1111")
    assert isinstance(third, errors.CardLocked)
    assert third.metadata["attempts"] == "3"


def test_atm_pricing() -> None:
    own_us = ("OWN", "US")
    assert withdrawals.atm_kind("ATM-NYC-001", own_us, "", "US") == "IN_NETWORK"
    assert withdrawals.atm_kind("ATM-LON-001", ("OWN", "GB"), "", "US") == "INTERNATIONAL"
    assert withdrawals.atm_kind("Chase 5th Ave", None, "", "US") == "OUT_OF_NETWORK"
    assert withdrawals.atm_kind("Chase 5th Ave", None, " us ", "US") == "OUT_OF_NETWORK"
    assert withdrawals.atm_kind("Barclays Strand", None, "GB", "US") == "INTERNATIONAL"
    with pytest.raises(errors.ValidationFailed) as refused:
        withdrawals.atm_kind("ATM-NOPE-9", None, "", "US")
    assert refused.value.field == "location"
