"""Case-insensitive substring search in SQL, with LIKE's wildcards in the text escaped.

One spelling for every search box (users, clients, payees, history keywords):
`LOWER(column) LIKE '%text%' ESCAPE '\\'`, the text lowered and its `%`, `_`
and backslashes escaped, so a search for `50%` finds "50%" and not "500".
LOWER() folds ASCII only on SQLite: a non-ASCII name matches there only in
the case it was written in. Spelled out because peewee's LIKE operator is
GLOB on SQLite.
"""

from __future__ import annotations

import peewee

ESCAPE = "\\"


def escape_like(text: str) -> str:
    """`text` with LIKE's wildcards and the escape character itself escaped."""
    return text.replace(ESCAPE, ESCAPE * 2).replace("%", ESCAPE + "%").replace("_", ESCAPE + "_")


def contains(column: peewee.ColumnBase, text: str) -> peewee.ColumnBase:
    """True where `column` holds `text`, ignoring case."""
    return peewee.NodeList(
        (
            peewee.fn.LOWER(column),
            peewee.SQL("LIKE"),
            peewee.Value(f"%{escape_like(text.lower())}%"),
            peewee.SQL(f"ESCAPE '{ESCAPE}'"),
        ),
        parens=True,
    )
