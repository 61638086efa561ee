"""Use cases that read the bank's books at an instant: the trial balance."""

from __future__ import annotations

from datetime import datetime

from server.domain import ledger_reports as rules
from server.domain.principal import Principal
from server.store import clock, ledger_balances


def trial_balance(
    principal: Principal, as_of: datetime | None, currency: str
) -> rules.TrialBalance:
    """The trial balance at `as_of` (default now), of one currency or all."""
    rules.check_trial_balance_reader(principal)
    instant = rules.check_as_of(as_of, clock.now())
    wanted = rules.check_currency(currency)
    return rules.trial_balance(ledger_balances.gl_groups(instant, wanted), instant, wanted)
