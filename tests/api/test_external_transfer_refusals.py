"""External transfers refused: each refusal with its code, HTTP status and field,
and nothing reserved. Over REST through Envoy and over gRPC, on both databases.
"""

from __future__ import annotations

from typing import Any

import grpc
import pytest

from backoffice.v1 import transaction_pb2 as tpb
from backoffice.v1 import transaction_service_pb2 as pb
from backoffice.v1 import transaction_service_pb2_grpc as pb_grpc
from server.run import Stack
from tests.common import envelope
from tests.common.external import ach, created, money, send
from tests.common.money import ALICE, BOB, account, assert_ledger_consistent, open_account
from tests.common.principals import CUSTOMER_SCOPES, user_caller
from tests.conftest import Rest


@pytest.mark.parametrize(
    ("beneficiary", "extra", "field"),
    [
        (ach(routingNumber="021000022"), {}, "beneficiary.routingNumber"),
        (ach(routingNumber="12345"), {}, "beneficiary.routingNumber"),
        (ach(routingNumber=None), {}, "beneficiary.routingNumber"),
        (ach(number="12ab"), {}, "beneficiary.accountNumber"),
        (ach(accountType=None), {}, "beneficiary.accountType"),
        (ach(name=" "), {}, "beneficiary.name"),
        (ach(iban="DE89370400440532013000"), {}, "beneficiary.iban"),
        (ach(swiftCode="COBADEFFXXX"), {}, "beneficiary.swiftCode"),
        (ach(bankCountry="DE"), {}, "beneficiary.bankCountry"),
        (
            {"name": "Max", "iban": "DE00370400440532013000", "swiftCode": "COBADEFFXXX"},
            {"rail": "INTERNATIONAL_WIRE", "purpose": "GIFT"},
            "beneficiary.iban",
        ),
        (
            {"name": "Max", "iban": "DE89370400440532013000", "swiftCode": "COBA"},
            {"rail": "INTERNATIONAL_WIRE", "purpose": "GIFT"},
            "beneficiary.swiftCode",
        ),
        (
            {"name": "Max", "iban": "DE89370400440532013000", "swiftCode": "COBADEFFXXX"},
            {"rail": "INTERNATIONAL_WIRE"},
            "purpose",
        ),
        (ach(), {"description": "x" * 141}, "description"),
    ],
)
def test_a_bad_request_is_refused_naming_its_field_and_reserves_nothing(
    rest: Rest, beneficiary: dict[str, Any], extra: dict[str, Any], field: str
) -> None:
    source = open_account(rest, funded=100)
    response = send(rest, source, 10, beneficiary=beneficiary, **extra)
    envelope.error(response, 422, "VALIDATION_ERROR", field)
    assert money(rest, source) == (100, 100, 0)


def test_a_bad_beneficiary_over_grpc_names_the_field(
    rest: Rest, grpc_channel: grpc.Channel
) -> None:
    source = open_account(rest, funded=100)
    stub = pb_grpc.TransactionServiceStub(grpc_channel)
    with pytest.raises(grpc.RpcError) as caught:
        stub.CreateExternalTransfer(
            pb.CreateExternalTransferRequest(
                from_account_id=source,
                amount=10,
                beneficiary=tpb.Beneficiary(
                    name="Jane",
                    account_number="9876543210",
                    routing_number="021000022",
                    account_type=tpb.BeneficiaryAccountTypeEnum.CHECKING,
                ),
            ),
            timeout=30,
        )
    info = envelope.grpc_error(caught.value, grpc.StatusCode.INVALID_ARGUMENT, "VALIDATION_ERROR")
    assert info.metadata["field"] == "beneficiary.routing_number"
    assert "021000022" not in str(caught.value.details())


def test_amount_and_currency_are_refused_with_their_codes(rest: Rest) -> None:
    source = open_account(rest, type_="SAVINGS", funded=6_000)
    envelope.error(send(rest, source, 5_000.01), 422, "TXN005", "amount")
    envelope.error(send(rest, source, 0), 422, "TXN005", "amount")
    envelope.error(send(rest, source, 10.001), 422, "TXN005", "amount")
    envelope.error(send(rest, source, 10, currency="EUR"), 422, "TXN006", "currency")
    assert money(rest, source) == (6_000, 6_000, 0)


def test_amount_plus_fee_must_fit_in_the_available_balance(rest: Rest, stack: Stack) -> None:
    source = open_account(rest, funded=5_010)
    # 5,000.00 fits, but not with a wire's 25.00 fee.
    wire = send(rest, source, 5_000, beneficiary=ach(accountType=None), rail="WIRE")
    envelope.error(wire, 422, "TXN001", "amount")
    assert money(rest, source) == (5_010, 5_010, 0)
    created(rest, source, 5_000)
    # The reservation counts: 10.00 remain available, 10.01 does not fit.
    envelope.error(send(rest, source, 10.01), 422, "TXN001", "amount")
    assert money(rest, source) == (5_010, 10, 5_000)
    assert_ledger_consistent(stack)


def test_a_frozen_account_sends_nothing(rest: Rest) -> None:
    source = open_account(rest, funded=100)
    frozen = rest.post(f"/v1/accounts/{source}/freeze", json={"reason": "Suspected fraud"})
    envelope.success(frozen)
    envelope.error(send(rest, source, 10), 422, "TXN003", "fromAccountId")
    assert money(rest, source)[2] == 0


def test_the_monthly_external_limit_counts_pending_transfers(rest: Rest, stack: Stack) -> None:
    source = open_account(rest, funded=1_000)
    limits = {"monthlyExternalTransferLimit": 100, "reason": "test of the external limit"}
    envelope.success(rest.put(f"/v1/accounts/{source}/limits", json=limits))
    created(rest, source, 60)
    envelope.error(send(rest, source, 40.01), 422, "TXN004", "amount")
    created(rest, source, 40)
    shown = account(rest, source)["limits"]["monthlyExternalTransfer"]
    assert shown["limit"] == 100 and shown["used"] == 100
    assert_ledger_consistent(stack)


def test_another_customers_account_is_not_found(
    rest: Rest, stack: Stack, raw_channel: grpc.Channel
) -> None:
    bobs = open_account(rest, owner=BOB, funded=100)
    alices = open_account(rest, owner=ALICE, funded=100)
    alice = user_caller(stack, raw_channel, "alice", ALICE, CUSTOMER_SCOPES)
    try:
        envelope.error(send(alice.rest, bobs, 10), 404, "TXN002", "fromAccountId")
        envelope.error(send(alice.rest, "acc_nope00000000000000", 10), 404, "TXN002")
        mine = envelope.success(send(alice.rest, alices, 10), 201)["transaction"]
        assert mine["beneficiary"]["accountNumber"] == "****3210"
        assert money(rest, bobs) == (100, 100, 0)
    finally:
        alice.close()
