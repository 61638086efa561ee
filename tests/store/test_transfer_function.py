"""`bank_post_transfers` (m0021) against the Python path it stands for.

Each case builds a database state, runs `server.services.transfers.transfer`
on it in a transaction that is then rolled back (sequences set back), and
runs `transfer_function.post_transfers` for the same requests on the same
state: the answers (movements or errors) and every row written (journal
rows, postings, balances, history rows, counters, holds, events) must be the
same, once the random ids are named by what they identify. PostgreSQL only:
SQLite has no such function and keeps the Python path.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Callable, Iterator, Sequence
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any, NoReturn

import peewee
import pytest

from server.domain import errors, limit_checks, limits, movements
from server.domain.ids import new_id
from server.domain.money import CURRENCY_EXPONENTS, to_major
from server.domain.principal import ADMIN, AUDITOR, CUSTOMER, Principal
from server.services import transfers
from server.services.context import RequestContext
from server.store import clock, limit_usage, sql, transfer_function, tx
from server.store.bootstrap import ensure_internal_accounts, internal_account_id
from server.store.db import is_postgres
from server.store.models import Account, Hold, User
from server.store.transfer_function import Fallback, FunctionItem
from tests.store.test_round_trips import _Counter

NOW = datetime(2026, 3, 17, 14, 5, 6, 123456)
ADMIN_CONTEXT = RequestContext(
    principal=Principal(client_id="sandbox-client", role=ADMIN, user_id="usr_staff"),
    ip_address="10.0.0.7",
    device="pytest",
    location="Zürich",
)
_SEQUENCES = (
    "transaction_numbers",
    "postings_id_seq",
    "account_entries_id_seq",
    "outbox_events_id_seq",
)
# table -> the query that reads it whole. Postings are compared in
# transaction and account order, by their order within their transaction but
# not by their serial ids: the function writes the postings of a batch's
# overdraft fees last (their income accounts are moved once per batch, after
# every customer account).
_TABLES = {
    "accounts": "SELECT * FROM accounts ORDER BY id",
    "ledger_transactions": "SELECT * FROM ledger_transactions ORDER BY number",
    "postings": (
        "SELECT p.transaction_id, p.account_id, p.currency, p.amount_minor,"
        " p.balance_after_minor, p.created_at,"
        " row_number() OVER (PARTITION BY p.transaction_id ORDER BY p.id) AS position"
        " FROM postings p"
        " JOIN ledger_transactions t ON t.id = p.transaction_id ORDER BY t.number, p.account_id"
    ),
    "account_entries": "SELECT * FROM account_entries ORDER BY id",
    "limit_usage": "SELECT * FROM limit_usage ORDER BY account_id, limit_class, period",
    "outbox_events": "SELECT * FROM outbox_events ORDER BY id",
    "holds": "SELECT * FROM holds ORDER BY id",
}


@pytest.fixture(autouse=True)
def _postgres(database: peewee.Database, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    if not is_postgres():
        pytest.skip("SQLite keeps the Python path: there is no function to compare")
    ensure_internal_accounts()
    monkeypatch.setattr(clock, "now", lambda sandbox=True: NOW)
    yield


# -- the state each case starts from ---------------------------------------------


def person(name: str = "Ada Lovelace") -> str:
    user_id = new_id("usr")
    User.create(
        id=user_id,
        email=f"{user_id}@example.test",
        name=name,
        password_hash="x",
        role="CUSTOMER",
        status="ACTIVE",
        created_at=NOW - timedelta(days=30),
        updated_at=NOW - timedelta(days=30),
    )
    return user_id


def account(owner: str | None, balance_minor: int = 500_000, **values: Any) -> str:
    account_id = new_id("acc")
    fields: dict[str, Any] = {
        "kind": "CUSTOMER",
        "type": "CHECKING",
        "currency": "USD",
        "status": "ACTIVE",
        "held_minor": 0,
        "overdraft_limit_minor": 0,
        "limit_overrides": "{}",
        "pending_debits_minor": 0,
        "name": "Everyday",
    }
    fields.update(values)
    Account.create(
        id=account_id,
        account_number=f"7{abs(hash(account_id)) % 10**9:09d}",
        owner=owner,
        balance_minor=balance_minor,
        created_at=NOW - timedelta(days=20),
        updated_at=NOW - timedelta(days=20),
        country="US",
        **fields,
    )
    return account_id


def used(account_id: str, daily: int = 0, monthly: int = 0, klass: str = "TRANSFER") -> None:
    """Counters of today and of this month, as earlier debits left them."""
    for period, amount_minor in (
        (limit_usage.day_key(NOW), daily),
        (limit_usage.month_key(NOW), monthly),
    ):
        sql.execute(
            'INSERT INTO "limit_usage" ("account_id", "limit_class", "period", "used_minor")'
            ' VALUES (?, ?, ?, ?) ON CONFLICT ("account_id", "limit_class", "period")'
            ' DO UPDATE SET "used_minor" = "limit_usage"."used_minor" + excluded."used_minor"',
            (account_id, klass, period, amount_minor),
        )


def hold(account_id: str, amount_minor: int, release_at: datetime) -> None:
    Hold.create(
        id=new_id("hold"),
        account_id=account_id,
        amount_minor=amount_minor,
        currency="USD",
        reason="DEPOSIT",
        status="PENDING",
        description="Check deposit",
        release_at=release_at,
        created_at=NOW - timedelta(days=3),
    )
    Account.update(held_minor=Account.held_minor + amount_minor).where(
        Account.id == account_id
    ).execute()


# -- running both paths on the same state ------------------------------------------


@dataclasses.dataclass(frozen=True)
class Request:
    from_id: str
    to_id: str
    amount: Any
    currency: str = ""
    description: str = "Rent"
    reference: str = "INV-7"
    context: RequestContext = ADMIN_CONTEXT

    def python_input(self) -> transfers.TransferInput:
        return transfers.TransferInput(
            from_account_id=self.from_id,
            to_account_id=self.to_id,
            amount=self.amount,
            currency=self.currency,
            description=self.description,
            reference=self.reference,
        )

    def item(self) -> FunctionItem:
        principal = self.context.principal
        return FunctionItem(
            from_account_id=self.from_id,
            to_account_id=self.to_id,
            amount=self.amount,
            currency=self.currency,
            description=self.description,
            reference=self.reference,
            client_id=principal.client_id,
            viewer=FunctionItem.viewer_of(principal),
            can_write=principal.role != AUDITOR,
            metadata=self.context.metadata(),
        )


def _sequences() -> dict[str, tuple[int, bool]]:
    return {
        name: tuple(sql.execute(f"SELECT last_value, is_called FROM {name}").fetchone())
        for name in _SEQUENCES
    }


def _dump() -> dict[str, list[dict[str, Any]]]:
    dump = {}
    for table, query in _TABLES.items():
        cursor = sql.execute(query)
        names = [column[0] for column in cursor.description]
        dump[table] = [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]
    return dump


def _in_rolled_back(run: Callable[[], Any]) -> tuple[Any, dict[str, list[dict[str, Any]]]]:
    """`run`'s answer and the tables after it, then undone, sequences included."""
    before = _sequences()
    database = sql.database
    with database.atomic() as block:
        answer = run()
        dump = _dump()
        block.rollback()
    for name, (value, called) in before.items():
        sql.execute(f"SELECT setval('{name}', ?, ?)", (value, called))
    return answer, dump


def _python(requests: Sequence[Request]) -> list[Any]:
    """The Python path: `transfers.transfer` with the function switched off."""
    answers: list[Any] = []

    def not_here(*_: object) -> NoReturn:
        raise AssertionError("the Python path called the function")

    function = transfer_function.post_transfers
    transfer_function.post_transfers = not_here  # type: ignore[assignment]
    try:
        with transfer_function.switched_off():
            for request in requests:
                try:
                    answers.append(transfers.transfer(request.python_input(), request.context))
                except errors.BankError as refusal:
                    answers.append(refusal)
    finally:
        transfer_function.post_transfers = function
    return answers


def _function(requests: Sequence[Request]) -> list[Any]:
    results = tx.write(lambda: transfer_function.post_transfers([r.item() for r in requests], NOW))
    return [r.movement() if isinstance(r, transfer_function.Posted) else r for r in results]


def _names(dump: dict[str, list[dict[str, Any]]]) -> dict[str, str]:
    """Each random id written, named by what it identifies."""
    names = {}
    for row in dump["ledger_transactions"]:
        names[row["id"]] = f"<txn {row['number']}>"
    for position, row in enumerate(dump["outbox_events"]):
        names[row["event_id"]] = f"<evt {position} {row['type']}>"
    return names


def _normal(value: Any, names: dict[str, str]) -> Any:
    if isinstance(value, str):
        for raw, name in names.items():
            value = value.replace(raw, name)
        return value
    if isinstance(value, dict):
        return {key: _normal(item, names) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_normal(item, names) for item in value]
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return _normal(dataclasses.asdict(value), names)
    if isinstance(value, errors.BankError):
        return {
            "class": type(value).__name__,
            "reason": value.reason,
            "message": value.message,
            "field": value.field,
            "metadata": value.metadata,
        }
    return value


def compare(*requests: Request) -> list[Any]:
    """Runs both paths on the current state; asserts they agree; returns the answers."""
    expected, python_rows = _in_rolled_back(lambda: _python(requests))
    answers, function_rows = _in_rolled_back(lambda: _function(requests))
    assert not any(isinstance(answer, Fallback) for answer in answers), answers
    python_names, function_names = _names(python_rows), _names(function_rows)
    assert _normal(answers, function_names) == _normal(expected, python_names)
    for table in _TABLES:
        assert _normal(function_rows[table], function_names) == _normal(
            python_rows[table], python_names
        ), table
    return answers


def _reason(answer: Any) -> str:
    assert isinstance(answer, errors.BankError), answer
    return answer.reason


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
    assert [_reason(answer) for answer in answers] == ["TXN002"] * 7
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
    assert [_reason(answer) for answer in answers] == ["TXN006"] * 3 + ["TXN005"] * 11
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
    assert [_reason(answer) for answer in answers] == ["FORBIDDEN", "TXN003", "TXN003", "FORBIDDEN"]


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
    assert [_reason(answer) for answer in answers] == [
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
    _, rows = _in_rolled_back(lambda: _function([Request(source, target, 1_500)]))
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
    assert [_reason(answer) for answer in answers] == ["TXN001"] * 4
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
    assert _reason(refused) == "TXN001"
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
    assert _reason(answers[3]) == "TXN001"


def test_names_beyond_ascii_fall_back_to_the_python_path() -> None:
    source, target = account(person()), account(person("Zoë Ölund"))
    results, rows = _in_rolled_back(
        lambda: tx.write(
            lambda: transfer_function.post_transfers([Request(source, target, 1).item()], NOW)
        )
    )
    assert results == [Fallback("holder name beyond ASCII")]
    assert not any(row["from_account_id"] == source for row in rows["ledger_transactions"])
    with transfer_function.switched_off():
        assert not transfer_function.available()
    assert transfer_function.available()


def test_unreadable_limit_overrides_fall_back() -> None:
    owner = person()
    source = account(owner, limit_overrides='{"daily_transfer": 12.5}')
    results, _ = _in_rolled_back(
        lambda: tx.write(
            lambda: transfer_function.post_transfers(
                [Request(source, account(owner), 1).item()], NOW
            )
        )
    )
    assert results == [Fallback("unreadable limit overrides")]


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


# -- the figures the function holds ---------------------------------------------------


def test_the_functions_figures_are_the_domains() -> None:
    constants = sql.scalar("SELECT bank_transfer_constants()")
    types = limits.DEFAULT_LIMITS_MAJOR
    assert constants == {
        "exponents": CURRENCY_EXPONENTS,
        "limits_major": {
            kind: {
                limits.DAILY_TRANSFER: table[limits.DAILY_TRANSFER],
                limits.MONTHLY_TRANSFER: table[limits.MONTHLY_TRANSFER],
            }
            for kind, table in types.items()
        },
        "per_transaction_internal_transfer_max_major": (
            limits.PER_TRANSACTION_INTERNAL_TRANSFER_MAX_MAJOR
        ),
        "per_transaction_min_cents": limits.PER_TRANSACTION_MIN_CENTS,
        "transfer_usage_classes": sorted(limits.USAGE_CLASSES[limits.DAILY_TRANSFER]),
        "warning_percent": limit_checks.LIMIT_WARNING_PERCENT,
        "overdraft_fee_minor": movements.OVERDRAFT_FEE_MINOR,
        "overdraft_types": sorted(movements.OVERDRAFT_ACCOUNT_TYPES),
        "fee_income_accounts": {
            currency: internal_account_id("FEE_INCOME", currency) for currency in CURRENCY_EXPONENTS
        },
    }
    assert (
        limits.USAGE_CLASSES[limits.DAILY_TRANSFER] == limits.USAGE_CLASSES[limits.MONTHLY_TRANSFER]
    )
    assert set(limits.OVERRIDABLE) >= {
        limits.DAILY_TRANSFER,
        limits.MONTHLY_TRANSFER,
        limits.PER_TRANSACTION_INTERNAL_TRANSFER_MAX,
    }


@pytest.mark.parametrize("currency", ["USD", "JPY"])
def test_major_text_is_how_python_writes_the_float(currency: str) -> None:
    values = [1, 5, 10, 33, 99, 100, 101, 110, 3500, 12_345, 500_000, 10**9 + 7, 10**13, 10**13 - 1]
    places = CURRENCY_EXPONENTS[currency]
    texts = sql.execute(
        "SELECT bank_major_text(v, ?) FROM unnest(?::bigint[]) AS v", (places, values)
    ).fetchall()
    assert [text for (text,) in texts] == [json.dumps(to_major(v, currency)) for v in values]
