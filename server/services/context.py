"""What every movement use case is given and gives back."""

from __future__ import annotations

from dataclasses import dataclass, field

from server.domain.audit_drafts import AuditDraft
from server.domain.principal import Principal
from server.store import transactions
from server.store.models import Account, LedgerTransaction
from server.store.transactions import AccountRecord, TransactionRecord


@dataclass(frozen=True)
class RequestContext:
    """Who asks, and from where (kept as the transaction's metadata)."""

    principal: Principal
    ip_address: str = ""
    device: str = ""
    location: str = ""
    # Sandbox mode relaxes what customers may do (deposit methods); False
    # unless the caller says so, so that a forgotten flag keeps the stricter rule.
    sandbox: bool = False
    # The call's audit event, when the transaction posting its work is to
    # append it (server.domain.audit_drafts); None: the call appends its own.
    audit: AuditDraft | None = None
    # The X-Device-Id header (gRPC `x-device-id`), for fraud screening's
    # NEW_DEVICE rule; "" when none was sent.
    device_id: str = ""
    # False for the bank's own runs of an instruction screened when it was
    # made (recurring runs); True (screened) unless the caller says so.
    screened: bool = True
    # Fraud screening's decision, once made: kept in the movement's metadata
    # (an ALLOW is stored there alone, server.services.screening).
    risk_decision: str = ""

    def metadata(self) -> dict[str, str]:
        # user_id (with the row's client_id) names the initiator, who alone
        # (with staff) is shown the rest.
        facts = {
            "ip_address": self.ip_address,
            "device": self.device,
            "location": self.location,
            "user_id": self.principal.user_id or "",
        }
        if self.risk_decision:
            facts["risk_decision"] = self.risk_decision
        return facts


@dataclass(frozen=True, slots=True)
class Side:
    """One account of a movement, with its balance after it (None: not moved)."""

    account: AccountRecord
    balance_after_minor: int | None


@dataclass(frozen=True, slots=True)
class Movement:
    """A committed movement, as the api layer shows it to its creator."""

    transaction: TransactionRecord
    from_account: Side | None
    to_account: Side | None
    overdraft_fee_transaction_id: str | None = None


@dataclass
class Posted:
    """A movement inside its use case: the rows it wrote and the locked accounts."""

    transaction: LedgerTransaction
    details: dict[str, object]  # the transaction's details, as written
    accounts: dict[str, Account]
    balances_after: dict[str, int] = field(default_factory=dict)
    overdraft_fee_transaction_id: str | None = None
    # account id -> holder name, where the movement already looked it up
    holders: dict[str, str] = field(default_factory=dict)

    def movement(self) -> Movement:
        """The typed answer; holders not looked up yet are read now (after the commit)."""
        row = self.transaction
        sides: list[Side | None] = []
        for account_id in (row.from_account_id, row.to_account_id):
            account = self.accounts.get(account_id) if account_id else None
            if account is None:
                sides.append(None)
                continue
            holder = self.holders.get(account.id)
            if holder is None:
                holder = transactions.holder_name(account)
            sides.append(
                Side(
                    transactions.account_record(account, holder),
                    self.balances_after.get(account.id),
                )
            )
        return Movement(
            transactions.record_of(row, self.details),
            sides[0],
            sides[1],
            self.overdraft_fee_transaction_id,
        )
