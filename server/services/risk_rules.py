"""Fraud-screening rules and trusted clients, as staff manage them (RiskService).

Staff read; administrators (role ADMIN) create and change rules and trust.
A rule is checked whole (server.domain.risk.check_rule) before it is
written; the change is announced to every process (m0034's triggers), so
the next movement screened anywhere sees it.
"""

from __future__ import annotations

from dataclasses import dataclass

from server.domain import errors, risk
from server.domain.ids import new_id
from server.domain.money import parse_amount
from server.domain.principal import Principal
from server.domain.risk import Rule
from server.store import clock, risk_rows, tx
from server.store.models import OAuthClient


def list_rules(principal: Principal) -> tuple[Rule, ...]:
    principal.require_staff()
    return risk_rows.rules()


def get_rule(principal: Principal, rule_id: str) -> Rule:
    principal.require_staff()
    found = risk_rows.rule(rule_id) if rule_id else None
    if found is None:
        raise errors.NotFound("Rule not found", field="ruleId")
    return found


@dataclass(frozen=True, slots=True)
class RuleInput:
    """A rule as the API gives it: amounts in major units, None where not given."""

    name: str | None = None
    kind: str | None = None
    action: str | None = None
    score: int | None = None
    enabled: bool | None = None
    currency: str | None = None
    window_seconds: int | None = None
    max_count: int | None = None
    amount: float | None = None
    history_multiple: int | None = None
    history_size: int | None = None
    history_floor: float | None = None
    description: str | None = None


def _changes(given: RuleInput, currency: str) -> dict[str, object]:
    changes: dict[str, object] = {
        name: value
        for name in (
            "name",
            "action",
            "score",
            "enabled",
            "window_seconds",
            "max_count",
            "history_multiple",
            "history_size",
            "description",
        )
        if (value := getattr(given, name)) is not None
    }
    if given.amount is not None:
        changes["amount_minor"] = parse_amount(given.amount, currency)
    if given.history_floor is not None:
        changes["history_floor_minor"] = parse_amount(
            given.history_floor, currency, field="historyFloor"
        )
    return changes


def create_rule(principal: Principal, given: RuleInput) -> Rule:
    principal.require_admin()
    if not given.kind:
        raise errors.ValidationFailed("kind is required", field="kind")
    if not given.action:
        raise errors.ValidationFailed("action is required", field="action")
    currency = (given.currency or "USD").upper()
    if len(currency) != 3 or not currency.isalpha():
        raise errors.ValidationFailed("currency must be an ISO 4217 code", field="currency")
    now = clock.now()
    draft = Rule(
        id=new_id("rsk"),
        name=given.name or "",
        kind=given.kind,
        action=given.action,
        score=0,
        enabled=True,
        currency=currency,
        created_at=now,
        updated_at=now,
    )
    rule = risk.check_rule(draft.with_changes(**_changes(given, currency)))
    tx.write(lambda: risk_rows.insert_rule(rule))
    return rule


def update_rule(principal: Principal, rule_id: str, given: RuleInput) -> Rule:
    principal.require_admin()

    def work() -> Rule:
        current = get_rule(principal, rule_id)
        changes = _changes(given, current.currency)
        rule = risk.check_rule(current.with_changes(updated_at=clock.now(), **changes))
        risk_rows.update_rule(rule)
        return rule

    return tx.write(work)


def _client(client_id: str) -> str:
    if not client_id or OAuthClient.get_or_none(OAuthClient.id == client_id) is None:
        raise errors.NotFound("Client not found", field="clientId")
    return client_id


def get_trust(principal: Principal, client_id: str) -> bool:
    principal.require_staff()
    return risk_rows.trusted(_client(client_id))


def set_trust(principal: Principal, client_id: str, trusted: bool) -> bool:
    """Administrators only, and never on the client they call through: a
    client does not vouch for itself (FORBIDDEN)."""
    principal.require_admin()
    if client_id and client_id == principal.client_id:
        raise errors.Forbidden(
            "A client's trust is set by a caller of another client",
            metadata={"client_id": client_id[:64]},
        )
    by = principal.user_id or principal.client_id
    tx.write(lambda: risk_rows.set_trust(_client(client_id), trusted, by, clock.now()))
    return trusted
