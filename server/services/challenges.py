"""Step-up verification use cases: holding a large movement behind a
challenge, answering it exactly once, and enrolling an authenticator app.

Holding (`hold_if_needed`) reads the debited account only: when the caller
is a person, the account is one they may debit and the amount (in minor
units of the movement's currency) is at or above the account type's
threshold, the request is kept in a challenge row, a one-time code goes to
the person's email (and phone) through the notifications outbox in the same
transaction, and nothing else happens. Whatever the request would break
(funds, limits, the other fields) is found when it runs.

Verifying (`verify`) runs in one write transaction: the code is checked,
the challenge claimed PENDING -> VERIFIED by a conditional UPDATE, and the
kept request run by `execute` in a savepoint of that same transaction, its
answer stored with the challenge. A concurrent verification waits on the
claim and then answers the stored outcome; nothing runs twice.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from server.crypto.fields import FieldSealer
from server.domain import challenges as rules
from server.domain import errors, movements
from server.domain import notifications as notification_rules
from server.domain.masking import mask_account_number
from server.domain.money import parse_amount
from server.domain.principal import Principal
from server.store import challenge_rows as rows
from server.store import clock, tx
from server.store import notification_recipients as recipients
from server.store import payees as payee_store
from server.store.models import Account

# Refusals of the held request that are its answer for good (as an
# Idempotency-Key keeps them): the challenge is used up by them.
KEPT_REFUSALS = frozenset({403, 404, 409, 422})


@dataclass(frozen=True, slots=True)
class Destination:
    """Where a movement's money goes, as its request names it (one of these)."""

    account_id: str = ""
    payee_id: str = ""
    beneficiary_name: str = ""
    beneficiary_number: str = ""


@dataclass(frozen=True, slots=True)
class Held:
    """A movement's request, as kept until its challenge is answered."""

    method: str  # the RPC's full name
    request: bytes
    idempotency_key: str | None
    from_account_id: str
    amount: float
    currency: str
    destination: Destination | None = None


def destination_words(principal: Principal, found: Destination | None) -> str:
    """The destination as the code's message names it, masked ("account
    ****7890", "Power Co", "Jane Doe ****0002"); "" when it cannot be told
    (the use case refuses such a request anyway)."""
    if found is None:
        return ""
    if found.account_id:
        account = Account.get_or_none(Account.id == found.account_id)
        return f"account {mask_account_number(account.account_number)}" if account else ""
    if found.payee_id:
        payee = payee_store.get_payee(found.payee_id)
        if payee is None or (payee.owner_id is not None and payee.owner_id != principal.user_id):
            return ""  # another's payee: not named
        return payee.name[:60]
    name = found.beneficiary_name.strip()[:60]
    number = mask_account_number(found.beneficiary_number.strip())
    return " ".join(part for part in (name, number) if part)


@dataclass(frozen=True, slots=True)
class Answer:
    """What a verification answers: the response (a message the first time,
    the stored bytes on a replay), its HTTP status and message."""

    response: Any
    http_status: int
    message: str
    replayed: bool = False
    # What a replay answers instead of `response`, when that shows a secret
    # once (an authenticator app's); None: `response` itself.
    stored: Any = None


@dataclass(frozen=True, slots=True)
class _Refusal:
    """A refusal whose writes (a counted try, an expiry) must commit first."""

    error: errors.BankError


class _StepReused(Exception):
    """The app code's step was used before: undoes the claim (a savepoint)."""


def _debited(principal: Principal, held: Held) -> tuple[str, int, str] | None:
    """(account type, amount in minor units, currency) of a movement that may
    need a challenge. The currency and amount are read exactly as the use
    cases read them (movements.currency_of: trimmed, upper-cased, the
    account's when empty; parse_amount), so a spelling the use case accepts
    is never one that skips step-up. None only for a request its use case is
    bound to refuse before anything moves, with the same pure checks: an
    unknown or foreign account (TXN002), another currency (TXN006), an
    amount that does not parse (TXN005)."""
    account = Account.get_or_none(Account.id == held.from_account_id)
    if account is None or not principal.can_see(account.owner_id):
        return None
    try:
        currency = movements.currency_of(held.currency, account.currency)
        minor = parse_amount(held.amount, currency)
    except errors.BankError:
        return None
    return account.type, minor, currency


@dataclass(frozen=True, slots=True)
class Decision:
    """A movement that must wait for a challenge: what its code message tells."""

    amount_minor: int
    currency: str


def needs_hold(principal: Principal, held: Held, thresholds: rules.Thresholds) -> Decision | None:
    """A Decision when `held` must wait for a challenge; None to run it now (reads only)."""
    if not rules.is_person(principal):
        return None
    found = _debited(principal, held)
    if found is None:
        return None
    account_type, minor, currency = found
    if not rules.needs_step_up(principal, account_type, minor, currency, thresholds):
        return None
    return Decision(minor, currency)


def hold(
    principal: Principal,
    held: Held,
    decision: Decision,
    sealer: FieldSealer,
    code_key: bytes,
) -> rows.Challenge:
    """The new challenge keeping `held`; its one-time code enqueued for the person."""
    minor, currency = decision.amount_minor, decision.currency
    to = destination_words(principal, held.destination)
    return open_challenge(
        principal,
        held.method,
        held.request,
        idempotency_key=held.idempotency_key,
        money=(held.from_account_id, minor, currency),
        render=lambda channel, code, minutes: notification_rules.challenge_message(
            channel, code, minor, currency, minutes, destination=to
        ),
        sealer=sealer,
        code_key=code_key,
    )


def open_challenge(
    principal: Principal,
    method: str,
    request: bytes,
    *,
    idempotency_key: str | None,
    money: tuple[str, int, str],
    render: Callable[[str, str, int], notification_rules.Message],
    sealer: FieldSealer,
    code_key: bytes,
    app_answers: bool = True,
) -> rows.Challenge:
    """A PENDING challenge keeping `request`, its one-time code sent to the
    person's email (and phone) on file as `render(channel, code, minutes)`.
    `app_answers` False: the authenticator app is not offered (a change of
    the person's own security settings is confirmed on the contacts on file).
    RATE_LIMITED once the person's last hour holds too many challenges or
    wrong codes (rules.check_opening; a burst of concurrent calls may pass
    it by a few)."""
    user_id = str(principal.user_id)
    account_id, minor, currency = money

    def work() -> rows.Challenge:
        now = clock.now()
        recent = rows.recent(user_id, now - rules.RECENT_WINDOW)
        rules.check_opening(recent.opened, recent.wrong_codes, recent.oldest, now)
        contacts = recipients.contacts(sealer, user_id)
        methods = rules.methods_for(
            app_answers and rows.has_confirmed_totp(user_id), bool(contacts and contacts.phone)
        )
        challenge_id = rows.new_challenge_id()
        made = rows.insert(
            challenge_id,
            rows.NewChallenge(
                user_id=user_id,
                client_id=principal.client_id,
                method=method,
                request=request,
                idempotency_key=idempotency_key,
                account_id=account_id,
                amount_minor=minor,
                currency=currency,
                methods=methods,
            ),
            now,
        )
        code = rules.new_code()
        rows.set_code_hash(challenge_id, rules.code_hash(code_key, challenge_id, code))
        minutes = int(rules.LIFETIME.total_seconds() // 60)
        recipients.enqueue_for_user(
            sealer,
            user_id,
            notification_rules.CHALLENGE_CODE,
            lambda channel: render(channel, code, minutes),
            code=code,
            related_id=challenge_id,
        )
        return made

    return tx.write(work)


def verify(
    principal: Principal,
    challenge_id: str,
    code: str,
    method: str,
    *,
    execute: Callable[[rows.Challenge], Answer],
    sealer: FieldSealer,
    code_key: bytes,
) -> Answer:
    """Answers a challenge (see the module comment); raises its refusals."""
    rules.check_code(code)

    def work() -> Answer | _Refusal:
        found = rows.get(challenge_id) if challenge_id.startswith(rows.ID_PREFIX) else None
        if found is None or found.user_id != principal.user_id:
            raise errors.NotFound("Challenge not found", metadata={"challenge_id": challenge_id})
        if found.status != rules.PENDING:
            return _settled(found)
        now = clock.now()
        if rules.is_expired(found.expires_at, now):
            rows.expire(challenge_id)
            return _Refusal(rules.closed(rules.EXPIRED, challenge_id))
        rules.check_method(method, found.methods)
        step = _totp_step(found, code, method, sealer)
        matched = step is not None or (
            method in ("", rules.EMAIL, rules.SMS)
            and rules.code_matches(code_key, challenge_id, code, found.code_hash)
        )
        if not matched or not _claim(found, step, now):
            current = rows.get(challenge_id)
            if current is not None and current.status != rules.PENDING:
                return _settled(current)  # another verification came first
            tx.write_lasting(lambda: rows.count_wrong(challenge_id))
            after = rows.get(challenge_id)
            return _Refusal(rules.wrong_code(after.attempts if after else rules.ATTEMPTS_MAX))
        try:
            answer = tx.write(lambda: execute(found))
        except errors.BankError as refusal:
            if refusal.http_status not in KEPT_REFUSALS:
                raise  # transient (503, 429, ...): all rolls back, the challenge stays PENDING
            rows.record_refusal(challenge_id, refusal)
            return _Refusal(refusal)
        rows.record_answer(challenge_id, answer.http_status, answer.message, _bytes(answer))
        return answer

    result = tx.write(work)
    if isinstance(result, _Refusal):
        raise result.error
    return result


def _bytes(answer: Answer) -> bytes:
    response = answer.response if answer.stored is None else answer.stored
    return response if isinstance(response, bytes) else bytes(response.SerializeToString())


def _settled(found: rows.Challenge) -> Answer | _Refusal:
    """A challenge that left PENDING: its first outcome again, or why it is closed."""
    if found.status == rules.VERIFIED:
        stored = rows.outcome(found.id)
        if stored is None:
            return _Refusal(errors.Conflict("The challenge is being verified"))
        if stored.error is not None:
            return _Refusal(stored.error)
        return Answer(stored.response, stored.http_status, stored.message, replayed=True)
    return _Refusal(rules.closed(found.status, found.id))


def _totp_step(found: rows.Challenge, code: str, method: str, sealer: FieldSealer) -> int | None:
    """The app step `code` matches, when TOTP may answer this call."""
    if rules.TOTP not in found.methods or method not in ("", rules.TOTP):
        return None
    app = rows.totp(sealer, found.user_id)
    if app is None or not app.confirmed:
        return None
    return rules.totp_matching_step(app.secret, code, clock.now(sandbox=False))


def _claim(found: rows.Challenge, step: int | None, now: Any) -> bool:
    """Claims the challenge, and the app step when an app code answered it."""

    def both() -> bool:
        if not rows.claim(found.id, now):
            return False
        if step is not None and not rows.use_step(found.user_id, step, now):
            raise _StepReused
        return True

    try:
        return tx.write(both)
    except _StepReused:
        return False
