"""Reports' pure rules: periods and their refusals (with field names), group keys
(ISO weeks across year ends), time groups and their closing balances."""

from __future__ import annotations

from datetime import date

import pytest

from server.domain import errors
from server.domain import reports as rules
from server.domain.reports import Period, Totals

TODAY = date(2025, 11, 9)


def _refused(call, field: str, kind: type[errors.BankError] = errors.ValidationFailed) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(kind) as caught:
        call()
    assert caught.value.field == field


def test_daily_period() -> None:
    assert rules.daily_period("", TODAY) == Period(TODAY, TODAY)
    assert rules.daily_period("2025-11-01", TODAY) == Period(date(2025, 11, 1), date(2025, 11, 1))
    for bad in ("2025-11-10", "2025-13-01", "2025-02-30", "11/09/2025", "2025-1-1", "today"):
        _refused(lambda bad=bad: rules.daily_period(bad, TODAY), "date")


def test_monthly_period_runs_to_today_in_the_current_month() -> None:
    assert rules.monthly_period("", TODAY) == Period(date(2025, 11, 1), TODAY)
    assert rules.monthly_period("2025-02", TODAY) == Period(date(2025, 2, 1), date(2025, 2, 28))
    assert rules.monthly_period("2024-02", TODAY).last == date(2024, 2, 29)
    for bad in ("2025-12", "2025-13", "2025-1", "202511", "November"):
        _refused(lambda bad=bad: rules.monthly_period(bad, TODAY), "month")


def test_custom_period() -> None:
    assert rules.custom_period("2025-01-01", "2025-11-09", TODAY).days()[0] == date(2025, 1, 1)
    stamp = rules.custom_period("2025-11-08T23:30:00-02:00", "2025-11-09", TODAY)
    assert stamp.first == date(2025, 11, 9)  # an RFC 3339 timestamp's UTC day
    assert len(rules.custom_period("2024-11-09", "2025-11-08", TODAY).days()) == 365
    assert len(rules.custom_period("2024-11-08", "2025-11-08", TODAY).days()) == 366
    _refused(lambda: rules.custom_period("2024-11-07", "2025-11-08", TODAY), "date_range")
    _refused(lambda: rules.custom_period("", "2025-11-08", TODAY), "date_range.from")
    _refused(lambda: rules.custom_period("2025-11-01", "", TODAY), "date_range.to")
    _refused(lambda: rules.custom_period("2025-11-05", "2025-11-04", TODAY), "date_range.from")
    _refused(lambda: rules.custom_period("2025-11-05", "2025-11-10", TODAY), "date_range.to")
    _refused(lambda: rules.custom_period("2025-11-32", "2025-11-09", TODAY), "date_range.from")


def test_request_lists_and_format() -> None:
    assert rules.file_format("") == "json" and rules.file_format("XLSX") == "xlsx"
    _refused(lambda: rules.file_format("docx"), "format", errors.InvalidRequest)
    _refused(lambda: rules.account_list([f"acc_{n}" for n in range(51)]), "account_ids")
    _refused(lambda: rules.account_list(["acc_a", "acc_a"]), "account_ids[1]")
    _refused(lambda: rules.account_list(["usr_a"]), "account_ids[0]")
    assert rules.type_list(["TRANSFER", "FEE"]) == ["FEE", "TRANSFER"]
    _refused(lambda: rules.type_list(["FEE", "FEE"]), "types")
    _refused(lambda: rules.currency_of("XYZ"), "currency")
    assert rules.currency_of("eur") == "EUR"


def test_iso_week_keys_across_year_ends() -> None:
    assert rules.week_key(date(2025, 11, 9)) == "2025-W45"
    assert rules.week_key(date(2024, 12, 30)) == "2025-W01"  # Monday of 2025's first week
    assert rules.week_key(date(2021, 1, 3)) == "2020-W53"
    keys = rules.time_keys(rules.WEEK, Period(date(2024, 12, 28), date(2025, 1, 6)))
    assert [k for k, _ in keys] == ["2024-W52", "2025-W01", "2025-W02"]
    assert keys[1][1] == date(2025, 1, 5)  # the last day of the period in that week
    assert rules.time_key(rules.MONTH, date(2025, 2, 3)) == "2025-02"


def test_time_groups_list_every_key_and_run_closing_balances_back() -> None:
    period = Period(date(2025, 10, 30), date(2025, 11, 2))
    per_day = {
        date(2025, 10, 30): Totals(transactions=1, credit_minor=500, credits=1),
        date(2025, 11, 2): Totals(transactions=2, debit_minor=200, debits=2, fees_minor=35),
    }
    groups = rules.time_groups(rules.DAY, period, per_day, closing_minor=1_300)
    assert [g.key for g in groups] == ["2025-10-30", "2025-10-31", "2025-11-01", "2025-11-02"]
    assert [g.closing_minor for g in groups] == [1_500, 1_500, 1_500, 1_300]
    months = rules.time_groups(rules.MONTH, period, per_day, closing_minor=1_300)
    assert [(g.key, g.totals.net_minor, g.closing_minor) for g in months] == [
        ("2025-10", 500, 1_500),
        ("2025-11", -200, 1_300),
    ]
    # With some types only, balances move by every posting (day_nets).
    typed = rules.time_groups(
        rules.MONTH, period, per_day, closing_minor=1_300, day_nets={date(2025, 11, 1): -50}
    )
    assert [g.closing_minor for g in typed] == [1_350, 1_300]


def test_stored_figures_round_trip() -> None:
    figures = rules.Figures(
        currency="USD",
        summary=Totals(3, 100, 250, 1, 2, 35),
        by_type=[("FEE", Totals(1, 35, 0, 1, 0, 35))],
        groups=[rules.Group("2025-11-09", Totals(3, 100, 250, 1, 2, 35), 1_000)],
        opening_minor=850,
        closing_minor=1_000,
        failed=1,
        cancelled=2,
        holds_count=1,
        holds_minor=25_000,
    )
    assert rules.figures_from(rules.figures_dict(figures)) == figures
