"""The invariants the fault test checks once the system has healed."""

from __future__ import annotations

import bisect
from collections import Counter, defaultdict
from typing import Any

import server  # noqa: F401  (puts gen/ on sys.path)
from server.store.migrations import m0012_limit_usage_counters as m0012
from tests.chaos import checks_movements
from tests.chaos.model import FEE_MINOR, KEY_REUSED, REFUSALS_OF, Op, Read
from tests.chaos.workload import Bank


class Checker:
    """The invariants, each a method; `violations` collects (category, description)."""

    def __init__(self, bank: Bank, db: Any) -> None:
        self.bank = bank
        self.db = db
        self.violations: list[tuple[str, str]] = []
        self.by_key = {op.key: op for op in bank.ops}
        # key -> id of the one transfer it made, for the keys the ledger shows applied
        self.applied: dict[str, str] = {}
        self.fee_count: Counter[str] = Counter()  # transfer id -> overdraft fees charged
        # Transactions of the other movements (external, payment, recurring runs).
        self.runs: dict[str, str] = checks_movements.run_ids(self)
        self.movement_ids: set[str] = set()
        self.transfer_fees: set[str] = set()  # the overdraft fees of applied transfers

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
                self.bad("disagreeing-answers", f"{op.key}: {timeline(op)}")
            for answer in op.answers:
                if answer.kind == "refused" and answer.reason not in REFUSALS_OF[op.kind]:
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
        rows = [row for row in rows if row[0] not in self.runs]  # made by their schedules
        by_reference: dict[str, list[tuple[Any, ...]]] = defaultdict(list)
        for row in rows:
            by_reference[row[1]].append(row)
        for reference, found in by_reference.items():
            op = self.by_key.get(reference)
            if op is None or op.kind != "transfer":
                self.bad("phantom", f"transfer {found[0][0]} ({reference!r}) was never requested")
                continue
            if len(found) > 1:
                self.bad(
                    "applied-twice",
                    f"{reference}: transfers {[row[0] for row in found]}; {timeline(op)}",
                )
                continue
            transaction_id, _, source, target, amount, status = found[0]
            answer = op.first_definitive()
            if answer is not None and answer.kind != "ok":
                self.bad("phantom", f"{reference}: {transaction_id} exists; {timeline(op)}")
            elif answer is not None and transaction_id != answer.transaction_id:
                self.bad("phantom", f"{reference}: ledger has {transaction_id}; {timeline(op)}")
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
            if (
                answer
                and answer.kind == "ok"
                and op.kind == "transfer"
                and op.key not in by_reference
            ):
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
                    f" (the answer showed the debited balance after it); {timeline(op)}",
                )
            self.fee_count[transaction_id] = charged
        applied = set(self.applied.values())
        for row in rows:
            if row[1] in applied:
                self.transfer_fees.add(row[0])
            elif row[1] not in self.movement_ids:
                self.bad("fee", f"fee {row[0]} for {row[1]}, which is no applied movement")
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
        # The other movements' postings (each checked by checks_movements).
        known = [*bank.setup_transactions, *self.applied.values(), *self.transfer_fees]
        for account_id, moved in self.rows(
            "SELECT account_id, SUM(amount_minor) FROM postings WHERE account_id = ANY(%s)"
            " AND NOT transaction_id = ANY(%s) GROUP BY account_id",
            (bank.ids, known),
        ):
            expected[account_id] += int(moved)
        ledger = dict(
            self.rows("SELECT id, balance_minor FROM accounts WHERE id = ANY(%s)", (bank.ids,))
        )
        for account_id in bank.ids:
            want = expected[account_id]
            if ledger.get(account_id) != want:
                self.bad(
                    "balance",
                    f"{account_id}: ledger says {ledger.get(account_id)}, expected {want}"
                    f" (opening {bank.opening[account_id]} plus the answered transfers"
                    " and the other movements' postings)",
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
        for currency, total in self.rows(
            "SELECT currency, SUM(balance_minor) FROM accounts GROUP BY currency"
        ):
            if int(total) != 0:
                self.bad("drift", f"all {currency} accounts sum to {total}: money was created")

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
            self.bad("audit", f"no audit event for call {request_id}; {timeline(op)}")

    def read_values(self) -> None:
        """With the other movements, money leaves and comes back by amounts of every
        size, so a read's total says little; each balance a read shows must be at or
        above its floor and one its account had: its opening or a posting's balance
        after (a torn or invented value is neither)."""
        bank = self.bank
        had: dict[str, set[int]] = defaultdict(set)
        for account_id, balance in bank.opening.items():
            had[account_id].add(balance)
        for account_id, after in self.rows(
            "SELECT account_id, balance_after_minor FROM postings WHERE account_id = ANY(%s)",
            (bank.ids,),
        ):
            had[account_id].add(int(after))
        for read in bank.reads:
            where = f"read at t={read.started:.2f}s (server {read.server})"
            if set(read.balances) != set(bank.ids):
                self.bad("read", f"{where} shows accounts {sorted(read.balances)}")
                continue
            for account_id, balance in read.balances.items():
                if balance < bank.floors[account_id]:
                    self.bad("read-floor", f"{where}: {account_id} at {balance}")
                if balance not in had[account_id]:
                    self.bad("read-value", f"{where}: {account_id} at {balance}, never its balance")

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
    checker = Checker(bank, db)
    checker.answers(unresolved)
    transfers = checker.transfers()
    movements = checks_movements.check(checker)
    checker.movement_ids = set(movements)
    fees = checker.fees()
    checker.balances(final)
    checker.ledger()
    checker.limit_usage()
    checker.outbox([*transfers, *fees, *sorted(bank.setup_transactions)])
    if bank.config.movements:
        checker.read_values()
    else:
        checker.reads(len(fees))
    checker.audit(kills)
    return checker.violations


def timeline(op: Op) -> str:
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
