"""A person changing their own email or phone: behind a challenge.

Step-up codes go to the email and phone on file, so a token alone must not
be enough to change them: whoever stole it would have the next codes sent
to themselves. A person's UpdateUser of their own user that changes the
email or the phone (`needs_hold`) waits for a challenge (`hold`) whose code
goes to the contacts on file as they are before the change; VerifyChallenge
then runs the update (`apply`), which also tells the old address by email
(SECURITY_ALERT) what changed. Staff changing someone else's user, and a
person's other changes (name, address), run at once.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from server.crypto.fields import FieldSealer
from server.domain import notifications as notification_rules
from server.domain import users as user_rules
from server.domain.challenges import is_person
from server.domain.principal import Principal
from server.services import challenges
from server.store import challenge_rows as rows
from server.store import clock
from server.store import notification_recipients as recipients
from server.store.notifications import Draft, enqueue_many

UPDATE_METHOD = "/backoffice.v1.UserService/UpdateUser"
T = TypeVar("T")
CHANGE = "changing the email or phone number of your account"


def needs_hold(
    principal: Principal, user_id: str, form: user_rules.UserChangeForm, sealer: FieldSealer
) -> bool:
    """Whether this UpdateUser is a person changing their own email or phone.
    Invalid fields raise here as they would in the update (no challenge for
    a request that would be refused); when in doubt, it is held."""
    if not is_person(principal) or (form.email is None and form.phone is None):
        return False
    target = user_rules.resolve_user_id(principal, user_id)
    if target != principal.user_id:
        return False
    requested = user_rules.validate_changes(form, clock.now().date())
    found = recipients.contacts(sealer, target)
    if found is None:
        return True
    return ("email" in requested and requested["email"] != found.email) or (
        "phone" in requested and requested["phone"] != found.phone
    )


def hold(
    principal: Principal,
    request: bytes,
    *,
    idempotency_key: str | None,
    sealer: FieldSealer,
    code_key: bytes,
) -> rows.Challenge:
    return challenges.open_challenge(
        principal,
        UPDATE_METHOD,
        request,
        idempotency_key=idempotency_key,
        money=("", 0, ""),
        render=lambda channel, code, minutes: notification_rules.change_challenge_message(
            channel, code, CHANGE, minutes
        ),
        sealer=sealer,
        code_key=code_key,
    )


def apply(user_id: str, sealer: FieldSealer, update: Callable[[], T]) -> T:
    """Runs `update` (the verified UpdateUser, in the verification's
    transaction) and tells the address on file before it what changed."""
    before = recipients.contacts(sealer, user_id)
    result = update()
    after = recipients.contacts(sealer, user_id)
    if before is None or after is None:
        return result
    changed = [
        what
        for what, old, new in (
            (
                f"The email of your account was changed to {_masked(after.email)}",
                before.email,
                after.email,
            ),
            ("The phone number of your account was changed", before.phone, after.phone),
        )
        if old != new
    ]
    enqueue_many(
        sealer,
        [
            Draft(
                user_id=user_id,
                channel=notification_rules.EMAIL,
                destination=before.email,
                kind=notification_rules.SECURITY_ALERT,
                message=notification_rules.security_alert_message(notification_rules.EMAIL, what),
            )
            for what in changed
        ],
    )
    return result


def _masked(email: str) -> str:
    return notification_rules.mask_destination(notification_rules.EMAIL, email)
