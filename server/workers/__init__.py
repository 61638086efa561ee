"""Background work: what becomes due as time passes, done by calling the same
use cases and store functions the API uses.

Each worker claims its due rows with `FOR UPDATE SKIP LOCKED` on PostgreSQL,
so several server processes (and the sandbox clock's immediate run) never do
one item twice and never queue behind each other; SQLite serialises writers
anyway.
"""
