"""Running `transfers.transfer` and `bank_post_transfers` on the same state.

`compare` runs the Python path (the function switched off) in a transaction
it then rolls back, sequences set back, and `transfer_function.post_transfers`
for the same requests on the same state; it asserts that the answers
(movements or errors) and every row written (journal rows, postings,
balances, history rows, counters, holds, events) are the same, once the
random ids are named by what they identify. Also the factories of the state
(customers, accounts, counters, holds). PostgreSQL only.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from typing import Any, NoReturn

from server.domain import errors
from server.domain.ids import new_id
from server.domain.principal import ADMIN, AUDITOR, Principal
from server.services import screening, transfers
from server.services.context import Posted, RequestContext
from server.store import limit_usage, sql, transfer_function, tx
from server.store.db import database
from server.store.models import Account, Hold, User
from server.store.transfer_function import Fallback, FunctionItem

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
        # The metadata transfers.transfer writes: the context as fraud
        # screening marked it (no rules here: decided without lookups).
        screened = screening.without_lookups(self.context)
        assert screened is not None, "the store tests load no risk rules"
        context = screened.marked(self.context)
        principal = context.principal
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
            metadata=context.metadata(),
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


def in_rolled_back(run: Callable[[], Any]) -> tuple[Any, dict[str, list[dict[str, Any]]]]:
    """`run`'s answer and the tables after it, then undone, sequences included."""
    before = _sequences()
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


def function_path(requests: Sequence[Request]) -> list[Any]:
    results = tx.write(lambda: transfer_function.post_transfers([r.item() for r in requests], NOW))
    return [r.movement() if isinstance(r, Posted) else r for r in results]


def names_of(dump: dict[str, list[dict[str, Any]]]) -> dict[str, str]:
    """Each random id written, named by what it identifies."""
    names = {}
    for row in dump["ledger_transactions"]:
        names[row["id"]] = f"<txn {row['number']}>"
    for position, row in enumerate(dump["outbox_events"]):
        names[row["event_id"]] = f"<evt {position} {row['type']}>"
    return names


def normal(value: Any, names: dict[str, str], *, keys: bool = False) -> Any:
    """`value` with each random id replaced by its name; `keys`: in mapping keys too."""
    if isinstance(value, str):
        for raw, name in names.items():
            value = value.replace(raw, name)
        return value
    if isinstance(value, dict):
        return {
            (normal(key, names) if keys else key): normal(item, names, keys=keys)
            for key, item in value.items()
        }
    if isinstance(value, list | tuple):
        return [normal(item, names, keys=keys) for item in value]
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return normal(dataclasses.asdict(value), names, keys=keys)
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
    expected, python_rows = in_rolled_back(lambda: _python(requests))
    answers, function_rows = in_rolled_back(lambda: function_path(requests))
    assert not any(isinstance(answer, Fallback) for answer in answers), answers
    python_names, function_names = names_of(python_rows), names_of(function_rows)
    assert normal(answers, function_names) == normal(expected, python_names)
    for table in _TABLES:
        assert normal(function_rows[table], function_names) == normal(
            python_rows[table], python_names
        ), table
    answered: list[Any] = answers
    return answered


def reason(answer: Any) -> str:
    assert isinstance(answer, errors.BankError), answer
    return answer.reason
