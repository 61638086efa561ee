"""A customer's own card withdrawal proves the card and its PIN, DEBIT_CARD
included: without the PIN it is refused (422, field pin) and nothing moves;
another's account stays NOT_FOUND whatever is missing. Over REST and gRPC, on
both databases."""

from __future__ import annotations

from collections.abc import Iterator

import grpc
import pytest

from backoffice.v1 import transaction_pb2 as tpb
from backoffice.v1 import transaction_service_pb2 as pb
from backoffice.v1 import transaction_service_pb2_grpc as pb_grpc
from server.run import Stack
from tests.common import envelope
from tests.common.cards import new_card
from tests.common.money import balance, open_account
from tests.common.principals import CUSTOMER_SCOPES, Caller, create_user, user_caller
from tests.conftest import Rest


@pytest.fixture
def customer(stack: Stack, raw_channel: grpc.Channel, rest: Rest) -> Iterator[Caller]:
    user_id = create_user(rest, "CUSTOMER", "Card Holder")
    who = user_caller(stack, raw_channel, "card holder", user_id, CUSTOMER_SCOPES)
    try:
        yield who
    finally:
        who.close()


def _body(account: str, number: str, pin: str = "") -> dict[str, object]:
    body: dict[str, object] = {
        "accountId": account,
        "amount": 20,
        "method": "DEBIT_CARD",
        "cardNumber": number,
    }
    if pin:
        body["pin"] = pin
    return body


def test_a_customers_debit_card_withdrawal_needs_the_pin(
    stack: Stack, rest: Rest, customer: Caller
) -> None:
    account = open_account(rest, owner=customer.user_id, funded=100)
    number, pin = new_card(stack, account)
    refused = customer.rest.post("/v1/transactions/withdrawal", json=_body(account, number))
    envelope.error(refused, 422, "VALIDATION_ERROR", "pin")
    assert balance(rest, account) == 100
    stub = pb_grpc.TransactionServiceStub(customer.channel)
    request = pb.CreateWithdrawalRequest(
        account_id=account, amount=20, method=tpb.WithdrawalMethodEnum.DEBIT_CARD,
        card_number=number,
    )  # fmt: skip
    with pytest.raises(grpc.RpcError) as caught:
        stub.CreateWithdrawal(request, timeout=30)
    assert caught.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert balance(rest, account) == 100
    # With the PIN the card's owner withdraws.
    made = customer.rest.post("/v1/transactions/withdrawal", json=_body(account, number, pin))
    assert envelope.success(made, 201)["transaction"]["type"] == "WITHDRAWAL"
    assert balance(rest, account) == 80
    # Staff keying in a card they hold need no PIN.
    staff = rest.post("/v1/transactions/withdrawal", json=_body(account, number))
    envelope.success(staff, 201)
    assert balance(rest, account) == 60


def test_anothers_account_stays_not_found_without_the_pin(
    stack: Stack, rest: Rest, customer: Caller
) -> None:
    theirs = open_account(rest, funded=100)  # another customer's (the sandbox's Alice)
    number, _ = new_card(stack, theirs)
    refused = customer.rest.post("/v1/transactions/withdrawal", json=_body(theirs, number))
    envelope.error(refused, 404, "TXN002")
    assert balance(rest, theirs) == 100
