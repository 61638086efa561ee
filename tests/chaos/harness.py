"""The fault test: a Jepsen bank-style workload while servers and PostgreSQL fail.

What runs (`run(config)`):
- a private PostgreSQL (tests/chaos/postgres.py: initdb in a temporary
  directory, its own port), migrated with `python -m server migrate` and
  given the sandbox data (`load-sandbox`: the harness calls as the
  sandbox-client, whose rate limits no test meets);
- `servers` gRPC server processes on that database (sharing one data
  directory, as the server requires), each on its own port, as if behind
  a load balancer: every call picks one at random;
- test accounts of one dedicated customer: CHECKING and BUSINESS ones with
  overdraft lines (floor = minus the line), SAVINGS and plain CHECKING
  ones (floor 0), funded by cash deposits, their transfer limits raised so
  that only funds refuse transfers;
- `clients` threads sending transfers between random test accounts, each
  with its own Idempotency-Key (also put in the transfer's `reference`, so
  the ledger says which request made which transaction); a share of them
  sent twice at once to two servers (a duplicated request);
- `readers` threads reading every test account's balance in one snapshot:
  ListAccounts filtered by the owner, one page (the server answers it with
  one SQL statement, which PostgreSQL runs on one snapshot);
- a nemesis that, between quiet gaps, SIGKILLs a server (then restarts it),
  terminates every database connection (pg_terminate_backend), pauses
  PostgreSQL (SIGSTOP to the postmaster and its children, then SIGCONT) or
  crash-restarts it (`pg_ctl stop -m immediate`, then start).

A call's outcome is definitive when it is a success or a business refusal
(TXN001...). Anything else (UNAVAILABLE, DEADLINE_EXCEEDED, INTERNAL, the key
in use) is retried with the same key a few times at once, and after healing
until it is definitive.

Then the checks (see `check`): every read summed to the same total (less
the overdraft fees committed by then: a fee leaves the customers for the
bank's fee income, so the total read is the opening total minus a whole
number of 35.00 fees, and that number never goes down between reads that
follow each other); no balance ever below its floor (reads, the final
balances, and every posting's balance_after); each account equals its
opening balance plus exactly the transfers answered with success (and
their overdraft fees); every answered transaction exists once, with the
answered id, and no transfer exists that no request was answered with;
every key's definitive answers agree; every transaction's postings sum to
zero and every balance is the sum of its postings; the running limit
counters equal the sums of the debits they count; every committed
transaction has its outbox events; PostgreSQL never detected a deadlock
(the sorted lock order makes one impossible); every call answered
definitively has its audit event (unless its server was SIGKILLed after the
call began: a crash loses the events a server could not write yet, by
design). The seed fixes the
operations (accounts, amounts, duplicates, servers) and the fault schedule;
the machine's timing still varies between replays.

After healing, a sample of answered requests is sent again (each must get its
first answer back), and the report also counts "late errors": calls that
failed although they began RECOVERY_SECONDS after the last fault had healed.

CLI: `python -m tests.chaos.harness --seed 42 --duration 180` (`make chaos`).
"""

from __future__ import annotations

import argparse
import bisect
import contextlib
import json
import os
import random
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter, defaultdict
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

import grpc
import psycopg2

import server  # noqa: F401  (puts gen/ on sys.path)
from backoffice.v1 import account_pb2, transaction_pb2
from backoffice.v1 import account_service_pb2 as account_pb
from backoffice.v1 import account_service_pb2_grpc as account_grpc
from backoffice.v1 import transaction_service_pb2 as transaction_pb
from backoffice.v1 import transaction_service_pb2_grpc as transaction_grpc
from backoffice.v1 import user_service_pb2 as user_pb
from backoffice.v1 import user_service_pb2_grpc as user_grpc
from server.config import REPO_ROOT, Settings
from server.run import settings_env, wait_for_health
from server.store.migrations import m0012_limit_usage_counters as m0012
from tests.chaos.postgres import PostgresUnavailable, PrivatePostgres
from tests.chaos.server_entry import BREAK_ENV, BREAKS
from tests.common.auth import authenticated, token_over_grpc
from tests.common.stack import free_ports

FAULT_KINDS = ("kill-server", "terminate-connections", "pause-postgres", "crash-postgres")
FEE_MINOR = 35_00  # the overdraft fee (server.domain.movements.OVERDRAFT_FEE_MINOR)
# Business refusals the workload can meet: transfer limits are raised, so
# only funds refuse. Any other code is reported as unexpected.
EXPECTED_REFUSALS = frozenset({"TXN001"})
IN_PROGRESS = "IDEMPOTENCY_KEY_IN_USE"
KEY_REUSED = "IDEMPOTENCY_KEY_REUSED"
LIMIT_MAJOR = 10_000_000.0  # the largest per-account limit override
DURATION_MAX_SECONDS = 2_400
# A fault is healed when the nemesis is done with it (the server restarted and
# healthy, PostgreSQL resumed or accepting connections again); calls made this
# long after that should succeed again.
RECOVERY_SECONDS = 5.0
AUDIT_RETRY_SECONDS = 1.0  # server.store.audit.RETRY_SECONDS
CHANNEL_OPTIONS = [
    # Reconnect fast after a server restart (gRPC's default backoff grows to minutes).
    ("grpc.initial_reconnect_backoff_ms", 100),
    ("grpc.min_reconnect_backoff_ms", 100),
    ("grpc.max_reconnect_backoff_ms", 1000),
]


@dataclass(frozen=True)
class Config:
    seed: int
    duration: float = 180.0  # seconds of workload under faults
    servers: int = 2
    clients: int = 8
    readers: int = 2
    accounts: int = 12
    # Opening balances, major units. Overdraft fees drain money from the test
    # accounts to the bank (35.00 each), so a longer run needs more of it, or
    # most transfers end refused once the accounts sit at their floors.
    opening: tuple[int, int] = (1_000, 5_000)
    faults: tuple[str, ...] = FAULT_KINDS
    order: str = "random"  # or "cycle": the kinds in the order given, over and over
    min_faults: int = 0  # the workload goes on past `duration` until this many faults
    max_faults: int = 0  # no fault after this many (0: no limit)
    gap: tuple[float, float] = (1.0, 4.0)  # quiet seconds between two faults
    duplicate_rate: float = 0.1  # share of transfers sent twice at once
    deadline: float = 3.0  # client deadline of one call, seconds
    immediate_retries: int = 2  # retries with the key while the faults go on
    heal_timeout: float = 120.0  # how long unanswered requests are retried after healing
    replays: int = 200  # answered requests sent again after healing (same answer expected)
    break_mode: str = ""  # a deliberate bug in the server (tests/chaos/server_entry.py)
    keep: bool = False  # keep the work directory even when the run passes


# --- what happened ------------------------------------------------------------


@dataclass(frozen=True)
class Answer:
    """One call's outcome: `ok`, `refused`, or a non-definitive code."""

    kind: str
    started: float
    ended: float
    server: int
    phase: str  # run, heal or replay
    transaction_id: str = ""
    reason: str = ""
    source_balance_after: int | None = None  # minor units, from the response
    request_id: str = ""  # x-request-id sent: finds the call's audit event

    @property
    def definitive(self) -> bool:
        return self.kind in ("ok", "refused")


@dataclass
class Op:
    """One transfer request (one Idempotency-Key) and every answer it got."""

    key: str
    source: str
    target: str
    amount_minor: int
    duplicated: bool
    answers: list[Answer] = field(default_factory=list)

    def first_definitive(self) -> Answer | None:
        return next((answer for answer in self.answers if answer.definitive), None)

    @property
    def charged_fee(self) -> bool:
        """A success whose debited balance went below zero paid the overdraft fee."""
        answer = self.first_definitive()
        return bool(
            answer
            and answer.kind == "ok"
            and answer.source_balance_after is not None
            and answer.source_balance_after < 0
        )


@dataclass(frozen=True)
class Read:
    started: float
    ended: float
    server: int
    balances: dict[str, int]


@dataclass(frozen=True)
class Fault:
    kind: str
    started: float
    ended: float
    detail: str


@dataclass
class Report:
    seed: int
    config: dict[str, Any]
    operations: int = 0
    outcomes: dict[str, int] = field(default_factory=dict)
    answers: dict[str, int] = field(default_factory=dict)
    faults: dict[str, int] = field(default_factory=dict)
    retries: dict[str, int] = field(default_factory=dict)
    reads: dict[str, int] = field(default_factory=dict)
    deadlocks: int = 0
    # Failed calls made well after every fault had healed (see `late_errors`).
    late_errors: dict[str, int] = field(default_factory=dict)
    # Exceptions nothing caught, from the servers' logs (see `server_log_errors`).
    server_errors: dict[str, int] = field(default_factory=dict)
    violations: list[tuple[str, str]] = field(default_factory=list)
    elapsed_seconds: float = 0.0
    work_dir: str = ""

    @property
    def ok(self) -> bool:
        return not self.violations

    def violation_counts(self) -> dict[str, int]:
        return dict(Counter(category for category, _ in self.violations))

    def summary(self, examples: int = 15) -> str:
        duration = self.config.get("duration", 0)
        replay = f"replay: make chaos CHAOS_SEED={self.seed} CHAOS_SECONDS={duration:g}"
        late = f"{RECOVERY_SECONDS:g}"
        if self.config.get("break_mode"):
            replay += f" CHAOS_BREAK={self.config['break_mode']}"
        lines = [
            f"chaos seed={self.seed} ({self.elapsed_seconds:.0f} s; {replay})",
            f"  operations   {self.operations} transfers: {_pairs(self.outcomes)}",
            f"  answers      {_pairs(self.answers)}",
            f"  faults       {_pairs(self.faults)}",
            f"  retries      {_pairs(self.retries)}",
            f"  reads        {_pairs(self.reads)}",
            f"  deadlocks    {self.deadlocks} (PostgreSQL log)",
            f"  late errors  {_pairs(self.late_errors)} ({late} s or more after a fault healed)",
            f"  server logs  {_pairs(self.server_errors)} (uncaught exceptions)",
            f"  violations   {len(self.violations)} {_pairs(self.violation_counts())}",
        ]
        lines += [f"    [{category}] {text}" for category, text in self.violations[:examples]]
        if len(self.violations) > examples:
            lines.append(f"    ... and {len(self.violations) - examples} more")
        if self.work_dir:
            lines.append(f"  kept         {self.work_dir} (PostgreSQL and server logs)")
        return "\n".join(lines)

    def as_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["violation_counts"] = self.violation_counts()
        data["violations"] = [{"category": c, "text": t} for c, t in self.violations]
        return data


def _rng(*parts: object) -> random.Random:
    """A generator seeded by `parts`: the same parts give the same numbers on any machine."""
    return random.Random("-".join(map(str, parts)))  # noqa: S311 (a replayable workload)


def _pairs(counts: dict[str, int]) -> str:
    return ", ".join(f"{key}={value}" for key, value in sorted(counts.items())) or "-"


# --- the system under test ----------------------------------------------------


class ServerProcess:
    """One `python -m server serve` (through tests.chaos.server_entry)."""

    def __init__(self, index: int, settings: Settings, log_dir: Path, break_mode: str) -> None:
        self.index = index
        self.settings = settings
        self.log_path = log_dir / f"server-{index}.log"
        self.break_mode = break_mode
        self.process: subprocess.Popen[bytes] | None = None
        self.target = f"{settings.host}:{settings.grpc_port}"

    def start(self) -> None:
        env = settings_env(self.settings)
        env[BREAK_ENV] = self.break_mode
        with self.log_path.open("ab") as log_file:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "tests.chaos.server_entry", "serve"],
                cwd=REPO_ROOT,
                env=env,
                stdout=log_file,
                stderr=subprocess.STDOUT,
            )
        wait_for_health(self.target, time.monotonic() + 60)

    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def kill(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait()

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.kill()


class System:
    """PostgreSQL, the servers, and authenticated gRPC stubs for each server."""

    def __init__(self, config: Config, work_dir: Path) -> None:
        self.config = config
        self.work_dir = work_dir
        ports = free_ports(1 + config.servers)
        self.pg = PrivatePostgres(work_dir / "postgres", ports[0])
        data_dir = work_dir / "bank"
        data_dir.mkdir()
        base = replace(
            Settings.from_env({}),
            database_url=self.pg.url(),
            data_dir=data_dir,
            worker_threads=8,
            log_level="WARNING",
        )
        self.base_settings = base
        self.servers = [
            ServerProcess(
                index, replace(base, grpc_port=port), data_dir / "logs", config.break_mode
            )
            for index, port in enumerate(ports[1:])
        ]
        self.channels: list[grpc.Channel] = []
        self.transactions: list[transaction_grpc.TransactionServiceStub] = []
        self.accounts: list[account_grpc.AccountServiceStub] = []
        self.users: list[user_grpc.UserServiceStub] = []

    def start(self) -> None:
        self.pg.init()
        self.cli("migrate")
        (self.base_settings.data_dir / "logs").mkdir(exist_ok=True)
        # The sandbox data (its OAuth client is all the harness needs) loads
        # while the servers start: they need only the migrated schema.
        with ThreadPoolExecutor(1 + len(self.servers)) as pool:
            loading = pool.submit(self.cli, "load-sandbox")
            starting = [pool.submit(process.start) for process in self.servers]
            for future in [loading, *starting]:
                future.result()
        token = ""
        for process in self.servers:
            raw = grpc.insecure_channel(process.target, options=CHANNEL_OPTIONS)
            token = token or token_over_grpc(raw)
            channel = authenticated(raw, token)
            self.channels.append(raw)
            self.transactions.append(transaction_grpc.TransactionServiceStub(channel))
            self.accounts.append(account_grpc.AccountServiceStub(channel))
            self.users.append(user_grpc.UserServiceStub(channel))

    def cli(self, command: str) -> None:
        """`python -m server <command>` against the private database."""
        result = subprocess.run(
            [sys.executable, "-m", "server", command],
            cwd=REPO_ROOT,
            env=settings_env(self.base_settings),
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        if result.returncode != 0:
            raise RuntimeError(f"python -m server {command} failed: {result.stderr}")

    def heal(self) -> None:
        """PostgreSQL running and not paused, every server running and healthy."""
        self.pg.resume()
        try:
            self.pg.connect("postgres", timeout=5).close()
        except psycopg2.OperationalError:
            self.pg.start()
        for process in self.servers:
            if not process.alive():
                process.start()
            wait_for_health(process.target, time.monotonic() + 60)

    def close(self) -> None:
        for channel in self.channels:
            channel.close()
        self.pg.resume()
        for process in self.servers:
            process.stop()
        self.pg.stop("fast")


# --- the workload -----------------------------------------------------------


def classify(exc: grpc.RpcError) -> tuple[str, str]:
    """(kind, reason) of a failed call: `refused` with the contract code, or a transient kind."""
    reason = ""
    for key, value in exc.trailing_metadata() or ():  # type: ignore[attr-defined]
        if key == "x-bank-error-code" and isinstance(value, str):
            reason = value
    if reason.startswith("TXN"):
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
        ops_rng = _rng(self.config.seed, "client", index)
        timing = _rng(self.config.seed, "client-timing", index)
        number = 0
        count = self.config.servers
        while not stop.is_set():
            number += 1
            source, target = ops_rng.sample(self.ids, 2)
            amount = ops_rng.randint(1_00, 400_00)
            if amount % FEE_MINOR == 0:
                amount += 1  # a lost leg of this amount can never look like whole fees
            duplicated = count > 1 and ops_rng.random() < self.config.duplicate_rate
            first = ops_rng.randrange(count)
            nodes = [first, (first + 1) % count] if duplicated else [first]
            key = f"chaos-{self.config.seed}-{index}-{number}"
            op = Op(key, source, target, amount, duplicated)
            with self.lock:
                self.ops.append(op)
            self.send(op, nodes, "run")
            for _ in range(self.config.immediate_retries):
                if op.first_definitive() is not None or stop.is_set():
                    break
                time.sleep(timing.uniform(0.1, 0.5))
                with self.lock:
                    self.counters["immediate"] += 1
                self.transfer(op, timing.randrange(count), "run")

    def reader(self, index: int, stop: threading.Event) -> None:
        rng = _rng(self.config.seed, "reader", index)
        while not stop.is_set():
            self.read(rng.randrange(self.config.servers))
            stop.wait(rng.uniform(0.02, 0.2))

    def settle(self, deadline: float) -> list[Op]:
        """After healing: retries every op without a definitive answer; returns those left."""
        pending = [op for op in self.ops if op.first_definitive() is None]
        self.counters["pending_after_faults"] = len(pending)

        def settle_one(op: Op) -> None:
            rng = _rng(op.key)
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


# --- the nemesis --------------------------------------------------------------


class Nemesis:
    """Injects one fault at a time, from a seeded schedule, until stopped."""

    def __init__(
        self, system: System, bank: Bank, config: Config, log: Callable[[str], None]
    ) -> None:
        self.system = system
        self.bank = bank
        self.config = config
        self.log = log
        self.rng = _rng(config.seed, "nemesis")
        self.faults: list[Fault] = []
        self.kills: list[tuple[int, float]] = []  # (server, when it was SIGKILLed)
        self.errors: list[str] = []

    def run(self, stop: threading.Event) -> None:
        kinds = self.config.faults
        number = 0
        limit = self.config.max_faults
        while not stop.wait(self.rng.uniform(*self.config.gap)):
            if limit and number >= limit:
                continue  # the quota is spent: the workload goes on without faults
            if self.config.order == "cycle":
                kind = kinds[number % len(kinds)]
            else:
                kind = self.rng.choice(kinds)
            number += 1
            started = self.bank.now()
            try:
                detail = self.inject(kind)
            except Exception as exc:  # the harness must heal and go on, and say so
                detail = f"failed: {exc!r}"
                self.errors.append(f"{kind}: {exc!r}")
                with contextlib.suppress(Exception):
                    self.system.heal()
            fault = Fault(kind, started, self.bank.now(), detail)
            self.faults.append(fault)
            self.log(f"  t={fault.started:6.1f}s {kind:<22} {detail}")

    def inject(self, kind: str) -> str:
        pg = self.system.pg
        if kind == "kill-server":
            process = self.system.servers[self.rng.randrange(len(self.system.servers))]
            down = self.rng.uniform(0.2, 2.0)
            self.kills.append((process.index, self.bank.now()))
            process.kill()
            time.sleep(down)
            process.start()
            return f"server {process.index} SIGKILLed, restarted after {down:.1f} s"
        if kind == "terminate-connections":
            return f"{pg.terminate_backends()} backends terminated"
        if kind == "pause-postgres":
            paused_for = self.rng.uniform(0.5, 4.0)
            count = pg.pause()
            try:
                time.sleep(paused_for)
            finally:
                pg.resume()
            return f"{count} processes stopped for {paused_for:.1f} s"
        if kind == "crash-postgres":
            down = self.rng.uniform(0.2, 2.0)
            pg.crash_restart(down)
            return f"immediate shutdown, restarted after {down:.1f} s"
        raise ValueError(f"unknown fault {kind!r}")


# --- the checks ---------------------------------------------------------------


class _Checker:
    """The invariants, each a method; `violations` collects (category, description)."""

    def __init__(self, bank: Bank, db: Any) -> None:
        self.bank = bank
        self.db = db
        self.violations: list[tuple[str, str]] = []
        self.by_key = {op.key: op for op in bank.ops}
        # key -> id of the one transfer it made, for the keys the ledger shows applied
        self.applied: dict[str, str] = {}
        self.fee_count: Counter[str] = Counter()  # transfer id -> overdraft fees charged

    def bad(self, category: str, text: str) -> None:
        self.violations.append((category, text))

    def rows(self, sql: str, params: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
        with self.db.cursor() as cursor:
            cursor.execute(sql, params)
            return list(cursor.fetchall())

    def answers(self, unresolved: list[Op]) -> None:
        """Every request got a definitive answer after healing; a key's answers agree."""
        for op in unresolved:
            kinds = Counter(answer.kind for answer in op.answers)
            self.bad("unresolved", f"{op.key}: no definitive answer after healing {dict(kinds)}")
        for op in self.bank.ops:
            definitive = {
                (answer.kind, answer.transaction_id or answer.reason)
                for answer in op.answers
                if answer.definitive
            }
            if len(definitive) > 1:
                self.bad("disagreeing-answers", f"{op.key}: {_timeline(op)}")
            for answer in op.answers:
                if answer.kind == "refused" and answer.reason not in EXPECTED_REFUSALS:
                    self.bad("unexpected-answer", f"{op.key}: refused with {answer.reason}")
                if answer.kind == KEY_REUSED:
                    self.bad("unexpected-answer", f"{op.key}: one key and body gave {KEY_REUSED}")

    def transfers(self) -> list[str]:
        """The ledger holds each answered transfer once, with the answered id, and no other.

        A request left without a definitive answer (already reported) may or
        may not have been applied; either is accepted, but at most once.
        """
        ids = self.bank.ids
        rows = self.rows(
            "SELECT id, reference, from_account_id, to_account_id, amount_minor, status"
            " FROM ledger_transactions WHERE type = 'TRANSFER'"
            " AND (from_account_id = ANY(%s) OR to_account_id = ANY(%s))",
            (ids, ids),
        )
        by_reference: dict[str, list[tuple[Any, ...]]] = defaultdict(list)
        for row in rows:
            by_reference[row[1]].append(row)
        for reference, found in by_reference.items():
            op = self.by_key.get(reference)
            if op is None:
                self.bad("phantom", f"transfer {found[0][0]} ({reference!r}) was never requested")
                continue
            if len(found) > 1:
                self.bad(
                    "applied-twice",
                    f"{reference}: transfers {[row[0] for row in found]}; {_timeline(op)}",
                )
                continue
            transaction_id, _, source, target, amount, status = found[0]
            answer = op.first_definitive()
            if answer is not None and answer.kind != "ok":
                self.bad("phantom", f"{reference}: {transaction_id} exists; {_timeline(op)}")
            elif answer is not None and transaction_id != answer.transaction_id:
                self.bad("phantom", f"{reference}: ledger has {transaction_id}; {_timeline(op)}")
            elif (source, target, amount, status) != (
                op.source,
                op.target,
                op.amount_minor,
                "COMPLETED",
            ):
                self.bad("wrong-transfer", f"{reference}: ledger row {found[0]} is not the request")
            else:
                self.applied[reference] = transaction_id
        for op in self.bank.ops:
            answer = op.first_definitive()
            if answer and answer.kind == "ok" and op.key not in by_reference:
                self.bad("lost", f"{op.key}: answered {answer.transaction_id}, not in the ledger")
        return [row[0] for row in rows]

    def fees(self) -> list[str]:
        """One overdraft fee per applied transfer that took its account below zero, no other."""
        rows = self.rows(
            "SELECT id, original_transaction_id, amount_minor FROM ledger_transactions"
            " WHERE type = 'FEE' AND from_account_id = ANY(%s)",
            (self.bank.ids,),
        )
        self.fee_count = Counter(row[1] for row in rows)
        for op in self.bank.ops:
            transaction_id = self.applied.get(op.key)
            if transaction_id is None:
                continue
            charged = self.fee_count.pop(transaction_id, 0)
            answered = op.first_definitive()
            expected = {int(op.charged_fee)} if answered else {0, 1}
            if charged not in expected:
                self.bad(
                    "fee",
                    f"{op.key}: {charged} overdraft fee(s), expected {sorted(expected)}"
                    f" (the answer showed the debited balance after it); {_timeline(op)}",
                )
            self.fee_count[transaction_id] = charged
        applied = set(self.applied.values())
        for row in rows:
            if row[1] not in applied:
                self.bad("fee", f"fee {row[0]} for {row[1]}, which is no applied transfer")
            if row[2] != FEE_MINOR:
                self.bad("fee", f"fee {row[0]} is {row[2]}, not {FEE_MINOR}")
        return [row[0] for row in rows]

    def balances(self, final: Read | None) -> None:
        """Opening balance plus exactly the applied transfers (and their fees); floors held."""
        bank = self.bank
        expected = dict(bank.opening)
        for op in bank.ops:
            transaction_id = self.applied.get(op.key)
            if transaction_id is not None:
                fee = FEE_MINOR * self.fee_count[transaction_id]
                expected[op.source] -= op.amount_minor + fee
                expected[op.target] += op.amount_minor
        ledger = dict(
            self.rows("SELECT id, balance_minor FROM accounts WHERE id = ANY(%s)", (bank.ids,))
        )
        for account_id in bank.ids:
            want = expected[account_id]
            if ledger.get(account_id) != want:
                self.bad(
                    "balance",
                    f"{account_id}: ledger says {ledger.get(account_id)}, expected {want}"
                    f" (opening {bank.opening[account_id]} plus the answered transfers)",
                )
            if final is not None and final.balances.get(account_id) != want:
                self.bad(
                    "balance",
                    f"{account_id}: the API reads {final.balances.get(account_id)},"
                    f" expected {want}",
                )
            if ledger.get(account_id, 0) < bank.floors[account_id]:
                self.bad("floor", f"{account_id}: ends at {ledger.get(account_id)}, below floor")
        for account_id, lowest in self.rows(
            "SELECT account_id, MIN(balance_after_minor) FROM postings WHERE account_id = ANY(%s)"
            " GROUP BY account_id",
            (bank.ids,),
        ):
            if lowest < bank.floors[account_id]:
                self.bad(
                    "floor",
                    f"{account_id}: a posting left it at {lowest}, floor {bank.floors[account_id]}",
                )

    def ledger(self) -> None:
        """Postings balance per transaction, balances are their postings, nothing created."""
        for transaction_id, currency, total in self.rows(
            "SELECT transaction_id, currency, SUM(amount_minor) FROM postings"
            " GROUP BY transaction_id, currency HAVING SUM(amount_minor) <> 0"
        ):
            self.bad("unbalanced", f"{transaction_id}: postings sum to {total} {currency}")
        for (transaction_id,) in self.rows(
            "SELECT t.id FROM ledger_transactions t WHERE t.status = 'COMPLETED'"
            " AND NOT EXISTS (SELECT 1 FROM postings p WHERE p.transaction_id = t.id)"
        ):
            self.bad("unbalanced", f"{transaction_id}: COMPLETED without postings")
        for account_id, balance, posted in self.rows(
            "SELECT a.id, a.balance_minor, COALESCE(SUM(p.amount_minor), 0) FROM accounts a"
            " LEFT JOIN postings p ON p.account_id = a.id GROUP BY a.id, a.balance_minor"
            " HAVING a.balance_minor <> COALESCE(SUM(p.amount_minor), 0)"
        ):
            self.bad("drift", f"{account_id}: balance {balance}, its postings sum to {posted}")
        total = self.rows("SELECT COALESCE(SUM(balance_minor), 0) FROM accounts")[0][0]
        if int(total) != 0:
            self.bad("drift", f"all accounts sum to {total}: money was created or destroyed")

    def limit_usage(self) -> None:
        """The running limit counters equal the sums of the debits they count."""
        expected: dict[tuple[str, str, str], int] = {}
        for sums in m0012.counted_sums("postgres"):
            for account_id, limit_class, key, used in self.rows(sums):
                expected[(account_id, limit_class, key)] = int(used)
        counted = {
            (account_id, limit_class, key): int(used)
            for account_id, limit_class, key, used in self.rows(
                "SELECT account_id, limit_class, period, used_minor FROM limit_usage"
                " WHERE used_minor <> 0"
            )
        }
        for key in sorted(set(expected) | set(counted)):
            summed, used = expected.get(key, 0), counted.get(key, 0)
            if summed != used:
                self.bad("limit-usage", f"{key}: counted {used}, its debits sum to {summed}")

    def outbox(self, committed: list[str]) -> None:
        """Each committed transaction has its created and completed events, once each."""
        events = Counter(
            {
                (aggregate, kind): count
                for aggregate, kind, count in self.rows(
                    "SELECT aggregate_id, type, count(*) FROM outbox_events"
                    " WHERE aggregate_id = ANY(%s) GROUP BY aggregate_id, type",
                    (committed,),
                )
            }
        )
        for transaction_id in committed:
            for kind in ("transaction.created", "transaction.completed"):
                count = events[(transaction_id, kind)]
                if count != 1:
                    self.bad("outbox", f"{transaction_id}: {count} {kind} events")

    def audit(self, kills: list[tuple[int, float]]) -> None:
        """Each call that got a definitive answer has its audit event.

        Except from a server SIGKILLed after the call began: a server keeps the
        events it could not write yet in memory, and a crash loses them (their
        log lines remain), as server/store/audit.py documents.
        """
        expected: dict[str, Op] = {}
        for op in self.bank.ops:
            for answer in op.answers:
                killed = any(
                    node == answer.server and when >= answer.started for node, when in kills
                )
                if answer.definitive and not killed:
                    expected[answer.request_id] = op
        found = {
            row[0]
            for row in self.rows(
                "SELECT request_id FROM audit_events WHERE request_id = ANY(%s)",
                (sorted(expected),),
            )
        }
        for request_id in sorted(set(expected) - found):
            op = expected[request_id]
            self.bad("audit", f"no audit event for call {request_id}; {_timeline(op)}")

    def reads(self, fees_total: int) -> None:
        """Each snapshot read shows every account at or above its floor, and the opening
        total less a whole number of fees; that number never goes down from one read to
        a read that started after it ended."""
        bank = self.bank
        opening = sum(bank.opening.values())
        seen: list[tuple[float, float, int]] = []
        for read in bank.reads:
            where = f"read at t={read.started:.2f}s (server {read.server})"
            if set(read.balances) != set(bank.ids):
                self.bad("read", f"{where} shows accounts {sorted(read.balances)}")
                continue
            for account_id, balance in read.balances.items():
                if balance < bank.floors[account_id]:
                    self.bad("read-floor", f"{where}: {account_id} at {balance}")
            missing = opening - sum(read.balances.values())
            if missing < 0 or missing % FEE_MINOR or missing // FEE_MINOR > fees_total:
                self.bad(
                    "read-total",
                    f"{where} sums to {opening - missing}: the opening total {opening} less"
                    f" {missing}, which is not a whole number of fees (at most {fees_total})",
                )
                continue
            seen.append((read.started, read.ended, missing // FEE_MINOR))
        by_end = sorted(seen, key=lambda item: item[1])
        ends = [item[1] for item in by_end]
        most: list[int] = []
        for _, _, fees in by_end:
            most.append(max(fees, most[-1] if most else 0))
        for started, _, fees in seen:
            before = bisect.bisect_left(ends, started)
            if before and most[before - 1] > fees:
                self.bad(
                    "read-order",
                    f"read at t={started:.2f}s shows {fees} fees; one that ended before it"
                    f" started showed {most[before - 1]}",
                )


def check(
    bank: Bank,
    db: Any,
    final: Read | None,
    unresolved: list[Op],
    kills: list[tuple[int, float]],
) -> list[tuple[str, str]]:
    """Every invariant of the bank; returns (category, description) for each violation."""
    checker = _Checker(bank, db)
    checker.answers(unresolved)
    transfers = checker.transfers()
    fees = checker.fees()
    checker.balances(final)
    checker.ledger()
    checker.limit_usage()
    checker.outbox([*transfers, *fees, *sorted(bank.setup_transactions)])
    checker.reads(len(fees))
    checker.audit(kills)
    return checker.violations


def _timeline(op: Op) -> str:
    """The answers of one request, in order: what a replay needs to know."""
    parts = []
    for answer in sorted(op.answers, key=lambda item: item.started):
        what = answer.transaction_id or answer.reason or ""
        parts.append(
            f"{answer.kind}{f' {what}' if what else ''} (server {answer.server},"
            f" {answer.phase}, t={answer.started:.2f}-{answer.ended:.2f}s)"
        )
    duplicated = " sent twice at once;" if op.duplicated else ""
    return f"{op.source} -> {op.target} {op.amount_minor};{duplicated} " + "; ".join(parts)


def deadlocks(log_text: str) -> int:
    return log_text.count("deadlock detected")


# --- the run ------------------------------------------------------------------


def _work_dir() -> Path:
    root = Path(tempfile.mkdtemp(prefix="bank-chaos-"))
    # PostgreSQL runs as another user when we are root: it must reach its directory.
    root.chmod(0o755)
    return root


@contextlib.contextmanager
def _system(config: Config) -> Iterator[tuple[System, Path]]:
    work_dir = _work_dir()
    system = System(config, work_dir)
    try:
        yield system, work_dir
    finally:
        with contextlib.suppress(Exception):
            system.close()
        with contextlib.suppress(Exception):
            system.pg.stop("immediate")


def run(config: Config, log: Callable[[str], None] = print) -> Report:
    """Runs the fault test; raises PostgresUnavailable when PostgreSQL is not installed."""
    if config.break_mode and config.break_mode not in BREAKS:
        raise ValueError(f"break_mode must be one of {BREAKS}")
    # One ListAccounts page (at most 100) must hold every test account.
    if not 2 <= config.accounts <= 100:
        raise ValueError("accounts must be between 2 and 100")
    # One access token serves the whole run; it lives an hour.
    if config.duration > DURATION_MAX_SECONDS:
        raise ValueError(f"duration must be at most {DURATION_MAX_SECONDS} seconds")
    started = time.monotonic()
    report = Report(seed=config.seed, config=asdict(config))
    log(
        f"chaos: seed={config.seed} duration={config.duration:.0f}s servers={config.servers}"
        f" clients={config.clients} faults={','.join(config.faults)}"
        + (f" BREAK={config.break_mode}" if config.break_mode else "")
    )
    with _system(config) as (system, work_dir):
        system.start()
        bank = Bank(system, config, started)
        bank.open_accounts(_rng(config.seed, "accounts"))
        log(
            f"  t={bank.now():6.1f}s PostgreSQL, {config.servers} servers and"
            f" {config.accounts} funded accounts ready; faults start"
        )
        nemesis = Nemesis(system, bank, config, log)
        stop_faults, stop_clients = threading.Event(), threading.Event()
        threads = [
            threading.Thread(target=bank.client, args=(i, stop_clients), name=f"client-{i}")
            for i in range(config.clients)
        ]
        threads += [
            threading.Thread(target=bank.reader, args=(i, stop_clients), name=f"reader-{i}")
            for i in range(config.readers)
        ]
        faults = threading.Thread(target=nemesis.run, args=(stop_faults,), name="nemesis")
        for thread in [*threads, faults]:
            thread.start()
        time.sleep(config.duration)
        overtime = time.monotonic() + 2 * config.duration
        while len(nemesis.faults) < config.min_faults and time.monotonic() < overtime:
            time.sleep(0.1)
        stop_faults.set()
        faults.join()
        stop_clients.set()
        for thread in threads:
            thread.join()
        log(f"  t={bank.now():6.1f}s healing; retrying unanswered requests with their keys")
        system.heal()
        unresolved = bank.settle(time.monotonic() + config.heal_timeout)
        bank.replay(_rng(config.seed, "replay"))
        final = bank.final_read(time.monotonic() + config.heal_timeout)
        bank.flush_audit()
        with contextlib.closing(system.pg.connect()) as db:
            violations = check(bank, db, final, unresolved, nemesis.kills)
        if final is None:
            violations.append(("unresolved", "no server answered a read of the balances"))
        report.deadlocks = deadlocks(system.pg.log_text())
        if report.deadlocks:
            text = f"PostgreSQL detected {report.deadlocks} deadlock(s)"
            violations.append(("deadlock", f"{text}: locks were not taken in one global order"))
        violations += [("nemesis", error) for error in nemesis.errors]
        report.violations = violations
        _count(report, bank, nemesis)
        report.server_errors = server_log_errors(system.servers[0].log_path.parent)
        report.elapsed_seconds = time.monotonic() - started
        if violations or config.keep:
            report.work_dir = str(work_dir)
    if not report.work_dir:
        shutil.rmtree(work_dir, ignore_errors=True)
    return report


def late_errors(bank: Bank, faults: list[Fault]) -> dict[str, int]:
    """Failed calls that began RECOVERY_SECONDS or more after the last fault healed
    and ended before the next one began: the system had had time to recover."""
    windows = sorted((fault.started, fault.ended + RECOVERY_SECONDS) for fault in faults)
    starts = [start for start, _ in windows]

    def late(started: float, ended: float) -> bool:
        index = bisect.bisect_right(starts, ended)  # windows that began before the call ended
        return all(end <= started for _, end in windows[:index])

    counts: Counter[str] = Counter()
    for op in bank.ops:
        for answer in op.answers:
            if not answer.definitive and late(answer.started, answer.ended):
                counts[f"transfer_{answer.kind}"] += 1
    for kind, started, ended in bank.read_errors:
        if late(started, ended):
            counts[f"read_{kind}"] += 1
    return dict(counts)


def server_log_errors(log_dir: Path) -> dict[str, int]:
    """Exceptions that escaped the servers' own handling, by where they escaped.

    `thread:<name>`: a thread died of it (Python prints "Exception in thread");
    `rpc`: an RPC handler raised past the error model (gRPC answers UNKNOWN and
    logs "Exception calling application"). Reported, not judged: a fault may
    explain them, the invariants decide.
    """
    counts: Counter[str] = Counter()
    for path in sorted(log_dir.glob("server-*.log")):
        for line in path.read_text(errors="replace").splitlines():
            if "Exception in thread " in line:
                # Lines of concurrent threads interleave: keep the name's characters only.
                name = re.match(r"[\w-]*", line.split("Exception in thread ", 1)[1])
                counts[f"thread:{name.group() if name and name.group() else '?'}"] += 1
            if "Exception calling application" in line:
                counts["rpc"] += 1
    return dict(counts)


def _count(report: Report, bank: Bank, nemesis: Nemesis) -> None:
    report.operations = len(bank.ops)
    outcomes: Counter[str] = Counter()
    for op in bank.ops:
        answer = op.first_definitive()
        outcomes["unresolved" if answer is None else answer.kind] += 1
        outcomes["duplicated"] += op.duplicated
        outcomes["overdraft_fee"] += op.charged_fee
    report.outcomes = dict(outcomes)
    answers: Counter[str] = Counter()
    for op in bank.ops:
        for answer in op.answers:
            name = answer.reason if answer.kind == "refused" else answer.kind
            answers[name if answer.phase == "run" else f"{answer.phase}:{name}"] += 1
    report.answers = dict(answers)
    report.faults = dict(Counter(fault.kind for fault in nemesis.faults))
    report.late_errors = late_errors(bank, nemesis.faults)
    report.retries = {
        "immediate": bank.counters["immediate"],
        "pending_after_faults": bank.counters["pending_after_faults"],
        "after_healing": bank.counters["after_healing"],
        "replays": bank.counters["replays"],
    }
    kinds = Counter(kind for kind, _, _ in bank.read_errors)
    failed = {f"failed_{kind}": count for kind, count in kinds.items()}
    report.reads = {"ok": len(bank.reads), **failed}


# --- command line -------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.chaos.harness", description=__doc__)
    env = os.environ
    parser.add_argument(
        "--seed",
        type=int,
        default=int(env["CHAOS_SEED"]) if env.get("CHAOS_SEED") else None,
        help="default: $CHAOS_SEED, else a random seed (printed)",
    )
    parser.add_argument(
        "--duration",
        type=float,
        default=float(env.get("CHAOS_SECONDS") or 180),
        help="seconds of workload under faults (default: $CHAOS_SECONDS, else 180)",
    )
    parser.add_argument("--servers", type=int, default=2)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--accounts", type=int, default=12)
    parser.add_argument("--faults", default=",".join(FAULT_KINDS), help="comma-separated kinds")
    parser.add_argument("--order", default="random", choices=["random", "cycle"])
    parser.add_argument(
        "--break",
        dest="break_mode",
        default=env.get("CHAOS_BREAK", ""),
        choices=["", *BREAKS],
        help="run the servers with a deliberate bug (default: $CHAOS_BREAK)",
    )
    parser.add_argument("--json", type=Path, default=None, help="also write the report here")
    parser.add_argument("--keep", action="store_true", help="keep the work directory")
    args = parser.parse_args(argv)
    seed = args.seed if args.seed is not None else random.SystemRandom().randrange(1, 10**9)
    faults = tuple(kind.strip() for kind in args.faults.split(",") if kind.strip())
    unknown = set(faults) - set(FAULT_KINDS)
    if unknown:
        parser.error(f"unknown faults {sorted(unknown)}; known: {', '.join(FAULT_KINDS)}")
    config = Config(
        seed=seed,
        duration=args.duration,
        servers=args.servers,
        clients=args.clients,
        accounts=args.accounts,
        faults=faults,
        order=args.order,
        break_mode=args.break_mode,
        keep=args.keep,
    )
    try:
        report = run(config, log=lambda line: print(line, flush=True))
    except PostgresUnavailable as exc:
        print(f"chaos: cannot run: {exc}", file=sys.stderr)
        return 2
    print(report.summary(), flush=True)
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(report.as_json(), indent=2, sort_keys=True))
    return 0 if report.ok else 1


if __name__ == "__main__":
    sys.exit(main())
