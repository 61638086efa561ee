"""Authenticator apps (TOTP): enrolling one behind a challenge, confirming it.

A token alone must not be enough to add a way of answering step-up
challenges: whoever stole it would enrol an app of their own. So a person's
EnrollTotp is held (`hold_enrolment`) behind a challenge whose one-time code
goes to the email (and phone) on file and which the app cannot answer (no
TOTP method); VerifyChallenge then starts the enrolment (`enroll_totp`) and
shows the secret that once. Confirming it (`confirm_totp`) tells the person
by email (SECURITY_ALERT) that an app was added.
"""

from __future__ import annotations

from dataclasses import dataclass

from server.crypto.fields import FieldSealer
from server.domain import challenges as rules
from server.domain import errors
from server.domain import notifications as notification_rules
from server.domain.principal import Principal
from server.services import challenges
from server.store import challenge_rows as rows
from server.store import clock, tx
from server.store import notification_recipients as recipients
from server.store.models import User

ENROL_METHOD = "/backoffice.v1.ChallengeService/EnrollTotp"
ENROL_CHANGE = "adding an authenticator app to your account"
APP_ADDED = "An authenticator app was added to your account"


@dataclass(frozen=True, slots=True)
class Enrollment:
    secret: str
    otpauth_uri: str


def _own_user(principal: Principal, user_id: str) -> str:
    """The caller's own user id; another's is NOT_FOUND (customers) or FORBIDDEN."""
    if principal.user_id and principal.user_id == user_id:
        email = User.select(User.email).where(User.id == user_id).scalar()
        if email:
            return str(email)
    if principal.user_id and not principal.is_staff:
        raise errors.NotFound("User not found", metadata={"user_id": user_id[:64]})
    raise errors.Forbidden(
        "Only the user may enrol their own authenticator app (a token of the"
        " authorization-code flow)",
        metadata={"user_id": user_id[:64]},
    )


def _no_confirmed_app(sealer: FieldSealer, user_id: str) -> None:
    app = rows.totp(sealer, user_id)
    if app is not None and app.confirmed:
        raise errors.Conflict(
            "An authenticator app is already confirmed for this user",
            metadata={"user_id": user_id},
        )


def hold_enrolment(
    principal: Principal,
    user_id: str,
    request: bytes,
    *,
    idempotency_key: str | None,
    sealer: FieldSealer,
    code_key: bytes,
) -> rows.Challenge:
    """The challenge EnrollTotp waits for (EMAIL/SMS only); refusals first."""
    _own_user(principal, user_id)
    _no_confirmed_app(sealer, user_id)
    return challenges.open_challenge(
        principal,
        ENROL_METHOD,
        request,
        idempotency_key=idempotency_key,
        money=("", 0, ""),
        render=lambda channel, code, minutes: notification_rules.change_challenge_message(
            channel, code, ENROL_CHANGE, minutes
        ),
        sealer=sealer,
        code_key=code_key,
        app_answers=False,
    )


def enroll_totp(principal: Principal, user_id: str, sealer: FieldSealer) -> Enrollment:
    """Starts (or restarts) the enrolment: a verified challenge's request."""
    email = _own_user(principal, user_id)
    secret = rules.new_totp_secret()

    def work() -> None:
        if not rows.start_totp(sealer, user_id, secret, clock.now(sandbox=False)):
            raise errors.Conflict(
                "An authenticator app is already confirmed for this user",
                metadata={"user_id": user_id},
            )

    tx.write(work)
    return Enrollment(secret, rules.otpauth_uri(secret, email))


def confirm_totp(principal: Principal, user_id: str, code: str, sealer: FieldSealer) -> None:
    _own_user(principal, user_id)
    rules.check_code(code)

    def work() -> challenges._Refusal | None:
        app = rows.totp(sealer, user_id)
        if app is None or app.confirmed:
            raise errors.Conflict(
                "No authenticator app is being enrolled for this user",
                metadata={"user_id": user_id},
            )
        now = clock.now(sandbox=False)
        step = rules.totp_matching_step(app.secret, code, now)
        if step is None or not rows.confirm_totp(user_id, step, now):
            tx.write_lasting(lambda: rows.count_wrong_totp(user_id))
            return challenges._Refusal(rules.wrong_code(app.attempts + 1))
        recipients.enqueue_for_user(
            sealer,
            user_id,
            notification_rules.SECURITY_ALERT,
            lambda channel: notification_rules.security_alert_message(channel, APP_ADDED),
        )
        return None

    refused = tx.write(work)
    if refused is not None:
        raise refused.error
