"""Scenarios `batch` and `batch_rest`: the batch transfer API.

`BENCH_BATCH_CLIENTS` (8) callers, a closed loop each, send
`BatchCreateTransfers` (gRPC) or `POST /v1/transactions/transfers:batchCreate`
(REST through Envoy) with `BENCH_BATCH_SIZE` (50) transfers between uniform
random pairs of the bench accounts, 0.01 to 0.99 each, without idempotency
keys. Fewer callers than the single-transfer loops: a bulk job keeps a few
batches in flight, and every batch in flight holds the row locks of up to
twice its size in accounts until its commit (two batches of 100 over 10,000
accounts almost always share one), so many large batches at once measure
lock queues more than the API. 8 x 50 keeps the 400 transfers in flight of
4 x 100 and measured 0.80x of pgbench against 0.67x (2026-12-05, after the
function's lock read accounts by key): a smaller batch commits sooner and
holds its rows for less time. The row counts
transfers, not calls: ops and ops/s are transfers answered with a
transaction, the CPU columns are per transfer, and p50/p99 are the latency
of a whole call. An item answered with an error makes its call a failure
(the run then fails); its transfers that were posted still count.

A server without the RPC (UNIMPLEMENTED, HTTP 404/405/501, no stub in gen/) skips
the scenario with a message; a skipped scenario is not a failure.
"""

from __future__ import annotations

import json
import threading
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import grpc

from backoffice.v1 import transaction_service_pb2 as txn_pb
from backoffice.v1 import transaction_service_pb2_grpc as txn_grpc
from tests.bench import load
from tests.bench.report import Row

RPC = "BatchCreateTransfers"
REST_PATH = "/v1/transactions/transfers:batchCreate"
DESCRIPTION = "Benchmark batch transfer"


@dataclass
class Tally:
    """Transfers posted and item errors, shared by the callers of one window."""

    transfers: int = 0
    item_errors: Counter[str] = field(default_factory=Counter)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, posted: int, errors: Counter[str]) -> None:
        with self._lock:
            self.transfers += posted
            self.item_errors.update(errors)


def grpc_available() -> str | None:
    """None when gen/ has the RPC's stub and messages, else why not."""
    if not hasattr(txn_pb, f"{RPC}Request"):
        return f"gen/ has no {RPC}Request (the RPC has not landed)"
    if not hasattr(txn_grpc.TransactionServiceServicer, RPC):
        return f"gen/ has no TransactionService.{RPC}"
    return None


def _items(pairs: load.Pairs, size: int) -> list[dict[str, Any]]:
    items = []
    for _ in range(size):
        source, destination = pairs.next()
        items.append(
            {
                "from_account_id": source,
                "to_account_id": destination,
                "amount": pairs.amount(),
                "description": DESCRIPTION,
            }
        )
    return items


def grpc_request(items: list[dict[str, Any]]) -> Any:
    """A BatchCreateTransfersRequest of `items` (named as CreateTransfer's fields)."""
    request = getattr(txn_pb, f"{RPC}Request")()
    for item in items:
        request.requests.add(**item)
    return request


def count_results(results: Any, sent: int) -> tuple[int, Counter[str]]:
    """(transfers posted, item errors by code) of one answer's `results`.

    Each result carries a `transaction` or an `error`; a missing result, one
    with neither, or more results than requests are errors too.
    """
    posted, errors = 0, Counter[str]()
    for result in results:
        if result.HasField("transaction"):
            posted += 1
        elif "error" in result.DESCRIPTOR.fields_by_name and result.HasField("error"):
            errors[f"item {result.error.code or '?'}"] += 1
        else:
            errors["item with neither transaction nor error"] += 1
    if len(results) != sent:
        errors[f"{len(results)} results for {sent} requests"] += 1
    return posted, errors


def count_rest_results(body: dict[str, Any], sent: int) -> tuple[int, Counter[str]]:
    """The same for a REST answer `{"results": [{"transaction": ...} | {"error": ...}]}`."""
    results = body.get("results")
    if results is None and isinstance(body.get("data"), dict):
        results = body["data"].get("results")
    posted, errors = 0, Counter[str]()
    if not isinstance(results, list):
        errors["answer without results"] += 1
        return posted, errors
    for result in results:
        if isinstance(result, dict) and result.get("transaction"):
            posted += 1
        elif isinstance(result, dict) and isinstance(result.get("error"), dict):
            errors[f"item {result['error'].get('code') or '?'}"] += 1
        else:
            errors["item with neither transaction nor error"] += 1
    if len(results) != sent:
        errors[f"{len(results)} results for {sent} requests"] += 1
    return posted, errors


def _verdict(tally: Tally, posted: int, errors: Counter[str]) -> str | None:
    tally.add(posted, errors)
    if not errors:
        return None
    return "; ".join(f"{label} x{count}" for label, count in errors.most_common(3))


def grpc_batch(
    channel: grpc.Channel, token: str, pairs: load.Pairs, size: int, *, timeout: float, tally: Tally
) -> load.Operation:
    stub = txn_grpc.TransactionServiceStub(channel)
    metadata = (("authorization", f"Bearer {token}"),)

    def operation() -> str | None:
        request = grpc_request(_items(pairs, size))
        try:
            reply = getattr(stub, RPC)(request, metadata=metadata, timeout=timeout)
        except grpc.RpcError as exc:
            code = exc.code()
            return f"grpc {code.name if code else '?'}: {exc.details()}"
        return _verdict(tally, *count_results(reply.results, size))

    return operation


def _camel(item: dict[str, Any]) -> dict[str, Any]:
    return {
        "fromAccountId": item["from_account_id"],
        "toAccountId": item["to_account_id"],
        "amount": item["amount"],
        "description": item["description"],
    }


def rest_batch(http: load.Http, pairs: load.Pairs, size: int, tally: Tally) -> load.Operation:
    def operation() -> str | None:
        body = json.dumps({"requests": [_camel(i) for i in _items(pairs, size)]}).encode()
        status, answer = http.request("POST", REST_PATH, body)
        if status not in (200, 201):
            return f"http {status}: {answer[:120]!r}"
        return _verdict(tally, *count_rest_results(json.loads(answer), size))

    return operation


def grpc_skip_reason(channel: grpc.Channel, token: str, timeout: float) -> str | None:
    """Why the gRPC scenario cannot run here, or None.

    An empty batch asks the server without moving money: UNIMPLEMENTED means
    the server has no such RPC; any other answer (a refusal of the empty
    batch included) means it has.
    """
    missing = grpc_available()
    if missing:
        return missing
    stub = txn_grpc.TransactionServiceStub(channel)
    try:
        getattr(stub, RPC)(
            grpc_request([]), metadata=(("authorization", f"Bearer {token}"),), timeout=timeout
        )
    except grpc.RpcError as exc:
        if exc.code() == grpc.StatusCode.UNIMPLEMENTED:
            return f"the server answers {RPC} with UNIMPLEMENTED"
    return None


def rest_skip_reason(http: load.Http) -> str | None:
    status, answer = http.request("POST", REST_PATH, b'{"requests": []}')
    if status in (404, 405, 501) or b"UNIMPLEMENTED" in answer:
        return f"POST {REST_PATH} answers {status} (no route or no RPC)"
    return None


def run(  # noqa: PLR0917 (the scenario's whole context, as flood.run has it)
    bench: Any,
    stack: Any,
    database: str,
    channels: load.ChannelPool,
    token: str,
    pairs: Any,
    *,
    rest: bool,
) -> None:
    """Measures one batch scenario and adds its row to `bench` (or logs why it is skipped)."""
    config = bench.config
    timeout, clients, size = config.timeout_seconds, config.batch_clients, config.batch_size
    host, port = stack.settings.host, stack.settings.http_port
    key = "batch_rest" if rest else "batch"
    if rest:
        reason = rest_skip_reason(load.Http(host, port, token, timeout))
    else:
        reason = grpc_skip_reason(channels(), token, timeout)
    if reason:
        print(f"  {key}: skipped: {reason}", flush=True)
        bench.skipped[key] = reason
        return
    tallies: list[Tally] = []  # one per window: the warm-up's, then the measured one

    def operations() -> list[load.Operation]:
        tallies.append(Tally())
        tally = tallies[-1]
        if rest:
            return [
                rest_batch(load.Http(host, port, token, timeout), pairs(), size, tally)
                for _ in range(clients)
            ]
        return [
            grpc_batch(channels(), token, pairs(), size, timeout=timeout, tally=tally)
            for _ in range(clients)
        ]

    outcome, usage = bench.measure(stack, database, operations)
    tally = tallies[-1]
    transport = "REST" if rest else "gRPC"
    row = Row.of(
        key,
        f"batch API, {clients} callers of {size} transfers ({transport})",
        transport=transport,
        clients=clients,
        outcome=outcome,
        usage=usage,
        per_op_count=tally.transfers,
    )
    row.ops = tally.transfers
    row.throughput = tally.transfers / outcome.elapsed if outcome.elapsed else 0.0
    row.notes = {
        "batch_size": size,
        "calls": outcome.ok + sum(outcome.failures.values()),
        "calls_per_second": outcome.throughput,
        "item_errors": dict(tally.item_errors),
        "latency": "of a whole call",
        "cpu_per_op_counts": "transfers posted",
    }
    bench.add(row)
