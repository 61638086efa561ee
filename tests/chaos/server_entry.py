"""`python -m tests.chaos.server_entry serve`: the server, optionally with a deliberate bug.

The fault test starts its servers through this module. With `CHAOS_BREAK`
unset it is exactly `python -m server serve`. With `CHAOS_BREAK` set it
first swaps one function of the server for a broken version, so that a run
can show the test catches that bug (`make chaos BREAK=...`):

- `lock-order`: accounts are locked one at a time in the caller's order
  (debited account first) instead of in sorted id order. Two opposite
  transfers then deadlock; PostgreSQL breaks each deadlock by aborting one
  side, so the harness's deadlock check must fire.
- `idempotency`: `store.idempotency.claim` reports every key as newly
  claimed, even when another request holds it, so two concurrent requests
  with one Idempotency-Key both execute.
- `no-lock`: accounts are read without `FOR UPDATE`, so two debits can both
  pass the funds check on the same stale balance (floors must break).
  On PostgreSQL a transfer is posted by the function `bank_post_transfers`
  (m0021), which locks in one statement: these two modes also make the
  servers call a copy of it, `bank_post_transfers_broken`, whose lock has the
  same bug (`broken_function_text`), installed when the server starts.
- `double-release`: `store.external_rows.reserve` applies every release
  twice, as a worker releasing an external transfer's reservation twice at
  submission would (the reservation check must fire).

Nothing here is imported by the server itself.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterable
from typing import Any

import server  # noqa: F401  (puts gen/ on sys.path)
from server.__main__ import main as server_main
from server.store import external_rows, idempotency, ledger, sql, transfer_function
from server.store.limit_usage import limit_usage
from server.store.migrations import m0021_transfer_function
from server.store.models import Account

BREAK_ENV = "CHAOS_BREAK"
BREAKS = ("lock-order", "idempotency", "no-lock", "double-release")
# What a broken locker replaces in server.store.ledger (tests restore these).
LOCKERS = ("lock_accounts", "lock_accounts_numbered", "lock_accounts_with_owners")


def _lock_in_callers_order(account_ids: Iterable[str]) -> dict[str, Any]:
    locked: dict[str, Any] = {}
    for account_id in dict.fromkeys(account_ids):  # order kept, duplicates dropped
        row = Account.select().where(Account.id == account_id).for_update().first()
        if row is not None:
            locked[row.id] = row
    return locked


def _read_without_lock(account_ids: Iterable[str]) -> dict[str, Any]:
    rows = Account.select().where(Account.id.in_(sorted(set(account_ids))))
    return {row.id: row for row in rows}


def _install_locker(locker: Any) -> None:
    """Every way the store locks accounts goes through `locker` (the plain
    lock, the one that takes a transaction number with it, and the
    transfer's, which also reads the owners' names)."""
    ledger.lock_accounts = locker
    ledger.lock_accounts_numbered = lambda account_ids: (
        locker(list(account_ids)),
        ledger.next_sequence(),
    )

    def with_owners(
        account_ids: Iterable[str], kind: str, *, usage_of: Any = None, periods: Any = None
    ) -> Any:
        locked = {
            account_id: row
            for account_id, row in locker(list(account_ids)).items()
            if row.kind == kind
        }
        owners = {
            row.id: sql.scalar('SELECT "name" FROM "users" WHERE "id" = ?', (row.owner_id,))
            for row in locked.values()
        }
        counted = None
        if usage_of in locked:
            counted = limit_usage([usage_of], periods)[usage_of]
        return ledger.LockedAccounts(locked, ledger.next_sequence(), owners, counted)

    ledger.lock_accounts_with_owners = with_owners


# The lock of bank_post_transfers: the accounts of every item, in id order.
FUNCTION_LOCK = "ORDER BY a.id FOR UPDATE OF a"
BROKEN_FUNCTION = "bank_post_transfers_broken"
_CALLERS_ORDER = (
    "ORDER BY array_position(ARRAY(SELECT v FROM jsonb_array_elements(items) AS e,"
    " LATERAL (VALUES (e->>'from'), (e->>'to')) AS ids(v)), a.id) FOR UPDATE OF a"
)


def broken_function_text(mode: str) -> str:
    """`CREATE OR REPLACE FUNCTION bank_post_transfers_broken` with `mode`'s bug:
    lock-order locks each item's accounts in the caller's order (debited
    first), no-lock reads them without locking."""
    pieces = [
        piece
        for piece in m0021_transfer_function.statements("postgres")
        if "FUNCTION bank_post_transfers(" in piece
    ]
    assert len(pieces) == 1, "m0021 creates bank_post_transfers once"
    text = pieces[0]
    assert text.count(FUNCTION_LOCK) == 1, f"bank_post_transfers locks with {FUNCTION_LOCK!r}"
    lock = _CALLERS_ORDER if mode == "lock-order" else "ORDER BY a.id"
    text = text.replace(FUNCTION_LOCK, lock)
    return text.replace(
        "CREATE FUNCTION bank_post_transfers(",
        f"CREATE OR REPLACE FUNCTION {BROKEN_FUNCTION}(",
    )


def _break_function(mode: str) -> None:
    """Servers on PostgreSQL post transfers through the broken copy of the function."""
    url = os.environ.get("DATABASE_URL", "")
    if not url.startswith(("postgres://", "postgresql://")):
        return
    import psycopg2  # noqa: PLC0415 (only broken servers need it here)

    connection = psycopg2.connect(url)
    try:
        with connection, connection.cursor() as cursor:
            # Servers starting together: one at a time.
            cursor.execute("SELECT pg_advisory_xact_lock(7215640099)")
            cursor.execute(broken_function_text(mode))
    finally:
        connection.close()
    transfer_function._STATEMENT = f"SELECT {BROKEN_FUNCTION}(?, ?)"


def apply_break(mode: str) -> None:
    """Installs the broken function named by `mode` (see the module docstring)."""
    if mode == "lock-order":
        _install_locker(_lock_in_callers_order)
        _break_function(mode)
    elif mode == "no-lock":
        _install_locker(_read_without_lock)
        _break_function(mode)
    elif mode == "idempotency":
        claim = idempotency.claim

        def claim_always(*args: Any, **kwargs: Any) -> bool:
            claim(*args, **kwargs)
            return True

        idempotency.claim = claim_always
    elif mode == "double-release":
        reserve = external_rows.reserve

        def release_twice(account_id: str, amount_minor: int) -> None:
            reserve(account_id, amount_minor)
            if amount_minor < 0:
                reserve(account_id, amount_minor)

        external_rows.reserve = release_twice
    else:
        raise SystemExit(f"{BREAK_ENV} must be one of {', '.join(BREAKS)}, got {mode!r}")


def main() -> int:
    mode = os.environ.get(BREAK_ENV, "").strip()
    if mode:
        apply_break(mode)
        print(f"chaos: server running with the deliberate bug {mode!r}", file=sys.stderr)
    return server_main(sys.argv[1:])


if __name__ == "__main__":
    sys.exit(main())
