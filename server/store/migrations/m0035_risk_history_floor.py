"""Fraud screening: AMOUNT_VS_HISTORY's floor (server.store.risk_rows).

- `risk_rules.history_floor_minor`: with fewer past debits than the rule's
  `history_size`, the rule fires on an amount above this floor (minor units
  of the rule's currency); NULL: the rule's own `amount_minor` is the floor.
"""

from __future__ import annotations


def statements(dialect: str) -> list[str]:
    return ["ALTER TABLE risk_rules ADD COLUMN history_floor_minor BIGINT"]
