"""Prometheus metrics (server.metrics) scraped from the stack's metrics port:
calls, errors and latency per RPC (gRPC and REST through Envoy alike),
transactions posted, the webhook worker's outbox and delivery lag, and the
PostgreSQL pool. Several server processes: tests/api/test_supervisor.py."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import grpc
import pytest
import requests

from backoffice.v1 import account_service_pb2 as acct_pb
from backoffice.v1 import account_service_pb2_grpc as acct_grpc
from server import metrics
from server.config import REPO_ROOT
from server.run import Stack
from tests.common import envelope
from tests.common.metrics import scrape, value
from tests.common.money import deposit, open_account, transfer
from tests.common.webhook_receiver import Receiver, receiving
from tests.conftest import Rest

GET_ACCOUNT = "AccountService/GetAccount"


def wait_until(check: Callable[[], bool], seconds: float = 20.0) -> None:
    deadline = time.monotonic() + seconds
    while not check():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.1)


@pytest.fixture
def port(stack: Stack) -> int:
    return stack.settings.metrics_port


def test_calls_are_counted_by_method_and_outcome_over_grpc_and_rest(
    stack: Stack, port: int, rest: Rest, grpc_channel: grpc.Channel
) -> None:
    account_id = open_account(rest)
    before = scrape(port)
    stub = acct_grpc.AccountServiceStub(grpc_channel)
    for _ in range(3):
        stub.GetAccount(acct_pb.GetAccountRequest(account_id=account_id), timeout=10)
    for _ in range(2):
        envelope.success(rest.get(f"/v1/accounts/{account_id}"))
    missing = rest.get("/v1/accounts/acc_doesnotexist0000")
    envelope.error(missing, 404, "NOT_FOUND")
    with pytest.raises(grpc.RpcError) as refused:
        stub.GetAccount(acct_pb.GetAccountRequest(account_id="acc_doesnotexist0000"), timeout=10)
    assert refused.value.code() == grpc.StatusCode.NOT_FOUND
    after = scrape(port)

    def delta(name: str, **labels: str) -> float:
        return value(after, name, **labels) - value(before, name, **labels)

    assert delta("bank_rpc_calls_total", method=GET_ACCOUNT, outcome="OK") == 5
    assert delta("bank_rpc_calls_total", method=GET_ACCOUNT, outcome="NOT_FOUND") == 2
    assert delta("bank_rpc_duration_seconds_count", method=GET_ACCOUNT) == 7
    assert delta("bank_rpc_duration_seconds_sum", method=GET_ACCOUNT) > 0
    # Buckets are cumulative: +Inf holds every call.
    assert delta("bank_rpc_duration_seconds_bucket", method=GET_ACCOUNT, le="+Inf") == 7


def test_posted_transactions_are_counted_once_committed(
    stack: Stack, port: int, rest: Rest
) -> None:
    source, target = open_account(rest), open_account(rest)
    before = scrape(port)
    deposit(rest, source, 100)
    assert transfer(rest, source, target, 10).status_code == 201
    refused = transfer(rest, source, target, 500)  # beyond funds: nothing posts
    envelope.error(refused, 422, "TXN001")
    after = scrape(port)
    posted = "bank_transactions_posted_total"
    # Scheduled work of other tests may post meanwhile: at least ours, and
    # exactly one transfer refused is not among them (see the RPC count).
    assert value(after, posted, type="DEPOSIT") - value(before, posted, type="DEPOSIT") >= 1
    assert value(after, posted, type="TRANSFER") - value(before, posted, type="TRANSFER") >= 1
    created = "TransactionService/CreateTransfer"
    calls = "bank_rpc_calls_total"
    assert (
        value(after, calls, method=created, outcome="TXN001")
        - value(before, calls, method=created, outcome="TXN001")
        == 1
    )


def test_pool_use_is_sampled_on_postgresql_only(stack: Stack, port: int, rest: Rest) -> None:
    envelope.success(rest.get("/v1/accounts"))
    time.sleep(1.5)  # one sample at least
    samples = scrape(port)
    if stack.settings.database_url:
        assert value(samples, "bank_db_connections_max") > 0
        in_use = value(samples, "bank_db_connections", state="in_use")
        idle = value(samples, "bank_db_connections", state="idle")
        assert in_use + idle >= 1
        assert in_use + idle <= value(samples, "bank_db_connections_max")
    else:
        assert not [key for key in samples if key[0] == "bank_db_connections"]


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    with receiving() as running:
        yield running


def test_webhook_worker_reports_its_lag_and_attempts(
    stack: Stack, port: int, rest: Rest, receiver: Receiver
) -> None:
    body = {"url": f"{receiver.url}/metrics/{uuid.uuid4().hex[:8]}", "events": ["account.created"]}
    webhook = envelope.success(rest.post("/v1/webhooks", json=body), 201)["webhook"]
    try:
        before = scrape(port)
        open_account(rest)
        receiver.wait_for(lambda got: any(r.path.startswith("/metrics/") for r in got))
        delivered = "bank_webhook_attempts_total"

        def counted() -> bool:
            now = scrape(port)
            return value(now, delivered, outcome="delivered") > value(
                before, delivered, outcome="delivered"
            )

        wait_until(counted)
        after = scrape(port)
        lag = "bank_webhook_delivery_lag_seconds_count"
        assert value(after, lag) > value(before, lag)
        assert value(after, "bank_webhook_delivery_lag_seconds_sum") >= value(
            before, "bank_webhook_delivery_lag_seconds_sum"
        )
        assert ("bank_outbox_lag_seconds", ()) in after
        assert value(after, "bank_outbox_lag_seconds") >= 0
    finally:
        rest.delete(f"/v1/webhooks/{webhook['id']}")


def test_metrics_port_serves_only_metrics_on_loopback(stack: Stack, port: int) -> None:
    assert stack.settings.metrics_host == "127.0.0.1"
    assert port not in (stack.settings.http_port, stack.settings.grpc_port)
    # Envoy does not publish the metrics port: the REST listener has no /metrics.
    response = requests.get(f"{stack.http_url}/metrics", timeout=10)
    assert response.status_code == 404


def test_the_grafana_dashboard_reads_only_metrics_the_server_records() -> None:
    dashboard = json.loads((REPO_ROOT / "docs" / "grafana" / "backoffice.json").read_text())
    recorded = set(
        re.findall(r'"(bank_[a-z_]+)"', (REPO_ROOT / "server" / "metrics.py").read_text())
    )
    suffixes = ("_total", "_bucket", "_count", "_sum")
    for panel in dashboard["panels"]:
        for target in panel["targets"]:
            for name in re.findall(r"\bbank_[a-z_]+", target["expr"]):
                base = next((name[: -len(s)] for s in suffixes if name.endswith(s)), name)
                assert base in recorded or name in recorded, (panel["title"], name)


def test_serve_forgets_what_ended_processes_left(tmp_path: Path) -> None:
    """`serve` starts by deleting the files of processes no longer running (a
    restarted bank's figures begin again; the directory never grows with
    restarts) and keeps those of live ones (a webhook worker still running)."""
    ended = subprocess.Popen([sys.executable, "-c", "pass"])
    ended.wait()
    (tmp_path / f"counter_{ended.pid}.db").write_bytes(b"x")
    (tmp_path / f"histogram_{ended.pid}.db").write_bytes(b"x")
    (tmp_path / f"counter_{os.getpid()}.db").write_bytes(b"x")
    metrics.forget_dead(tmp_path)
    assert sorted(p.name for p in tmp_path.iterdir()) == [f"counter_{os.getpid()}.db"]
