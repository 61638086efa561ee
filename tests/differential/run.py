"""Runs a sequence of operations on the bound database; records what each
answered and the state the database ends in.

Transfers go through the use case (server.services.transfers.transfer),
batches through server.services.transfer_batches.post_transfers (one
database transaction, each item refused on its own) or, with idempotency
keys, as BatchCreateTransfers posts them (server.api.batch_items),
deposits and withdrawals through their use cases (server.services.deposits,
server.services.withdrawals), keyed requests through the idempotency store
as CreateTransfer runs them (server.api.idempotency.run, or run_queued where the micro-batcher posts
them, on PostgreSQL; with the call facts a gRPC call would set: no gRPC
context is needed below the interceptor), clock moves as AdvanceClock
does them (server.store.clock.advance, then the due work).
"""

from __future__ import annotations

import dataclasses
import json
import math
from datetime import datetime, timedelta
from typing import Any

from google.protobuf import json_format

from backoffice.v1 import transaction_service_pb2 as pb
from server.api import batch_items, call, idempotency, transactions_transfer
from server.api import transaction_views as views
from server.config import Settings
from server.domain import errors
from server.services import deposits, transfer_queue, transfers, withdrawals
from server.services.context import Movement
from server.services.transfer_batches import post_transfers
from server.store import clock
from server.store.db import database
from server.workers import due_work
from tests.differential import operations as ops
from tests.differential import world

METHOD = "/backoffice.v1.TransactionService/CreateTransfer"
BATCH_METHOD = "/backoffice.v1.TransactionService/BatchCreateTransfers"
# Tables whose rows make the state compared after a sequence, with the
# columns compared (ids of transactions are normalised later).
STATE_QUERIES = {
    "accounts": 'SELECT "id", "currency", "status", "balance_minor", "held_minor",'
    ' "pending_debits_minor" FROM "accounts"',
    "transactions": 'SELECT "id", "number", "type", "status", "currency", "amount_minor",'
    ' "fee_minor", "description", "reference", "details", "created_at", "completed_at",'
    ' "from_account_id", "to_account_id", "client_id", "original_transaction_id",'
    ' "failure_reason", "cancelled_at", "scheduled_for" FROM "ledger_transactions"',
    "postings": 'SELECT "transaction_id", "account_id", "currency", "amount_minor",'
    ' "balance_after_minor", "created_at" FROM "postings"',
    "entries": 'SELECT "account_id", "transaction_id", "direction", "type", "status",'
    ' "limit_class", "currency", "amount_minor", "fee_minor", "balance_after_minor",'
    ' "counterparty", "search_text", "created_at" FROM "account_entries"',
    "limit_usage": 'SELECT "account_id", "limit_class", "period", "used_minor" FROM "limit_usage"',
    "outbox": 'SELECT "type", "aggregate_id", "payload" FROM "outbox_events"',
    "idempotency": 'SELECT "client_id", "user_id", "key", "method", "request_hash",'
    ' "response", "http_status", "message", "error" FROM "idempotency_keys"',
    "holds": 'SELECT "id", "account_id", "transaction_id", "status", "amount_minor", "currency",'
    ' "reason", "description", "release_at", "created_at", "resolved_at" FROM "holds"',
    "cards": 'SELECT "id", "failed_pin_attempts", "status" FROM "cards"',
}
SETTINGS = Settings.from_env({})


@dataclasses.dataclass
class Run:
    """One backend's record of a sequence."""

    outcomes: list[Any]
    state: dict[str, list[tuple[Any, ...]]]


def run_sequence(sequence: list[ops.Operation]) -> Run:
    """Applies `sequence` to the bound (freshly reset) database."""
    runner = _Runner()
    outcomes = [runner.apply(operation) for operation in sequence]
    return Run(outcomes, dump_state())


class _Runner:
    def __init__(self) -> None:
        self.keyed: list[ops.Keyed] = []

    def apply(self, operation: ops.Operation) -> Any:
        if isinstance(operation, ops.Replay):
            if not self.keyed:
                return "no keyed request yet"
            operation = self.keyed[operation.index % len(self.keyed)]
        elif isinstance(operation, ops.Keyed):
            self.keyed.append(operation)
        return _HANDLERS[type(operation)](operation)


def _transfer(transfer: ops.Transfer) -> dict[str, Any]:
    try:
        return movement(transfers.transfer(*_request(transfer)))
    except errors.BankError as exc:
        return error_record(exc)


def _batch(batch: ops.Batch) -> list[Any]:
    results = post_transfers([_request(item) for item in batch.items])
    assert len(results) == len(batch.items), "one result per item"
    return [
        error_record(result) if isinstance(result, errors.BankError) else movement(result)
        for result in results
    ]


def _deposit(deposit: ops.Deposit) -> dict[str, Any]:
    request = deposits.DepositInput(
        account_id=deposit.account_id,
        amount=deposit.amount,
        method=deposit.method,
        currency=deposit.currency,
        location=deposit.location,
        reference=deposit.reference,
        description=deposit.description,
    )
    try:
        return movement(deposits.deposit(request, world.context_of(deposit.actor)))
    except errors.BankError as exc:
        return error_record(exc)


def _withdrawal(withdrawal: ops.Withdrawal) -> dict[str, Any]:
    request = withdrawals.WithdrawalInput(
        account_id=withdrawal.account_id,
        amount=withdrawal.amount,
        method=withdrawal.method,
        currency=withdrawal.currency,
        location=withdrawal.location,
        location_country=withdrawal.location_country,
        pin=withdrawal.pin,
        card_number=withdrawal.card_number,
        description=withdrawal.description,
    )
    context = world.context_of(withdrawal.actor)
    try:
        return movement(withdrawals.withdrawal(request, context, SETTINGS))
    except errors.BankError as exc:
        return error_record(exc)


def scheduled_date(transfer: ops.Transfer) -> str | None:
    """The scheduled date the operation asks for, relative to the sandbox clock."""
    if transfer.scheduled is None or transfer.scheduled[0] not in "+-0":
        return transfer.scheduled
    return (clock.now().date() + timedelta(days=int(transfer.scheduled))).isoformat()


def _request(transfer: ops.Transfer) -> tuple[transfers.TransferInput, Any]:
    return (
        transfers.TransferInput(
            from_account_id=transfer.from_account_id,
            to_account_id=transfer.to_account_id,
            amount=transfer.amount,
            currency=transfer.currency,
            description=transfer.description,
            reference=transfer.reference,
            scheduled=transfer.scheduled is not None,
            scheduled_date=scheduled_date(transfer),
        ),
        world.context_of(transfer.actor),
    )


def movement(result: Movement) -> dict[str, Any]:
    assert isinstance(result, Movement), result
    return {"movement": dataclasses.asdict(result)}


def error_record(error: errors.BankError) -> dict[str, Any]:
    return {
        "error": {
            "class": type(error).__name__,
            "reason": error.reason,
            "message": error.message,
            "field": error.field,
            "metadata": dict(error.metadata),
            "details": error.details,
            "http_status": error.http_status,
            "grpc_status": error.grpc_status,
        }
    }


def _keyed(keyed: ops.Keyed) -> dict[str, Any]:
    """The transfer as CreateTransfer with an Idempotency-Key runs it
    (server.api.transactions_transfer)."""
    item = keyed.transfer
    message = pb.CreateTransferRequest(
        from_account_id=item.from_account_id,
        to_account_id=item.to_account_id,
        amount=item.amount,
        currency=item.currency,
        description=item.description,
        reference=item.reference,
        scheduled=item.scheduled is not None,
    )
    if item.scheduled is not None:
        message.scheduled_date = scheduled_date(item)
    request, context = _request(item)
    token = call.begin(METHOD, "req_differential")
    info = call.current()
    info.principal = context.principal

    def behavior() -> pb.CreateTransferResponse:
        result = transfers.transfer(request, context)
        scheduled = result.transaction.status == "SCHEDULED"
        info.created(f"Transfer {'scheduled' if scheduled else 'completed'} successfully")
        return pb.CreateTransferResponse(transaction=views.created_message(result))

    try:
        if transfer_queue.takes(request):
            # As CreateTransfer does on PostgreSQL: the key claimed in the batch.
            answer = idempotency.run_queued(
                METHOD,
                keyed.key,
                message,
                lambda use: transfer_queue.Item(request, context, use),
                transactions_transfer.answer_of,
            )
        else:
            answer = idempotency.run(
                METHOD,
                keyed.key,
                message,
                behavior,
                lambda response: response.SerializeToString(deterministic=True),
            )
    except errors.BankError as exc:
        return {**error_record(exc), "headers": dict(info.headers)}
    finally:
        call.end(token)
    if isinstance(answer, bytes):
        answer = pb.CreateTransferResponse.FromString(answer)
    return {
        "response": json_format.MessageToDict(answer),
        "http_status": info.http_status,
        "message": info.message,
        "headers": dict(info.headers),
    }


def _keyed_batch(batch: ops.KeyedBatch) -> list[Any]:
    """The batch as BatchCreateTransfers posts it (server.api.batch_items)."""
    items = [
        pb.BatchTransferItem(
            from_account_id=item.from_account_id,
            to_account_id=item.to_account_id,
            amount=item.amount,
            currency=item.currency,
            description=item.description,
            reference=item.reference,
            idempotency_key=key or "",
        )
        for key, item in batch.items
    ]
    context = world.context_of(batch.actor)
    token = call.begin(BATCH_METHOD, "req_differential")
    call.current().principal = context.principal
    try:
        results = batch_items.post(items, context)
    except errors.BankError as exc:
        return [error_record(exc)]
    finally:
        call.end(token)
    return [json_format.MessageToDict(result) for result in results]


def _advance(move: ops.AdvanceClock) -> dict[str, Any]:
    now = clock.now()
    if move.hours:
        seconds = move.hours * 3600
    else:
        first = now.replace(day=1, hour=12, minute=0, second=0, microsecond=0)
        target = (first + timedelta(days=32)).replace(day=1)
        seconds = math.ceil((target - now).total_seconds())
    clock.advance(seconds)
    now = clock.now()
    work = due_work.run(now, sandbox=True) if move.sweep else {}
    return {"date": now.date().isoformat(), "hour": now.hour, "work": work}


_HANDLERS: dict[type, Any] = {
    ops.Transfer: _transfer,
    ops.Batch: _batch,
    ops.Keyed: _keyed,
    ops.KeyedBatch: _keyed_batch,
    ops.AdvanceClock: _advance,
    ops.Deposit: _deposit,
    ops.Withdrawal: _withdrawal,
}


def dump_state() -> dict[str, list[tuple[Any, ...]]]:
    state = {}
    for name, text in STATE_QUERIES.items():
        rows = database.execute_sql(text).fetchall()
        state[name] = [tuple(_plain(value) for value in row) for row in rows]
    return state


def _plain(value: Any) -> Any:
    """Column values as both drivers agree on them (bytes, datetimes, JSON text)."""
    if isinstance(value, memoryview | bytes):
        return bytes(value)
    if isinstance(value, datetime):
        return value.isoformat(sep=" ")
    return value


def decode_response(stored: bytes | None) -> Any:
    if stored is None:
        return None
    return json_format.MessageToDict(pb.CreateTransferResponse.FromString(stored))


def decode_json(text: str | None) -> Any:
    return None if text is None else json.loads(text)
