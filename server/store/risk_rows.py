"""Fraud screening's rows (m0034): rules, decisions, alerts and trusted
clients, read and written as typed records (the facts screening reads about a
movement, velocity counters and devices included: server.store.risk_facts).

The rules and the trusted clients are read on every screening, so each
process keeps them in memory until the database announces a change of them
(m0034's triggers move the credential epoch, server.store.credential_changes).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import peewee

from server.domain import risk
from server.domain.risk import Rule
from server.store import credential_changes, sql
from server.store.models import BaseModel


class RiskRuleRow(BaseModel):
    id = peewee.TextField(primary_key=True)
    name = peewee.TextField()
    kind = peewee.TextField()
    action = peewee.TextField()
    score = peewee.IntegerField()
    enabled = peewee.BooleanField()
    window_seconds = peewee.IntegerField(null=True)
    max_count = peewee.IntegerField(null=True)
    amount_minor = peewee.BigIntegerField(null=True)
    history_multiple = peewee.IntegerField(null=True)
    history_size = peewee.IntegerField(null=True)
    history_floor_minor = peewee.BigIntegerField(null=True)  # m0035
    currency = peewee.TextField()
    description = peewee.TextField(null=True)
    created_at = peewee.DateTimeField()
    updated_at = peewee.DateTimeField()

    class Meta:
        table_name = "risk_rules"


class RiskDecisionRow(BaseModel):
    id = peewee.AutoField()
    created_at = peewee.DateTimeField()
    account_id = peewee.TextField()
    movement = peewee.TextField()
    amount_minor = peewee.BigIntegerField()
    currency = peewee.TextField()
    decision = peewee.TextField()
    rule_id = peewee.TextField(null=True)
    score = peewee.IntegerField()
    fired = peewee.TextField(null=True)
    client_id = peewee.TextField(null=True)
    user_id = peewee.TextField(null=True)
    alert_id = peewee.TextField(null=True)

    class Meta:
        table_name = "risk_decisions"


class RiskAlertRow(BaseModel):
    id = peewee.TextField(primary_key=True)
    status = peewee.TextField()
    transaction_id = peewee.TextField()
    account_id = peewee.TextField()
    transaction_type = peewee.TextField()
    amount_minor = peewee.BigIntegerField()
    currency = peewee.TextField()
    rule_id = peewee.TextField()
    rule_kind = peewee.TextField()
    score = peewee.IntegerField()
    fired = peewee.TextField()
    created_at = peewee.DateTimeField()
    decided_at = peewee.DateTimeField(null=True)
    decided_by = peewee.TextField(null=True)
    note = peewee.TextField(null=True)

    class Meta:
        table_name = "risk_alerts"


class RiskDeviceRow(BaseModel):
    user_id = peewee.TextField()
    device_hash = peewee.TextField()
    first_seen = peewee.DateTimeField()

    class Meta:
        table_name = "risk_devices"
        primary_key = peewee.CompositeKey("user_id", "device_hash")


class RiskTrustedClientRow(BaseModel):
    client_id = peewee.TextField(primary_key=True)
    trusted_at = peewee.DateTimeField()
    trusted_by = peewee.TextField()

    class Meta:
        table_name = "risk_trusted_clients"


# -- rules -------------------------------------------------------------------------------------
_RULES_KEY = "rules"
_rules_cache: credential_changes.EpochCache[str, tuple[Rule, ...]] = credential_changes.EpochCache(
    1
)
_trust_cache: credential_changes.EpochCache[str, bool] = credential_changes.EpochCache(10_000)


def _rule(row: RiskRuleRow) -> Rule:
    return Rule(
        id=row.id,
        name=row.name,
        kind=row.kind,
        action=row.action,
        score=int(row.score),
        enabled=bool(row.enabled),
        currency=row.currency,
        window_seconds=row.window_seconds,
        max_count=row.max_count,
        amount_minor=row.amount_minor,
        history_multiple=row.history_multiple,
        history_size=row.history_size,
        history_floor_minor=row.history_floor_minor,
        description=row.description,
        created_at=row.created_at,
        updated_at=row.updated_at,
    )


def rules() -> tuple[Rule, ...]:
    """Every rule, oldest first (remembered until a rule changes)."""
    at = credential_changes.epoch()
    cached = _rules_cache.get(_RULES_KEY, at)
    if cached is not None:
        return cached
    loaded = tuple(
        _rule(row) for row in RiskRuleRow.select().order_by(RiskRuleRow.created_at, RiskRuleRow.id)
    )
    _rules_cache.put(_RULES_KEY, at, loaded)
    return loaded


def rule(rule_id: str) -> Rule | None:
    row = RiskRuleRow.get_or_none(RiskRuleRow.id == rule_id)
    return _rule(row) if row is not None else None


def _columns(rule: Rule) -> dict[str, object]:
    return {
        "name": rule.name,
        "kind": rule.kind,
        "action": rule.action,
        "score": rule.score,
        "enabled": rule.enabled,
        "window_seconds": rule.window_seconds,
        "max_count": rule.max_count,
        "amount_minor": rule.amount_minor,
        "history_multiple": rule.history_multiple,
        "history_size": rule.history_size,
        "history_floor_minor": rule.history_floor_minor,
        "currency": rule.currency,
        "description": rule.description,
        "updated_at": rule.updated_at,
    }


def insert_rule(rule: Rule) -> None:
    RiskRuleRow.insert(id=rule.id, created_at=rule.created_at, **_columns(rule)).execute()
    credential_changes.changed()


def insert_rule_if_missing(rule: Rule) -> None:
    """The sandbox's defaults: a rule already there (by id) is left as staff made it."""
    if RiskRuleRow.get_or_none(RiskRuleRow.id == rule.id) is None:
        insert_rule(rule)


def update_rule(rule: Rule) -> None:
    RiskRuleRow.update(**_columns(rule)).where(RiskRuleRow.id == rule.id).execute()
    credential_changes.changed()


# -- trusted clients ------------------------------------------------------------------------------
def trusted(client_id: str) -> bool:
    at = credential_changes.epoch()
    cached = _trust_cache.get(client_id, at)
    if cached is not None:
        return cached
    found = RiskTrustedClientRow.get_or_none(RiskTrustedClientRow.client_id == client_id)
    _trust_cache.put(client_id, at, found is not None)
    return found is not None


def set_trust(client_id: str, trusted_now: bool, by: str, now: datetime) -> None:
    if trusted_now:
        RiskTrustedClientRow.insert(
            client_id=client_id, trusted_at=now, trusted_by=by
        ).on_conflict_ignore().execute()
    else:
        RiskTrustedClientRow.delete().where(RiskTrustedClientRow.client_id == client_id).execute()
    _trust_cache.forget(client_id)
    credential_changes.changed()


# -- decisions -----------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class DecisionRecord:
    account_id: str
    movement: str  # the transaction type screened
    amount_minor: int
    currency: str
    decision: risk.Decision
    client_id: str
    user_id: str | None
    alert_id: str | None


_DECISION_SQL = (
    'INSERT INTO "risk_decisions" ("created_at", "account_id", "movement", "amount_minor",'
    ' "currency", "decision", "rule_id", "score", "fired", "client_id", "user_id", "alert_id")'
    " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
)


def record_decision(record: DecisionRecord, now: datetime) -> None:
    """One row per decision; an ALLOW row carries no rule and no fired list.
    Deferred: on PostgreSQL it travels with the transaction's next statement
    or its COMMIT."""
    decision = record.decision
    sql.defer(
        _DECISION_SQL,
        (
            RiskDecisionRow.created_at.db_value(now),
            record.account_id,
            record.movement,
            record.amount_minor,
            record.currency,
            decision.action,
            decision.rule.id if decision.rule is not None else None,
            decision.score,
            ",".join(decision.fired) or None,
            record.client_id or None,
            record.user_id,
            record.alert_id,
        ),
    )


def decisions_of(account_id: str) -> list[RiskDecisionRow]:
    """An account's decisions, oldest first (tests, investigations)."""
    return list(
        RiskDecisionRow.select()
        .where(RiskDecisionRow.account_id == account_id)
        .order_by(RiskDecisionRow.id)
    )


# -- alerts --------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class AlertRecord:
    id: str
    status: str
    transaction_id: str
    account_id: str
    transaction_type: str
    amount_minor: int
    currency: str
    rule_id: str
    rule_kind: str
    score: int
    fired: tuple[str, ...]
    created_at: datetime
    decided_at: datetime | None
    decided_by: str | None
    note: str | None


def _alert(row: RiskAlertRow) -> AlertRecord:
    return AlertRecord(
        id=row.id,
        status=row.status,
        transaction_id=row.transaction_id,
        account_id=row.account_id,
        transaction_type=row.transaction_type,
        amount_minor=int(row.amount_minor),
        currency=row.currency,
        rule_id=row.rule_id,
        rule_kind=row.rule_kind,
        score=int(row.score),
        fired=tuple(part for part in row.fired.split(",") if part),
        created_at=row.created_at,
        decided_at=row.decided_at,
        decided_by=row.decided_by,
        note=row.note,
    )


def insert_alert(record: AlertRecord) -> None:
    RiskAlertRow.insert(
        id=record.id,
        status=record.status,
        transaction_id=record.transaction_id,
        account_id=record.account_id,
        transaction_type=record.transaction_type,
        amount_minor=record.amount_minor,
        currency=record.currency,
        rule_id=record.rule_id,
        rule_kind=record.rule_kind,
        score=record.score,
        fired=",".join(record.fired),
        created_at=record.created_at,
    ).execute()


def alert(alert_id: str) -> AlertRecord | None:
    row = RiskAlertRow.get_or_none(RiskAlertRow.id == alert_id)
    return _alert(row) if row is not None else None


def list_alerts(status: str, offset: int, limit: int) -> tuple[list[AlertRecord], int]:
    """A page of alerts (of one status, or all), oldest first; and how many match."""
    query = RiskAlertRow.select()
    if status:
        query = query.where(RiskAlertRow.status == status)
    total = query.count()
    page = query.order_by(RiskAlertRow.created_at, RiskAlertRow.id).offset(offset).limit(limit)
    return [_alert(row) for row in page], total


def open_alerts_before(cutoff: datetime, limit: int) -> list[str]:
    """The ids of OPEN alerts raised before `cutoff`, oldest first (the queue
    index)."""
    query = (
        RiskAlertRow.select(RiskAlertRow.id)
        .where((RiskAlertRow.status == risk.OPEN) & (RiskAlertRow.created_at < cutoff))
        .order_by(RiskAlertRow.created_at, RiskAlertRow.id)
        .limit(limit)
    )
    return [str(row.id) for row in query]


def decide_alert(alert_id: str, status: str, by: str, note: str | None, now: datetime) -> bool:
    """OPEN -> `status`, once: False when the alert was no longer OPEN (another
    decision won; on PostgreSQL a concurrent one waits for this transaction
    and then finds it decided)."""
    changed = (
        RiskAlertRow.update(status=status, decided_at=now, decided_by=by, note=note)
        .where((RiskAlertRow.id == alert_id) & (RiskAlertRow.status == risk.OPEN))
        .execute()
    )
    return bool(changed)
