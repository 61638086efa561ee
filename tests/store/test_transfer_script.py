"""The bench's pgbench script of a transfer sends what a transfer sends.

`make bench` runs tests/bench/transfer.pgbench as the database's own figure
for a transfer; it is only worth reading while its statements are the
server's. Compared here on PostgreSQL: each statement's kind and table (or
database function), in order, between the script's BEGIN and COMMIT,
against the statements one real transfer makes through the store. SQLite
keeps the Python path, which the script does not describe.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

import peewee
import pytest

from server.domain.principal import ADMIN, Principal
from server.services import transfers
from server.services.context import RequestContext
from server.store import clock, sql
from server.store.bootstrap import ensure_internal_accounts
from server.store.db import is_postgres
from tests.bench.config import REPO_ROOT
from tests.store import rows

SCRIPT = REPO_ROOT / "tests" / "bench" / "transfer.pgbench"
_TABLE = re.compile(r'^(?:(UPDATE)|(SELECT|INSERT)\b.*?\b(?:FROM|INTO))\s+"(\w+)"', re.S)


_PARENTHESIS = re.compile(r"\([^()]*\)")
_CALL = re.compile(r"^SELECT\s+(bank_\w+)\(")


def signature(text: str) -> tuple[str, str, bool]:
    """(kind, first table outside subqueries, locks rows) of one statement;
    for a call of one of the database's functions, the function."""
    call = _CALL.match(text.strip())
    if call:
        return "SELECT", call.group(1), False
    outer, count = text.strip(), 1
    while count:
        outer, count = _PARENTHESIS.subn("", outer)
    match = _TABLE.match(outer)
    assert match, f"not a SELECT, INSERT or UPDATE: {text[:80]}"
    return match.group(1) or match.group(2), match.group(3), " FOR UPDATE" in text


def script_statements() -> list[str]:
    """The script's SQL between its BEGIN and its COMMIT."""
    statements = [
        line.removesuffix(";").strip()
        for line in SCRIPT.read_text().splitlines()
        if line.strip() and not line.startswith(("--", "\\"))
    ]
    begin, commit = statements.index("BEGIN"), statements.index("COMMIT")
    return statements[begin + 1 : commit]


def test_the_script_sends_the_statements_of_a_transfer(
    database: peewee.Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    ensure_internal_accounts()
    owner = rows.customer("Script Owner")
    source, destination = rows.account(owner, 10_000), rows.account(owner, 0)
    sent: list[str] = []
    waited = 0  # statements whose answer the transfer waits for
    execute, defer = sql.execute, sql.defer

    def recording(send: Any) -> Any:
        def run(text: str, params: Sequence[Any] = ()) -> Any:
            nonlocal waited
            sent.append(text)
            waited += send is execute
            return send(text, params)

        return run

    monkeypatch.setattr(sql, "execute", recording(execute))
    monkeypatch.setattr(sql, "defer", recording(defer))
    context = RequestContext(principal=Principal(client_id="sandbox-client", role=ADMIN))
    with clock.call_scope():
        clock.prime(None)  # as the token check of the call does (the script's first read)
        transfers.transfer(
            transfers.TransferInput(from_account_id=source, to_account_id=destination, amount=0.33),
            context,
        )
    made = [signature(text) for text in sent]
    if is_postgres():  # one call of bank_post_transfers, as the script makes it
        assert made == [signature(text) for text in script_statements()]
        assert made == [("SELECT", "bank_post_transfers", False)]
    else:  # the Python path: SQLite locks by BEGIN IMMEDIATE, not FOR UPDATE
        assert made[0] == ("SELECT", "accounts", False)
    assert not any(table == "limit_usage" for kind, table, _ in made if kind == "SELECT")
    # One statement whose answer the transfer waits for: on PostgreSQL the
    # function call, sent with the BEGIN; on SQLite the read of the accounts.
    assert waited == 1
