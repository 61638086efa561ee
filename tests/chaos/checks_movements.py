"""The invariants of the movements other than transfers (tests/chaos/movements.py).

Checked after healing and after the clock moved on far enough for every
external transfer and payment to end (`movements.finish`):

- every answered item exists once, with the answered id; a refused one does
  not exist; no item exists that no request made (a recurring run is made
  by its schedule);
- each ended COMPLETED, FAILED or CANCELLED (none left PENDING, PROCESSING
  or SCHEDULED); an external transfer to a returning beneficiary FAILED, one
  to another beneficiary did not; no payment to the returning payee
  COMPLETED;
- its money: COMPLETED took amount and fee from its account; FAILED and
  CANCELLED ones net to zero on every account (no clearing account or fee
  income keeps money for them);
- each account's pending debits equal the reservations of its open PENDING
  external transfers and SCHEDULED payments (released exactly once), both
  before the clock moves on at the end (items still open) and after;
- a cancel answered with success left its item CANCELLED;
- each schedule exists once; it ran at most once per date, on dates from its
  start to today, each run with a transaction of its own; an ACTIVE one ran
  on every date passed;
- outbox: one `transaction.created` per item, one `transaction.completed`,
  `transaction.failed` or `transaction.cancelled` as its end says.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from tests.chaos.model import Op

if TYPE_CHECKING:
    from tests.chaos.checks import Checker

ENDED = frozenset({"COMPLETED", "FAILED", "CANCELLED"})
RETURNING = ("0002", "0003")  # tests.chaos.movements.BENEFICIARIES


def run_ids(checker: Checker) -> dict[str, str]:
    """Transaction id -> schedule id of every run of the test accounts' schedules."""
    return dict(
        checker.rows(
            "SELECT r.transaction_id, r.recurring_id FROM recurring_runs r"
            " JOIN recurring_transactions s ON s.id = r.recurring_id"
            " WHERE s.from_account_id = ANY(%s)",
            (checker.bank.ids,),
        )
    )


def check(checker: Checker) -> list[str]:
    """Runs every check above; returns the ids of the items and runs (for the outbox)."""
    runs = run_ids(checker)
    items = _items(checker, runs)
    deposits = _deposits(checker)
    _money(checker, items)
    _reservations(checker)
    _cancels(checker, items)
    _schedules(checker, runs)
    _outbox(checker, {**items, **deposits})
    _run_events(checker, runs)
    return [*items, *deposits, *runs]


def _items(checker: Checker, runs: dict[str, str]) -> dict[str, tuple[Any, ...]]:
    """External transfers and payments: one per answered key, ended as expected."""
    rows = checker.rows(
        "SELECT id, type, status, from_account_id, amount_minor, fee_minor, reference,"
        " description FROM ledger_transactions WHERE type IN ('EXTERNAL_TRANSFER', 'PAYMENT')"
        " AND from_account_id = ANY(%s)",
        (checker.bank.ids,),
    )
    by_key: dict[str, list[tuple[Any, ...]]] = defaultdict(list)
    for row in rows:
        if row[0] in runs:
            continue
        by_key[row[6] if row[1] == "EXTERNAL_TRANSFER" else row[7]].append(row)
    ops = {op.key: op for op in checker.bank.ops if op.kind in ("external", "payment")}
    for key, found in by_key.items():
        if key not in ops:
            checker.bad("phantom", f"{[row[0] for row in found]} ({key!r}) never requested")
    items: dict[str, tuple[Any, ...]] = {}
    for key, op in ops.items():
        found = by_key.get(key, [])
        answered = op.first_definitive()
        if len(found) > 1:
            checker.bad("applied-twice", f"{key}: {[row[0] for row in found]}; {_line(op)}")
            continue
        if not found:
            if answered is not None and answered.kind == "ok":
                checker.bad("lost", f"{key}: answered {answered.transaction_id}, not in the ledger")
            continue
        row = found[0]
        if answered is not None and row[0] != answered.transaction_id:
            checker.bad("phantom", f"{key}: ledger has {row[0]}; {_line(op)}")
            continue
        if (row[3], row[4]) != (op.source, op.amount_minor):
            checker.bad("wrong-item", f"{key}: ledger row {row[:6]} is not the request")
        items[row[0]] = row
        _ended(checker, op, row)
    return items


def _ended(checker: Checker, op: Op, row: tuple[Any, ...]) -> None:
    status = row[2]
    if status not in ENDED:
        checker.bad("not-ended", f"{op.key}: {row[0]} still {status} after the clock moved on")
    if op.kind == "external" and status in ("COMPLETED", "FAILED"):
        returning = op.target.endswith(RETURNING)
        if returning != (status == "FAILED"):
            checker.bad("settlement", f"{op.key}: to ...{op.target[-4:]} ended {status}")
    if op.kind == "payment" and op.target == checker.bank.returning_payee and status == "COMPLETED":
        checker.bad("settlement", f"{op.key}: to the returning payee, ended COMPLETED")


def _deposits(checker: Checker) -> dict[str, tuple[Any, ...]]:
    """Each answered cash deposit once, with the answered id and the request's amount."""
    rows = checker.rows(
        "SELECT id, type, status, to_account_id, amount_minor, 0, reference"
        " FROM ledger_transactions WHERE type = 'DEPOSIT' AND reference LIKE 'chaos-%%'"
        " AND to_account_id = ANY(%s)",
        (checker.bank.ids,),
    )
    by_key: dict[str, list[tuple[Any, ...]]] = defaultdict(list)
    for row in rows:
        by_key[row[6]].append(row)
    ops = {op.key: op for op in checker.bank.ops if op.kind == "deposit"}
    for key in set(by_key) - set(ops):
        checker.bad(
            "phantom", f"deposit {[row[0] for row in by_key[key]]} ({key!r}) never requested"
        )
    found: dict[str, tuple[Any, ...]] = {}
    for key, op in ops.items():
        made = by_key.get(key, [])
        answered = op.first_ok_id()
        if len(made) > 1 or (answered and [row[0] for row in made] != [answered]):
            checker.bad("applied-twice", f"{key}: deposits {[r[0] for r in made]}; {_line(op)}")
        elif made and (made[0][2:5] != ("COMPLETED", op.source, op.amount_minor)):
            checker.bad("wrong-item", f"{key}: ledger row {made[0][:5]} is not the request")
        for row in made:
            found[row[0]] = row
    return found


def _money(checker: Checker, items: dict[str, tuple[Any, ...]]) -> None:
    """COMPLETED took amount and fee; FAILED and CANCELLED net to zero everywhere."""
    net: dict[str, Counter[str]] = defaultdict(Counter)
    for transaction_id, account_id, amount in checker.rows(
        "SELECT transaction_id, account_id, SUM(amount_minor) FROM postings"
        " WHERE transaction_id = ANY(%s) GROUP BY transaction_id, account_id",
        (sorted(items),),
    ):
        net[transaction_id][account_id] += int(amount)
    for transaction_id, row in items.items():
        status, source, amount, fee = row[2], row[3], row[4], row[5]
        legs = {account: value for account, value in net[transaction_id].items() if value}
        if status in ("FAILED", "CANCELLED") and legs:
            checker.bad("clearing", f"{transaction_id} {status} still moves {legs}")
        if status == "COMPLETED" and legs.get(source) != -(amount + fee):
            checker.bad("clearing", f"{transaction_id} COMPLETED moved {legs}, not {amount}+{fee}")


def reservations(rows: Callable[..., list[tuple[Any, ...]]], ids: list[str]) -> list[str]:
    """Accounts whose pending debits differ from the reservations of their open
    PENDING external transfers and SCHEDULED payments. One statement: one
    snapshot, so it may run while the due work goes on."""
    return [
        f"{account_id}: pending debits {pending}, its open items reserve {reserved}"
        for account_id, pending, reserved in rows(
            "SELECT a.id, a.pending_debits_minor, COALESCE(SUM(t.amount_minor + t.fee_minor"
            " + COALESCE((t.details::jsonb ->> 'reservedOverdraftFeeMinor')::bigint, 0)), 0)"
            " FROM accounts a LEFT JOIN ledger_transactions t ON t.from_account_id = a.id AND"
            " ((t.type = 'EXTERNAL_TRANSFER' AND t.status = 'PENDING')"
            " OR (t.type = 'PAYMENT' AND t.status = 'SCHEDULED'))"
            " WHERE a.id = ANY(%s) GROUP BY a.id, a.pending_debits_minor",
            (ids,),
        )
        if int(pending) != int(reserved)
    ]


def _reservations(checker: Checker) -> None:
    for text in reservations(checker.rows, checker.bank.ids):
        checker.bad("reservation", text)


def _cancels(checker: Checker, items: dict[str, tuple[Any, ...]]) -> None:
    for op in checker.bank.ops:
        if op.kind != "cancel" or not op.first_ok_id():
            continue
        row = items.get(op.target)
        if row is not None and row[2] != "CANCELLED":
            checker.bad("cancel", f"{op.key}: cancel answered, {op.target} is {row[2]}")


def _schedules(checker: Checker, runs: dict[str, str]) -> None:
    """Each schedule once; at most one run per date, each its own transaction."""
    today = checker.bank.today
    schedules = checker.rows(
        "SELECT id, description, start_date, status FROM recurring_transactions"
        " WHERE from_account_id = ANY(%s)",
        (checker.bank.ids,),
    )
    by_key: dict[str, list[tuple[Any, ...]]] = defaultdict(list)
    for row in schedules:
        by_key[row[1]].append(row)
    for op in checker.bank.ops:
        if op.kind != "recurring":
            continue
        found = by_key.pop(op.key, [])
        answered = op.first_ok_id()
        if len(found) > 1 or (answered and [row[0] for row in found] != [answered]):
            checker.bad("schedule", f"{op.key}: schedules {[r[0] for r in found]}; {_line(op)}")
    for key, found in by_key.items():
        checker.bad("phantom", f"schedules {[row[0] for row in found]} ({key!r}) never requested")
    dates: dict[str, list[Any]] = defaultdict(list)
    for recurring_id, run_date in checker.rows(
        "SELECT recurring_id, run_date FROM recurring_runs WHERE recurring_id = ANY(%s)",
        ([row[0] for row in schedules],),
    ):
        dates[recurring_id].append(run_date)
    ledger = {
        row[0]
        for row in checker.rows(
            "SELECT id FROM ledger_transactions WHERE id = ANY(%s)", (sorted(runs),)
        )
    }
    for transaction_id in sorted(set(runs) - ledger):
        checker.bad(
            "schedule", f"run {transaction_id} of {runs[transaction_id]} has no transaction"
        )
    for recurring_id, _, start, status in schedules:
        ran = sorted(dates[recurring_id])
        passed = max(0, (today - start).days)
        if len(set(ran)) != len(ran) or any(not start <= day <= today for day in ran):
            checker.bad("schedule", f"{recurring_id}: runs on {ran} (start {start}, today {today})")
        elif len(ran) > passed + 1 or (status == "ACTIVE" and len(ran) < passed):
            checker.bad(
                "schedule",
                f"{recurring_id} ({status}): {len(ran)} runs, {passed} dates passed since {start}",
            )


def _outbox(checker: Checker, items: dict[str, tuple[Any, ...]]) -> None:
    events = Counter(
        {
            (aggregate, kind): int(count)
            for aggregate, kind, count in checker.rows(
                "SELECT aggregate_id, type, count(*) FROM outbox_events"
                " WHERE aggregate_id = ANY(%s) GROUP BY aggregate_id, type",
                (sorted(items),),
            )
        }
    )
    for transaction_id, row in items.items():
        status = row[2]
        for kind, want in (
            ("transaction.created", 1),
            ("transaction.completed", int(status == "COMPLETED")),
            ("transaction.failed", int(status == "FAILED")),
            ("transaction.cancelled", int(status == "CANCELLED")),
        ):
            if events[(transaction_id, kind)] != want:
                checker.bad(
                    "outbox",
                    f"{transaction_id} ({status}): {events[(transaction_id, kind)]} {kind}",
                )


def _run_events(checker: Checker, runs: dict[str, str]) -> None:
    """A run's transaction: one `transaction.created`, at most one end event."""
    events = Counter(
        {
            (aggregate, kind): int(count)
            for aggregate, kind, count in checker.rows(
                "SELECT aggregate_id, type, count(*) FROM outbox_events"
                " WHERE aggregate_id = ANY(%s) GROUP BY aggregate_id, type",
                (sorted(runs),),
            )
        }
    )
    statuses = dict(
        checker.rows(
            "SELECT id, status FROM ledger_transactions WHERE id = ANY(%s)", (sorted(runs),)
        )
    )
    for transaction_id in sorted(runs):
        created = events[(transaction_id, "transaction.created")]
        ends = sum(
            events[(transaction_id, f"transaction.{end}")] for end in ("completed", "failed")
        )
        # A refused run is recorded FAILED at once, without a created event.
        want_created = 0 if statuses.get(transaction_id) == "FAILED" else 1
        if created not in (want_created, 1) or ends > 1:
            checker.bad(
                "outbox",
                f"run {transaction_id} of {runs[transaction_id]}: {created} created,"
                f" {ends} completed or failed events",
            )


def _line(op: Op) -> str:
    from tests.chaos.checks import timeline  # noqa: PLC0415 (a cycle otherwise)

    return timeline(op)
