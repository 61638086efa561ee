"""Payees: the customers' list of whom they pay bills to (payee_service.proto).

Who may do what is decided by server.domain.payees (customers their own;
staff name the owner; bank-wide billers read by all, deleted by none); rows
are read and written by server.store.payees. A write is one database
transaction.

Deleting a payee is refused while a bill payment still on its way
(SCHEDULED, PENDING or PROCESSING) or an ACTIVE recurring payment names it
(payee_service.proto): `_check_unreferenced`, inside the deleting
transaction.
"""

from __future__ import annotations

from dataclasses import dataclass

from server.crypto.fields import FieldSealer
from server.domain import errors
from server.domain import payees as rules
from server.domain.principal import Principal
from server.store import clock, payment_rows, recurring_rows, tx
from server.store import payees as store


@dataclass(frozen=True, slots=True)
class PageInput:
    """Paging as the api layer validated it."""

    limit: int
    offset: int
    after: list[object] | None


def list_query(
    principal: Principal, *, owner_id: str, type_word: str, category: str, search: str
) -> rules.PayeeQuery:
    """The filters this caller asked for, narrowed to what it may see."""
    return rules.list_query(
        principal, owner_id=owner_id, type_word=type_word, category=category, search=search
    )


def list_payees(query: rules.PayeeQuery, page: PageInput) -> store.PayeePage:
    """One page of the payees `query` (from `list_query`) selects, by name."""
    if page.after is None:
        rules.check_page_depth(page.offset // page.limit + 1, page.limit)
    return store.list_payees(query, limit=page.limit, offset=page.offset, after=page.after)


def get_payee(principal: Principal, payee_id: str) -> rules.PayeeRecord:
    wanted = rules.payee_id_of(payee_id)
    payee = store.get_payee(wanted)
    if payee is None:
        raise rules.not_found(wanted)
    rules.check_can_read(principal, payee)
    return payee


def create_payee(
    principal: Principal, form: rules.PayeeForm, sealer: FieldSealer
) -> rules.PayeeRecord:
    """Adds a payee for its owner: unique by name (ignoring case) and account number."""
    owner_id = rules.owner_for_create(principal, form.owner_id)
    payee = rules.validate_new_payee(form)

    def work() -> rules.PayeeRecord:
        owner = store.lock_owner(owner_id)
        rules.check_owner(owner_id, owner.role if owner else None, owner.status if owner else None)
        existing = store.names_of(owner_id)
        rules.check_room(owner_id, len(existing))
        # Only payees of the same name are opened: usually none, at most a few.
        for payee_id in rules.same_name(existing, payee.name):
            stored = store.account_number(payee_id, sealer)
            if rules.same_account_number(stored, payee.account_number):
                raise rules.duplicate(payee_id)
        return store.insert_payee(owner_id, payee, sealer, clock.now())

    return tx.write(work)


def delete_payee(principal: Principal, payee_id: str) -> None:
    """Soft-deletes the payee; a deleted (or unknown, or hidden) one is NOT_FOUND."""
    wanted = rules.payee_id_of(payee_id)

    def work() -> None:
        payee = store.get_payee(wanted)
        if payee is None:
            raise rules.not_found(wanted)
        rules.check_can_delete(principal, payee)
        _check_unreferenced(payee)
        # A concurrent delete that committed first leaves nothing to change.
        if not store.mark_deleted(wanted, clock.now()):
            raise rules.not_found(wanted)

    tx.write(work)


def _check_unreferenced(payee: rules.PayeeRecord) -> None:
    """Refuses to delete a payee that pending work still names (module docstring).

    A payment's row keeps the payee's name and its own sealed number, so a
    finished payment never stops a delete; one still on its way does (409
    CONFLICT): cancel it first, or let it complete. So does an ACTIVE
    recurring payment, whose next run would pay the payee.
    """
    if payment_rows.names_open_payment(payee.id):
        raise errors.Conflict(
            "The payee has bill payments on their way; cancel them or let them complete first",
            metadata={"payee_id": payee.id},
        )
    if recurring_rows.names_active_payment(payee.id):
        raise errors.Conflict(
            "An active recurring payment pays this payee; cancel it first",
            metadata={"payee_id": payee.id},
        )
