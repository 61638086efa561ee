"""Rows of step-up verification (m0033): challenges and TOTP enrolments.

A challenge leaves PENDING exactly once, by a conditional UPDATE (`... WHERE
status = 'PENDING'`): `claim` in the database transaction that runs the
held request (two verifications at once: one claims, the other's UPDATE
waits for it and then matches nothing), `count_wrong` for a wrong code (the
5th makes it FAILED) and `expire`. Wrong codes are lasting writes
(server.store.tx.write_lasting): they count even when the call fails.

The TOTP secret is sealed (server.store.sealed.TOTP_SECRET, bound to the
user id, which is the row's id); `use_step` advances the last
used step conditionally, so one app code never answers twice.
"""

from __future__ import annotations

import base64
import secrets
from dataclasses import dataclass
from datetime import datetime

import peewee

from server.crypto.fields import FieldRef, FieldSealer
from server.domain import challenges as rules
from server.domain import errors
from server.store import sealed
from server.store.models import BaseModel

ID_PREFIX = "chl_"


class ChallengeRow(BaseModel):
    id = peewee.TextField(primary_key=True)
    user_id = peewee.TextField()
    client_id = peewee.TextField()
    method = peewee.TextField()
    request = peewee.TextField()  # base64 of the serialized request
    idempotency_key = peewee.TextField(null=True)
    account_id = peewee.TextField()
    amount_minor = peewee.BigIntegerField()
    currency = peewee.TextField()
    methods = peewee.TextField()  # comma-separated
    code_hash = peewee.TextField(null=True)
    status = peewee.TextField()
    attempts = peewee.IntegerField()
    created_at = peewee.DateTimeField()
    expires_at = peewee.DateTimeField()
    verified_at = peewee.DateTimeField(null=True)
    http_status = peewee.IntegerField(null=True)
    message = peewee.TextField(null=True)
    response = peewee.TextField(null=True)  # base64 of the serialized answer
    error = peewee.TextField(null=True)  # JSON of the refusal

    class Meta:
        table_name = "challenges"


class TotpRow(BaseModel):
    user_id = peewee.TextField(primary_key=True, column_name="id")
    secret = peewee.TextField()  # sealed
    confirmed_at = peewee.DateTimeField(null=True)
    attempts = peewee.IntegerField()
    last_step = peewee.BigIntegerField(null=True)
    created_at = peewee.DateTimeField()
    updated_at = peewee.DateTimeField()

    class Meta:
        table_name = "totp_enrollments"


@dataclass(frozen=True, slots=True)
class NewChallenge:
    user_id: str
    client_id: str
    method: str
    request: bytes
    idempotency_key: str | None
    account_id: str
    amount_minor: int
    currency: str
    methods: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Challenge:
    id: str
    user_id: str
    client_id: str
    method: str
    request: bytes
    methods: tuple[str, ...]
    code_hash: str | None
    status: str
    attempts: int
    expires_at: datetime


@dataclass(frozen=True, slots=True)
class Outcome:
    """What a VERIFIED challenge answered."""

    http_status: int
    message: str
    response: bytes | None
    error: errors.BankError | None


def new_challenge_id() -> str:
    """`chl_` and 20 random base32 characters (100 bits), as the bank's other ids."""
    raw = base64.b32encode(secrets.token_bytes(15)).decode().lower()
    return ID_PREFIX + raw[:20]


def insert(challenge_id: str, spec: NewChallenge, now: datetime) -> Challenge:
    ChallengeRow.insert(
        id=challenge_id,
        user_id=spec.user_id,
        client_id=spec.client_id,
        method=spec.method,
        request=base64.b64encode(spec.request).decode(),
        idempotency_key=spec.idempotency_key,
        account_id=spec.account_id,
        amount_minor=spec.amount_minor,
        currency=spec.currency,
        methods=",".join(spec.methods),
        code_hash=None,
        status=rules.PENDING,
        attempts=0,
        created_at=now,
        expires_at=now + rules.LIFETIME,
    ).execute()
    found = get(challenge_id)
    assert found is not None
    return found


@dataclass(frozen=True, slots=True)
class Recent:
    """A person's challenges made since some instant: how many, their wrong
    codes, and when the oldest was made (None: none)."""

    opened: int
    wrong_codes: int
    oldest: datetime | None


def recent(user_id: str, since: datetime) -> Recent:
    """Read through the (user_id, created_at) index."""
    row = (
        ChallengeRow.select(
            peewee.fn.COUNT(ChallengeRow.id),
            peewee.fn.COALESCE(peewee.fn.SUM(ChallengeRow.attempts), 0),
            peewee.fn.MIN(ChallengeRow.created_at),
        )
        .where((ChallengeRow.user_id == user_id) & (ChallengeRow.created_at >= since))
        .tuples()
        .first()
    )
    opened, wrong, oldest = row if row is not None else (0, 0, None)
    if isinstance(oldest, str):  # SQLite hands an aggregate back as text
        oldest = datetime.fromisoformat(oldest)
    return Recent(int(opened or 0), int(wrong or 0), oldest)


def set_code_hash(challenge_id: str, code_hash: str) -> None:
    ChallengeRow.update(code_hash=code_hash).where(ChallengeRow.id == challenge_id).execute()


def get(challenge_id: str) -> Challenge | None:
    row = ChallengeRow.get_or_none(ChallengeRow.id == challenge_id)
    if row is None:
        return None
    return Challenge(
        id=row.id,
        user_id=row.user_id,
        client_id=row.client_id,
        method=row.method,
        request=base64.b64decode(row.request),
        methods=tuple(m for m in row.methods.split(",") if m),
        code_hash=row.code_hash,
        status=row.status,
        attempts=row.attempts,
        expires_at=row.expires_at,
    )


def outcome(challenge_id: str) -> Outcome | None:
    """The stored answer of a VERIFIED challenge (None while it has none)."""
    row = ChallengeRow.get_or_none(ChallengeRow.id == challenge_id)
    if row is None or row.status != rules.VERIFIED or row.http_status is None:
        return None
    return Outcome(
        http_status=row.http_status,
        message=row.message or "",
        response=base64.b64decode(row.response) if row.response is not None else None,
        error=errors.loads(row.error) if row.error else None,
    )


def claim(challenge_id: str, now: datetime) -> bool:
    """PENDING -> VERIFIED; False when another call changed it first."""
    changed = (
        ChallengeRow.update(status=rules.VERIFIED, verified_at=now)
        .where(
            (ChallengeRow.id == challenge_id)
            & (ChallengeRow.status == rules.PENDING)
            & (ChallengeRow.expires_at > now)
            & (ChallengeRow.attempts < rules.ATTEMPTS_MAX)
        )
        .execute()
    )
    return bool(changed)


def count_wrong(challenge_id: str) -> None:
    """One more wrong code; the last allowed one makes the challenge FAILED.

    An increment made from what the database holds: safe to run again
    after a rollback (server.store.tx.write_lasting)."""
    attempts = ChallengeRow.attempts + 1
    ChallengeRow.update(
        attempts=attempts,
        status=peewee.Case(
            None, [(attempts >= rules.ATTEMPTS_MAX, rules.FAILED)], ChallengeRow.status
        ),
    ).where((ChallengeRow.id == challenge_id) & (ChallengeRow.status == rules.PENDING)).execute()


def expire(challenge_id: str) -> None:
    ChallengeRow.update(status=rules.EXPIRED).where(
        (ChallengeRow.id == challenge_id) & (ChallengeRow.status == rules.PENDING)
    ).execute()


def record_answer(challenge_id: str, http_status: int, message: str, response: bytes) -> None:
    ChallengeRow.update(
        http_status=http_status, message=message, response=base64.b64encode(response).decode()
    ).where(ChallengeRow.id == challenge_id).execute()


def record_refusal(challenge_id: str, error: errors.BankError) -> None:
    ChallengeRow.update(
        http_status=error.http_status, message=error.message, error=errors.dumps(error)
    ).where(ChallengeRow.id == challenge_id).execute()


# -- TOTP ---------------------------------------------------------------------------------
def _ref(user_id: str) -> FieldRef:
    return sealed.TOTP_SECRET.ref(user_id)


@dataclass(frozen=True, slots=True)
class Totp:
    user_id: str
    secret: str
    confirmed: bool
    attempts: int
    last_step: int | None


def totp(sealer: FieldSealer, user_id: str) -> Totp | None:
    row = TotpRow.get_or_none(TotpRow.user_id == user_id)
    if row is None:
        return None
    return Totp(
        user_id=row.user_id,
        secret=sealer.open(row.secret, _ref(user_id)),
        confirmed=row.confirmed_at is not None,
        attempts=row.attempts,
        last_step=row.last_step,
    )


def has_confirmed_totp(user_id: str) -> bool:
    return (
        TotpRow.select(TotpRow.user_id)
        .where((TotpRow.user_id == user_id) & TotpRow.confirmed_at.is_null(False))
        .exists()
    )


def start_totp(sealer: FieldSealer, user_id: str, secret: str, now: datetime) -> bool:
    """A pending enrolment with `secret` (replacing a pending one); False when confirmed."""
    sealed = sealer.seal(secret, _ref(user_id))
    row = TotpRow.get_or_none(TotpRow.user_id == user_id)
    if row is None:
        TotpRow.insert(
            user_id=user_id, secret=sealed, attempts=0, created_at=now, updated_at=now
        ).execute()
        return True
    changed = (
        TotpRow.update(secret=sealed, attempts=0, last_step=None, created_at=now, updated_at=now)
        .where((TotpRow.user_id == user_id) & TotpRow.confirmed_at.is_null())
        .execute()
    )
    return bool(changed)


def confirm_totp(user_id: str, step: int, now: datetime) -> bool:
    changed = (
        TotpRow.update(confirmed_at=now, last_step=step, updated_at=now)
        .where((TotpRow.user_id == user_id) & TotpRow.confirmed_at.is_null())
        .execute()
    )
    return bool(changed)


def count_wrong_totp(user_id: str) -> None:
    """A wrong code while enrolling; the last allowed one drops the pending enrolment
    (a lasting write, as count_wrong)."""
    TotpRow.update(attempts=TotpRow.attempts + 1).where(
        (TotpRow.user_id == user_id) & TotpRow.confirmed_at.is_null()
    ).execute()
    TotpRow.delete().where(
        (TotpRow.user_id == user_id)
        & TotpRow.confirmed_at.is_null()
        & (TotpRow.attempts >= rules.ATTEMPTS_MAX)
    ).execute()


def use_step(user_id: str, step: int, now: datetime) -> bool:
    """Records `step` as used; False when it (or a later one) was used already."""
    changed = (
        TotpRow.update(last_step=step, updated_at=now)
        .where(
            (TotpRow.user_id == user_id)
            & TotpRow.confirmed_at.is_null(False)
            & (TotpRow.last_step.is_null() | (TotpRow.last_step < step))
        )
        .execute()
    )
    return bool(changed)
