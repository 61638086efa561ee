"""Fraud screening of customer-initiated movements, before anything posts (risk.proto).

`screen` gathers what the enabled rules need (only what a rule can use at
this amount), decides (server.domain.risk) and stores the decision; a
DECLINE raises RISK_DECLINED (422). The movement's own use case then posts
it (ALLOW) or holds it for review (REVIEW: server.services.risk_reviews).

Who is screened (`applies`): a customer's own token, a service client
acting for itself, and a staff person's own transfers, payments and
external transfers out of a customer's account (insider risk: by the
velocity rules only, whatever their action; their other rules are about a
customer's habits and devices); not the bank's runs of an instruction
screened when it was made (`RequestContext.screened` False: recurring runs;
scheduled transfers and payment steps coming due never come here). A
trusted service client (risk_rows.trusted) skips the velocity kinds and
the REVIEW rules; nothing else.

Where decisions are stored: a REVIEW or DECLINE is a row of
`risk_decisions` (rule, score, every rule that fired); an ALLOW, the
decision of nearly every movement, is kept on the movement it let through
(`risk_decision` in its metadata, `Outcome.marked`), at no extra write. The
velocity counters and the decision rows are lasting writes
(server.store.tx.write_lasting): when the request's transaction rolls back
(a declined transfer with an Idempotency-Key, a transfer refused later for
its funds) they are made again after the rollback, so every screened
attempt is counted and every REVIEW or DECLINE stays stored. A caller with
no rule to apply (a trusted client, no DECLINE rule on amounts) is decided
without reading or writing anything (the rules and the trusted clients are
in memory).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from server.domain import errors, risk
from server.domain.ids import new_id
from server.domain.risk import Decision, Facts, Rule
from server.services.context import RequestContext
from server.store import clock, risk_facts, risk_rows, tx

ALLOWED = Decision(risk.ALLOW)


@dataclass(frozen=True, slots=True)
class Screened:
    """What a movement shows screening."""

    movement: str  # its transaction type: TRANSFER, PAYMENT, EXTERNAL_TRANSFER
    account_id: str  # the debited account
    amount_minor: int
    currency: str
    # Whether the destination was paid by this account before; called only
    # when a NEW_PAYEE_AMOUNT rule can fire at this amount.
    paid_before: Callable[[], bool]
    # False where a held movement cannot be made: a REVIEW is then a DECLINE.
    can_hold: bool = True


@dataclass(frozen=True, slots=True)
class Outcome:
    decision: Decision
    alert_id: str | None  # the alert to raise with the held movement (REVIEW)
    screened: bool = True  # False: the caller is not screened (staff, a run)
    # A DECLINE kept to be answered later (a keyed transfer's refusal, stored
    # under its key where the key is claimed); None otherwise.
    refusal: errors.BankError | None = None

    def marked(self, context: RequestContext) -> RequestContext:
        """The context the movement is written with: its metadata keeps the
        decision (`risk_decision`), which is where an ALLOW is stored."""
        if not self.screened:
            return context
        return dataclasses.replace(context, risk_decision=self.decision.action)


def applies(context: RequestContext) -> bool:
    """Every caller of a screened movement: a customer, a service client
    acting for itself, and a staff person moving a customer's money (by the
    velocity rules only: `_rules_for`). Not the bank's runs of an
    instruction screened when it was made."""
    return context.screened


def is_staff_person(context: RequestContext) -> bool:
    principal = context.principal
    return principal.user_id is not None and not principal.is_customer


def is_trusted(context: RequestContext) -> bool:
    """A service client acting for itself that staff marked trusted; a person's
    token never is."""
    principal = context.principal
    return principal.user_id is None and risk_rows.trusted(principal.client_id)


def without_lookups(context: RequestContext) -> Outcome | None:
    """The outcome when it needs nothing of the movement (the caller is not
    screened, or no rule applies to it and it sent no device id); None when
    the movement's facts are needed (`screen`). Reads nothing from the
    database: the rules and trusted clients are in memory."""
    if not applies(context):
        return Outcome(ALLOWED, None, screened=False)
    if context.device_id or _rules_for(context):
        return None
    return Outcome(ALLOWED, None)


# (staff person, trusted) -> (the rules it was made of, the rules that apply):
# made again only when the rules change (risk_rows.rules() is then another
# tuple), so a call reads its rules without filtering them.
_APPLYING: dict[tuple[bool, bool], tuple[tuple[Rule, ...], list[Rule]]] = {}


def _rules_for(context: RequestContext) -> list[Rule]:
    rules = risk_rows.rules()
    staff = is_staff_person(context)
    key = (staff, not staff and is_trusted(context))
    kept = _APPLYING.get(key)
    if kept is not None and kept[0] is rules:
        return kept[1]
    applying = (
        risk.staff_rules(list(rules)) if staff else risk.screened_rules(list(rules), trusted=key[1])
    )
    _APPLYING[key] = (rules, applying)
    return applying


def screen(item: Screened, context: RequestContext) -> Outcome:
    """Decides and stores the decision; RISK_DECLINED when declined."""
    if not applies(context):
        return Outcome(ALLOWED, None, screened=False)
    rules = _rules_for(context)
    if not rules and not context.device_id:
        return Outcome(ALLOWED, None)  # nothing to look up, count or remember
    now = clock.now()
    alert_id = new_id("alr")

    def work() -> Decision:
        decision = risk.decide(rules, _facts(rules, item, context, now))
        if decision.action == risk.REVIEW and not item.can_hold:
            decision = Decision(risk.DECLINE, decision.rule, decision.fired)
        principal = context.principal
        if decision.action == risk.ALLOW:
            if context.device_id and principal.user_id:
                risk_facts.remember_device(principal.user_id, context.device_id, now)
            return decision
        risk_rows.record_decision(
            risk_rows.DecisionRecord(
                account_id=item.account_id,
                movement=item.movement,
                amount_minor=item.amount_minor,
                currency=item.currency,
                decision=decision,
                client_id=principal.client_id,
                user_id=principal.user_id,
                alert_id=alert_id if decision.action == risk.REVIEW else None,
            ),
            now,
        )
        return decision

    decision = tx.write_lasting(work)
    if decision.action == risk.DECLINE:
        # The caller learns only that screening declined: which rule, its kind
        # and score are staff's (the risk_decisions row), never the caller's.
        raise errors.RiskDeclined(risk.DECLINED_MESSAGE)
    return Outcome(decision, alert_id if decision.action == risk.REVIEW else None)


def _facts(rules: list[Rule], item: Screened, context: RequestContext, now: datetime) -> Facts:
    """What the rules need to know, looked up only where a rule can fire."""
    facts = Facts(amount_minor=item.amount_minor, currency=item.currency)
    applying = [rule for rule in rules if rule.applies_to(item.currency)]
    lengths = sorted({rule.bucket_seconds for rule in applying if rule.kind in risk.VELOCITY_KINDS})
    facts.velocity.update(risk_facts.count_debit(item.account_id, lengths, item.amount_minor, now))
    looking = [rule for rule in applying if risk.needs_lookup(rule, item.amount_minor)]
    sizes = [rule.history_size or 0 for rule in looking if rule.kind == risk.AMOUNT_VS_HISTORY]
    if sizes:
        facts.largest_past_debits = risk_facts.largest_past_debits(item.account_id, max(sizes))
    if any(rule.kind == risk.NEW_PAYEE_AMOUNT for rule in looking):
        facts.new_payee = not item.paid_before()
    user_id = context.principal.user_id
    if any(rule.kind == risk.NEW_DEVICE for rule in looking) and user_id:
        # A person who sends no device id is on a device never seen with them:
        # leaving the header out does not step around the rule.
        device_id = context.device_id
        facts.new_device = not device_id or not risk_facts.device_known(user_id, device_id)
    return facts
