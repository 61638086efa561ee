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
  sent twice at once to two servers (a duplicated request); with
  `movements` (the default) they also send external transfers (some to
  beneficiaries the sandbox network returns), bill payments (today's and
  scheduled, to the customer's payee and a bank-wide biller), cash
  deposits, cancels of items answered PENDING or SCHEDULED, and the first
  `recurring` clients each make a daily schedule (tests/chaos/movements.py);
- with `movements`, a thread moving the sandbox clock 3-14 hours on every
  1-3 s, so that submissions, settlements, returns, scheduled payments and
  recurring runs happen under the faults; after healing it moves 8 days on
  so that every item can end;
- `readers` threads reading every test account's balance in one snapshot:
  ListAccounts filtered by the owner, one page (the server answers it with
  one SQL statement, which PostgreSQL runs on one snapshot);
- a nemesis that, between quiet gaps, SIGKILLs a server (then restarts it),
  terminates every database connection (pg_terminate_backend), pauses
  PostgreSQL (SIGSTOP to the postmaster and its children, then SIGCONT) or
  crash-restarts it (`pg_ctl stop -m immediate`, then start), or SIGKILLs
  a webhook delivery worker (then restarts it);
- `webhook_workers` webhook delivery workers (`python -m server webhooks`)
  sending every event, through one subscription to `*` made at setup, to a
  receiver in this process that answers 500 to a share of the requests
  (tests/chaos/webhooks.py); the workers run with a short lease and a
  shrunk retry schedule.

A call's outcome is definitive when it is a success or a business refusal
(TXN001..., VALIDATION_ERROR). Anything else (UNAVAILABLE, DEADLINE_EXCEEDED, INTERNAL, the key
in use) is retried with the same key a few times at once, and after healing
until it is definitive.

Then the checks (see `check`): without `movements`, every read summed to the
same total (less the overdraft fees committed by then: a fee leaves the
customers for the bank's fee income, so the total read is the opening total
minus a whole number of 35.00 fees, and that number never goes down between
reads that follow each other); with them, every balance a read shows is one
its account had (its opening or a posting's balance_after); no balance ever
below its floor (reads, the final balances, and every posting's
balance_after); each account equals its opening balance plus exactly the
transfers answered with success (and their overdraft fees) and the other
movements' postings, which tests/chaos/checks_movements.py checks item by
item; every answered transaction exists once, with the answered id, and no
transfer exists that no request was answered with; every key's definitive
answers agree; every transaction's postings sum to zero and every balance is
the sum of its postings, all accounts of a currency sum to zero; the running
limit counters equal the sums of the debits they count; every committed
transaction has its outbox events; PostgreSQL never detected a deadlock (the
sorted lock order makes one impossible); every call answered definitively
has its audit event (unless its server was SIGKILLed after the call began: a
crash loses the events a server could not write yet, by design). Webhooks,
once nothing is left to send (a bounded wait): every event reached the
receiver at least once with the same `webhook-id` and body and valid
signatures (tests/chaos/checks_webhooks.py); duplicates are counted. The seed
fixes the operations (accounts, amounts, duplicates, servers) and the fault
schedule; the machine's timing still varies between replays.

After healing, a sample of answered requests is sent again (each must get its
first answer back), and the report also counts "late errors": calls that
failed although they began RECOVERY_SECONDS after the last fault had healed.

CLI: `python -m tests.chaos.harness --seed 42 --duration 180` (`make chaos`).

The modules: `model` (configuration, records, report), `system` (PostgreSQL and
the servers), `workload` (the accounts, clients and readers), `nemesis` (the
faults), `movements` (the kinds other than transfers, the clock), `checks`
and `checks_movements` (the invariants); this one runs them and is the CLI.
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
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import asdict
from pathlib import Path
from typing import Any

import server  # noqa: F401  (puts gen/ on sys.path)
from tests.chaos import checks_movements, checks_webhooks, movements
from tests.chaos.checks import check, deadlocks
from tests.chaos.model import (
    DURATION_MAX_SECONDS,
    FAULT_KINDS,
    RECOVERY_SECONDS,
    Config,
    Fault,
    Report,
    seeded,
)
from tests.chaos.nemesis import Nemesis
from tests.chaos.postgres import PostgresUnavailable
from tests.chaos.server_entry import BREAKS
from tests.chaos.system import System
from tests.chaos.webhooks import wait_delivered
from tests.chaos.workload import Bank

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
        bank.open_accounts(seeded(config.seed, "accounts"))
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
        if config.movements:
            threads.append(
                threading.Thread(
                    target=movements.advance_clock, args=(bank, stop_clients), name="clock"
                )
            )
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
        bank.replay(seeded(config.seed, "replay"))
        early: list[tuple[str, str]] = []
        if config.movements:
            # Reservations while items are still open, then every item's end.
            with contextlib.closing(system.pg.connect()) as db:
                rows = _query(db)
                found = checks_movements.reservations(rows, bank.ids)
                early = [("reservation", f"{text} (before the end)") for text in found]
            movements.finish(bank)
        final = bank.final_read(time.monotonic() + config.heal_timeout)
        bank.flush_audit()
        left = wait_delivered(system.pg.connect, time.monotonic() + config.heal_timeout)
        with contextlib.closing(system.pg.connect()) as db:
            violations = early + check(bank, db, final, unresolved, nemesis.kills)
            report.ledger = ledger_counts(db, bank)
            undelivered, report.webhooks = checks_webhooks.check(
                db, system.receiver.snapshot(), system.webhook_id, left
            )
            violations += undelivered
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
                counts[f"{op.kind}_{answer.kind}"] += 1
    for kind, started, ended in bank.read_errors:
        if late(started, ended):
            counts[f"read_{kind}"] += 1
    return dict(counts)


def _query(db: Any) -> Callable[..., list[tuple[Any, ...]]]:
    def rows(sql: str, params: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
        with db.cursor() as cursor:
            cursor.execute(sql, params)
            return list(cursor.fetchall())

    return rows


def ledger_counts(db: Any, bank: Bank) -> dict[str, int]:
    """The test accounts' transactions by type and status, runs, clock moves."""
    with db.cursor() as cursor:
        cursor.execute(
            "SELECT type, status, count(*) FROM ledger_transactions"
            " WHERE from_account_id = ANY(%s) OR to_account_id = ANY(%s) GROUP BY type, status",
            (bank.ids, bank.ids),
        )
        counts = {f"{kind}:{status}": int(n) for kind, status, n in cursor.fetchall()}
        cursor.execute(
            "SELECT r.status, count(*) FROM recurring_runs r JOIN recurring_transactions s"
            " ON s.id = r.recurring_id WHERE s.from_account_id = ANY(%s) GROUP BY r.status",
            (bank.ids,),
        )
        counts |= {f"RECURRING_RUN:{status}": int(n) for status, n in cursor.fetchall()}
    clock = {key: n for key, n in bank.counters.items() if key.startswith("clock_")}
    return counts | clock


def server_log_errors(log_dir: Path) -> dict[str, int]:
    """Exceptions that escaped the servers' own handling, by where they escaped.

    `thread:<name>`: a thread died of it (Python prints "Exception in thread");
    `rpc`: an RPC handler raised past the error model (gRPC answers UNKNOWN and
    logs "Exception calling application"). Reported, not judged: a fault may
    explain them, the invariants decide.
    """
    counts: Counter[str] = Counter()
    for path in sorted([*log_dir.glob("server-*.log"), *log_dir.glob("webhooks-*.log")]):
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
        outcomes[f"{op.kind}_{'unresolved' if answer is None else answer.kind}"] += 1
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
    parser.add_argument("--webhook-workers", type=int, default=2)
    parser.add_argument("--faults", default=",".join(FAULT_KINDS), help="comma-separated kinds")
    parser.add_argument(
        "--movements",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="also external transfers, payments, deposits, cancels, recurring schedules and"
        " the moving clock (default); --no-movements: transfers only",
    )
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
        webhook_workers=args.webhook_workers,
        faults=faults,
        movements=args.movements,
        # Deposits bring money back (movements), so less of it keeps accounts
        # meeting their floors, where a broken lock shows.
        opening=(300, 1_500) if args.movements else (1_000, 5_000),
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
