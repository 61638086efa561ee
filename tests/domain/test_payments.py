"""Bill payment rules: payment dates, delivery estimates, daily limits, statuses."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from server.domain import errors, limits, payments

CHECKING = limits.default_limits("CHECKING")
SAVINGS = limits.default_limits("SAVINGS")
TODAY = date(2026, 11, 20)


def counters(**used: int) -> dict[str, int]:
    """The account's usage per limit, as `limits.usage_by_limit` gives it: every limit named."""
    return {**limits.usage_by_limit({}, {}), **used}


# --- payment date -------------------------------------------------------------------


def test_omitted_payment_date_is_today() -> None:
    assert payments.resolve_payment_date(None, TODAY) == TODAY


@pytest.mark.parametrize("ahead", [0, 1, 8, 365])
def test_today_up_to_a_year_ahead_passes(ahead: int) -> None:
    wanted = TODAY + timedelta(days=ahead)
    assert payments.resolve_payment_date(wanted, TODAY) == wanted


def test_a_weekend_date_passes_like_the_seeds_saturday() -> None:
    saturday = date(2025, 11, 15)
    assert payments.resolve_payment_date(saturday, date(2025, 11, 9)) == saturday


def test_a_past_date_is_refused_naming_payment_date() -> None:
    with pytest.raises(errors.ValidationFailed) as caught:
        payments.resolve_payment_date(TODAY - timedelta(days=1), TODAY)
    assert caught.value.reason == "VALIDATION_ERROR"
    assert caught.value.field == "paymentDate"
    assert caught.value.metadata["payment_date"] == "2026-11-19"
    assert caught.value.metadata["today"] == "2026-11-20"


def test_more_than_a_year_ahead_is_refused() -> None:
    with pytest.raises(errors.ValidationFailed) as caught:
        payments.resolve_payment_date(TODAY + timedelta(days=366), TODAY)
    assert caught.value.field == "paymentDate"
    assert caught.value.metadata["latest"] == "2027-11-20"


def test_todays_payment_processes_at_once_a_later_one_is_scheduled() -> None:
    assert payments.initial_status(TODAY, TODAY) == "PROCESSING"
    assert payments.initial_status(TODAY + timedelta(days=1), TODAY) == "SCHEDULED"


# --- delivery -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("payee_type", "method"),
    [
        ("UTILITY", "ELECTRONIC"),
        ("CREDIT_CARD", "ELECTRONIC"),
        ("GOVERNMENT", "ELECTRONIC"),
        ("MERCHANT", "ELECTRONIC"),
        ("INDIVIDUAL", "CHECK"),
        ("OTHER", "CHECK"),
    ],
)
def test_delivery_method_by_payee_type(payee_type: str, method: str) -> None:
    assert payments.delivery_method(payee_type) == method


@pytest.mark.parametrize(
    ("paid", "payee_type", "delivered"),
    [
        # Tuesday, electronic: Thursday.
        (date(2026, 12, 1), "UTILITY", date(2026, 12, 3)),
        # Wednesday before Thanksgiving: Friday 27th, Monday 30th.
        (date(2026, 11, 25), "UTILITY", date(2026, 11, 30)),
        # By check: five business days, Thanksgiving skipped.
        (date(2026, 11, 25), "INDIVIDUAL", date(2026, 12, 3)),
        # Christmas Eve (Thursday): Christmas Friday skipped.
        (date(2026, 12, 24), "CREDIT_CARD", date(2026, 12, 29)),
        # On Christmas Day: sent Monday 28th, delivered Wednesday 30th.
        (date(2026, 12, 25), "UTILITY", date(2026, 12, 30)),
        # The seed's Saturday: sent Monday 17th, delivered Wednesday 19th.
        (date(2025, 11, 15), "UTILITY", date(2025, 11, 19)),
    ],
)
def test_estimated_delivery_in_business_days_after_sending(
    paid: date, payee_type: str, delivered: date
) -> None:
    assert payments.estimated_delivery(paid, payee_type) == delivered


def test_payments_leave_on_the_next_business_day() -> None:
    assert payments.send_date(date(2026, 11, 26)) == date(2026, 11, 27)  # Thanksgiving
    assert payments.send_date(date(2026, 11, 28)) == date(2026, 11, 30)  # Saturday
    assert payments.send_date(date(2026, 11, 24)) == date(2026, 11, 24)


# --- amount and limits ------------------------------------------------------------------


def test_minimum_amount_is_one_cent() -> None:
    payments.check_amount(1, CHECKING, "USD")
    with pytest.raises(errors.InvalidAmount) as caught:
        payments.check_amount(0, CHECKING, "USD")
    assert (caught.value.reason, caught.value.metadata["minimum"]) == ("TXN005", "0.01")


def test_bill_payments_count_against_the_daily_bill_payment_limit_only() -> None:
    counted = {
        name
        for name, classes in limits.USAGE_CLASSES.items()
        if limits.CLASS_BILL_PAYMENT in classes
    }
    assert set(payments.BILL_PAYMENT_LIMITS) == counted == {limits.DAILY_BILL_PAYMENT}


@pytest.mark.parametrize(
    ("account_type", "daily"),
    [("SAVINGS", 2_000_00), ("CHECKING", 5_000_00), ("BUSINESS", 25_000_00)],
)
def test_daily_bill_payment_limits_are_the_seeds(account_type: str, daily: int) -> None:
    assert limits.default_limits(account_type).daily_bill_payment == daily


@pytest.mark.parametrize(
    ("effective", "used", "limit"),
    [(CHECKING, 4_000_00, "5000.00"), (SAVINGS, 1_000_00, "2000.00")],
)
def test_daily_bill_payment_limit_to_the_cent(
    effective: limits.Limits, used: int, limit: str
) -> None:
    used_by_limit = counters(daily_bill_payment=used)
    uses = payments.check_limits(1_000_00, used_by_limit, effective, "USD")
    assert [use.name for use in uses] == [limits.DAILY_BILL_PAYMENT]
    with pytest.raises(errors.LimitExceeded) as caught:
        payments.check_limits(1_000_01, used_by_limit, effective, "USD")
    assert caught.value.reason == "TXN004"
    assert caught.value.metadata["limit"] == limits.DAILY_BILL_PAYMENT
    assert caught.value.metadata["limit_amount"] == limit


def test_business_accounts_pay_up_to_twenty_five_thousand_a_day() -> None:
    business = limits.default_limits("BUSINESS")
    payments.check_limits(25_000_00, counters(), business, "USD")
    with pytest.raises(errors.LimitExceeded):
        payments.check_limits(25_000_01, counters(), business, "USD")


# --- request fields ------------------------------------------------------------------------


def test_payee_account_number_defaults_to_the_payee_record() -> None:
    assert payments.validate_payee_account_number("", "ELEC123") == "ELEC123"
    assert payments.validate_payee_account_number(" 99887766 ", "ELEC123") == "99887766"


@pytest.mark.parametrize("number", ["12-34", "x" * 35, "ÄBC"])
def test_bad_payee_account_numbers_are_refused(number: str) -> None:
    with pytest.raises(errors.ValidationFailed) as caught:
        payments.validate_payee_account_number(number, "ELEC123")
    assert caught.value.field == "accountNumber"
    assert number not in caught.value.metadata.values()


def test_memo_is_at_most_140_characters() -> None:
    assert payments.validate_memo("m" * 140) == "m" * 140
    with pytest.raises(errors.ValidationFailed) as caught:
        payments.validate_memo("m" * 141)
    assert caught.value.field == "memo"


# --- statuses --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("current", "target"),
    [
        ("SCHEDULED", "PROCESSING"),
        ("SCHEDULED", "FAILED"),
        ("SCHEDULED", "CANCELLED"),
        ("PROCESSING", "COMPLETED"),
        ("PROCESSING", "FAILED"),
        ("PROCESSING", "CANCELLED"),
    ],
)
def test_legal_moves(current: str, target: str) -> None:
    assert payments.move(current, target) == target


@pytest.mark.parametrize(
    ("current", "target", "reason"),
    [
        ("SCHEDULED", "COMPLETED", "CONFLICT"),
        ("PENDING", "PROCESSING", "CONFLICT"),
        ("FAILED", "PROCESSING", "CONFLICT"),
        ("CANCELLED", "SCHEDULED", "CONFLICT"),
        ("CANCELLED", "CANCELLED", "TXN007"),
        ("FAILED", "CANCELLED", "TXN007"),
        ("COMPLETED", "CANCELLED", "TXN008"),
        ("COMPLETED", "PROCESSING", "TXN008"),
    ],
)
def test_illegal_moves_are_conflicts(current: str, target: str, reason: str) -> None:
    with pytest.raises(errors.Conflict) as caught:
        payments.move(current, target)
    assert caught.value.reason == reason
    assert caught.value.http_status == 409


def test_sandbox_payees_return_numbers_ending_0001_only_in_the_sandbox() -> None:
    returned = payments.payee_return("0001", sandbox=True)
    assert returned is not None and returned.code == payments.PAYEE_RETURNED
    assert returned.reason
    assert payments.payee_return("0001", sandbox=False) is None
    assert payments.payee_return("4321", sandbox=True) is None
