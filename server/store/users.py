"""Users: queries and the atomic use-cases behind UserService.

Every mutating use-case is one `tx.write` that also writes its outbox event.
Argon2 hashing (tens of milliseconds by design) runs before the transaction,
so no lock is held while it works.

Emails are unique through the `users.email` UNIQUE constraint over the
lower-cased form: a duplicate is found by a check first and, when two
requests race past the check, by catching the IntegrityError; both answer
ALREADY_EXISTS / CONFLICT on `email`.

Tax ids, phone numbers and dates of birth are stored sealed (AES-256-GCM
under the field keyring, bound to the user id: see `server.store.sealed`).
Phone and date of birth are opened on every read; the tax id never is for a
response, which shows only its last four digits, kept readable in
`tax_id_last4`.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import peewee

from server import hashing
from server.config import Settings
from server.crypto.fields import FieldSealer, UnreadableField
from server.domain import credentials, errors
from server.domain import user_fields as fields
from server.domain import user_queries as queries
from server.domain import users as rules
from server.domain.ids import new_id
from server.domain.principal import ADMIN, CUSTOMER, Principal
from server.store import clock, oauth, outbox, sealed, text_match, tx
from server.store.db import is_postgres
from server.store.models import User, UserDeactivation

# last_login_at sorts with never-signed-in users as the oldest; the same
# sentinel on both databases keeps keyset comparisons total.
_NEVER = "1970-01-01 00:00:00"


# -- Rows -> records ---------------------------------------------------------------
def _record(row: User, sealer: FieldSealer) -> rules.UserRecord:
    """The user as the rules see it: phone and date of birth opened, tax id not."""
    address = fields.Address.from_dict(json.loads(row.address)) if row.address else None
    return rules.UserRecord(
        id=row.id,
        email=row.email,
        name=row.name,
        role=row.role,
        status=row.status,
        created_at=row.created_at,
        updated_at=row.updated_at,
        phone=sealed.open_value(sealer, sealed.USER_PHONE, row.id, row.phone),
        date_of_birth=sealed.open_value(
            sealer, sealed.USER_DATE_OF_BIRTH, row.id, row.date_of_birth
        ),
        tax_id_last4=row.tax_id_last4,
        address=address,
        last_login_at=row.last_login_at,
    )


def _current_tax_id(sealer: FieldSealer, row: User) -> str | None:
    """The stored tax id in full, for comparison only; None when it does not open.

    A tax id that does not open (tampered, key gone) counts as different from
    any new one, so an update replaces it.
    """
    try:
        return sealed.open_value(sealer, sealed.USER_TAX_ID, row.id, row.tax_id)
    except UnreadableField:
        return None


def _address_json(address: fields.Address | None) -> str | None:
    return json.dumps(address.to_dict(), sort_keys=True) if address is not None else None


def _email_conflict(email: str) -> errors.AlreadyExists:
    return errors.AlreadyExists(
        "A user with this email already exists", field="email", metadata={"email": email}
    )


@contextlib.contextmanager
def _unique_email(email: str | None) -> Iterator[None]:
    """Turns the race that slips past the email check into CONFLICT."""
    try:
        yield
    except peewee.IntegrityError:
        if email is None:
            raise
        raise _email_conflict(email) from None


def _email_taken(email: str, except_id: str | None = None) -> bool:
    query = User.select(User.id).where(User.email == email)
    if except_id is not None:
        query = query.where(User.id != except_id)
    return bool(query.exists())


# -- Reads ---------------------------------------------------------------------------
def get_user(principal: Principal, user_id: str, sealer: FieldSealer) -> rules.UserView:
    """GetUser: NOT_FOUND for unknown ids and for what the caller may not see."""
    target = rules.resolve_user_id(principal, user_id)
    row = User.get_or_none(User.id == target)
    if row is None:
        raise rules.user_not_found(user_id)
    return rules.present(_record(row, sealer), principal)


@dataclass(frozen=True)
class UserPage:
    users: list[rules.UserView]
    total: int
    # (sort value, id) of the last row when another page follows.
    next_key: list[Any] | None


def _sort_expression(sort: str) -> peewee.ColumnBase:
    if sort == "name":
        return peewee.fn.LOWER(User.name)
    if sort == "email":
        return User.email
    if sort == "last_login_at":
        return peewee.fn.COALESCE(User.last_login_at, _NEVER)
    return User.created_at


def _filtered(principal: Principal, query: queries.UserQuery) -> peewee.ModelSelect[User]:
    select = User.select()
    if principal.is_customer:
        # Customers get a list holding only themselves.
        select = select.where(User.id == (principal.user_id or ""))
    if query.search:
        select = select.where(
            text_match.contains(User.email, query.search)
            | text_match.contains(User.name, query.search)
        )
    if query.role is not None:
        select = select.where(User.role == query.role)
    if query.status is not None:
        select = select.where(User.status == query.status)
    return select


def list_users(
    principal: Principal,
    query: queries.UserQuery,
    sealer: FieldSealer,
    *,
    limit: int,
    offset: int,
    after: tuple[str | None, str] | None,
) -> UserPage:
    """One page, by offset or after a keyset position (sort value, id)."""
    base = _filtered(principal, query)
    total = base.count()
    key = _sort_expression(query.sort)
    descending = query.order == "desc"
    select = base.select_extend(key.alias("sort_key"))
    if after is not None:
        # Values go back exactly as the database gave them (converter off),
        # so SQLite's text timestamps and LOWER() results compare as stored.
        value = peewee.Value(after[0], converter=False)
        last_id = peewee.Value(after[1], converter=False)
        if descending:
            select = select.where((key < value) | ((key == value) & (User.id < last_id)))
        else:
            select = select.where((key > value) | ((key == value) & (User.id > last_id)))
    else:
        select = select.offset(offset)
    order = (key.desc(), User.id.desc()) if descending else (key.asc(), User.id.asc())
    rows: list[Any] = list(select.order_by(*order).limit(limit + 1))
    more = len(rows) > limit
    rows = rows[:limit]
    next_key = None
    if more:
        last = rows[-1]
        sort_value = last.sort_key
        next_key = [str(sort_value) if isinstance(sort_value, datetime) else sort_value, last.id]
    views = [rules.present(_record(row, sealer), principal) for row in rows]
    return UserPage(views, total, next_key)


# -- Writes ------------------------------------------------------------------------------
def _lock_active_admins() -> list[str]:
    """Ids of the ACTIVE ADMINs, locked (id order) on PostgreSQL."""
    query = (
        User.select(User.id)
        .where((User.role == ADMIN) & (User.status == rules.ACTIVE))
        .order_by(User.id)
    )
    if is_postgres():
        query = query.for_update()
    return [row.id for row in query]


def _lock_user(user_id: str, raw_id: str) -> User:
    """The user row, locked for this transaction; NOT_FOUND when unknown.

    When the target is an ADMIN, the ACTIVE ADMIN rows are locked first (in id
    order, the target among them), so that two transactions removing the last
    two administrators queue instead of both seeing the other one still there.
    SQLite's single writer needs none of this.
    """
    peek = User.get_or_none(User.id == user_id)
    if peek is None:
        raise rules.user_not_found(raw_id)
    if not is_postgres():
        return peek
    if peek.role == ADMIN:
        _lock_active_admins()
    row = User.select().where(User.id == user_id).for_update().get_or_none()
    if row is None:
        raise rules.user_not_found(raw_id)
    return row


def _keep_an_admin(record: rules.UserRecord, role: str, status: str) -> None:
    if rules.removes_active_admin(record, role, status):
        others = [uid for uid in _lock_active_admins() if uid != record.id]
        rules.require_another_admin(len(others))


def create_user(
    principal: Principal, form: rules.NewUserForm, sealer: FieldSealer, settings: Settings
) -> rules.UserView:
    """CreateUser: validates, hashes the password (on the hashing pool, before
    the transaction), inserts, emits user.created."""
    now = clock.now()
    role = rules.validate_role(form.role, default=CUSTOMER)
    rules.check_create(principal, role)
    draft = rules.validate_new_user(form, now.date())
    password_hash = hashing.hash_secret(settings, form.password)
    user_id = new_id("usr")

    def work() -> User:
        if _email_taken(draft.email):
            raise _email_conflict(draft.email)
        row = User.create(
            id=user_id,
            email=draft.email,
            name=draft.name,
            password_hash=password_hash,
            role=draft.role,
            status=rules.ACTIVE,
            phone=sealed.seal(sealer, sealed.USER_PHONE, user_id, draft.phone),
            date_of_birth=sealed.seal(
                sealer, sealed.USER_DATE_OF_BIRTH, user_id, draft.date_of_birth
            ),
            tax_id=sealed.seal(sealer, sealed.USER_TAX_ID, user_id, draft.tax_id),
            tax_id_last4=draft.tax_id[-4:] if draft.tax_id else None,
            address=_address_json(draft.address),
            created_at=now,
            updated_at=now,
        )
        # The event carries no personal data beyond the id and the email.
        outbox.emit(
            "user.created",
            user_id,
            {"user_id": user_id, "email": draft.email, "role": draft.role, "status": rules.ACTIVE},
            now,
        )
        return row

    with _unique_email(draft.email):
        row = tx.write(work)
    return rules.present(_record(row, sealer), principal)


_SEALED_FIELDS = {
    "phone": sealed.USER_PHONE,
    "date_of_birth": sealed.USER_DATE_OF_BIRTH,
    "tax_id": sealed.USER_TAX_ID,
}


def _columns(
    changed: Mapping[str, Any], user_id: str, sealer: FieldSealer, now: datetime
) -> dict[str, Any]:
    """The column values of the changed fields."""
    columns: dict[str, Any] = {"updated_at": now}
    for name, value in changed.items():
        if name in _SEALED_FIELDS:
            columns[name] = sealed.seal(sealer, _SEALED_FIELDS[name], user_id, value)
            if name == "tax_id":
                columns["tax_id_last4"] = value[-4:] if value else None
        elif name == "address":
            columns["address"] = _address_json(value)
        else:
            columns[name] = value
    if changed.get("status") == rules.ACTIVE:
        columns["deactivated_at"] = None
    return columns


def update_user(
    principal: Principal, user_id: str, form: rules.UserChangeForm, sealer: FieldSealer
) -> rules.UserView:
    """UpdateUser: absent fields stay; emits user.updated with the changed names."""
    now = clock.now()
    requested = rules.validate_changes(form, now.date())
    target_id = rules.resolve_user_id(principal, user_id)

    def work() -> User:
        row = _lock_user(target_id, user_id)
        record = _record(row, sealer)
        current_tax_id = _current_tax_id(sealer, row) if "tax_id" in requested else None
        changed = rules.diff(record, requested, current_tax_id)
        rules.check_update(principal, record, changed)
        if not changed:
            return row
        if "email" in changed and _email_taken(changed["email"], except_id=row.id):
            raise _email_conflict(changed["email"])
        _keep_an_admin(
            record, changed.get("role", record.role), changed.get("status", record.status)
        )
        User.update(_columns(changed, row.id, sealer, now)).where(User.id == row.id).execute()
        if credentials.ends_sessions(changed):
            # A new role, or LOCKED: the user's tokens stop working at once
            # (a token carries the role it was issued with).
            oauth.revoke_subject(row.id)
        email = changed.get("email", record.email)
        outbox.emit(
            "user.updated",
            row.id,
            {"user_id": row.id, "email": email, "changed_fields": sorted(changed)},
            now,
        )
        return User.get_by_id(row.id)

    with _unique_email(requested.get("email")):
        row = tx.write(work)
    return rules.present(_record(row, sealer), principal)


def deactivate_user(
    principal: Principal, user_id: str, reason: str, sealer: FieldSealer
) -> rules.UserView:
    """DeleteUser: status INACTIVE, nothing erased; a second call changes nothing."""
    now = clock.now()
    why = rules.validate_reason(reason)
    target_id = rules.resolve_user_id(principal, user_id)

    def work() -> User:
        row = _lock_user(target_id, user_id)
        record = _record(row, sealer)
        rules.check_deactivate(principal, record)
        if record.status == rules.INACTIVE:
            return row
        _keep_an_admin(record, record.role, rules.INACTIVE)
        User.update(status=rules.INACTIVE, deactivated_at=now, updated_at=now).where(
            User.id == row.id
        ).execute()
        UserDeactivation.create(
            user_id=row.id,
            reason=why,
            actor_client_id=principal.client_id,
            actor_user_id=principal.user_id,
            created_at=now,
        )
        # Sessions end with the status: the user's tokens stop working at once.
        oauth.revoke_subject(row.id)
        outbox.emit(
            "user.updated",
            row.id,
            {
                "user_id": row.id,
                "email": record.email,
                "changed_fields": ["status"],
                "status": rules.INACTIVE,
            },
            now,
        )
        return User.get_by_id(row.id)

    return rules.present(_record(tx.write(work), sealer), principal)
