"""Reading one transaction as a given caller may see it."""

from __future__ import annotations

from dataclasses import dataclass

from server.domain import errors
from server.domain.principal import Principal
from server.store.models import Account, AccountEntry, LedgerTransaction, User


@dataclass(frozen=True)
class AccountSide:
    account: Account
    holder: str


@dataclass(frozen=True)
class TransactionView:
    row: LedgerTransaction
    from_account: AccountSide | None
    to_account: AccountSide | None
    balance_after_minor: int | None
    counterparty: str


def holder_name(account: Account) -> str:
    """The account holder's name (the account's name for the bank's own accounts)."""
    if account.owner_id is None:
        return str(account.name)
    user = User.get_or_none(User.id == account.owner_id)
    return str(user.name) if user else ""


def _side(account_id: str | None) -> AccountSide | None:
    if not account_id:
        return None
    account = Account.get_or_none(Account.id == account_id)
    return AccountSide(account, holder_name(account)) if account else None


def get(transaction_id: str, principal: Principal) -> TransactionView:
    """The transaction, if the caller is staff or owns one of its accounts."""
    row = LedgerTransaction.get_or_none(LedgerTransaction.id == transaction_id)
    not_found = errors.NotFound(
        "Transaction not found",
        field="transactionId",
        metadata={"transaction_id": transaction_id[:64]},
    )
    if row is None:
        raise not_found
    from_side, to_side = _side(row.from_account_id), _side(row.to_account_id)
    own_sides = [
        side
        for side in (from_side, to_side)
        if side is not None and principal.can_see(side.account.owner_id)
    ]
    if not principal.is_staff and not own_sides:
        raise not_found
    # The caller's side: the debited account first (as seed 002 shows it).
    mine = own_sides[0] if own_sides else None
    entry = None
    if mine is not None:
        entry = AccountEntry.get_or_none(
            (AccountEntry.transaction_id == row.id) & (AccountEntry.account_id == mine.account.id)
        )
    return TransactionView(
        row=row,
        from_account=from_side,
        to_account=to_side,
        balance_after_minor=entry.balance_after_minor if entry else None,
        counterparty=entry.counterparty if entry else "",
    )
