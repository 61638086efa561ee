"""The deliberate bugs of CHAOS_BREAK reach the paths that move money.

A refactor that locks accounts some other way would leave `make chaos
CHAOS_BREAK=...` running correct servers and "proving" nothing; this test
fails first.
"""

from __future__ import annotations

import inspect
from datetime import datetime
from typing import Any

import pytest

from server.domain import limits
from server.services import external_settlement, steps
from server.store import external_rows, ledger
from tests.chaos import server_entry


@pytest.mark.parametrize(
    ("mode", "replaced"),
    [("lock-order", "_lock_in_callers_order"), ("no-lock", "_read_without_lock")],
)
def test_a_broken_locker_is_what_transfers_lock_with(
    mode: str, replaced: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in (*server_entry.LOCKERS, "next_sequence"):
        monkeypatch.setattr(ledger, name, getattr(ledger, name))  # restored afterwards
    calls: list[list[str]] = []

    def spy(account_ids: Any) -> dict[str, Any]:
        calls.append(list(account_ids))
        return {}

    monkeypatch.setattr(server_entry, replaced, spy)
    monkeypatch.setattr(ledger, "next_sequence", lambda: 7)
    server_entry.apply_break(mode)
    locked, number = steps.lock_numbered(["acc_b", "acc_a"], datetime(2026, 12, 1))
    assert calls == [["acc_b", "acc_a"]]
    assert locked == {}
    assert number.startswith("TXN20261201")
    assert ledger.lock_accounts(["acc_c"]) == {}
    assert calls[-1] == ["acc_c"]
    assert ledger.lock_accounts_with_owners(["acc_e", "acc_d"], "CUSTOMER") == ({}, 7, {}, None)
    assert calls[-1] == ["acc_e", "acc_d"]
    periods = limits.period_bounds(datetime(2026, 12, 1))
    found = ledger.lock_accounts_with_owners(
        ["acc_f"], "CUSTOMER", usage_of="acc_f", periods=periods
    )
    assert found.usage is None
    assert calls[-1] == ["acc_f"]


def test_a_double_release_is_what_submitting_an_external_transfer_releases_with(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(external_rows, "reserve", external_rows.reserve)  # restored afterwards
    moved: list[tuple[str, int]] = []
    monkeypatch.setattr(
        external_rows, "reserve", lambda account, amount: moved.append((account, amount))
    )
    server_entry.apply_break("double-release")
    external_rows.reserve("acc_a", 500)
    external_rows.reserve("acc_a", -500)
    assert moved == [("acc_a", 500), ("acc_a", -500), ("acc_a", -500)]
    # The submission step releases through the broken function: not a copy of it.
    source = inspect.getsource(external_settlement._submit)
    assert "external_rows.reserve(source.id, -reserved_minor)" in source


@pytest.mark.parametrize("mode", ["lock-order", "no-lock"])
def test_the_functions_copy_has_the_same_bug_in_its_lock(mode: str) -> None:
    text = server_entry.broken_function_text(mode)
    assert f"CREATE OR REPLACE FUNCTION {server_entry.BROKEN_FUNCTION}(" in text
    # The lock of the real function is gone; a copy that still locked in id
    # order would prove nothing.
    assert server_entry.FUNCTION_LOCK not in text
    if mode == "lock-order":
        assert "array_position(" in text and "FOR UPDATE OF a" in text
    else:
        assert "FOR UPDATE OF a" not in text
