"""Which months have closed, which an account gets, and a statement's figures."""

from __future__ import annotations

from datetime import date, datetime

import pytest

from server.domain import errors
from server.domain import statement_months as rules
from server.domain.statements import StatementHeader, StatementLine


def test_months() -> None:
    december = rules.Month(2026, 12)
    assert december.start == date(2026, 12, 1) and december.end == date(2026, 12, 31)
    assert december.next() == rules.Month(2027, 1) and december.previous().label == "2026-11"
    assert rules.Month(2028, 2).end == date(2028, 2, 29)
    assert rules.Month.of(datetime(2026, 1, 31, 23, 59)).label == "2026-01"


def test_a_month_closes_five_minutes_after_midnight() -> None:
    assert rules.last_closed(datetime(2026, 12, 1, 0, 4, 59)) == rules.Month(2026, 10)
    assert rules.last_closed(datetime(2026, 12, 1, 0, 5)) == rules.Month(2026, 11)
    assert rules.last_closed(datetime(2027, 1, 15)) == rules.Month(2026, 12)


def test_months_an_account_was_open() -> None:
    through = rules.Month(2026, 11)
    opened = datetime(2026, 8, 31, 23, 0)
    assert [m.label for m in rules.months_open(opened, None, through)] == [
        "2026-08",
        "2026-09",
        "2026-10",
        "2026-11",
    ]
    closed = datetime(2026, 9, 1, 0, 0)
    assert [m.label for m in rules.months_open(opened, closed, through)] == ["2026-08", "2026-09"]
    assert list(rules.months_open(datetime(2026, 12, 2), None, through)) == []


@pytest.mark.parametrize("bad", ["", "acc_123", "stm_" + "x" * 80, "STM_1"])
def test_malformed_ids_name_no_statement(bad: str) -> None:
    with pytest.raises(errors.NotFound):
        rules.check_statement_id(bad)
    assert rules.check_statement_id("stm_abc") == "stm_abc"


def _line(amount: int, after: int) -> StatementLine:
    return StatementLine("txn_1", "T1", datetime(2026, 11, 3), "DEPOSIT", "", "", amount, after)


def test_figures() -> None:
    head = StatementHeader(
        account_id="acc_1",
        masked_account_number="****1234",
        holder_name="Carol",
        account_type="CHECKING",
        currency="USD",
        period_start=date(2026, 11, 1),
        period_end=date(2026, 11, 30),
        opening_balance_minor=1_000,
        closing_balance_minor=1_450,
        generated_at=datetime(2026, 12, 1, 1, 0),
    )
    lines = [_line(500, 1_500), _line(-100, 1_400), _line(50, 1_450)]
    figures = rules.figures(head, lines)
    assert (figures.credit_count, figures.credit_total_minor) == (2, 550)
    assert (figures.debit_count, figures.debit_total_minor) == (1, 100)
    assert figures.line_count == 3
    record = rules.StatementRecord(
        "stm_1",
        "acc_1",
        "usr_1",
        "****1234",
        "2026-11",
        head.period_start,
        head.period_end,
        "USD",
        figures,
        datetime(2026, 12, 1, 1, 0),
    )
    rules.check_printable(record, 3)
    with pytest.raises(rules.TooLongForPdf):
        rules.check_printable(record, 2)
    assert rules.file_name("acc_1", "2026-11") == "statement_acc_1_2026-11.pdf"
