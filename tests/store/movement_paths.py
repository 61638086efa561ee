"""Running deposits and withdrawals through the Python path and through the
functions of m0025 (server.store.movement_functions) on the same state.

`compare` runs the requests through the use cases with the function switched
off, in a transaction it then rolls back (sequences set back), and again
with it on, on the same state; it asserts the answers (movements or errors)
and every row written are the same once the random ids are named by what
they identify, and that the function handed nothing back. Also cards and
ATMs for withdrawals. PostgreSQL only.
"""

from __future__ import annotations

import dataclasses
import hashlib
import secrets
from collections.abc import Callable, Sequence
from datetime import timedelta
from typing import Any

from server.config import Settings
from server.domain import errors
from server.domain.movements import card_number_hash
from server.domain.passwords import FAST_PREFIX
from server.services import deposits, withdrawals
from server.services.context import RequestContext
from server.store import movement_functions
from server.store.models import Atm, Card
from tests.store.transfer_paths import ADMIN_CONTEXT, NOW, in_rolled_back, names_of, normal

SETTINGS = Settings.from_env({})
PIN = "2468"


@dataclasses.dataclass(frozen=True)
class Deposit:
    account_id: str
    amount: Any
    method: str = "CASH"
    currency: str = ""
    location: str = "Main St branch"
    reference: str = "DEP-1"
    description: str = ""
    context: RequestContext = ADMIN_CONTEXT

    def run(self) -> Any:
        request = deposits.DepositInput(
            account_id=self.account_id,
            amount=self.amount,
            method=self.method,
            currency=self.currency,
            location=self.location,
            reference=self.reference,
            description=self.description,
        )
        return deposits.deposit(request, self.context)


@dataclasses.dataclass(frozen=True)
class Withdrawal:
    account_id: str
    amount: Any
    method: str = "BRANCH"
    currency: str = ""
    location: str = "Main St branch"
    location_country: str = ""
    pin: str = ""
    card_number: str = ""
    description: str = ""
    context: RequestContext = ADMIN_CONTEXT

    def run(self) -> Any:
        request = withdrawals.WithdrawalInput(
            account_id=self.account_id,
            amount=self.amount,
            method=self.method,
            currency=self.currency,
            location=self.location,
            location_country=self.location_country,
            pin=self.pin,
            card_number=self.card_number,
            description=self.description,
        )
        return withdrawals.withdrawal(request, self.context, SETTINGS)


Request = Deposit | Withdrawal


def card(account_id: str, status: str = "ACTIVE") -> str:
    """A card of the account with PIN `PIN` (a hash that costs nothing to check)."""
    number = "4" + "".join(str(secrets.randbelow(10)) for _ in range(15))
    Card.create(
        id=f"card_{secrets.token_hex(8)}",
        account_id=account_id,
        number_hash=card_number_hash(number),
        last4=number[-4:],
        pin_hash=FAST_PREFIX + hashlib.sha256(PIN.encode()).hexdigest(),
        failed_pin_attempts=0,
        status=status,
        created_at=NOW - timedelta(days=5),
    )
    return number


def atm(network: str = "OWN", country: str = "US") -> str:
    atm_id = f"ATM-T{secrets.token_hex(4).upper()}"
    Atm.create(id=atm_id, network=network, country=country, city="Testville")
    return atm_id


def _answers(requests: Sequence[Request]) -> list[Any]:
    answers: list[Any] = []
    for request in requests:
        try:
            answers.append(request.run())
        except errors.BankError as refusal:
            answers.append(refusal)
    return answers


class Recorded:
    """What the functions answered (their Python side), while installed."""

    def __init__(self) -> None:
        self.outcomes: list[Any] = []

    def __enter__(self) -> Recorded:
        self._real = (movement_functions.post_deposit, movement_functions.post_withdrawal)

        def recording(real: Callable[..., Any]) -> Callable[..., Any]:
            def run(*args: Any) -> Any:
                outcome = real(*args)
                self.outcomes.append(outcome)
                return outcome

            return run

        movement_functions.post_deposit = recording(self._real[0])  # type: ignore[assignment]
        movement_functions.post_withdrawal = recording(self._real[1])  # type: ignore[assignment]
        return self

    def __exit__(self, *_: object) -> None:
        movement_functions.post_deposit, movement_functions.post_withdrawal = self._real


def python_path(requests: Sequence[Request]) -> list[Any]:
    with Recorded() as recorded, movement_functions.switched_off():
        answers = _answers(requests)
    assert recorded.outcomes == [], "the Python path called a function"
    return answers


def function_path(requests: Sequence[Request]) -> list[Any]:
    with Recorded() as recorded:
        answers = _answers(requests)
    fallbacks = [o for o in recorded.outcomes if isinstance(o, movement_functions.Fallback)]
    assert not fallbacks, fallbacks
    # A card's refusals come before the function (its checks need the card's row).
    carded = sum(1 for request in requests if getattr(request, "card_number", ""))
    assert len(recorded.outcomes) >= len(requests) - carded, "a request missed its function"
    return answers


def _names(dump: dict[str, list[dict[str, Any]]]) -> dict[str, str]:
    names = names_of(dump)
    for row in dump["holds"]:
        if row["transaction_id"] is not None:
            names[row["id"]] = f"<hold of {names[row['transaction_id']]}>"
    return names


def _normal(value: Any, names: dict[str, str]) -> Any:
    return normal(value, names, keys=True)


def compare(*requests: Request) -> list[Any]:
    """Runs both paths on the current state; asserts they agree; returns the answers."""
    expected, python_rows = in_rolled_back(lambda: python_path(requests))
    answers, function_rows = in_rolled_back(lambda: function_path(requests))
    python_names, function_names = _names(python_rows), _names(function_rows)
    for index, (answer, reference) in enumerate(zip(answers, expected, strict=True)):
        got, want = _normal(answer, function_names), _normal(reference, python_names)
        assert got == want, f"answer {index}:\n function: {got}\n python:   {want}"
    for table, rows in function_rows.items():
        got = sorted(_normal(rows, function_names), key=repr)
        want = sorted(_normal(python_rows[table], python_names), key=repr)
        assert got == want, f"{table}:\n function: {got}\n python:   {want}"
    return answers


def reason(answer: Any) -> str:
    assert isinstance(answer, errors.BankError), answer
    return answer.reason
