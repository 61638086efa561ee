"""Immediate internal transfers in one statement on PostgreSQL: `bank_post_transfers`.

A PL/pgSQL function (m0021_transfer_function.sql, next to this file) that
posts a batch of immediate transfers in one round trip, each exactly as
`server.services.transfers.transfer` posts one: the same checks in the same
order, the same rows, the same events. `server.store.transfer_function` calls
it and turns its answer into the same results and errors. Also the helpers it
uses: `bank_transfer_constants` (the rules' figures, compared with the
domain's by the tests), `bank_major_text` and `bank_transaction_event`.

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
