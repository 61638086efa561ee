"""Migrations, sandbox loading and the ledger's guards, on both databases."""

from __future__ import annotations

from datetime import datetime

import peewee
import pytest

from server.domain.ids import new_id
from server.store import bootstrap, ledger, migrations, sandbox
from server.store.db import is_postgres
from server.store.models import Account, LedgerTransaction, Posting


def _sum_postings(account_id: str) -> int:
    return int(
        Posting.select(peewee.fn.COALESCE(peewee.fn.SUM(Posting.amount_minor), 0))
        .where(Posting.account == account_id)
        .scalar()
    )


def test_migrate_twice_applies_nothing_the_second_time(database: peewee.Database) -> None:
    assert migrations.migrate(database) == []
    assert migrations.applied_versions(database) == {n for n, _, _ in migrations.discover()}


def test_sandbox_load_is_idempotent_and_balanced(database: peewee.Database) -> None:
    first = sandbox.load()
    snapshot = {a.id: a.balance_minor for a in Account.select()}
    second = sandbox.load()
    assert first["accounts"] == len(sandbox.ACCOUNTS)
    assert all(count == 0 for count in second.values())
    assert {a.id: a.balance_minor for a in Account.select()} == snapshot
    # Money is neither created nor lost: all balances sum to zero, and each
    # account's stored balance equals the sum of its postings.
    assert sum(snapshot.values()) == 0
    for account_id, balance in snapshot.items():
        assert balance == _sum_postings(account_id)
    alice_checking = Account.get_by_id(sandbox.account_id("alice", "CHECKING"))
    assert alice_checking.balance_minor == 5_000_00
    assert alice_checking.currency == "USD"
    assert len(alice_checking.account_number) == 10


def test_postings_are_append_only(database: peewee.Database) -> None:
    sandbox.load()
    posting = Posting.select().first()
    with pytest.raises(peewee.DatabaseError), database.atomic():
        Posting.update(amount_minor=1).where(Posting.id == posting.id).execute()
    with pytest.raises(peewee.DatabaseError), database.atomic():
        Posting.delete().where(Posting.id == posting.id).execute()


def test_domain_refuses_unbalanced_postings(database: peewee.Database) -> None:
    with pytest.raises(AssertionError):
        ledger.assert_balanced([ledger.Leg("a", 100, "USD"), ledger.Leg("b", -99, "USD")])
    with pytest.raises(AssertionError):
        ledger.assert_balanced([ledger.Leg("a", 100, "USD"), ledger.Leg("b", -100, "EUR")])
    with pytest.raises(AssertionError):
        ledger.assert_balanced([ledger.Leg("a", 0, "USD"), ledger.Leg("b", 0, "USD")])


@pytest.mark.postgres
@pytest.mark.parametrize("database", ["postgres"], indirect=True)
def test_postgres_refuses_unbalanced_transaction_behind_the_domains_back(
    database: peewee.Database,
) -> None:
    assert is_postgres(database)
    bootstrap.ensure_internal_accounts()
    account_id = bootstrap.internal_account_id("SUSPENSE", "USD")
    txn_id = new_id("txn")
    with pytest.raises(peewee.IntegrityError), database.atomic():
        LedgerTransaction.create(
            id=txn_id,
            number=f"TXNTEST{txn_id[-6:]}",
            type="ADJUSTMENT",
            status="COMPLETED",
            currency="USD",
            amount_minor=1,
            fee_minor=0,
            description="",
            reference="",
            details="{}",
            created_at=datetime(2026, 1, 1),
        )
        Posting.create(
            transaction=txn_id,
            account=account_id,
            currency="USD",
            amount_minor=1,
            balance_after_minor=1,
            created_at=datetime(2026, 1, 1),
        )
    assert LedgerTransaction.get_or_none(LedgerTransaction.id == txn_id) is None
