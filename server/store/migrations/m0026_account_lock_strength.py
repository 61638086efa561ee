"""`bank_post_transfers` locks its accounts FOR NO KEY UPDATE, not FOR UPDATE.

An insert that references two accounts (a recurring schedule's from and to
accounts) takes FOR KEY SHARE on each in the order of its foreign keys; a
transfer holding one of them FOR UPDATE while waiting for the other made a
deadlock (seen by the fault test). FOR NO KEY UPDATE, what PostgreSQL's own
UPDATE of a non-key column takes, still excludes every other movement and
lets key checks pass. The Python path (server.store.ledger) locks the same
way. The function is m0021's, re-created with that one change; nothing else
of it moves (the replacements are checked to happen exactly once).

SQLite: nothing to do (one writer at a time).
"""

from __future__ import annotations

from server.store.migrations import m0021_transfer_function

_CREATE = "CREATE FUNCTION bank_post_transfers("
_LOCK = "ORDER BY a.id FOR UPDATE OF a"


def statements(dialect: str) -> list[str]:
    if dialect != "postgres":
        return []
    (script,) = [text for text in m0021_transfer_function.statements(dialect) if _CREATE in text]
    assert script.count(_CREATE) == 1 and script.count(_LOCK) == 1, "m0021's function changed"
    script = script.replace(_CREATE, "CREATE OR REPLACE FUNCTION bank_post_transfers(")
    return [script.replace(_LOCK, "ORDER BY a.id FOR NO KEY UPDATE OF a")]
