"""RiskService: fraud-screening rules, the review queue, trusted clients (risk.proto)."""

from __future__ import annotations

from typing import Any

import grpc

from backoffice.v1 import risk_pb2 as resource_pb
from backoffice.v1 import risk_service_pb2 as pb
from backoffice.v1 import risk_service_pb2_grpc as pb_grpc
from server.api import call, paging
from server.api import transaction_views as views
from server.api.convert import timestamp
from server.config import Settings
from server.domain import errors
from server.domain.money import to_major
from server.domain.risk import Rule
from server.services import risk_reviews, risk_rules
from server.store.risk_rows import AlertRecord

KIND = resource_pb.RiskRuleKindEnum.RiskRuleKind
ACTION = resource_pb.RiskActionEnum.RiskAction
STATUS = resource_pb.RiskAlertStatusEnum.RiskAlertStatus


class RiskServicer(pb_grpc.RiskServiceServicer):
    def __init__(self, settings: Settings) -> None:
        self._settings = settings

    def ListRiskRules(
        self, request: pb.ListRiskRulesRequest, context: grpc.ServicerContext
    ) -> pb.ListRiskRulesResponse:
        found = risk_rules.list_rules(call.current().principal)
        call.current().ok("Risk rules retrieved successfully")
        return pb.ListRiskRulesResponse(rules=[rule_message(rule) for rule in found])

    def GetRiskRule(
        self, request: pb.GetRiskRuleRequest, context: grpc.ServicerContext
    ) -> pb.GetRiskRuleResponse:
        found = risk_rules.get_rule(call.current().principal, request.rule_id)
        call.current().ok("Risk rule retrieved successfully")
        return pb.GetRiskRuleResponse(rule=rule_message(found))

    def CreateRiskRule(
        self, request: pb.CreateRiskRuleRequest, context: grpc.ServicerContext
    ) -> pb.CreateRiskRuleResponse:
        given = request.rule
        if given.id or given.HasField("created_at") or given.HasField("updated_at"):
            raise errors.InvalidRequest("id, createdAt and updatedAt are output only", field="rule")
        created = risk_rules.create_rule(
            call.current().principal,
            risk_rules.RuleInput(
                name=given.name,
                kind=_word(KIND, given.kind, "kind"),
                action=_word(ACTION, given.action, "action"),
                score=given.score,
                enabled=given.enabled if given.HasField("enabled") else True,
                currency=given.currency,
                **_parameters(given),
                description=given.description if given.HasField("description") else None,
            ),
        )
        call.current().created("Risk rule created")
        return pb.CreateRiskRuleResponse(rule=rule_message(created))

    def UpdateRiskRule(
        self, request: pb.UpdateRiskRuleRequest, context: grpc.ServicerContext
    ) -> pb.UpdateRiskRuleResponse:
        def given(name: str) -> Any:
            return getattr(request, name) if request.HasField(name) else None

        updated = risk_rules.update_rule(
            call.current().principal,
            request.rule_id,
            risk_rules.RuleInput(
                name=given("name"),
                action=_word(ACTION, request.action, "action")
                if request.HasField("action")
                else None,
                score=given("score"),
                enabled=given("enabled"),
                **_parameters(request),
                description=given("description"),
            ),
        )
        call.current().ok("Risk rule updated")
        return pb.UpdateRiskRuleResponse(rule=rule_message(updated))

    def ListRiskAlerts(
        self, request: pb.ListRiskAlertsRequest, context: grpc.ServicerContext
    ) -> pb.ListRiskAlertsResponse:
        status = _status_word(request.status)
        page = paging.page_request(request.page, request.limit, "", {})
        alerts, total = risk_reviews.list_alerts(
            call.current().principal, status, (page.page - 1) * page.limit, page.limit
        )
        pagination = paging.pagination(page, total, "", page.page * page.limit < total)
        call.current().ok("Risk alerts retrieved successfully")
        return pb.ListRiskAlertsResponse(
            alerts=[alert_message(alert) for alert in alerts], pagination=pagination
        )

    def GetRiskAlert(
        self, request: pb.GetRiskAlertRequest, context: grpc.ServicerContext
    ) -> pb.GetRiskAlertResponse:
        found = risk_reviews.get_alert(call.current().principal, request.alert_id)
        call.current().ok("Risk alert retrieved successfully")
        return pb.GetRiskAlertResponse(alert=alert_message(found))

    def ApproveRiskAlert(
        self, request: pb.ApproveRiskAlertRequest, context: grpc.ServicerContext
    ) -> pb.ApproveRiskAlertResponse:
        decided = risk_reviews.approve(call.current().principal, request.alert_id, request.note)
        call.current().ok("Alert approved; the movement posted")
        return pb.ApproveRiskAlertResponse(
            alert=alert_message(decided.alert),
            transaction=views.created_message(decided.movement),
        )

    def RejectRiskAlert(
        self, request: pb.RejectRiskAlertRequest, context: grpc.ServicerContext
    ) -> pb.RejectRiskAlertResponse:
        decided = risk_reviews.reject(call.current().principal, request.alert_id, request.note)
        call.current().ok("Alert rejected; the hold was released")
        return pb.RejectRiskAlertResponse(
            alert=alert_message(decided.alert),
            transaction=views.created_message(decided.movement),
        )

    def GetClientTrust(
        self, request: pb.GetClientTrustRequest, context: grpc.ServicerContext
    ) -> pb.GetClientTrustResponse:
        trusted = risk_rules.get_trust(call.current().principal, request.client_id)
        call.current().ok("Client trust retrieved successfully")
        return pb.GetClientTrustResponse(client_id=request.client_id, trusted=trusted)

    def SetClientTrust(
        self, request: pb.SetClientTrustRequest, context: grpc.ServicerContext
    ) -> pb.SetClientTrustResponse:
        trusted = risk_rules.set_trust(call.current().principal, request.client_id, request.trusted)
        call.current().ok("Client trust updated")
        return pb.SetClientTrustResponse(client_id=request.client_id, trusted=trusted)


def _parameters(message: Any) -> dict[str, Any]:
    return {
        name: getattr(message, name) if message.HasField(name) else None
        for name in (
            "window_seconds",
            "max_count",
            "amount",
            "history_multiple",
            "history_size",
            "history_floor",
        )
    }


def _word(enum: Any, value: int, field: str) -> str | None:
    """The enum's word; None when unset (0); VALIDATION_ERROR when unknown."""
    if value == 0:
        return None
    try:
        return str(enum.Name(value))
    except ValueError:
        raise errors.ValidationFailed(f"{field} is not known", field=field) from None


def _status_word(value: int) -> str:
    return _word(STATUS, value, "status") or ""


def rule_message(rule: Rule) -> resource_pb.RiskRule:
    def amount(minor: int | None) -> float | None:
        return None if minor is None else to_major(minor, rule.currency)

    return resource_pb.RiskRule(
        id=rule.id,
        name=rule.name,
        kind=rule.kind,  # type: ignore[arg-type]
        action=rule.action,  # type: ignore[arg-type]
        score=rule.score,
        enabled=rule.enabled,
        window_seconds=rule.window_seconds,
        max_count=rule.max_count,
        amount=amount(rule.amount_minor),
        history_multiple=rule.history_multiple,
        history_size=rule.history_size,
        history_floor=amount(rule.history_floor_minor),
        currency=rule.currency,
        description=rule.description,
        created_at=timestamp(rule.created_at),
        updated_at=timestamp(rule.updated_at),
    )


def alert_message(alert: AlertRecord) -> resource_pb.RiskAlert:
    return resource_pb.RiskAlert(
        id=alert.id,
        status=alert.status,  # type: ignore[arg-type]
        transaction_id=alert.transaction_id,
        account_id=alert.account_id,
        transaction_type=alert.transaction_type,
        amount=to_major(alert.amount_minor, alert.currency),
        currency=alert.currency,
        rule_id=alert.rule_id,
        rule_kind=alert.rule_kind,  # type: ignore[arg-type]
        score=alert.score,
        fired=list(alert.fired),
        created_at=timestamp(alert.created_at),
        decided_at=timestamp(alert.decided_at),
        decided_by=alert.decided_by,
        note=alert.note,
    )


SERVICES = {"RiskService": RiskServicer}
