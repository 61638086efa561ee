"""The workload's other movements: external transfers, bill payments, cancels,
recurring schedules, and the thread that moves the sandbox clock.

Each is one request under one Idempotency-Key, sent and retried as a
transfer is (`Bank.send`, `Bank.settle`, `Bank.replay`); its key goes into a
field the ledger keeps (an external transfer's `reference`, a payment's
memo, a schedule's description), so the checks find what each request made.
"""

from __future__ import annotations

import random
import threading
import time
import uuid
from datetime import date, timedelta
from typing import TYPE_CHECKING, Any

import grpc

import server  # noqa: F401  (puts gen/ on sys.path)
from backoffice.v1 import payee_pb2, transaction_pb2
from backoffice.v1 import payee_service_pb2 as payee_pb
from backoffice.v1 import sandbox_service_pb2 as sandbox_pb
from backoffice.v1 import transaction_service_pb2 as transaction_pb
from server.store.sandbox import payee_id as sandbox_payee_id
from tests.chaos.model import Answer, Op, seeded
from tests.common.external import ROUTING

if TYPE_CHECKING:
    from tests.chaos.workload import Bank

BILLER = sandbox_payee_id("elec")
RETURNING_PAYEE_NUMBER = "EL55000001"  # a bank-wide biller every customer may pay
# Beneficiary account numbers: the sandbox network returns those ending 0002
# (R02) and 0003 (R03) at settlement; a payee returns a payment to a number
# ending 0001 at its delivery (RETURNING_PAYEE_NUMBER). Not 0001 (R01): its returned-item fee is
# charged whatever the balance, so it may take an account below its floor.
BENEFICIARIES = ("9876543210", "9876543210", "9876543210", "9876540002", "9876540003")
CANCELLABLE = frozenset({"PENDING", "SCHEDULED"})
STATUS = transaction_pb2.TransactionStatusEnum.TransactionStatus
CHECKING = transaction_pb2.BeneficiaryAccountTypeEnum.BeneficiaryAccountType.Value("CHECKING")


def choose(bank: Bank, rng: random.Random, index: int, number: int, key: str) -> Op | None:
    """The next request of client `index` other than a transfer, or None for a transfer.

    The first request of the first `recurring` clients makes a schedule; then
    about 12% external transfers, 12% payments, 4% cancels of an item some
    client saw PENDING or SCHEDULED (a transfer when there is none yet), and
    8% cash deposits, which bring back a little less than the others take out
    (accounts must keep meeting their floors).
    """
    source = rng.choice(bank.ids)
    if number == 1 and index < bank.config.recurring:
        target = bank.payee if index % 2 else rng.choice([i for i in bank.ids if i != source])
        start = (bank.today + timedelta(days=1)).isoformat()
        return Op(
            key, source, target, rng.randint(1_00, 50_00), False, kind="recurring", date=start
        )
    draw = rng.random()
    if draw < 0.12:
        number_at_bank = rng.choice(BENEFICIARIES)
        return Op(key, source, number_at_bank, rng.randint(1_00, 150_00), False, kind="external")
    if draw < 0.24:
        pick = rng.random()
        payee = bank.payee if pick < 0.4 else bank.returning_payee if pick < 0.6 else BILLER
        later = rng.random() < 0.5
        when = (bank.today + timedelta(days=rng.randint(1, 3))).isoformat() if later else ""
        return Op(key, source, payee, rng.randint(1_00, 100_00), False, kind="payment", date=when)
    if draw < 0.32:
        return Op(key, source, "", rng.randint(20_00, 120_00), False, kind="deposit")
    if draw < 0.36:
        return _cancel(bank, rng, key)
    return None


def _cancel(bank: Bank, rng: random.Random, key: str) -> Op | None:
    """A cancel of an item some client saw PENDING or SCHEDULED (None: there is none)."""
    with bank.lock:
        if not bank.cancellable:
            return None
        item = bank.cancellable.pop(rng.randrange(len(bank.cancellable)))
    return Op(key, item.source, item.first_ok_id(), 0, False, kind="cancel")


def call(bank: Bank, op: Op, node: int, phase: str) -> Answer:
    """Sends `op` (not a transfer) to server `node` once, with its key; records the answer."""
    started = bank.now()
    request_id = f"{op.key}.{uuid.uuid4().hex[:8]}"
    metadata = (("idempotency-key", op.key), ("x-request-id", request_id))
    stub = bank.system.transactions[node]
    timeout = bank.config.deadline
    try:
        item_id, status = _send(stub, op, metadata, timeout)
        answer = Answer(
            "ok",
            started,
            bank.now(),
            node,
            phase,
            transaction_id=item_id,
            request_id=request_id,
            status=status,
        )
    except grpc.RpcError as exc:
        from tests.chaos.workload import classify  # noqa: PLC0415 (a cycle otherwise)

        kind, reason = classify(exc)
        answer = Answer(
            kind, started, bank.now(), node, phase, reason=reason, request_id=request_id
        )
    with bank.lock:
        first = op.first_definitive() is None
        op.answers.append(answer)
        if first and answer.kind == "ok" and answer.status in CANCELLABLE:
            bank.cancellable.append(op)
    return answer


def _send(stub: Any, op: Op, metadata: Any, timeout: float) -> tuple[str, str]:
    if op.kind == "external":
        reply = stub.CreateExternalTransfer(
            transaction_pb.CreateExternalTransferRequest(
                from_account_id=op.source,
                beneficiary=transaction_pb2.Beneficiary(
                    name="Chaos Beneficiary",
                    account_type=CHECKING,
                    account_number=op.target,
                    routing_number=ROUTING,
                    bank_name="External Bank",
                ),
                amount=op.amount_minor / 100,
                reference=op.key,
                description="chaos external transfer",
            ),
            metadata=metadata,
            timeout=timeout,
        )
        return reply.transaction.id, STATUS.Name(reply.transaction.status)
    if op.kind == "payment":
        reply = stub.CreatePayment(
            transaction_pb.CreatePaymentRequest(
                from_account_id=op.source,
                payee_id=op.target,
                amount=op.amount_minor / 100,
                payment_date=op.date,
                memo=op.key,
            ),
            metadata=metadata,
            timeout=timeout,
        )
        return reply.transaction.id, STATUS.Name(reply.transaction.status)
    if op.kind == "deposit":
        reply = stub.CreateDeposit(
            transaction_pb.CreateDepositRequest(
                account_id=op.source,
                amount=op.amount_minor / 100,
                method=transaction_pb2.DepositMethodEnum.DepositMethod.Value("CASH"),
                location="Branch A",
                reference=op.key,
            ),
            metadata=metadata,
            timeout=timeout,
        )
        return reply.transaction.id, STATUS.Name(reply.transaction.status)
    if op.kind == "cancel":
        cancelled = stub.CancelTransaction(
            transaction_pb.CancelTransactionRequest(transaction_id=op.target, notes=op.key),
            metadata=metadata,
            timeout=timeout,
        )
        return cancelled.transaction_id, STATUS.Name(cancelled.status)
    if op.kind == "recurring":
        frequency = transaction_pb2.RecurringFrequencyEnum.RecurringFrequency.Value("DAILY")
        payment = op.target.startswith("payee_")
        request = transaction_pb.CreateRecurringTransactionRequest(
            from_account_id=op.source,
            to_account_id="" if payment else op.target,
            payee_id=op.target if payment else "",
            amount=op.amount_minor / 100,
            description=op.key,
            frequency=frequency,
            start_date=op.date,
        )
        schedule = stub.CreateRecurringTransaction(
            request, metadata=metadata, timeout=timeout
        ).recurring_transaction
        return schedule.id, "ACTIVE"
    raise ValueError(f"unknown kind {op.kind!r}")


def open_payee(bank: Bank, number: str = "EL55004321") -> str:
    """A payee of the test customer (the other payee paid is a bank-wide biller);
    the sandbox returns payments to a number at the payee ending 0001."""
    payee = (
        bank.system.payees[0]
        .CreatePayee(
            payee_pb.CreatePayeeRequest(
                owner_id=bank.owner,
                name="Chaos Power Co",
                type=payee_pb2.PayeeTypeEnum.PayeeType.Value("UTILITY"),
                account_number=number,
            ),
            timeout=30,
        )
        .payee
    )
    return str(payee.id)


def read_today(bank: Bank) -> date:
    clock = bank.system.sandbox[0].GetClock(sandbox_pb.GetClockRequest(), timeout=30).clock
    return clock.now.ToDatetime().date()


def advance_clock(bank: Bank, stop: threading.Event) -> None:
    """Moves the sandbox clock 2-8 hours forward every 0.3-1 s, on a random
    server: submissions, settlements, returns, scheduled payments and recurring
    runs then happen while the faults go on. AdvanceClock takes no key (a lost
    answer may have moved the clock: it only moves further); it is not retried."""
    rng = seeded(bank.config.seed, "clock")
    while not stop.wait(rng.uniform(*bank.config.clock_gap)):
        node = rng.randrange(bank.config.servers)
        seconds = rng.randint(2 * 3600, 8 * 3600)
        try:
            reply = bank.system.sandbox[node].AdvanceClock(
                sandbox_pb.AdvanceClockRequest(seconds=seconds), timeout=15
            )
        except grpc.RpcError as exc:
            with bank.lock:
                bank.counters[f"clock_{exc.code().name}"] += 1  # type: ignore[attr-defined]
            continue
        with bank.lock:
            bank.counters["clock_moves"] += 1
            bank.today = max(bank.today, reply.clock.now.ToDatetime().date())


def finish(bank: Bank, days: int = 8) -> None:
    """After healing: the clock moves `days` days on, so that every external
    transfer and payment can reach a final state before the checks (tried on
    each server in turn until one answers: a lost answer may have moved it
    already, which only moves it further)."""
    for attempt in range(6):
        try:
            bank.system.sandbox[attempt % bank.config.servers].AdvanceClock(
                sandbox_pb.AdvanceClockRequest(days=days), timeout=120
            )
            break
        except grpc.RpcError:
            time.sleep(1.0)
    bank.today = read_today(bank)
