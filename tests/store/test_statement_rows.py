"""Statement header and lines from the ledger, on both databases."""

from __future__ import annotations

from datetime import date, datetime

import peewee

from server.domain.ids import new_id
from server.domain.statements import check_continuity
from server.store import bootstrap, ledger, statement_rows
from tests.store import rows


def _move(account_id: str, other_id: str, amount_minor: int, when: datetime, text: str) -> str:
    """A posted movement of `amount_minor` into `account_id` (negative: out), dated `when`."""
    txn_id = new_id("txn")
    with ledger.database.atomic():
        locked = ledger.lock_accounts([account_id])
        ledger.post(
            transaction_id=txn_id,
            number=f"TXN{txn_id[-10:].upper()}",
            type_="DEPOSIT" if amount_minor > 0 else "WITHDRAWAL",
            status="COMPLETED",
            currency="USD",
            amount_minor=abs(amount_minor),
            legs=[
                ledger.Leg(account_id, amount_minor, "USD"),
                ledger.Leg(other_id, -amount_minor, "USD"),
            ],
            now=when,
            description=text,
            locked=locked,
        )
    return txn_id


def test_header_and_lines_cover_whole_days_and_chain(database: peewee.Database) -> None:
    bootstrap.ensure_internal_accounts()
    other = bootstrap.internal_account_id("SUSPENSE", "USD")
    owner = rows.customer("Statement Holder")
    account = rows.account(owner, balance_minor=0)
    _move(account, other, 100_00, datetime(2026, 3, 1, 12), "before")
    inside = [
        _move(account, other, 25_50, datetime(2026, 3, 2, 0, 0), "first"),
        _move(account, other, -10_25, datetime(2026, 3, 3, 9), "middle"),
        _move(account, other, 1, datetime(2026, 3, 4, 23, 59, 59), "last"),
    ]
    _move(account, other, 7_00, datetime(2026, 3, 5, 0, 0), "after")

    head = statement_rows.header(account, date(2026, 3, 2), date(2026, 3, 4))
    assert head.opening_balance_minor == 100_00
    assert head.closing_balance_minor == 100_00 + 25_50 - 10_25 + 1
    assert head.holder_name == "Statement Holder"
    assert head.masked_account_number.startswith("****")
    assert len(head.masked_account_number) == 8
    found = list(
        check_continuity(head, statement_rows.lines(account, date(2026, 3, 2), date(2026, 3, 4)))
    )
    assert [line.transaction_id for line in found] == inside
    assert [line.description for line in found] == ["first", "middle", "last"]
    assert found[1].amount_minor == -10_25 and found[1].type == "WITHDRAWAL"
    assert found[0].posted_at == datetime(2026, 3, 2, 0, 0)

    # A period without postings: opening == closing == the balance before it.
    empty = statement_rows.header(account, date(2026, 4, 1), date(2026, 4, 30))
    assert empty.opening_balance_minor == empty.closing_balance_minor == 100_00 + 15_26 + 7_00
    assert list(statement_rows.lines(account, date(2026, 4, 1), date(2026, 4, 30))) == []
    before = statement_rows.header(account, date(2025, 1, 1), date(2025, 1, 31))
    assert before.opening_balance_minor == before.closing_balance_minor == 0


def test_lines_stream_in_chunks(database: peewee.Database, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    bootstrap.ensure_internal_accounts()
    other = bootstrap.internal_account_id("SUSPENSE", "USD")
    account = rows.account(rows.customer("Chunked"), balance_minor=0)
    monkeypatch.setattr(statement_rows, "CHUNK_ROWS", 3)
    made = [_move(account, other, 100 + i, datetime(2026, 5, 1, 10, i), f"n{i}") for i in range(10)]
    with statement_rows.snapshot():
        head = statement_rows.header(account, date(2026, 5, 1), date(2026, 5, 1))
        found = list(
            check_continuity(
                head, statement_rows.lines(account, date(2026, 5, 1), date(2026, 5, 1))
            )
        )
    assert [line.transaction_id for line in found] == made
    assert head.closing_balance_minor == sum(100 + i for i in range(10))
