"""Deposits and withdrawals on PostgreSQL: one round trip through m0025's
functions, and the figures those functions hold are the domain's.

The round trips are counted as messages the database handle sends
(tests.store.test_round_trips._Counter), with every statement already
prepared on the connection (a first call also sends its PREPARE) and the
caller's credentials remembered (as a served call has them).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import peewee
import pytest

from server.domain import limit_checks, limits
from server.store import clock, movement_functions, sql, transfer_function
from server.store.bootstrap import ensure_internal_accounts
from server.store.db import is_postgres
from tests.store.movement_paths import PIN, Deposit, Recorded, Request, Withdrawal, atm, card
from tests.store.test_round_trips import _Counter
from tests.store.transfer_paths import NOW, account, person


@pytest.fixture(autouse=True)
def _postgres(database: peewee.Database, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    if not is_postgres():
        pytest.skip("SQLite keeps the Python path: there is no function")
    ensure_internal_accounts()
    monkeypatch.setattr(clock, "now", lambda sandbox=True: NOW)
    yield


def test_the_functions_figures_are_the_domains() -> None:
    constants = sql.scalar("SELECT bank_movement_constants()")
    assert constants == {
        "per_transaction_atm_withdrawal_max_major": limits.PER_TRANSACTION_ATM_WITHDRAWAL_MAX_MAJOR,
        "daily_atm_withdrawal_major": {
            kind: table[limits.DAILY_ATM_WITHDRAWAL]
            for kind, table in limits.DEFAULT_LIMITS_MAJOR.items()
        },
        "atm_usage_classes": sorted(limits.USAGE_CLASSES[limits.DAILY_ATM_WITHDRAWAL]),
    }
    assert limits.DAILY_ATM_WITHDRAWAL in limits.DAILY_LIMITS
    assert limits.DAILY_ATM_WITHDRAWAL in limits.OVERRIDABLE
    assert limit_checks.LIMIT_WARNING_PERCENT == 80  # m0021's, which m0025 reads


def _messages(database: peewee.Database, monkeypatch: pytest.MonkeyPatch, request: Request) -> int:
    """Messages sent by `request` once warm (the same request run once before)."""
    request.run()  # prepares the statements on this connection
    with pytest.MonkeyPatch.context() as patch:
        counter = _Counter(database, patch)
        answer: Any = request.run()
        assert answer.transaction.status == "COMPLETED"
        return len(counter.texts)


@pytest.mark.parametrize(
    ("kind", "function", "python"),
    [
        ("cash deposit", 1, 4),
        ("check deposit", 1, 6),
        ("branch withdrawal", 1, 4),
        ("ATM withdrawal", 4, 6),
    ],
)
def test_round_trips_before_and_after(
    database: peewee.Database,
    monkeypatch: pytest.MonkeyPatch,
    kind: str,
    function: int,
    python: int,
) -> None:
    owner = person()
    target = account(owner, balance_minor=1_000_000)
    requests: dict[str, Request] = {
        "cash deposit": Deposit(target, 10),
        "check deposit": Deposit(target, 10, method="CHECK"),
        "branch withdrawal": Withdrawal(target, 10),
        "ATM withdrawal": Withdrawal(
            target, 10, method="ATM", location=atm(), card_number=card(target), pin=PIN
        ),
    }
    request = requests[kind]
    assert _messages(database, monkeypatch, request) == function
    with movement_functions.switched_off():
        assert _messages(database, monkeypatch, request) == python


def test_switched_off_by_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """BANK_TRANSFER_FUNCTION=off sends deposits and withdrawals the Python way too."""
    target = account(person())
    monkeypatch.setenv(transfer_function.ENV_SWITCH, "off")
    assert not movement_functions.available()
    with Recorded() as recorded:
        Deposit(target, 10, method="CHECK").run()
        Withdrawal(target, 5).run()
    assert recorded.outcomes == []
    monkeypatch.setenv(transfer_function.ENV_SWITCH, "on")
    with Recorded() as recorded:
        Deposit(target, 10, method="CHECK").run()
        Withdrawal(target, 5).run()
    assert [type(outcome).__name__ for outcome in recorded.outcomes] == ["Posted", "Posted"]
