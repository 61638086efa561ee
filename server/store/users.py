"""Users: queries and the atomic use-cases behind UserService.

Every mutating use-case is one `tx.write` that also writes its outbox event.
Argon2 hashing (tens of milliseconds by design) runs before the transaction,
so no lock is held while it works.

Emails are unique through the `users.email` UNIQUE constraint over the
lower-cased form: a duplicate is found by a check first and, when two
requests race past the check, by catching the IntegrityError; both answer
ALREADY_EXISTS / CONFLICT on `email`.

Tax ids are stored sealed (AES-256-GCM, see `TaxIdVault`); only their last
four digits are readable without the key, which is all a response shows.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import hashlib
import json
import secrets
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import peewee
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from server.domain import errors, passwords
from server.domain import users as rules
from server.domain.ids import new_id
from server.domain.principal import ADMIN, CUSTOMER, Principal
from server.keys import key_file
from server.store import clock, outbox, tx
from server.store.db import is_postgres
from server.store.models import PasswordResetToken, User, UserDeactivation

KEY_BYTES = 32
NONCE_BYTES = 12
_SEALED_PREFIX = "v1"
# last_login_at sorts with never-signed-in users as the oldest; the same
# sentinel on both databases keeps keyset comparisons total.
_NEVER = "1970-01-01 00:00:00"
_LIKE_ESCAPE = "!"


# -- Tax ids at rest -------------------------------------------------------------
class TaxIdVault:
    """Seals tax ids with AES-256-GCM, bound to the user id (AAD).

    Stored form: `v1:<last four digits>:<base64url(nonce + ciphertext)>`, so a
    response can show `***-**-6789` without the key. The key is a 32-byte file
    made on first use (mode 0600); every server sharing a database must be
    given the same file. A KMS-held key is the production answer and replaces
    `from_key_file` only.
    """

    def __init__(self, key: bytes) -> None:
        assert len(key) == KEY_BYTES
        self._aead = AESGCM(key)

    @classmethod
    def from_key_file(cls, path: Path) -> TaxIdVault:
        return cls(key_file(path))

    def seal(self, user_id: str, tax_id: str) -> str:
        nonce = secrets.token_bytes(NONCE_BYTES)
        sealed = self._aead.encrypt(nonce, tax_id.encode(), user_id.encode())
        blob = base64.urlsafe_b64encode(nonce + sealed).decode().rstrip("=")
        return f"{_SEALED_PREFIX}:{tax_id[-4:]}:{blob}"

    def unseal(self, user_id: str, stored: str | None) -> str | None:
        """The tax id, or None when there is none or it cannot be opened."""
        if not stored:
            return None
        prefix, _, rest = stored.partition(":")
        blob = rest.partition(":")[2]
        if prefix != _SEALED_PREFIX or not blob:
            return None
        try:
            raw = base64.urlsafe_b64decode(blob + "=" * (-len(blob) % 4))
            opened = self._aead.decrypt(raw[:NONCE_BYTES], raw[NONCE_BYTES:], user_id.encode())
        except (ValueError, binascii.Error, InvalidTag):
            return None
        return opened.decode()


def _tax_id_last4(stored: str | None) -> str | None:
    if not stored:
        return None
    prefix, _, rest = stored.partition(":")
    return rest.partition(":")[0] if prefix == _SEALED_PREFIX else None


# -- Rows -> records ---------------------------------------------------------------
def _record(row: User) -> rules.UserRecord:
    address = rules.Address.from_dict(json.loads(row.address)) if row.address else None
    return rules.UserRecord(
        id=row.id,
        email=row.email,
        name=row.name,
        role=row.role,
        status=row.status,
        created_at=row.created_at,
        updated_at=row.updated_at,
        phone=row.phone,
        date_of_birth=row.date_of_birth,
        tax_id_last4=_tax_id_last4(row.tax_id),
        address=address,
        last_login_at=row.last_login_at,
    )


def _address_json(address: rules.Address | None) -> str | None:
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
def get_user(principal: Principal, user_id: str) -> rules.UserView:
    """GetUser: NOT_FOUND for unknown ids and for what the caller may not see."""
    target = rules.resolve_user_id(principal, user_id)
    row = User.get_or_none(User.id == target)
    if row is None:
        raise rules.user_not_found(user_id)
    return rules.present(_record(row), principal)


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


def _like(column: peewee.ColumnBase, text: str) -> peewee.ColumnBase:
    escaped = (
        text.replace(_LIKE_ESCAPE, _LIKE_ESCAPE * 2)
        .replace("%", _LIKE_ESCAPE + "%")
        .replace("_", _LIKE_ESCAPE + "_")
    )
    # LOWER() folds ASCII only on SQLite: a non-ASCII name matches there only
    # in the case it was written in.
    # Spelled out: peewee's LIKE operator is GLOB on SQLite.
    return peewee.NodeList(
        (
            peewee.fn.LOWER(column),
            peewee.SQL("LIKE"),
            peewee.Value(f"%{escaped}%"),
            peewee.SQL(f"ESCAPE '{_LIKE_ESCAPE}'"),
        ),
        parens=True,
    )


def _filtered(principal: Principal, query: rules.UserQuery) -> peewee.ModelSelect[User]:
    select = User.select()
    if principal.is_customer:
        # Customers get a list holding only themselves.
        select = select.where(User.id == (principal.user_id or ""))
    if query.search:
        select = select.where(_like(User.email, query.search) | _like(User.name, query.search))
    if query.role is not None:
        select = select.where(User.role == query.role)
    if query.status is not None:
        select = select.where(User.status == query.status)
    return select


def list_users(
    principal: Principal,
    query: rules.UserQuery,
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
    return UserPage([rules.present(_record(row), principal) for row in rows], total, next_key)


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


def create_user(principal: Principal, form: rules.NewUserForm, vault: TaxIdVault) -> rules.UserView:
    """CreateUser: validates, hashes the password, inserts, emits user.created."""
    now = clock.now()
    role = rules.validate_role(form.role, default=CUSTOMER)
    rules.check_create(principal, role)
    draft = rules.validate_new_user(form, now.date())
    password_hash = passwords.hash_secret(form.password)
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
            phone=draft.phone,
            date_of_birth=draft.date_of_birth,
            tax_id=vault.seal(user_id, draft.tax_id) if draft.tax_id else None,
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
    return rules.present(_record(row), principal)


def _columns(
    changed: Mapping[str, Any], user_id: str, vault: TaxIdVault, now: datetime
) -> dict[str, Any]:
    """The column values of the changed fields."""
    columns: dict[str, Any] = {"updated_at": now}
    for name, value in changed.items():
        if name == "tax_id":
            columns["tax_id"] = vault.seal(user_id, value) if value else None
        elif name == "address":
            columns["address"] = _address_json(value)
        else:
            columns[name] = value
    if changed.get("status") == rules.ACTIVE:
        columns["deactivated_at"] = None
    return columns


def update_user(
    principal: Principal, user_id: str, form: rules.UserChangeForm, vault: TaxIdVault
) -> rules.UserView:
    """UpdateUser: absent fields stay; emits user.updated with the changed names."""
    now = clock.now()
    requested = rules.validate_changes(form, now.date())
    target_id = rules.resolve_user_id(principal, user_id)

    def work() -> User:
        row = _lock_user(target_id, user_id)
        record = _record(row)
        current_tax_id = vault.unseal(row.id, row.tax_id) if "tax_id" in requested else None
        changed = rules.diff(record, requested, current_tax_id)
        rules.check_update(principal, record, changed)
        if not changed:
            return row
        if "email" in changed and _email_taken(changed["email"], except_id=row.id):
            raise _email_conflict(changed["email"])
        _keep_an_admin(
            record, changed.get("role", record.role), changed.get("status", record.status)
        )
        User.update(_columns(changed, row.id, vault, now)).where(User.id == row.id).execute()
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
    return rules.present(_record(row), principal)


def deactivate_user(principal: Principal, user_id: str, reason: str) -> rules.UserView:
    """DeleteUser: status INACTIVE, nothing erased; a second call changes nothing."""
    now = clock.now()
    why = rules.validate_reason(reason)
    target_id = rules.resolve_user_id(principal, user_id)

    def work() -> User:
        row = _lock_user(target_id, user_id)
        record = _record(row)
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
        # Sessions end with the status: token checks refuse INACTIVE users.
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

    return rules.present(_record(tx.write(work)), principal)


# -- Password resets ---------------------------------------------------------------------
@dataclass(frozen=True)
class ResetTicket:
    token: str
    expires_at: datetime


def _token_hash(token: str) -> str:
    # The token holds 256 random bits: a fast hash is as safe as a slow one
    # here, and lets the confirm step find the row by equality.
    return hashlib.sha256(token.encode()).hexdigest()


def request_password_reset(email: str, *, reveal: bool) -> ResetTicket | None:
    """Issues a reset token when `email` belongs to an ACTIVE or LOCKED user.

    The caller answers the same either way. `reveal` (sandbox mode only)
    hands the token back so that the flow can finish without email; the
    token then goes to the caller instead of a mailbox, which is what the
    sandbox is for.
    """
    address = rules.normalize_email(email)
    now = clock.now()
    token = secrets.token_urlsafe(32)

    def work() -> ResetTicket | None:
        row = User.get_or_none(User.email == address)
        if row is None or row.status == rules.INACTIVE:
            return None
        # One live token per user: a new request supersedes the older ones.
        PasswordResetToken.update(used_at=now).where(
            (PasswordResetToken.user_id == row.id) & PasswordResetToken.used_at.is_null()
        ).execute()
        expires_at = now + rules.RESET_TOKEN_LIFETIME
        PasswordResetToken.create(
            token_hash=_token_hash(token), user_id=row.id, created_at=now, expires_at=expires_at
        )
        return ResetTicket(token, expires_at)

    ticket = tx.write(work)
    return ticket if reveal else None


def confirm_password_reset(token: str, new_password: str) -> None:
    """Sets the new password, unlocks a LOCKED user; the token works once."""
    digest = _token_hash(rules.check_reset_token(token))
    now = clock.now()
    found = PasswordResetToken.get_or_none(PasswordResetToken.token_hash == digest)
    if found is None or not rules.reset_token_usable(found.expires_at, found.used_at, now):
        raise rules.invalid_reset_token()
    owner = User.get_or_none(User.id == found.user_id)
    if owner is None or owner.status == rules.INACTIVE:
        raise rules.invalid_reset_token()
    rules.validate_password(new_password, owner.email, field="new_password")
    password_hash = passwords.hash_secret(new_password)

    def work() -> None:
        # Claim and check in one statement: of two concurrent confirmations
        # with the same token, exactly one updates the row.
        claimed = (
            PasswordResetToken.update(used_at=now)
            .where(
                (PasswordResetToken.token_hash == digest)
                & PasswordResetToken.used_at.is_null()
                & (PasswordResetToken.expires_at > now)
            )
            .execute()
        )
        row = User.get_or_none(User.id == found.user_id)
        if claimed != 1 or row is None or row.status == rules.INACTIVE:
            raise rules.invalid_reset_token()
        changed = ["password"]
        columns: dict[str, Any] = {"password_hash": password_hash, "updated_at": now}
        if row.status == rules.LOCKED:
            columns["status"] = rules.ACTIVE
            changed.append("status")
        User.update(columns).where(User.id == row.id).execute()
        # Every other outstanding token of the user dies with this reset.
        PasswordResetToken.update(used_at=now).where(
            (PasswordResetToken.user_id == row.id) & PasswordResetToken.used_at.is_null()
        ).execute()
        outbox.emit(
            "user.updated",
            row.id,
            {"user_id": row.id, "email": row.email, "changed_fields": sorted(changed)},
            now,
        )

    tx.write(work)
