"""Reset-token disclosure and session ends, without a database."""

from __future__ import annotations

import pytest

from server.domain import credentials
from server.domain.credentials import NOTHING, ResetDecision, ResetTarget
from server.domain.principal import ADMIN, AUDITOR, CUSTOMER, OPERATIONS, TELLER, Principal
from server.domain.users import ACTIVE, INACTIVE, LOCKED

ALICE = ResetTarget("usr_alice", CUSTOMER, ACTIVE)
ALICE_CALLER = Principal(client_id="app", role=CUSTOMER, user_id="usr_alice")
BOB_CALLER = Principal(client_id="app", role=CUSTOMER, user_id="usr_bob")
ADMIN_ADA = ResetTarget("usr_ada", ADMIN, ACTIVE)
ADMIN_CALLER = Principal(client_id="app", role=ADMIN, user_id="usr_ada")
TELLER_CALLER = Principal(client_id="app", role=TELLER, user_id="usr_tom")
APP = Principal(client_id="app", role=OPERATIONS)
ADMIN_APP = Principal(client_id="ops-tool", role=ADMIN)

ISSUED = ResetDecision(issue=True, reveal=False)
SHOWN = ResetDecision(issue=True, reveal=True)


def decide(caller: Principal, target: ResetTarget | None, sandbox: bool = True) -> ResetDecision:
    return credentials.password_reset(caller, target, sandbox=sandbox)


@pytest.mark.parametrize("caller", [ALICE_CALLER, BOB_CALLER, TELLER_CALLER, APP, ADMIN_APP])
def test_unknown_emails_and_inactive_users_get_nothing(caller: Principal) -> None:
    assert decide(caller, None) == NOTHING
    assert decide(caller, ResetTarget("usr_alice", CUSTOMER, INACTIVE)) == NOTHING
    assert decide(caller, ResetTarget("usr_tom", TELLER, INACTIVE)) == NOTHING


@pytest.mark.parametrize("caller", [BOB_CALLER, TELLER_CALLER, ADMIN_CALLER])
def test_a_persons_token_starts_no_reset_for_anyone_else(caller: Principal) -> None:
    assert decide(caller, ALICE) == NOTHING
    assert decide(caller, ResetTarget("usr_zed", ADMIN, ACTIVE)) == NOTHING


def test_a_customer_is_shown_her_own_token_in_the_sandbox_only() -> None:
    assert decide(ALICE_CALLER, ALICE) == SHOWN
    assert decide(ALICE_CALLER, ResetTarget("usr_alice", CUSTOMER, LOCKED)) == SHOWN
    assert decide(ALICE_CALLER, ALICE, sandbox=False) == ISSUED


@pytest.mark.parametrize("role", [ADMIN, TELLER, OPERATIONS, AUDITOR])
def test_a_staff_users_token_is_never_shown(role: str) -> None:
    staff = ResetTarget("usr_staff", role, ACTIVE)
    for caller in (APP, ADMIN_APP, Principal(client_id="app", role=role, user_id="usr_staff")):
        assert decide(caller, staff) == ISSUED
        assert decide(caller, staff, sandbox=False) == ISSUED


def test_a_client_acting_for_itself_is_shown_customers_tokens_in_the_sandbox() -> None:
    assert decide(APP, ALICE) == SHOWN
    assert decide(ADMIN_APP, ALICE) == SHOWN
    assert decide(APP, ALICE, sandbox=False) == ISSUED
    # A client acting for itself is staff-equivalent; a customer role without
    # a user (which no credential gives) would be shown nothing.
    assert decide(Principal(client_id="app", role=CUSTOMER), ALICE) == ISSUED


@pytest.mark.parametrize(
    ("changed", "ends"),
    [
        ({"role": TELLER}, True),
        ({"role": ADMIN}, True),
        ({"status": LOCKED}, True),
        ({"status": INACTIVE}, True),
        ({"status": ACTIVE}, False),
        ({"name": "Ada", "email": "ada@example.com"}, False),
        ({}, False),
    ],
)
def test_a_new_role_or_a_lock_ends_the_users_sessions(changed: dict[str, str], ends: bool) -> None:
    assert credentials.ends_sessions(changed) is ends
