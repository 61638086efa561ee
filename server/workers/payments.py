"""Moving bill payments on when their steps come due: scheduled payments are
debited on their payment date, processing ones completed on their delivery
date (server.services.payment_runs), one payment per transaction."""

from __future__ import annotations

from datetime import datetime

from server.domain.transaction_states import COMPLETED, FAILED, PROCESSING
from server.services import payment_runs
from server.store import payment_rows, tx

RUN_MAX = 10_000  # steps per run; the rest wait for the next sweep


def run_due(now: datetime, sandbox: bool = False) -> dict[str, int]:
    """Runs every payment step due at `now`; counts of debited, failed, completed.
    In `sandbox` mode the sandbox's payees return some payments
    (server.domain.payments.SANDBOX_PAYEE_RETURNS).

    A payment due to be debited and delivered by the same `now` (the sandbox
    clock jumped over both dates) takes both steps in this run: the debit
    sets its next step's time, which is due as well.
    """
    done = {"payments_debited": 0, "payments_failed": 0, "payments_completed": 0}
    names = {
        PROCESSING: "payments_debited",
        FAILED: "payments_failed",
        COMPLETED: "payments_completed",
    }
    for _ in range(RUN_MAX):
        status = tx.write(lambda: _claim_and_run(now, sandbox))
        if status is None:
            break
        if status in names:
            done[names[status]] += 1
    return done


def _claim_and_run(now: datetime, sandbox: bool) -> str | None:
    """Claims the payment whose step is the oldest due and runs it (None: none due)."""
    payment = payment_rows.claim_due(now)
    return None if payment is None else payment_runs.run_step(payment, now, sandbox)
