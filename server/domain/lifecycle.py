"""The state machines that move a transaction from status to status.

Seed 002's "Transaction Status Flow" draws one graph for every kind of
movement; each kind walks only part of it, so each kind that changes status
after it is created (external transfers, bill payments) declares its own
`Lifecycle` of legal moves, and every status change goes through
`Lifecycle.move`. A refused move is a state conflict (409), told apart the way
seed 002's error codes are: TXN008 when the transaction already completed,
TXN007 when a cancel comes too late, CONFLICT for any other move.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from server.domain import errors
from server.domain.transaction_states import (
    CANCELLED,
    COMPLETED,
    TRANSACTION_STATUSES,
)


@dataclass(frozen=True, slots=True)
class Lifecycle:
    """The legal status moves of one kind of transaction.

    `transitions` maps a status to the statuses it may move to; a status
    that is not a key is final for this kind.
    """

    kind: str
    transitions: Mapping[str, frozenset[str]]

    def __post_init__(self) -> None:
        named = set(self.transitions).union(*self.transitions.values())
        assert named <= TRANSACTION_STATUSES, named - TRANSACTION_STATUSES

    def can_move(self, current: str, target: str) -> bool:
        return target in self.transitions.get(current, frozenset())

    def is_final(self, status: str) -> bool:
        return not self.transitions.get(status)

    def move(self, current: str, target: str) -> str:
        """`target` when the move is legal; otherwise the conflict it is.

        Moving to the status a transaction already has is refused too: the
        caller (a worker retrying, a second cancel) reads the status first,
        and a silent no-op here would hide a double settlement.
        """
        assert {current, target} <= TRANSACTION_STATUSES, (current, target)
        if self.can_move(current, target):
            return target
        metadata = {"kind": self.kind, "status": current, "target_status": target}
        if current == COMPLETED:
            raise errors.TransactionAlreadyCompleted(
                f"The {self.kind} is already COMPLETED", metadata=metadata
            )
        if target == CANCELLED:
            raise errors.TransactionNotCancellable(
                f"A {self.kind} in status {current} cannot be cancelled", metadata=metadata
            )
        raise errors.Conflict(
            f"A {self.kind} in status {current} cannot move to {target}", metadata=metadata
        )
