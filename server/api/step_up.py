"""Step-up verification at the movement RPCs' door: `hold` decides, before
any use case runs, whether a call waits for a challenge (see
server.services.challenges and protos/backoffice/v1/challenge.proto), and
answers 202 with the Challenge when it does.

CreateTransfer, CreatePayment, CreateExternalTransfer, the generic
CreateTransaction (for those three types) and CreateRecurringTransaction
call it first; the kept request is the serialized proto of the RPC that was
called, run again by ChallengeService.VerifyChallenge (server.api.challenges).
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import grpc

from backoffice.v1 import challenge_pb2 as cpb
from server.api import call, idempotency
from server.api.convert import timestamp
from server.config import Settings
from server.crypto.fields import LiveKeyring
from server.domain import challenges as rules
from server.keys import key_file
from server.services import challenges
from server.store import challenge_rows

METHOD = cpb.ChallengeMethodEnum.ChallengeMethod
ACCEPTED_MESSAGE = "Verification required: answer the challenge to complete this request"


@dataclass(frozen=True)
class StepUp:
    """What holding and verifying need: thresholds, the field sealer, the code key."""

    thresholds: rules.Thresholds
    sealer: LiveKeyring
    code_key: bytes


@functools.cache
def _step_up(data_dir: Path, thresholds: str) -> StepUp:
    keys = data_dir / "keys"
    return StepUp(
        rules.parse_thresholds(thresholds),
        LiveKeyring(keys),
        key_file(keys / "challenge-codes.key"),
    )


def of(settings: Settings) -> StepUp:
    """The step-up facts of this process's settings (BANK_STEP_UP_THRESHOLDS read once)."""
    return _step_up(settings.data_dir, settings.step_up_thresholds)


@dataclass(frozen=True)
class Hold:
    """A call that must wait for a challenge; `challenge()` makes it (202)."""

    facts: StepUp
    held: challenges.Held
    decision: challenges.Decision

    def challenge(self) -> cpb.Challenge:
        made = challenges.hold(
            call.current().principal,
            self.held,
            self.decision,
            self.facts.sealer,
            self.facts.code_key,
        )
        call.current().accepted(ACCEPTED_MESSAGE)
        return challenge_message(made)


def hold(
    settings: Settings,
    method: str,
    request: Any,
    context: grpc.ServicerContext,
    *,
    from_account_id: str,
    amount: float,
    currency: str,
) -> Hold | None:
    """A Hold when the call must wait for a challenge; None to run it now.
    Reads only: the challenge is made by `Hold.challenge()`."""
    facts = of(settings)
    held = challenges.Held(
        method=method,
        request=request.SerializeToString(deterministic=True),
        idempotency_key=idempotency.key_from(context),
        from_account_id=from_account_id,
        amount=amount,
        currency=currency,
        destination=_destination(request),
    )
    decision = challenges.needs_hold(call.current().principal, held, facts.thresholds)
    return None if decision is None else Hold(facts, held, decision)


def _destination(request: Any) -> challenges.Destination:
    """Where the request sends the money (for the code's message)."""
    given = {field.name for field, _ in request.ListFields()}
    if "to_account_id" in given:
        return challenges.Destination(account_id=request.to_account_id)
    if "payee_id" in given:
        return challenges.Destination(payee_id=request.payee_id)
    if "beneficiary" in given:
        return challenges.Destination(
            beneficiary_name=request.beneficiary.name,
            beneficiary_number=request.beneficiary.account_number,
        )
    return challenges.Destination()


def hold_movement(
    settings: Settings, method: str, request: Any, context: grpc.ServicerContext
) -> Hold | None:
    """`hold` of a request that names its debited account, amount and currency
    in `from_account_id`, `amount` and `currency` (transfers, bill payments,
    external transfers, recurring schedules)."""
    return hold(
        settings,
        method,
        request,
        context,
        from_account_id=request.from_account_id,
        amount=request.amount,
        currency=request.currency,
    )


def challenge_message(made: challenge_rows.Challenge) -> cpb.Challenge:
    return cpb.Challenge(
        id=made.id,
        methods=list(made.methods),
        expires_at=timestamp(made.expires_at),
    )
