"""Timestamp query parameters no datetime can hold are refused (422), never a 500.

The transcoder takes `asOf.nanos=-1` or `until.seconds=99999999999999` as
they come; the servicers refuse them with VALIDATION_ERROR naming the field.
"""

from __future__ import annotations

import grpc
import pytest
from google.protobuf.timestamp_pb2 import Timestamp

from backoffice.v1 import account_service_pb2 as account_pb
from backoffice.v1 import account_service_pb2_grpc as account_grpc
from backoffice.v1 import ledger_service_pb2 as ledger_pb
from backoffice.v1 import ledger_service_pb2_grpc as ledger_grpc
from tests.common import envelope
from tests.common.money import ALICE_CHECKING
from tests.conftest import Rest

BAD_INSTANTS = ["nanos=-1", "nanos=1000000000", "seconds=-99999999999", "seconds=99999999999999"]
CALLS = [
    (f"/v1/accounts/{ALICE_CHECKING}/balance", "asOf"),
    ("/v1/ledger/trial-balance", "asOf"),
    ("/v1/audit-events", "since"),
    ("/v1/audit-events", "until"),
    ("/v1/events", "since"),
    ("/v1/events", "until"),
]


@pytest.mark.parametrize(("path", "field"), CALLS)
def test_an_impossible_timestamp_in_a_query_is_refused(rest: Rest, path: str, field: str) -> None:
    for instant in BAD_INSTANTS:
        response = rest.get(f"{path}?{field}.{instant}")
        envelope.error(response, 422, "VALIDATION_ERROR", field=field)


def test_a_valid_timestamp_in_a_query_still_answers(rest: Rest) -> None:
    response = rest.get(f"/v1/accounts/{ALICE_CHECKING}/balance?asOf.seconds=1&asOf.nanos=5")
    envelope.success(response)
    envelope.success(rest.get("/v1/audit-events?since=2026-01-01T00:00:00Z&limit=1"))


def test_an_impossible_timestamp_over_grpc_is_invalid_argument(
    grpc_channel: grpc.Channel,
) -> None:
    accounts = account_grpc.AccountServiceStub(grpc_channel)
    ledger = ledger_grpc.LedgerServiceStub(grpc_channel)
    bad = Timestamp(seconds=0, nanos=-1)
    with pytest.raises(grpc.RpcError) as balance:
        accounts.GetAccountBalance(
            account_pb.GetAccountBalanceRequest(account_id=ALICE_CHECKING, as_of=bad), timeout=30
        )
    envelope.grpc_error(balance.value, grpc.StatusCode.INVALID_ARGUMENT, "VALIDATION_ERROR")
    with pytest.raises(grpc.RpcError) as trial:
        ledger.GetTrialBalance(ledger_pb.GetTrialBalanceRequest(as_of=bad), timeout=30)
    envelope.grpc_error(trial.value, grpc.StatusCode.INVALID_ARGUMENT, "VALIDATION_ERROR")
