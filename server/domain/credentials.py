"""When a user's credentials are handed out or must end.

Password resets. A reset token is a password: whoever holds it takes the
account over. So:

- A person's token (a signed-in user) resets only its own password: asked
  for any other email, nothing is issued and nothing is shown.
- A client acting for itself (client credentials, API key: the bank's own
  applications, staff-equivalent) starts a reset for any ACTIVE or LOCKED
  user; the token goes to the user's mailbox.
- Only the sandbox hands the token back to the caller, and only where that
  cannot serve a takeover: never for a staff user (whoever holds a staff
  user's token holds the bank), and to a customer only for their own
  password. A client may see a customer's token: it already acts for the
  bank on every customer's money and can list the customers.
- Unknown emails, INACTIVE users and every case where no token is shown
  answer alike: same status, same message, no token. A caller who is shown
  a token learns nothing it could not read already (its own email, or users
  it may list).

Sessions. A user's tokens carry the role and status they were issued with,
so a change of either must end them at once: a demoted ADMIN's token must
not stay an ADMIN's for its remaining hour.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta

from server.domain.principal import CUSTOMER, Principal
from server.domain.users import ACTIVE, INACTIVE

RESET_ANSWER_TIME_MIN = timedelta(milliseconds=100)
"""Every RequestPasswordReset takes at least this long, whatever the email:
the cheap way to keep its answer time from telling a known email (a token
written) from an unknown one (nothing written). The endpoint is rate-limited
(5 a minute per client by default), so the wait costs little."""


@dataclass(frozen=True, slots=True)
class ResetTarget:
    """The user an email belongs to, as far as a reset is concerned."""

    user_id: str
    role: str
    status: str


@dataclass(frozen=True, slots=True)
class ResetDecision:
    issue: bool
    """A token is made (for the user's mailbox)."""
    reveal: bool
    """The token is also handed back to the caller (sandbox only)."""


NOTHING = ResetDecision(issue=False, reveal=False)


def password_reset(
    caller: Principal, target: ResetTarget | None, *, sandbox: bool
) -> ResetDecision:
    """What a RequestPasswordReset by `caller` for `target` (None: unknown email) does."""
    if target is None or target.status == INACTIVE:
        return NOTHING
    own = caller.user_id is not None and caller.user_id == target.user_id
    if caller.user_id is not None and not own:
        return NOTHING
    acting_for_the_bank = caller.user_id is None and caller.is_staff
    reveal = sandbox and target.role == CUSTOMER and (own or acting_for_the_bank)
    return ResetDecision(issue=True, reveal=reveal)


def ends_sessions(changed: Mapping[str, object]) -> bool:
    """True when an update of a user must end the user's tokens at once.

    A new role (up or down: a token keeps the role it was issued with), or
    a status other than ACTIVE (LOCKED, INACTIVE).
    """
    return "role" in changed or changed.get("status", ACTIVE) != ACTIVE
