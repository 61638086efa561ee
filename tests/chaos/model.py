"""The fault test's records: its configuration, what each call answered, the report."""

from __future__ import annotations

import random
from collections import Counter
from dataclasses import asdict, dataclass, field
from typing import Any

import server  # noqa: F401  (puts gen/ on sys.path)

FAULT_KINDS = (
    "kill-server",
    "terminate-connections",
    "pause-postgres",
    "crash-postgres",
    "kill-webhook-worker",
)
FEE_MINOR = 35_00  # the overdraft fee (server.domain.movements.OVERDRAFT_FEE_MINOR)
# Business refusals the workload can meet: transfer limits are raised, so
# only funds refuse. Any other code is reported as unexpected.
EXPECTED_REFUSALS = frozenset({"TXN001"})
# The kinds of request, and the business refusals each may meet: an
# external transfer or a payment also the monthly external or daily
# bill-payment limit (TXN004); a payment dated by the clock a client read
# may find that date passed (VALIDATION_ERROR); a cancel finds its item
# completed (TXN008) or beyond cancelling (TXN007).
KINDS = ("transfer", "external", "payment", "deposit", "cancel", "recurring")
REFUSALS_OF = {
    "transfer": EXPECTED_REFUSALS,
    "external": frozenset({"TXN001", "TXN004"}),
    "payment": frozenset({"TXN001", "TXN004", "VALIDATION_ERROR"}),
    "deposit": frozenset(),
    "cancel": frozenset({"TXN007", "TXN008"}),
    "recurring": frozenset({"VALIDATION_ERROR"}),
}
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
    # Besides transfers: external transfers, bill payments, cancels, recurring
    # schedules (at most `recurring`), and a thread moving the sandbox clock.
    movements: bool = True
    recurring: int = 3
    clock_gap: tuple[float, float] = (0.3, 1.0)  # seconds between two clock moves
    break_mode: str = ""  # a deliberate bug in the server (tests/chaos/server_entry.py)
    keep: bool = False  # keep the work directory even when the run passes
    # Webhook delivery: worker processes (`python -m server webhooks`), the
    # share of requests the receiver answers 500 (retried), the lease and the
    # retry schedule's scale the workers run with (shrunk, so that a killed
    # worker's deliveries and the retries come back within the run).
    webhook_workers: int = 2
    webhook_failure_rate: float = 0.1
    webhook_lease_seconds: float = 3.0
    webhook_retry_scale: float = 0.01


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
    status: str = ""  # the answered item's status (PENDING, SCHEDULED, ...)

    @property
    def definitive(self) -> bool:
        return self.kind in ("ok", "refused")


@dataclass
class Op:
    """One request (one Idempotency-Key) and every answer it got.

    `target`: the credited account (transfer, recurring transfer), the
    beneficiary's account number (external), the payee (payment, recurring
    payment) or the transaction to cancel (cancel); `date`: a payment's date
    or a schedule's start (empty: today).
    """

    key: str
    source: str
    target: str
    amount_minor: int
    duplicated: bool
    answers: list[Answer] = field(default_factory=list)
    kind: str = "transfer"
    date: str = ""

    def first_definitive(self) -> Answer | None:
        return next((answer for answer in self.answers if answer.definitive), None)

    def first_ok_id(self) -> str:
        """The id the first definitive answer gave ('' when refused or unanswered)."""
        answer = self.first_definitive()
        return answer.transaction_id if answer is not None and answer.kind == "ok" else ""

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
    # What the ledger holds at the end: the test accounts' transactions by
    # type and status, recurring runs, and the sandbox clock's moves.
    ledger: dict[str, int] = field(default_factory=dict)
    # Failed calls made well after every fault had healed (see `late_errors`).
    late_errors: dict[str, int] = field(default_factory=dict)
    # Exceptions nothing caught, from the servers' logs (see `server_log_errors`).
    server_errors: dict[str, int] = field(default_factory=dict)
    # Webhook deliveries: events, requests the receiver got, duplicates (an
    # event received more than once with a 2xx answer: at least once allows them).
    webhooks: dict[str, int] = field(default_factory=dict)
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
            f"  operations   {self.operations}: {pairs(self.outcomes)}",
            f"  answers      {pairs(self.answers)}",
            f"  faults       {pairs(self.faults)}",
            f"  retries      {pairs(self.retries)}",
            f"  reads        {pairs(self.reads)}",
            f"  ledger       {pairs(self.ledger)}",
            f"  deadlocks    {self.deadlocks} (PostgreSQL log)",
            f"  late errors  {pairs(self.late_errors)} ({late} s or more after a fault healed)",
            f"  server logs  {pairs(self.server_errors)} (uncaught exceptions)",
            f"  webhooks     {pairs(self.webhooks)}",
            f"  violations   {len(self.violations)} {pairs(self.violation_counts())}",
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


def seeded(*parts: object) -> random.Random:
    """A generator seeded by `parts`: the same parts give the same numbers on any machine."""
    return random.Random("-".join(map(str, parts)))  # noqa: S311 (a replayable workload)


def pairs(counts: dict[str, int]) -> str:
    return ", ".join(f"{key}={value}" for key, value in sorted(counts.items())) or "-"
