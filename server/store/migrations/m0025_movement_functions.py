"""Deposits and withdrawals in one statement on PostgreSQL: `bank_post_deposit`
and `bank_post_withdrawal`.

PL/pgSQL functions (m0025_movement_functions.sql, next to this file) that
post one deposit or one withdrawal exactly as `server.services.deposits` and
`server.services.withdrawals` post it: the same checks in the same order,
the same rows (journal, postings, balances, the hold of a check deposit,
history, the ATM counters, the overdraft fee), the same events.
`server.store.movement_functions` calls them and turns their answer into the
same results and errors. They build on m0021's helpers
(`bank_transfer_constants`, `bank_major_text`, `bank_transaction_event`);
the figures m0021 does not hold (ATM limits) are in `bank_movement_constants`.

SQLite keeps the Python path: nothing to create there.
"""

from __future__ import annotations

from pathlib import Path

_SCRIPT = Path(__file__).with_suffix(".sql")
_SEPARATOR = "\n-- next\n"


def statements(dialect: str) -> list[str]:
    if dialect != "postgres":
        return []
    text = _SCRIPT.read_text(encoding="utf-8")
    assert "%" not in text, "the migration runner would read a % as a placeholder"
    return [piece.strip() for piece in text.split(_SEPARATOR) if piece.strip()]
