"""The workload: the test customer's accounts, the clients' requests and the readers."""

from __future__ import annotations

import random
import threading
import time
import uuid
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from datetime import date

import grpc

import server  # noqa: F401  (puts gen/ on sys.path)
from backoffice.v1 import account_pb2, transaction_pb2
from backoffice.v1 import account_service_pb2 as account_pb
from backoffice.v1 import transaction_service_pb2 as transaction_pb
from backoffice.v1 import user_service_pb2 as user_pb
from tests.chaos import movements
from tests.chaos.model import (
    AUDIT_RETRY_SECONDS,
    FEE_MINOR,
    IN_PROGRESS,
    KEY_REUSED,
    LIMIT_MAJOR,
    Answer,
    Config,
    Op,
    Read,
    seeded,
)
from tests.chaos.system import System


def classify(exc: grpc.RpcError) -> tuple[str, str]:
    """(kind, reason) of a failed call: `refused` with the contract code, or a transient kind."""
    reason = ""
    for key, value in exc.trailing_metadata() or ():  # type: ignore[attr-defined]
        if key == "x-bank-error-code" and isinstance(value, str):
            reason = value
    if reason.startswith("TXN") or reason == "VALIDATION_ERROR":
        return "refused", reason
    if reason in (IN_PROGRESS, KEY_REUSED):
        return reason, reason
    return exc.code().name, reason  # type: ignore[attr-defined]


class Bank:
    """The test accounts, the operations and reads, and the calls that make them."""

    def __init__(self, system: System, config: Config, started: float) -> None:
        self.system = system
        self.config = config
        self.t0 = started
        self.lock = threading.Lock()
        self.owner = ""
        self.ids: list[str] = []
        self.floors: dict[str, int] = {}
        self.opening: dict[str, int] = {}
        self.setup_transactions: set[str] = set()
        self.ops: list[Op] = []
        self.reads: list[Read] = []
        self.read_errors: list[tuple[str, float, float]] = []  # (kind, started, ended)
        self.counters: Counter[str] = Counter()
        self.payee = ""  # the test customer's payee
        self.returning_payee = ""  # and one that returns every payment delivered
        self.today = date.min  # the sandbox clock's date, as last read
        self.cancellable: list[Op] = []  # items answered PENDING or SCHEDULED, not cancelled yet

    def now(self) -> float:
        return time.monotonic() - self.t0

    # -- setup (no faults yet) -------------------------------------------------

    def open_accounts(self, rng: random.Random) -> None:
        users = self.system.users[0]
        accounts = self.system.accounts[0]
        transactions = self.system.transactions[0]
        owner = users.CreateUser(
            user_pb.CreateUserRequest(
                email=f"chaos.{uuid.uuid4().hex[:12]}@example.com",
                name="Chaos Test Owner",
                password="Chaos-Ledger-Storm-42",
            ),
            timeout=30,
        ).user
        self.owner = owner.id
        kinds = [("CHECKING", 300), ("SAVINGS", 0), ("BUSINESS", 500), ("CHECKING", 0)]
        for index in range(self.config.accounts):
            account_type, overdraft = kinds[index % len(kinds)]
            account = accounts.CreateAccount(
                account_pb.CreateAccountRequest(
                    type=account_pb2.AccountTypeEnum.AccountType.Value(account_type),
                    currency="USD",
                    owner_id=self.owner,
                    nickname=f"chaos {index}",
                    overdraft_limit=float(overdraft),
                ),
                timeout=30,
            ).account
            accounts.UpdateAccountLimits(
                account_pb.UpdateAccountLimitsRequest(
                    account_id=account.id,
                    daily_transfer_limit=LIMIT_MAJOR,
                    monthly_transfer_limit=LIMIT_MAJOR,
                    reason="chaos test: only funds may refuse a transfer",
                ),
                timeout=30,
            )
            deposit = transactions.CreateDeposit(
                transaction_pb.CreateDepositRequest(
                    account_id=account.id,
                    amount=float(rng.randint(*self.config.opening)),
                    method=transaction_pb2.DepositMethodEnum.DepositMethod.Value("CASH"),
                    location="Branch A",
                ),
                timeout=30,
            ).transaction
            self.setup_transactions.add(deposit.id)
            self.ids.append(account.id)
            self.floors[account.id] = -overdraft * 100
        if self.config.movements:
            self.payee = movements.open_payee(self)
            self.returning_payee = movements.open_payee(self, movements.RETURNING_PAYEE_NUMBER)
            self.today = movements.read_today(self)
        opening = self.read(0, timeout=30)
        assert opening is not None and set(opening.balances) == set(self.ids), opening
        self.opening = dict(opening.balances)

    # -- calls -----------------------------------------------------------------

    def read(self, node: int, timeout: float | None = None) -> Read | None:
        """All test balances from one ListAccounts page (one SQL statement: one snapshot)."""
        started = self.now()
        try:
            reply = self.system.accounts[node].ListAccounts(
                account_pb.ListAccountsRequest(owner_id=self.owner, limit=100),
                timeout=timeout or self.config.deadline,
            )
        except grpc.RpcError as exc:
            with self.lock:
                self.read_errors.append((classify(exc)[0], started, self.now()))
            return None
        balances = {account.id: round(account.balance * 100) for account in reply.accounts}
        result = Read(started, self.now(), node, balances)
        with self.lock:
            self.reads.append(result)
        return result

    def flush_audit(self) -> None:
        """Calls every server twice, RETRY_SECONDS apart: a server appends its audit
        backlog (events it could not write while the database was away) at the
        start of a call, at most once per RETRY_SECONDS."""
        for _ in range(2):
            for node in range(self.config.servers):
                self.read(node, timeout=10)
            time.sleep(AUDIT_RETRY_SECONDS + 0.2)

    def final_read(self, deadline: float) -> Read | None:
        """A read after healing, from whichever server answers first."""
        attempt = 0
        while time.monotonic() < deadline:
            read = self.read(attempt % self.config.servers, timeout=10)
            if read is not None:
                return read
            attempt += 1
            time.sleep(0.5)
        return None

    def transfer(self, op: Op, node: int, phase: str) -> Answer:
        """Sends `op` to server `node` once; records and returns the answer."""
        if op.kind != "transfer":
            return movements.call(self, op, node, phase)
        started = self.now()
        request_id = f"{op.key}.{uuid.uuid4().hex[:8]}"
        request = transaction_pb.CreateTransferRequest(
            from_account_id=op.source,
            to_account_id=op.target,
            amount=op.amount_minor / 100,
            reference=op.key,
            description="chaos transfer",
        )
        try:
            reply = self.system.transactions[node].CreateTransfer(
                request,
                metadata=(("idempotency-key", op.key), ("x-request-id", request_id)),
                timeout=self.config.deadline,
            )
            transaction = reply.transaction
            balance = (
                round(transaction.from_account.balance * 100)
                if transaction.from_account.HasField("balance")
                else None
            )
            answer = Answer(
                "ok",
                started,
                self.now(),
                node,
                phase,
                transaction_id=transaction.id,
                source_balance_after=balance,
                request_id=request_id,
            )
        except grpc.RpcError as exc:
            kind, reason = classify(exc)
            answer = Answer(
                kind, started, self.now(), node, phase, reason=reason, request_id=request_id
            )
        with self.lock:
            op.answers.append(answer)
        return answer

    def send(self, op: Op, nodes: list[int], phase: str) -> None:
        """Sends `op` once to each listed server, all at the same time."""
        if len(nodes) == 1:
            self.transfer(op, nodes[0], phase)
            return
        threads = [threading.Thread(target=self.transfer, args=(op, node, phase)) for node in nodes]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()

    # -- workers ---------------------------------------------------------------

    def client(self, index: int, stop: threading.Event) -> None:
        # Two generators: the operations depend on the seed only; the
        # retries and their timing also depend on what the faults did.
        ops_rng = seeded(self.config.seed, "client", index)
        timing = seeded(self.config.seed, "client-timing", index)
        number = 0
        count = self.config.servers
        while not stop.is_set():
            number += 1
            key = f"chaos-{self.config.seed}-{index}-{number}"
            other = (
                movements.choose(self, ops_rng, index, number, key)
                if self.config.movements
                else None
            )
            if other is not None:
                with self.lock:
                    self.ops.append(other)
                self.send(other, [ops_rng.randrange(count)], "run")
                self.retry(other, timing, stop)
                continue
            source, target = ops_rng.sample(self.ids, 2)
            amount = ops_rng.randint(1_00, 400_00)
            if amount % FEE_MINOR == 0:
                amount += 1  # a lost leg of this amount can never look like whole fees
            duplicated = count > 1 and ops_rng.random() < self.config.duplicate_rate
            first = ops_rng.randrange(count)
            nodes = [first, (first + 1) % count] if duplicated else [first]
            op = Op(key, source, target, amount, duplicated)
            with self.lock:
                self.ops.append(op)
            self.send(op, nodes, "run")
            self.retry(op, timing, stop)

    def retry(self, op: Op, timing: random.Random, stop: threading.Event) -> None:
        """Up to `immediate_retries` more tries with the key while the faults go on."""
        for _ in range(self.config.immediate_retries):
            if op.first_definitive() is not None or stop.is_set():
                break
            time.sleep(timing.uniform(0.1, 0.5))
            with self.lock:
                self.counters["immediate"] += 1
            self.transfer(op, timing.randrange(self.config.servers), "run")

    def reader(self, index: int, stop: threading.Event) -> None:
        rng = seeded(self.config.seed, "reader", index)
        while not stop.is_set():
            self.read(rng.randrange(self.config.servers))
            stop.wait(rng.uniform(0.02, 0.2))

    def settle(self, deadline: float) -> list[Op]:
        """After healing: retries every op without a definitive answer; returns those left."""
        pending = [op for op in self.ops if op.first_definitive() is None]
        self.counters["pending_after_faults"] = len(pending)

        def settle_one(op: Op) -> None:
            rng = seeded(op.key)
            pause = 0.1
            while op.first_definitive() is None and time.monotonic() < deadline:
                with self.lock:
                    self.counters["after_healing"] += 1
                answer = self.transfer(op, rng.randrange(self.config.servers), "heal")
                if not answer.definitive:
                    time.sleep(pause)
                    pause = min(pause * 2, 2.0)

        with ThreadPoolExecutor(max(1, self.config.clients)) as pool:
            list(pool.map(settle_one, pending))
        return [op for op in pending if op.first_definitive() is None]

    def replay(self, rng: random.Random) -> None:
        """Sends answered requests again: each must get its first answer back."""
        answered = [op for op in self.ops if op.first_definitive() is not None]
        sample = rng.sample(answered, min(self.config.replays, len(answered)))

        def replay_one(op: Op) -> None:
            with self.lock:
                self.counters["replays"] += 1
            self.transfer(op, rng.randrange(self.config.servers), "replay")

        with ThreadPoolExecutor(max(1, self.config.clients)) as pool:
            list(pool.map(replay_one, sample))
