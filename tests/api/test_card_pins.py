"""Three wrong PINs lock a card, with or without an Idempotency-Key.

With a key the whole request is one database transaction that rolls back
when the PIN is wrong; the count of wrong PINs must survive it. Each test
uses a card of its own (the sandbox cards serve other tests).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable

import grpc
import pytest

from backoffice.v1 import transaction_pb2 as tpb
from backoffice.v1 import transaction_service_pb2 as pb
from backoffice.v1 import transaction_service_pb2_grpc as pb_grpc
from server.domain.movements import card_number_hash
from server.run import Stack
from tests.common import envelope, users
from tests.common.cards import WRONG_PINS, new_card
from tests.common.money import balance, open_account
from tests.conftest import Rest

ATM = tpb.WithdrawalMethodEnum.ATM


def _own_card(rest: Rest, stack: Stack) -> tuple[str, str, str]:
    """A funded account with a card of its own: (account id, card number, PIN)."""
    account = open_account(rest, funded=100)
    number, pin = new_card(stack, account)
    return account, number, pin


def _card_state(stack: Stack, number: str) -> tuple[int, str]:
    rows = users.db_rows(
        stack,
        "SELECT failed_pin_attempts, status FROM cards WHERE number_hash = %s",
        (card_number_hash(number),),
    )
    return int(rows[0][0]), str(rows[0][1])


# A withdrawal with a key: (PIN, key) -> (reason or "", metadata of the error).
Withdraw = Callable[[str, str], tuple[str, dict[str, str]]]


def _over_rest(rest: Rest, account: str, number: str) -> Withdraw:
    def withdraw(pin: str, key: str) -> tuple[str, dict[str, str]]:
        body = {
            "accountId": account,
            "amount": 20,
            "method": "ATM",
            "location": "ATM-NYC-001",
            "cardNumber": number,
            "pin": pin,
        }
        response = rest.post(
            "/v1/transactions/withdrawal", json=body, headers={"Idempotency-Key": key}
        )
        if response.status_code == 201:
            return "", {}
        code = str(response.json()["error"]["code"])
        envelope.error(response, 409 if code == "IDEMPOTENCY_KEY_REUSED" else 422, code)
        return code, {}

    return withdraw


def _over_grpc(channel: grpc.Channel, account: str, number: str) -> Withdraw:
    stub = pb_grpc.TransactionServiceStub(channel)

    def withdraw(pin: str, key: str) -> tuple[str, dict[str, str]]:
        request = pb.CreateWithdrawalRequest(
            account_id=account,
            amount=20,
            method=ATM,
            location="ATM-NYC-001",
            card_number=number,
            pin=pin,
        )
        try:
            stub.CreateWithdrawal(request, metadata=[("idempotency-key", key)], timeout=30)
        except grpc.RpcError as exc:
            reason = {
                grpc.StatusCode.INVALID_ARGUMENT: "INVALID_PIN",
                grpc.StatusCode.FAILED_PRECONDITION: "CARD_LOCKED",
                grpc.StatusCode.ALREADY_EXISTS: "IDEMPOTENCY_KEY_REUSED",
            }.get(exc.code(), "?")
            info = envelope.grpc_error(exc, exc.code(), reason)
            return reason, dict(info.metadata)
        return "", {}

    return withdraw


@pytest.fixture(params=["rest", "grpc"])
def card(
    request: pytest.FixtureRequest, rest: Rest, stack: Stack, grpc_channel: grpc.Channel
) -> tuple[Withdraw, str, str, str]:
    """(withdraw, account, card number, PIN) over one transport."""
    account, number, pin = _own_card(rest, stack)
    if request.param == "rest":
        return _over_rest(rest, account, number), account, number, pin
    return _over_grpc(grpc_channel, account, number), account, number, pin


def _key() -> str:
    return f"pin-{uuid.uuid4()}"


def test_three_wrong_pins_with_idempotency_keys_lock_the_card(
    stack: Stack, rest: Rest, card: tuple[Withdraw, str, str, str]
) -> None:
    withdraw, account, number, pin = card
    assert withdraw(WRONG_PINS[0], _key())[0] == "INVALID_PIN"
    assert withdraw(WRONG_PINS[1], _key())[0] == "INVALID_PIN"
    assert withdraw(WRONG_PINS[2], _key())[0] == "CARD_LOCKED"
    assert _card_state(stack, number) == (3, "LOCKED")
    # The right PIN no longer helps.
    assert withdraw(pin, _key())[0] == "CARD_LOCKED"
    assert balance(rest, account) == 100


def test_a_wrong_pin_counts_once_per_key_and_stays_counted(
    stack: Stack, rest: Rest, card: tuple[Withdraw, str, str, str]
) -> None:
    withdraw, account, number, pin = card
    key = _key()
    assert withdraw(WRONG_PINS[0], key)[0] == "INVALID_PIN"
    assert _card_state(stack, number) == (1, "ACTIVE")
    # The same request again is its first answer, not a second try...
    assert withdraw(WRONG_PINS[0], key)[0] == "INVALID_PIN"
    # ...and another PIN under the same key is refused without being tried.
    assert withdraw(WRONG_PINS[1], key)[0] == "IDEMPOTENCY_KEY_REUSED"
    assert withdraw(pin, key)[0] == "IDEMPOTENCY_KEY_REUSED"
    assert _card_state(stack, number) == (1, "ACTIVE")
    assert withdraw(WRONG_PINS[2], _key())[0] == "INVALID_PIN"
    assert withdraw(WRONG_PINS[3], _key())[0] == "CARD_LOCKED"
    assert withdraw(pin, _key())[0] == "CARD_LOCKED"
    assert _card_state(stack, number) == (3, "LOCKED")
    assert balance(rest, account) == 100


def test_the_right_pin_with_a_key_clears_the_count(
    stack: Stack, rest: Rest, card: tuple[Withdraw, str, str, str]
) -> None:
    withdraw, account, number, pin = card
    assert withdraw(WRONG_PINS[0], _key())[0] == "INVALID_PIN"
    assert withdraw(WRONG_PINS[1], _key())[0] == "INVALID_PIN"
    assert withdraw(pin, _key())[0] == ""
    assert _card_state(stack, number) == (0, "ACTIVE")
    assert balance(rest, account) == 80
