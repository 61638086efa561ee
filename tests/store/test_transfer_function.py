"""`bank_post_transfers` (m0021) against the Python path it stands for.

Each case builds a database state and runs both paths on it
(tests.store.transfer_paths.compare): the same answers, the same rows.
PostgreSQL only: SQLite has no such function and keeps the Python path.
"""

from __future__ import annotations

import json
import random
import threading
from collections.abc import Iterator
from datetime import timedelta
from decimal import Decimal

import peewee
import pytest

from server.domain import limits
from server.domain.principal import AUDITOR, CUSTOMER, Principal
from server.services.context import Posted, RequestContext
from server.store import clock, sql, transfer_function, tx
from server.store.bootstrap import ensure_internal_accounts, internal_account_id
from server.store.db import is_postgres
from server.store.transfer_function import Fallback
from tests.store.test_round_trips import _Counter
from tests.store.transfer_paths import (
    NOW,
    Request,
    account,
    compare,
    function_path,
    hold,
    in_rolled_back,
    person,
    reason,
    used,
)


@pytest.fixture(autouse=True)
def _postgres(database: peewee.Database, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    if not is_postgres():
        pytest.skip("SQLite keeps the Python path: there is no function to compare")
    ensure_internal_accounts()
    monkeypatch.setattr(clock, "now", lambda sandbox=True: NOW)
    yield


# -- the cases ---------------------------------------------------------------------------


def test_a_transfer_posts_what_the_python_path_posts() -> None:
    owner = person()
    source, destination = account(owner), account(person("Bob Builder"), type="SAVINGS")
    (movement,) = compare(Request(source, destination, 123.45))
    assert movement.transaction.status == "COMPLETED"
    assert movement.from_account.balance_after_minor == 500_000 - 12_345
    # the amount as the wire gives it, in every form TransferInput takes
    compare(Request(source, destination, 7, currency=" usd ", description="", reference=""))
    compare(Request(source, destination, "0.10"), Request(source, destination, Decimal("2.5")))


def test_unknown_foreign_and_internal_accounts_are_not_found() -> None:
    owner, other = person(), person("Eve Other")
    mine, theirs = account(owner), account(other)
    internal = internal_account_id("CASH_VAULT", "USD")
    customer = RequestContext(principal=Principal(client_id="app", role=CUSTOMER, user_id=owner))
    clientless = RequestContext(principal=Principal(client_id="app", role=CUSTOMER))
    answers = compare(
        Request("acc_missing", mine, 1),
        Request(mine, "acc_missing", 1),
        Request(theirs, mine, 1, context=customer),  # someone else's source
        Request(internal, mine, 1),
        Request(mine, internal, 1),
        Request(mine, theirs, 1, context=clientless),
        Request("x" * 80, mine, 1),
    )
    assert [reason(answer) for answer in answers] == ["TXN002"] * 7
    assert [answer.field for answer in answers[:5]] == [
        "fromAccountId",
        "toAccountId",
        "fromAccountId",
        "fromAccountId",
        "toAccountId",
    ]
    # a customer may pay anyone from an account of their own
    (paid,) = compare(Request(mine, theirs, 1, context=customer))
    assert paid.transaction.status == "COMPLETED"


def test_currency_and_amount_refusals() -> None:
    owner = person()
    source, euro = account(owner), account(owner, currency="EUR")
    yen_source, yen = account(owner, currency="JPY"), account(owner, currency="JPY")
    answers = compare(
        Request(source, euro, 5),  # destination in another currency
        Request(source, euro, 5, currency="EUR"),  # the source's currency only
        Request(source, euro, 5, currency="XYZ"),
        Request(source, euro, 0.001),  # the amount comes before the destination's currency
        *(
            Request(source, account(owner), amount)
            for amount in (0.001, 0, -5, float("nan"), float("inf"), 1e14, True, "abc", None)
        ),
        Request(yen_source, yen, 1500.5),
    )
    assert [reason(answer) for answer in answers] == ["TXN006"] * 3 + ["TXN005"] * 11
    assert answers[0].field == "toAccountId" and answers[1].field == "currency"
    (posted,) = compare(Request(yen_source, yen, 1500))
    assert posted.transaction.amount_minor == 1500


def test_read_only_callers_and_inactive_accounts() -> None:
    owner = person()
    active = account(owner)
    frozen = account(owner, status="FROZEN")
    closed = account(owner, status="CLOSED")
    auditor = RequestContext(principal=Principal(client_id="audit", role=AUDITOR))
    answers = compare(
        Request(active, account(owner), 1, context=auditor),
        Request(frozen, active, 1),
        Request(active, closed, 1),
        Request(frozen, closed, 1, context=auditor),  # require_write comes first
    )
    assert [reason(answer) for answer in answers] == ["FORBIDDEN", "TXN003", "TXN003", "FORBIDDEN"]


def test_per_transaction_and_periodic_limits() -> None:
    owner = person()
    plain, target = account(owner, balance_minor=10**9), account(owner)
    capped = account(
        owner,
        limit_overrides=limits.dump_overrides({"per_transaction_internal_transfer_max": 50_00}),
    )
    raised = account(
        owner,
        balance_minor=10**9,
        type="BUSINESS",
        limit_overrides=limits.dump_overrides(
            {"daily_transfer": 80_000_00, "monthly_transfer": 90_000_00}
        ),
    )
    daily_full, monthly_full = account(owner), account(owner, type="SAVINGS")
    used(daily_full, daily=9_990_00, monthly=9_990_00)
    used(daily_full, daily=0, monthly=1, klass="ATM")  # another limit's
    used(monthly_full, daily=0, monthly=19_990_00, klass="EXTERNAL_TRANSFER")
    answers = compare(
        Request(plain, target, 10_000.01),
        Request(capped, target, 50.01),
        Request(daily_full, target, 10.01),
        Request(monthly_full, target, 10.01),
        Request(raised, target, 60_000),  # over the type's per-transaction max
    )
    assert [reason(answer) for answer in answers] == [
        "TXN005",
        "TXN005",
        "TXN004",
        "TXN004",
        "TXN005",
    ]
    assert answers[3].metadata["limit"] == "monthly_transfer"
    posted = compare(Request(capped, target, 50), Request(daily_full, target, 10))
    assert all(answer.transaction.status == "COMPLETED" for answer in posted)


def test_limit_approaching_is_written_by_the_debit_that_crosses_80_percent() -> None:
    owner = person()
    source, target = account(owner, balance_minor=10**8), account(owner)
    used(source, daily=7_000_00, monthly=39_000_00)
    compare(Request(source, target, 999.99))  # just short of both thresholds
    compare(Request(source, target, 1_000))  # both reach 80% exactly
    _, rows = in_rolled_back(lambda: function_path([Request(source, target, 1_500)]))
    approaching = [row for row in rows["outbox_events"] if row["type"] == "limit.approaching"]
    assert [json.loads(row["payload"])["data"]["limit"] for row in approaching] == [
        "daily_transfer",
        "monthly_transfer",
    ]
    used(source, daily=1_500_00, monthly=1_500_00)  # past the threshold already: no second warning
    compare(Request(source, target, 100))
    at_threshold = account(owner, balance_minor=10**8)
    used(at_threshold, daily=8_000_00, monthly=40_000_00)  # reached by earlier debits
    compare(Request(at_threshold, target, 1))


def test_funds_and_the_overdraft_fee() -> None:
    owner = person()
    target = account(owner)
    savings = account(owner, balance_minor=100_00, type="SAVINGS")
    lined = account(owner, balance_minor=100_00, overdraft_limit_minor=500_00)
    unlined = account(owner, balance_minor=100_00)
    pending = account(owner, balance_minor=100_00, pending_debits_minor=60_00)
    answers = compare(
        Request(savings, target, 100.01),
        Request(unlined, target, 100.01),  # the fee it would cost counts
        Request(pending, target, 40.01),
        Request(lined, target, 565.01),  # 565.00 + 35.00 fee = the line
    )
    assert [reason(answer) for answer in answers] == ["TXN001"] * 4
    (charged,) = compare(Request(lined, target, 565))
    assert charged.overdraft_fee_transaction_id is not None
    assert charged.from_account.balance_after_minor == 100_00 - 565_00
    # the whole balance, to zero: no fee
    (exact,) = compare(Request(savings, target, 100))
    assert exact.overdraft_fee_transaction_id is None


def test_overdraft_fees_in_two_currencies_in_one_batch() -> None:
    owner = person()
    usd, usd_target = account(owner, 10_00, overdraft_limit_minor=100_00), account(owner)
    eur = account(owner, 10_00, currency="EUR", overdraft_limit_minor=100_00, type="BUSINESS")
    eur_target = account(owner, currency="EUR")
    answers = compare(
        Request(eur, eur_target, 20),
        Request(usd, usd_target, 20),
        Request(eur, eur_target, 1),  # a second fee to the same income account
    )
    assert all(answer.overdraft_fee_transaction_id for answer in answers)


def test_due_holds_are_released_before_the_funds_check() -> None:
    owner = person()
    source, target = account(owner, balance_minor=300_00), account(owner)
    hold(source, 150_00, NOW - timedelta(hours=1))  # due
    hold(source, 50_00, NOW)  # due this very moment
    hold(source, 50_00, NOW + timedelta(days=1))  # not yet
    (refused,) = compare(Request(source, target, 250.01))  # refused: the release is undone
    assert reason(refused) == "TXN001"
    (posted,) = compare(Request(source, target, 250))
    assert posted.transaction.status == "COMPLETED"


def test_a_refusal_in_a_batch_leaves_its_neighbours_posted() -> None:
    owner = person()
    source, target, poor = account(owner), account(owner), account(owner, balance_minor=1_00)
    answers = compare(
        Request(source, target, 10),
        Request(poor, target, 5),
        Request(target, source, 3),
    )
    assert [type(answer).__name__ for answer in answers] == [
        "Movement",
        "InsufficientFunds",
        "Movement",
    ]


def test_items_on_the_same_accounts_chain_their_balances() -> None:
    owner = person()
    a, b = account(owner, balance_minor=100_00), account(owner, balance_minor=0)
    answers = compare(
        Request(a, b, 60),
        Request(a, b, 30),
        Request(b, a, 5),
        Request(a, b, 20),  # 100 - 60 - 30 + 5 = 15 left: refused
    )
    assert [answer.from_account.balance_after_minor for answer in answers[:3]] == [
        40_00,
        10_00,
        85_00,
    ]
    assert reason(answers[3]) == "TXN001"


def test_names_beyond_ascii_fall_back_to_the_python_path() -> None:
    source, target = account(person()), account(person("Zoë Ölund"))
    results, rows = in_rolled_back(
        lambda: tx.write(
            lambda: transfer_function.post_transfers([Request(source, target, 1).item()], NOW)
        )
    )
    assert results == [Fallback("holder name beyond ASCII")]
    assert not any(row["from_account_id"] == source for row in rows["ledger_transactions"])
    with transfer_function.switched_off():
        assert not transfer_function.available()
    assert transfer_function.available()


def test_unreadable_limit_overrides_and_unholdable_texts_fall_back() -> None:
    owner = person()
    target = account(owner)
    halves = account(owner, limit_overrides='{"daily_transfer": 12.5}')
    garbled = account(owner, limit_overrides="not json")
    words = account(owner, limit_overrides='{"daily_transfer": "100"}')
    fine = account(owner)
    items = [
        Request(halves, target, 1).item(),
        Request(garbled, target, 1).item(),
        Request(words, target, 1).item(),
        Request(fine, target, 1, description="nul \x00 inside").item(),
        Request(fine, target, 1, reference="\ud800").item(),
        Request(fine, fine, 1).item(),
        Request(fine, target, 2).item(),
    ]
    results, rows = in_rolled_back(
        lambda: tx.write(lambda: transfer_function.post_transfers(items, NOW))
    )
    unread, not_sent = Fallback("unreadable limit overrides"), Fallback(transfer_function.NOT_SENT)
    assert results[:6] == [unread] * 3 + [not_sent] * 3
    assert isinstance(results[6], Posted)
    assert [
        row["amount_minor"]
        for row in rows["ledger_transactions"]
        if row["from_account_id"] in (halves, garbled, words, fine)
    ] == [200]


def test_a_batch_is_one_round_trip(
    database: peewee.Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    owner = person()
    a, b = account(owner), account(owner)
    counter = _Counter(database, monkeypatch)
    items = [Request(a, b, 1).item(), Request(b, a, 2).item(), Request(a, "acc_none", 1).item()]
    results = tx.write(lambda: transfer_function.post_transfers(items, NOW))
    assert [type(result).__name__ for result in results] == ["Posted", "Posted", "AccountNotFound"]
    # BEGIN and the function's call, then COMMIT
    assert len(counter.texts) == 2
    assert counter.texts[0].startswith("BEGIN; ") and "EXECUTE" in counter.texts[0]
    assert transfer_function.post_transfers([], NOW) == []


def test_switched_off_by_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(transfer_function.ENV_SWITCH, "off")
    assert not transfer_function.available()
    monkeypatch.setenv(transfer_function.ENV_SWITCH, "on")
    assert transfer_function.available()


def test_concurrent_batches_never_deadlock(monkeypatch: pytest.MonkeyPatch) -> None:
    """Batches over the same accounts in every order, with overdraft fees in two
    currencies (two income accounts), from several connections at once."""
    owner = person()
    usd = [account(owner, 50_00, overdraft_limit_minor=10**6) for _ in range(3)]
    eur = [account(owner, 50_00, currency="EUR", overdraft_limit_minor=10**6) for _ in range(3)]
    conflicts: list[BaseException] = []
    retryable = tx._retryable

    def recording(exc: BaseException) -> bool:
        conflicts.append(exc)
        return retryable(exc)

    monkeypatch.setattr(tx, "_retryable", recording)
    before = dict(sql.execute("SELECT id, balance_minor FROM accounts").fetchall())
    last_posting = sql.scalar("SELECT coalesce(max(id), 0) FROM postings")
    failures: list[BaseException] = []

    def client(seed: int) -> None:
        rng = random.Random(seed)  # noqa: S311 - a test's mix, not a secret
        try:
            for _ in range(12):
                requests = []
                for _ in range(8):
                    pair = rng.sample(rng.choice([usd, eur]), 2)
                    requests.append(Request(pair[0], pair[1], rng.randint(1, 90)).item())
                results = tx.write(
                    lambda batch=requests: transfer_function.post_transfers(batch, NOW)
                )
                assert all(isinstance(result, Posted) for result in results), results
        except BaseException as failure:
            failures.append(failure)
        finally:
            sql.database.close()

    threads = [threading.Thread(target=client, args=(seed,)) for seed in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert failures == [] and conflicts == []
    after = dict(sql.execute("SELECT id, balance_minor FROM accounts").fetchall())
    moved = dict(
        sql.execute(
            "SELECT account_id, sum(amount_minor) FROM postings WHERE id > ? GROUP BY account_id",
            (last_posting,),
        ).fetchall()
    )
    assert {a: after[a] - before[a] for a in after if after[a] != before[a]} == {
        a: int(total) for a, total in moved.items() if total
    }
    fees = sql.scalar("SELECT count(*) FROM ledger_transactions WHERE type = 'FEE'")
    assert fees > 0  # the income accounts were moved
