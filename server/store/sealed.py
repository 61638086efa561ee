"""Sealed (field-encrypted) columns: which ones, and re-sealing them.

Sealed with `server.crypto.fields` (AES-256-GCM, bound to table, column and
row id):
- `users.tax_id`; its last four digits, all a response ever shows, are kept
  readable in `users.tax_id_last4`;
- `users.phone` and `users.date_of_birth`, opened on every read (responses
  mask them per caller; rules compare the opened values);
- `payees.account_number`; its last four characters, all a response ever
  shows, are kept readable in `payees.account_number_last4`;
- `external_transfers.beneficiary_account_number`,
  `beneficiary_routing_number` and `beneficiary_iban` (server.store
  .external_rows); the last four characters of the account number and IBAN,
  all a response ever shows, are kept readable beside them.

Re-sealing (`reseal`) walks each column by row id in batches, each batch its
own write transaction, and compares-and-sets every value (`... WHERE id = ?
AND column = <the value read>`): a value a request changed meanwhile is left
alone (the request sealed it under the active key), and a run can stop at
any point and be started again.
"""

from __future__ import annotations

import functools
import logging
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from server import keys
from server.crypto import fields
from server.crypto.fields import FieldRef, FieldSealer, UnreadableField, is_sealed, key_id
from server.store import tx
from server.store.db import database, is_postgres

log = logging.getLogger(__name__)

BATCH_SIZE_DEFAULT = 500
BATCH_SIZE_MAX = 10_000
UNREADABLE_LISTED_MAX = 100
PLAINTEXT = "plaintext"


@dataclass(frozen=True, slots=True)
class SealedColumn:
    """One sealed column; `id` is the row id the ciphertext is bound to."""

    table: str
    column: str
    # Rows written before the column was sealed hold plaintext, which reads
    # as is until `setup` (or `rotate-keys`) seals it.
    plaintext_before: bool = False

    @property
    def name(self) -> str:
        return f"{self.table}.{self.column}"

    def ref(self, row_id: str) -> FieldRef:
        return FieldRef(self.table, self.column, row_id)


USER_TAX_ID = SealedColumn("users", "tax_id")
USER_PHONE = SealedColumn("users", "phone", plaintext_before=True)
USER_DATE_OF_BIRTH = SealedColumn("users", "date_of_birth", plaintext_before=True)
# API clients' request-signing secrets (HMAC keys; server.store.signing_secrets).
CLIENT_SIGNING_SECRET = SealedColumn("client_signing_secrets", "secret")
# A customer's number at a payee (server.store.payees): sent to the payee in
# full when paying, shown masked. The sandbox loads its billers in plaintext,
# which `setup` seals.
PAYEE_ACCOUNT_NUMBER = SealedColumn("payees", "account_number", plaintext_before=True)
# The number a bill payment sends to its payee (server.store.payment_rows).
BILL_PAYMENT_ACCOUNT_NUMBER = SealedColumn("bill_payments", "payee_account_number")
# An external transfer's beneficiary (server.store.external_rows): sent to the
# network in full, shown masked.
BENEFICIARY_ACCOUNT_NUMBER = SealedColumn("external_transfers", "beneficiary_account_number")
BENEFICIARY_ROUTING_NUMBER = SealedColumn("external_transfers", "beneficiary_routing_number")
BENEFICIARY_IBAN = SealedColumn("external_transfers", "beneficiary_iban")
# Webhook signing secrets (server.store.webhooks): HMAC keys, opened to sign.
WEBHOOK_SECRET = SealedColumn("webhook_subscriptions", "secret")
WEBHOOK_PREVIOUS_SECRET = SealedColumn("webhook_subscriptions", "previous_secret")
# Customer notifications (server.store.notifications): where a message goes,
# its text and the one-time code it may carry.
NOTIFICATION_DESTINATION = SealedColumn("notifications", "destination")
NOTIFICATION_BODY = SealedColumn("notifications", "body")
NOTIFICATION_CODE = SealedColumn("notifications", "code")
# A person's authenticator-app secret (server.store.challenge_rows; the row id
# is the user's id): opened to check a TOTP code.
TOTP_SECRET = SealedColumn("totp_enrollments", "secret")
COLUMNS: tuple[SealedColumn, ...] = (
    USER_TAX_ID,
    USER_PHONE,
    USER_DATE_OF_BIRTH,
    CLIENT_SIGNING_SECRET,
    PAYEE_ACCOUNT_NUMBER,
    BENEFICIARY_ACCOUNT_NUMBER,
    BENEFICIARY_ROUTING_NUMBER,
    BENEFICIARY_IBAN,
    BILL_PAYMENT_ACCOUNT_NUMBER,
    WEBHOOK_SECRET,
    WEBHOOK_PREVIOUS_SECRET,
    NOTIFICATION_DESTINATION,
    NOTIFICATION_BODY,
    NOTIFICATION_CODE,
    TOTP_SECRET,
)


def seal(sealer: FieldSealer, column: SealedColumn, row_id: str, value: str | None) -> str | None:
    """The stored form of `value` (None and "" stay None)."""
    return sealer.seal(value, column.ref(row_id)) if value else None


def open_value(
    sealer: FieldSealer, column: SealedColumn, row_id: str, stored: str | None
) -> str | None:
    """The value behind a stored form; UnreadableField when it does not open."""
    if not stored:
        return None
    if column.plaintext_before and not is_sealed(stored):
        return stored
    return sealer.open(stored, column.ref(row_id))


# -- Re-sealing ----------------------------------------------------------------------------
@dataclass
class ResealReport:
    """What one pass over the sealed columns did, per column name."""

    resealed: Counter[str]
    unreadable: dict[str, list[str]]  # row ids (at most UNREADABLE_LISTED_MAX per column)

    @property
    def resealed_total(self) -> int:
        return sum(self.resealed.values())


def _param() -> str:
    return "%s" if is_postgres() else "?"


def _batch(
    column: SealedColumn, skip_prefix: str, after_id: str, limit: int
) -> list[tuple[str, str]]:
    p = _param()
    cursor = database.execute_sql(
        f"SELECT id, {column.column} FROM {column.table}"
        f" WHERE {column.column} IS NOT NULL AND {column.column} <> ''"
        f" AND substr({column.column}, 1, {len(skip_prefix)}) <> {p}"
        f" AND id > {p} ORDER BY id LIMIT {p}",
        (skip_prefix, after_id, limit),
    )
    return [(str(row[0]), str(row[1])) for row in cursor.fetchall()]


def _reseal_rows(
    sealer: FieldSealer, column: SealedColumn, rows: list[tuple[str, str]]
) -> tuple[int, list[str]]:
    p = _param()
    changed = 0
    unreadable: list[str] = []
    for row_id, stored in rows:
        try:
            value = open_value(sealer, column, row_id, stored)
        except UnreadableField:
            unreadable.append(row_id)
            continue
        assert value is not None
        cursor = database.execute_sql(
            f"UPDATE {column.table} SET {column.column} = {p}"
            f" WHERE id = {p} AND {column.column} = {p}",
            (sealer.seal(value, column.ref(row_id)), row_id, stored),
        )
        changed += cursor.rowcount
    return changed, unreadable


def reseal(
    sealer: FieldSealer,
    *,
    legacy_only: bool = False,
    batch_size: int = BATCH_SIZE_DEFAULT,
    columns: tuple[SealedColumn, ...] = COLUMNS,
) -> ResealReport:
    """One pass: seals under the active key every value that is not.

    With `legacy_only`, only values not in the `enc:v1:` form at all
    (plaintext, legacy tax ids) are sealed; values under an older key stay.
    """
    assert 1 <= batch_size <= BATCH_SIZE_MAX
    report = ResealReport(Counter(), {})
    for column in columns:
        skip = "enc:v1:" if legacy_only else f"enc:v1:{sealer.active}:"
        after = ""
        unreadable: list[str] = []
        while rows := _batch(column, skip, after, batch_size):
            changed, failed = tx.write(functools.partial(_reseal_rows, sealer, column, rows))
            report.resealed[column.name] += changed
            unreadable.extend(failed)
            after = rows[-1][0]
        if unreadable:
            # Ids only: which rows an operator must look at, never their values.
            log.error(
                "sealed values that do not open",
                extra={"column": column.name, "count": len(unreadable), "ids": unreadable[:10]},
            )
            report.unreadable[column.name] = unreadable[:UNREADABLE_LISTED_MAX]
    return report


def values_by_key(columns: tuple[SealedColumn, ...] = COLUMNS) -> dict[str, int]:
    """How many stored values each key id seals (`plaintext` for unsealed ones)."""
    counts: Counter[str] = Counter()
    for column in columns:
        cursor = database.execute_sql(
            f"SELECT substr({column.column}, 1, 16) FROM {column.table}"
            f" WHERE {column.column} IS NOT NULL AND {column.column} <> ''"
        )
        for (head,) in cursor:
            counts[key_id(str(head)) or PLAINTEXT] += 1
    return dict(counts)


# -- Key rotation --------------------------------------------------------------------------
ROTATION_PASSES_MAX = 5


@dataclass
class RotationResult:
    """What `rotate-keys` did."""

    active_key: str
    resumed: bool  # a rotation a previous run left unfinished was completed
    resealed: Counter[str]
    unreadable: dict[str, list[str]]
    values_by_key: dict[str, int]
    retired: list[str]
    # Every readable value is under the active key and none is unreadable.
    complete: bool

    def to_dict(self) -> dict[str, object]:
        return {
            "active_key": self.active_key,
            "resumed": self.resumed,
            "resealed": dict(self.resealed),
            "unreadable": self.unreadable,
            "values_by_key": self.values_by_key,
            "retired": self.retired,
            "complete": self.complete,
        }


def _retire_unused(keys_dir: Path, state: keys.KeyringState, usage: dict[str, int]) -> list[str]:
    retired = []
    for kid in state.kids:
        if kid != state.active and not usage.get(kid):
            keys.retire_key(fields.fields_dir(keys_dir), kid)
            retired.append(kid)
    legacy = keys_dir / "pii.key"
    if legacy.exists() and not usage.get(fields.LEGACY_KID):
        legacy.unlink()
        retired.append(fields.LEGACY_KID)
    if retired:
        log.warning("field keys retired", extra={"kids": retired})
    return retired


def rotate(
    keys_dir: Path,
    *,
    retire: bool = False,
    batch_size: int = BATCH_SIZE_DEFAULT,
    settle_seconds: float = 2 * fields.REFRESH_SECONDS,
) -> RotationResult:
    """Makes a new active key and re-seals every value under it.

    Safe to stop at any point and to run again: while a rotation is
    unfinished (keyring.json says `rotating`), a run resumes it instead of
    making another key. Old keys stay in the keyring, and open their values,
    until `retire` removes those that no stored value needs any more (their
    files are deleted: keep a copy offline first if backups taken before the
    rotation must stay readable). A key that still seals a value that does
    not open (reported under `unreadable`) is never retired.
    """
    directory = fields.fields_dir(keys_dir)
    state = keys.keyring_state(directory)
    resumed = state.rotating
    if not resumed:
        state = keys.add_active_key(directory)
        # Servers look at keyring.json at most every REFRESH_SECONDS: after
        # this pause every one of them seals new values under the new key.
        time.sleep(settle_seconds)
    keyring = fields.load_keyring(keys_dir)
    resealed: Counter[str] = Counter()
    report = ResealReport(Counter(), {})
    settled = False
    for _ in range(ROTATION_PASSES_MAX):
        # A pass that re-seals nothing proves every readable value is done,
        # including those a server sealed under the old key meanwhile.
        report = reseal(keyring, batch_size=batch_size)
        resealed.update(report.resealed)
        if report.resealed_total == 0:
            settled = True
            break
    if settled:
        state = keys.finish_rotation(directory)
    usage = values_by_key()
    retired = _retire_unused(keys_dir, state, usage) if retire and settled else []
    return RotationResult(
        active_key=state.active,
        resumed=resumed,
        resealed=resealed,
        unreadable=report.unreadable,
        values_by_key=usage,
        retired=retired,
        complete=settled and not report.unreadable,
    )
