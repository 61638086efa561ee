"""Trial balance rules: sign convention, ordering, totals, who may read, as_of."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from server.domain import errors
from server.domain import ledger_reports as rules
from server.domain.principal import Principal

NOW = datetime(2026, 12, 5, 12, 0, 0)


def _groups() -> list[rules.GlGroup]:
    return [
        rules.GlGroup(
            rules.KIND_BANK,
            "USD",
            -5_000,
            1,
            account_id="acc_v",
            code="CASH_VAULT",
            name="Cash vault",
        ),
        rules.GlGroup(rules.KIND_CUSTOMER_DEPOSITS, "USD", 4_965, 3, account_type="CHECKING"),
        rules.GlGroup(
            rules.KIND_BANK, "USD", 35, 1, account_id="acc_f", code="FEE_INCOME", name="Fee income"
        ),
        rules.GlGroup(
            rules.KIND_BANK,
            "EUR",
            -100,
            1,
            account_id="acc_e",
            code="CASH_VAULT:EUR",
            name="Cash vault (EUR)",
        ),
        rules.GlGroup(rules.KIND_CUSTOMER_DEPOSITS, "EUR", 100, 1, account_type="SAVINGS"),
    ]


def test_lines_sign_order_and_totals() -> None:
    trial = rules.trial_balance(_groups(), NOW, None)
    assert [(line.currency, line.code) for line in trial.lines] == [
        ("EUR", "CUSTOMER_SAVINGS"),
        ("EUR", "CASH_VAULT"),
        ("USD", "CUSTOMER_CHECKING"),
        ("USD", "CASH_VAULT"),
        ("USD", "FEE_INCOME"),
    ]
    vault = trial.lines[3]
    assert (vault.debit_minor, vault.credit_minor, vault.account_id) == (5_000, 0, "acc_v")
    deposits = trial.lines[2]
    assert (deposits.debit_minor, deposits.credit_minor) == (0, 4_965)
    assert deposits.name == "Customer deposits: CHECKING" and deposits.account_count == 3
    assert [(t.currency, t.debit_minor, t.credit_minor) for t in trial.totals] == [
        ("EUR", 100, 100),
        ("USD", 5_000, 5_000),
    ]
    assert trial.balanced


def test_an_unbalanced_ledger_shows() -> None:
    groups = _groups()[:2]
    trial = rules.trial_balance(groups, NOW, "USD")
    assert not trial.balanced
    assert trial.totals[0].difference_minor == -35


def test_as_of() -> None:
    assert rules.check_as_of(None, NOW) == NOW
    assert rules.check_as_of(NOW, NOW) == NOW
    past = NOW - timedelta(days=40)
    assert rules.check_as_of(past, NOW) == past
    with pytest.raises(errors.ValidationFailed) as caught:
        rules.check_as_of(NOW + timedelta(microseconds=1), NOW)
    assert caught.value.field == "as_of"


def test_currency_filter() -> None:
    assert rules.check_currency("") is None
    assert rules.check_currency(" eur ") == "EUR"
    with pytest.raises(errors.ValidationFailed) as caught:
        rules.check_currency("XXX")
    assert caught.value.field == "currency"


@pytest.mark.parametrize(
    ("role", "user", "scopes", "allowed"),
    [
        ("ADMIN", "usr_1", {"banking.read", "backoffice.admin"}, True),
        ("OPERATIONS", "usr_1", {"banking.read", "backoffice.admin"}, True),
        ("AUDITOR", "usr_1", {"banking.read", "backoffice.admin"}, True),
        ("TELLER", "usr_1", {"banking.read", "backoffice.admin"}, False),
        ("CUSTOMER", "usr_1", {"banking.read", "backoffice.admin"}, False),
        ("ADMIN", None, {"banking.read", "backoffice.admin"}, True),
        ("ADMIN", None, {"banking.read"}, False),
    ],
)
def test_who_reads_the_books(role: str, user: str | None, scopes: set[str], allowed: bool) -> None:
    principal = Principal(client_id="c", role=role, user_id=user, scopes=frozenset(scopes))
    if allowed:
        rules.check_trial_balance_reader(principal)
    else:
        with pytest.raises(errors.Forbidden):
            rules.check_trial_balance_reader(principal)
