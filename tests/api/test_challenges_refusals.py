"""Step-up verification: refusals over gRPC, a refusal met when the held
request runs, and text-message codes (SQLite and PostgreSQL)."""

from __future__ import annotations

from collections.abc import Iterator

import grpc
import pytest

from backoffice.v1 import challenge_pb2 as cpb
from backoffice.v1 import challenge_service_pb2 as pb
from backoffice.v1 import transaction_service_pb2 as tpb
from backoffice.v1 import transaction_service_pb2_grpc as tpb_grpc
from server.run import Stack
from tests.common import envelope
from tests.common.challenges import (
    Person,
    emailed_code,
    funded_account,
    person,
    verify,
    verify_grpc,
)
from tests.common.money import BOB_CHECKING, balance, transfer
from tests.conftest import Rest

StatusCode = grpc.StatusCode
METHOD = cpb.ChallengeMethodEnum


@pytest.fixture
def alice(stack: Stack, rest: Rest, raw_channel: grpc.Channel) -> Iterator[Person]:
    who = person(stack, rest, raw_channel)
    yield who
    who.close()


def _held_grpc(who: Person, source: str, amount: float) -> cpb.Challenge:
    stub = tpb_grpc.TransactionServiceStub(who.channel)
    reply, call = stub.CreateTransfer.with_call(
        tpb.CreateTransferRequest(
            from_account_id=source, to_account_id=BOB_CHECKING, amount=amount
        ),
        timeout=30,
    )
    assert dict(call.initial_metadata())["x-bank-http-status"] == "202"
    assert reply.HasField("challenge") and not reply.HasField("transaction")
    return reply.challenge


def test_refusals_over_grpc_carry_error_info(rest: Rest, alice: Person) -> None:
    source = funded_account(rest, alice.user_id)
    challenge = _held_grpc(alice, source, 5000)
    code = emailed_code(alice, challenge.id)
    wrong = f"{(int(code) + 1) % 1_000_000:06d}"
    with pytest.raises(grpc.RpcError) as caught:
        verify_grpc(alice, challenge.id, wrong, "EMAIL")
    info = envelope.grpc_error(
        caught.value, StatusCode.INVALID_ARGUMENT, "VERIFICATION_CODE_INVALID"
    )
    assert info.metadata["attempts_remaining"] == "4" and info.metadata["field"] == "code"
    with pytest.raises(grpc.RpcError) as caught:
        verify_grpc(alice, challenge.id, "12345")
    envelope.grpc_error(caught.value, StatusCode.INVALID_ARGUMENT, "VALIDATION_ERROR")
    with pytest.raises(grpc.RpcError) as caught:
        verify_grpc(alice, challenge.id, code, "SMS")  # Alice has no phone on file
    info = envelope.grpc_error(caught.value, StatusCode.INVALID_ARGUMENT, "VALIDATION_ERROR")
    assert info.metadata["field"] == "method"
    with pytest.raises(grpc.RpcError) as caught:
        pb_stub = alice.challenges
        pb_stub.VerifyChallenge(pb.VerifyChallengeRequest(challenge_id="chl_x", code=code))
    envelope.grpc_error(caught.value, StatusCode.NOT_FOUND, "NOT_FOUND")
    assert balance(rest, source) == 20_000
    done = verify_grpc(alice, challenge.id, code, "EMAIL")
    assert done.transaction.amount == 5000 and balance(rest, source) == 15_000


def test_a_refusal_when_it_runs_is_its_answer_for_good(rest: Rest, alice: Person) -> None:
    source = funded_account(rest, alice.user_id, 6_000)
    challenge = envelope.success(transfer(alice.rest, source, BOB_CHECKING, 5000), 202)["challenge"]
    # The money leaves meanwhile (a service client is not challenged).
    envelope.success(transfer(rest, source, BOB_CHECKING, 3000), 201)
    code = emailed_code(alice, challenge["id"])
    envelope.error(verify(alice, challenge["id"], code), 422, "TXN001")
    assert balance(rest, source) == 3000
    # Funded again, the used challenge still answers its refusal and moves nothing.
    envelope.success(
        rest.post(
            "/v1/transactions/deposit",
            json={"accountId": source, "amount": 10_000, "method": "CASH", "location": "A"},
        ),
        201,
    )
    envelope.error(verify(alice, challenge["id"], code), 422, "TXN001")
    assert balance(rest, source) == 13_000


def test_a_phone_on_file_gets_the_code_by_text_message(
    stack: Stack, rest: Rest, raw_channel: grpc.Channel
) -> None:
    who = person(stack, rest, raw_channel, phone="+14155550199")
    try:
        source = funded_account(rest, who.user_id)
        challenge = _held_grpc(who, source, 9000)
        assert list(challenge.methods) == [METHOD.EMAIL, METHOD.SMS]
        code = emailed_code(who, challenge.id, channel="SMS")
        assert code == emailed_code(who, challenge.id, channel="EMAIL")
        answered = verify(who, challenge.id, code, method="SMS")
        assert envelope.success(answered, 201)["transaction"]["amount"] == 9000
        assert balance(rest, source) == 11_000
    finally:
        who.close()
