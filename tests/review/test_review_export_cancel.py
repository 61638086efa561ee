"""An export whose caller goes away before its first chunk must leave the
server as it found it.

ExportTransactions opens its ledger snapshot (a read transaction) while it
makes the first chunk. When the call's deadline passes (or Envoy's 30 s
route timeout fires, or the client cancels) during that time,
`context.send_initial_metadata` raises in server/api/stream_calls.py, the
servicer's generator is never closed, the snapshot's transaction stays open
on the worker thread's connection and the connection is not given back
(its close is suppressed). Every later call that thread serves then runs in
the dead export's transaction: PostgreSQL refuses writes (read-only
transaction, 500), SQLite answers "database is locked" (503), reads see the
old snapshot, and the export's own audit event is lost ("record() runs
outside transactions").

The stack is this module's own: the fault poisons worker threads for good.
"""

from __future__ import annotations

import collections
import time
from collections.abc import Iterator
from pathlib import Path

import grpc
import pytest

from backoffice.v1 import transaction_service_pb2 as pb
from backoffice.v1 import transaction_service_pb2_grpc as pb_grpc
from server.run import Stack
from tests.common import envelope
from tests.common.auth import token_over_rest
from tests.common.money import ALICE, BOB_CHECKING, open_account
from tests.common.stack import running_stack
from tests.conftest import Rest

BACKENDS = ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]
LINES = 2000  # more than one chunk, so the first chunk takes a while


@pytest.fixture(scope="module", params=BACKENDS)
def own(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[Stack, Rest, str, str]]:
    tmp: Path = tmp_path_factory.mktemp(f"review-export-{request.param}")
    with running_stack(request.param, tmp) as stack:
        token = str(token_over_rest(stack.http_url)["access_token"])
        with Rest(stack.http_url) as rest:
            rest.headers["Authorization"] = f"Bearer {token}"
            source = open_account(rest, owner=ALICE, funded=1000)
            target = open_account(rest, owner=ALICE, type_="SAVINGS")
            for batch in range(LINES // 1000):
                items = [
                    {"fromAccountId": source, "toAccountId": target, "amount": 0.01}
                    for _ in range(1000)
                ]
                results = envelope.success(
                    rest.post(
                        "/v1/transactions/transfers:batchCreate",
                        json={"requests": items},
                        timeout=300,
                    )
                )["results"]
                assert all("transaction" in one for one in results), batch
            yield stack, rest, token, source


def test_exports_cut_short_leave_no_poisoned_worker(own: tuple[Stack, Rest, str, str]) -> None:
    stack, rest, token, source = own
    metadata = [("authorization", f"Bearer {token}")]
    outcomes: collections.Counter[str] = collections.Counter()
    with grpc.insecure_channel(stack.grpc_target) as channel:
        stub = pb_grpc.TransactionServiceStub(channel)
        # Deadlines that end while the server makes the first chunk, whatever its speed.
        for deadline in [0.02 * 1.35**n for n in range(20)]:
            try:
                for _ in stub.ExportTransactions(
                    pb.ExportTransactionsRequest(account_id=source, format="csv"),
                    metadata=metadata,
                    timeout=deadline,
                ):
                    pass
                outcomes["OK"] += 1
            except grpc.RpcError as exc:
                outcomes[exc.code().name] += 1
    assert outcomes["DEADLINE_EXCEEDED"] > 0, outcomes
    time.sleep(1)
    answers: collections.Counter[int] = collections.Counter()
    for _ in range(40):
        response = rest.post(
            "/v1/transactions/transfer",
            json={"fromAccountId": source, "toAccountId": BOB_CHECKING, "amount": 0.01},
        )
        answers[response.status_code] += 1
        read = rest.get(f"/v1/accounts/{source}")
        answers[read.status_code] += 1
        assert read.json()["success"] is True, read.text
    assert set(answers) <= {200, 201}, (answers, outcomes)
    # No export answered UNKNOWN (the audit wrapper's assertion) either.
    assert "UNKNOWN" not in outcomes, outcomes
