"""`bank_post_deposit` and `bank_post_withdrawal` (m0025) against the Python
path they stand for: each case runs both on the same state
(tests.store.movement_paths.compare) and requires the same answers and rows.
PostgreSQL only: SQLite has no such functions and keeps the Python path.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import peewee
import pytest

from server.domain.principal import AUDITOR, CUSTOMER, Principal
from server.services.context import RequestContext
from server.store import clock, holds, movement_functions, sql
from server.store.bootstrap import ensure_internal_accounts, internal_account_id
from server.store.db import is_postgres
from tests.store.movement_paths import PIN, Deposit, Withdrawal, atm, card, compare, reason
from tests.store.transfer_paths import NOW, account, hold, person, used


@pytest.fixture(autouse=True)
def _postgres(database: peewee.Database, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    if not is_postgres():
        pytest.skip("SQLite keeps the Python path: there is no function to compare")
    ensure_internal_accounts()
    monkeypatch.setattr(clock, "now", lambda sandbox=True: NOW)
    yield


def _customer(user_id: str) -> RequestContext:
    return RequestContext(
        principal=Principal(client_id="app", role=CUSTOMER, user_id=user_id),
        ip_address="192.0.2.4",
        device="phone",
    )


AUDITOR_CONTEXT = RequestContext(principal=Principal(client_id="app", role=AUDITOR))


# -- deposits ----------------------------------------------------------------------------


def test_deposits_of_every_method_post_what_the_python_path_posts() -> None:
    owner = person()
    target = account(owner)
    answers = compare(
        *(
            Deposit(target, 125.5, method=method)
            for method in ("CASH", "CHECK", "MOBILE_CHECK", "WIRE", "DIRECT_DEPOSIT")
        ),
        Deposit(target, "0.10", currency=" usd ", location="", reference="", description="Gift"),
        Deposit(target, 7, location="  Café ☕  "),
    )
    assert [a.transaction.type for a in answers] == ["DEPOSIT"] * 7
    assert answers[0].to_account.balance_after_minor == 500_000 + 12_550
    yen = account(owner, currency="JPY", balance_minor=1_000)
    (posted,) = compare(Deposit(yen, 1500, method="CHECK"))
    assert posted.to_account.balance_after_minor == 2_500


def test_check_deposits_are_held_and_released_as_before() -> None:
    owner = person()
    target = account(owner, balance_minor=0)
    # A check deposit and a withdrawal of more than the unheld balance
    # (refused); once the hold's time has come, the withdrawal releases it.
    answers = compare(
        Deposit(target, 300, method="CHECK"),
        Deposit(target, 200, method="MOBILE_CHECK"),
        Withdrawal(target, 10),
    )
    assert reason(answers[2]) == "TXN001"
    assert all(a.transaction.hold_id is not None for a in answers[:2])
    # Committed now, through the function: the hold is PENDING until its day.
    Deposit(target, 300, method="CHECK").run()
    (pending,) = sql.execute(
        "SELECT status, amount_minor, release_at, reason FROM holds WHERE account_id = ?",
        (target,),
    ).fetchall()
    assert pending[0] == "PENDING" and pending[1] == 30_000 and pending[3] == "CHECK_DEPOSIT"
    assert pending[2] > NOW
    later = pending[2] + timedelta(minutes=1)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(clock, "now", lambda sandbox=True: later)
        (taken,) = compare(Withdrawal(target, 250))
        assert taken.from_account.balance_after_minor == 5_000
        # the holds worker releases it the same way
        assert holds.release_due(later) == 1
    held = sql.scalar("SELECT held_minor FROM accounts WHERE id = ?", (target,))
    assert held == 0


def test_deposit_refusals_are_the_python_paths() -> None:
    owner, other = person(), person("Eve Other")
    mine, theirs = account(owner), account(other)
    frozen, closed = account(owner, status="FROZEN"), account(owner, status="CLOSED")
    answers = compare(
        Deposit("acc_missing", 1),
        Deposit(theirs, 1, method="MOBILE_CHECK", context=_customer(owner)),
        Deposit(internal_account_id("CASH_VAULT", "USD"), 1),
        Deposit("x" * 80, 1),
        Deposit(mine, 1, method="CASH", context=_customer(owner)),  # customers: mobile checks
        Deposit(mine, 1, currency="EUR"),
        Deposit(mine, 1, currency="XYZ"),
        *(Deposit(mine, amount) for amount in (0.001, 0, -5, float("nan"), float("inf"), "abc")),
        Deposit(mine, 1_000_000.01),  # above the deposit maximum
        Deposit(mine, 10_000.01, method="MOBILE_CHECK"),  # above a mobile check's
        Deposit(mine, 1, context=AUDITOR_CONTEXT),
        Deposit(frozen, 1),
        Deposit(closed, 1, method="WIRE"),
    )
    assert [reason(answer) for answer in answers] == (
        ["TXN002"] * 4
        + ["FORBIDDEN", "TXN006", "TXN006"]
        + ["TXN005"] * 8
        + ["FORBIDDEN", "TXN003", "TXN003"]
    )
    # a customer's own mobile check is taken
    (posted,) = compare(Deposit(mine, 10_000, method="MOBILE_CHECK", context=_customer(owner)))
    assert posted.transaction.status == "COMPLETED"


# -- withdrawals -------------------------------------------------------------------------


def test_withdrawals_without_a_card_post_what_the_python_path_posts() -> None:
    owner = person()
    source = account(owner)
    answers = compare(
        Withdrawal(source, 120.25),
        Withdrawal(source, 50, method="CHECK", location="", description="Rent check"),
        Withdrawal(source, "0.01", currency="usd", location="  Café ☕  "),
    )
    assert [a.transaction.type for a in answers] == ["WITHDRAWAL"] * 3
    assert answers[0].from_account.balance_after_minor == 500_000 - 12_025


def test_overdraft_and_its_fee_and_the_funds_refusal() -> None:
    owner = person()
    checking = account(owner, balance_minor=10_000, overdraft_limit_minor=20_000)
    savings = account(owner, balance_minor=10_000, type="SAVINGS", overdraft_limit_minor=5_000)
    answers = compare(
        Withdrawal(checking, 100),  # to zero: no fee
        Withdrawal(checking, 100),  # below zero: the fee
        Withdrawal(checking, 65.01),  # past the line with the fee
        Withdrawal(checking, 30),  # exactly to the line with the fee
        Withdrawal(savings, 150),  # SAVINGS pays no fee
    )
    assert answers[0].overdraft_fee_transaction_id is None
    assert answers[1].overdraft_fee_transaction_id is not None
    assert reason(answers[2]) == "TXN001"
    assert answers[3].overdraft_fee_transaction_id is not None
    assert answers[4].overdraft_fee_transaction_id is None
    with_holds = account(owner, balance_minor=10_000)
    hold(with_holds, 4_000, NOW - timedelta(hours=1))  # due: released by the withdrawal
    hold(with_holds, 3_000, NOW + timedelta(days=1))
    answers = compare(
        Withdrawal(with_holds, 70.01),  # refused: the release is undone too
        Withdrawal(with_holds, 70),
    )
    assert reason(answers[0]) == "TXN001"
    assert answers[1].transaction.status == "COMPLETED"


def test_withdrawal_refusals_are_the_python_paths() -> None:
    owner, other = person(), person("Eve Other")
    mine, theirs = account(owner), account(other)
    frozen = account(owner, status="FROZEN")
    answers = compare(
        Withdrawal("acc_missing", 1),
        Withdrawal(
            theirs, 1, method="DEBIT_CARD", card_number="4111111111111111", context=_customer(owner)
        ),
        Withdrawal(internal_account_id("CASH_VAULT", "USD"), 1),
        Withdrawal(mine, 1, currency="EUR"),
        *(Withdrawal(mine, amount) for amount in (0.001, 0, -5, float("nan"), "abc")),
        Withdrawal(mine, 1, context=AUDITOR_CONTEXT),
        Withdrawal(frozen, 1),
    )
    assert [reason(answer) for answer in answers] == (
        ["TXN002"] * 3 + ["TXN006"] + ["TXN005"] * 5 + ["FORBIDDEN", "TXN003"]
    )


def test_atm_withdrawals_fees_limits_and_warnings() -> None:
    owner = person()
    source = account(
        owner, balance_minor=300_000, limit_overrides='{"daily_atm_withdrawal": 60000}'
    )
    number = card(source)
    own, other_bank, abroad = atm(), atm("PARTNER"), atm("OWN", "FR")
    used(source, daily=40_000, monthly=40_000, klass="ATM")
    answers = compare(
        Withdrawal(source, 20, method="ATM", location=own, card_number=number, pin=PIN),
        Withdrawal(source, 20, method="ATM", location=other_bank, card_number=number, pin=PIN),
        Withdrawal(source, 20, method="ATM", location=abroad, card_number=number, pin=PIN),
        Withdrawal(source, 500.01, method="ATM", location=own, card_number=number, pin=PIN),
        Withdrawal(source, 140.01, method="ATM", location=own, card_number=number, pin=PIN),
        Withdrawal(source, 30, method="DEBIT_CARD", location="", card_number=number),
    )
    fees = [a.transaction.fee_minor for a in answers[:3]]
    assert fees == [0, 250, 500]
    assert [reason(a) for a in answers[3:5]] == ["TXN005", "TXN004"]
    assert answers[5].transaction.status == "COMPLETED"
    # 460.00 of 600.00 used; 30.00 more crosses 80%: limit.approaching (compared too)
    crossing = Withdrawal(source, 30, method="ATM", location=own, card_number=number, pin=PIN)
    compare(*answers_of_three(source, number, own, other_bank, abroad), crossing)
    for request in (*answers_of_three(source, number, own, other_bank, abroad), crossing):
        request.run()
    (payload,) = sql.execute(
        "SELECT payload FROM outbox_events WHERE type = 'limit.approaching' AND aggregate_id = ?",
        (source,),
    ).fetchone()
    assert '"limit": "daily_atm_withdrawal"' in payload and '"percent": 81' in payload


def answers_of_three(
    source: str, number: str, own: str, other_bank: str, abroad: str
) -> tuple[Withdrawal, ...]:
    return tuple(
        Withdrawal(source, 20, method="ATM", location=where, card_number=number, pin=PIN)
        for where in (own, other_bank, abroad)
    )


def test_a_function_refusal_the_domain_does_not_confirm_goes_the_python_way(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    owner = person()
    source = account(owner)
    monkeypatch.setattr(
        movement_functions,
        "_answer",
        lambda *_: {"account": {}, "error": "funds"} | _FACTS,
    )
    monkeypatch.setattr(
        movement_functions.Accounts, "data", lambda *_: {"currency": "USD", "type": "CHECKING"}
    )
    outcome = movement_functions.post_withdrawal(
        movement_functions.Withdrawal(
            movement_functions.Movement(
                source, 1, "", "BRANCH", Principal(client_id="x", role="ADMIN"), {}
            ),
            "Main St",
            "",
        ),
        NOW,
    )
    assert isinstance(outcome, movement_functions.Fallback)
    assert "refused what the domain accepts" in caplog.text


_FACTS = {
    "amount_minor": 100,
    "balance": 1_000_000,
    "held": 0,
    "pending_debits": 0,
    "overdraft_limit": 0,
}


def test_what_only_the_python_path_handles_is_handed_back() -> None:
    owner = person()
    unreadable = account(owner, limit_overrides='{"daily_atm_withdrawal": 1.5}')
    outcome = movement_functions.post_withdrawal(
        movement_functions.Withdrawal(
            movement_functions.Movement(
                unreadable, 1, "", "BRANCH", Principal(client_id="x", role="ADMIN"), {}
            ),
            "Main St",
            "",
        ),
        NOW,
    )
    assert outcome == movement_functions.Fallback("unreadable limit overrides")
    nul = movement_functions.post_deposit(
        movement_functions.Deposit(
            movement_functions.Movement(
                account(owner), 1, "", "CASH", Principal(client_id="x", role="ADMIN"), {}
            ),
            False,
            "Main\x00St",
            "",
            "",
        ),
        NOW,
    )
    assert isinstance(nul, movement_functions.Fallback)
    # through the use case the Python path then posts it
    posted = Withdrawal(unreadable, 1).run()
    assert posted.transaction.status == "COMPLETED"
