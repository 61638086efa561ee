"""Downloads held open cannot take every worker thread (server/api/stream_slots.py).

A stack of its own with 4 worker threads: one stream at a time in the
process, two per caller. An export whose client reads nothing holds its
slot; another answers 429 RATE_LIMITED with Retry-After over REST and
RESOURCE_EXHAUSTED over gRPC, before any work; once the first is gone,
exports answer again; ordinary calls never waited meanwhile.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import grpc
import pytest

from backoffice.v1 import transaction_service_pb2 as pb
from backoffice.v1 import transaction_service_pb2_grpc as pb_grpc
from server.api.stream_slots import StreamSlots
from server.domain import errors
from server.run import Stack
from tests.common import envelope
from tests.common.auth import token_over_rest
from tests.common.money import ALICE, open_account
from tests.common.stack import stack_settings, started
from tests.conftest import Rest

LINES = 6000  # a CSV of ~600 KB: far more than the held stream's window (below)
# The holding client's HTTP/2 window: 64 KiB, never grown (no BDP probing), so
# the server's thread blocks on an unread stream instead of sending it all.
SMALL_WINDOW = [("grpc.http2.bdp_probe", 0), ("grpc.http2.lookahead_bytes", 65535)]


def test_slots_count_per_caller_and_in_all() -> None:
    slots = StreamSlots(total=3, per_caller=2)
    with slots.held("a"), slots.held("a"):
        with pytest.raises(errors.RateLimited) as caught, slots.held("a"):
            pass
        assert caught.value.metadata["retry_after_seconds"] == "5"
        with slots.held("b"), pytest.raises(errors.RateLimited), slots.held("c"):
            pass
    with slots.held("a"), slots.held("a"), slots.held("c"):
        pass  # every slot came back


@pytest.fixture(scope="module")
def own(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Stack, Rest, str, str]]:
    tmp: Path = tmp_path_factory.mktemp("stream-slots")
    with started(stack_settings(tmp, worker_threads=4)) as stack:
        token = str(token_over_rest(stack.http_url)["access_token"])
        with Rest(stack.http_url) as rest:
            rest.headers["Authorization"] = f"Bearer {token}"
            source = open_account(rest, owner=ALICE, funded=1000)
            target = open_account(rest, owner=ALICE, type_="SAVINGS")
            for _ in range(LINES // 1000):
                items = [
                    {"fromAccountId": source, "toAccountId": target, "amount": 0.01}
                    for _ in range(1000)
                ]
                envelope.success(
                    rest.post(
                        "/v1/transactions/transfers:batchCreate",
                        json={"requests": items},
                        timeout=300,
                    )
                )
            yield stack, rest, token, source


def test_a_stream_held_open_makes_the_next_one_wait(own: tuple[Stack, Rest, str, str]) -> None:
    stack, rest, token, source = own
    metadata = [("authorization", f"Bearer {token}")]
    path = f"/v1/transactions/export?accountId={source}&format=csv"
    with grpc.insecure_channel(stack.grpc_target, options=SMALL_WINDOW) as channel:
        stub = pb_grpc.TransactionServiceStub(channel)
        held = stub.ExportTransactions(
            pb.ExportTransactionsRequest(account_id=source, format="csv"),
            metadata=metadata,
            timeout=60,
        )
        first = next(held)  # the stream runs and holds its slot; nothing more is read
        assert first.data
        time.sleep(1)  # time enough to send the whole file, were it not held
        refused = rest.get(path)
        envelope.error(refused, 429, "RATE_LIMITED")
        assert int(refused.headers["Retry-After"]) == 5
        with pytest.raises(grpc.RpcError) as caught:
            list(
                stub.ExportTransactions(
                    pb.ExportTransactionsRequest(account_id=source, format="csv"),
                    metadata=metadata,
                    timeout=30,
                )
            )
        assert caught.value.code() == grpc.StatusCode.RESOURCE_EXHAUSTED
        # Ordinary calls are served meanwhile.
        envelope.success(rest.get(f"/v1/accounts/{source}"))
        held.cancel()
    deadline = time.monotonic() + 10
    while True:
        answer = rest.get(path)
        if answer.status_code == 200 or time.monotonic() > deadline:
            break
        time.sleep(0.2)
    assert answer.status_code == 200, answer.text
    assert answer.text.count("\n") > LINES
