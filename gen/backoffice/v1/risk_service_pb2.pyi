from backoffice.v1 import annotations_pb2 as _annotations_pb2
from backoffice.v1 import common_pb2 as _common_pb2
from backoffice.v1 import risk_pb2 as _risk_pb2
from backoffice.v1 import transaction_pb2 as _transaction_pb2
from google.api import annotations_pb2 as _annotations_pb2_1
from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class ListRiskRulesRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class ListRiskRulesResponse(_message.Message):
    __slots__ = ("rules",)
    RULES_FIELD_NUMBER: _ClassVar[int]
    rules: _containers.RepeatedCompositeFieldContainer[_risk_pb2.RiskRule]
    def __init__(self, rules: _Optional[_Iterable[_Union[_risk_pb2.RiskRule, _Mapping]]] = ...) -> None: ...

class GetRiskRuleRequest(_message.Message):
    __slots__ = ("rule_id",)
    RULE_ID_FIELD_NUMBER: _ClassVar[int]
    rule_id: str
    def __init__(self, rule_id: _Optional[str] = ...) -> None: ...

class GetRiskRuleResponse(_message.Message):
    __slots__ = ("rule",)
    RULE_FIELD_NUMBER: _ClassVar[int]
    rule: _risk_pb2.RiskRule
    def __init__(self, rule: _Optional[_Union[_risk_pb2.RiskRule, _Mapping]] = ...) -> None: ...

class CreateRiskRuleRequest(_message.Message):
    __slots__ = ("rule",)
    RULE_FIELD_NUMBER: _ClassVar[int]
    rule: _risk_pb2.RiskRule
    def __init__(self, rule: _Optional[_Union[_risk_pb2.RiskRule, _Mapping]] = ...) -> None: ...

class CreateRiskRuleResponse(_message.Message):
    __slots__ = ("rule",)
    RULE_FIELD_NUMBER: _ClassVar[int]
    rule: _risk_pb2.RiskRule
    def __init__(self, rule: _Optional[_Union[_risk_pb2.RiskRule, _Mapping]] = ...) -> None: ...

class UpdateRiskRuleRequest(_message.Message):
    __slots__ = ("rule_id", "name", "action", "score", "enabled", "window_seconds", "max_count", "amount", "history_multiple", "history_size", "description", "history_floor")
    RULE_ID_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    ACTION_FIELD_NUMBER: _ClassVar[int]
    SCORE_FIELD_NUMBER: _ClassVar[int]
    ENABLED_FIELD_NUMBER: _ClassVar[int]
    WINDOW_SECONDS_FIELD_NUMBER: _ClassVar[int]
    MAX_COUNT_FIELD_NUMBER: _ClassVar[int]
    AMOUNT_FIELD_NUMBER: _ClassVar[int]
    HISTORY_MULTIPLE_FIELD_NUMBER: _ClassVar[int]
    HISTORY_SIZE_FIELD_NUMBER: _ClassVar[int]
    DESCRIPTION_FIELD_NUMBER: _ClassVar[int]
    HISTORY_FLOOR_FIELD_NUMBER: _ClassVar[int]
    rule_id: str
    name: str
    action: _risk_pb2.RiskActionEnum.RiskAction
    score: int
    enabled: bool
    window_seconds: int
    max_count: int
    amount: float
    history_multiple: int
    history_size: int
    description: str
    history_floor: float
    def __init__(self, rule_id: _Optional[str] = ..., name: _Optional[str] = ..., action: _Optional[_Union[_risk_pb2.RiskActionEnum.RiskAction, str]] = ..., score: _Optional[int] = ..., enabled: _Optional[bool] = ..., window_seconds: _Optional[int] = ..., max_count: _Optional[int] = ..., amount: _Optional[float] = ..., history_multiple: _Optional[int] = ..., history_size: _Optional[int] = ..., description: _Optional[str] = ..., history_floor: _Optional[float] = ...) -> None: ...

class UpdateRiskRuleResponse(_message.Message):
    __slots__ = ("rule",)
    RULE_FIELD_NUMBER: _ClassVar[int]
    rule: _risk_pb2.RiskRule
    def __init__(self, rule: _Optional[_Union[_risk_pb2.RiskRule, _Mapping]] = ...) -> None: ...

class ListRiskAlertsRequest(_message.Message):
    __slots__ = ("status", "page", "limit")
    STATUS_FIELD_NUMBER: _ClassVar[int]
    PAGE_FIELD_NUMBER: _ClassVar[int]
    LIMIT_FIELD_NUMBER: _ClassVar[int]
    status: _risk_pb2.RiskAlertStatusEnum.RiskAlertStatus
    page: int
    limit: int
    def __init__(self, status: _Optional[_Union[_risk_pb2.RiskAlertStatusEnum.RiskAlertStatus, str]] = ..., page: _Optional[int] = ..., limit: _Optional[int] = ...) -> None: ...

class ListRiskAlertsResponse(_message.Message):
    __slots__ = ("alerts", "pagination")
    ALERTS_FIELD_NUMBER: _ClassVar[int]
    PAGINATION_FIELD_NUMBER: _ClassVar[int]
    alerts: _containers.RepeatedCompositeFieldContainer[_risk_pb2.RiskAlert]
    pagination: _common_pb2.Pagination
    def __init__(self, alerts: _Optional[_Iterable[_Union[_risk_pb2.RiskAlert, _Mapping]]] = ..., pagination: _Optional[_Union[_common_pb2.Pagination, _Mapping]] = ...) -> None: ...

class GetRiskAlertRequest(_message.Message):
    __slots__ = ("alert_id",)
    ALERT_ID_FIELD_NUMBER: _ClassVar[int]
    alert_id: str
    def __init__(self, alert_id: _Optional[str] = ...) -> None: ...

class GetRiskAlertResponse(_message.Message):
    __slots__ = ("alert",)
    ALERT_FIELD_NUMBER: _ClassVar[int]
    alert: _risk_pb2.RiskAlert
    def __init__(self, alert: _Optional[_Union[_risk_pb2.RiskAlert, _Mapping]] = ...) -> None: ...

class ApproveRiskAlertRequest(_message.Message):
    __slots__ = ("alert_id", "note")
    ALERT_ID_FIELD_NUMBER: _ClassVar[int]
    NOTE_FIELD_NUMBER: _ClassVar[int]
    alert_id: str
    note: str
    def __init__(self, alert_id: _Optional[str] = ..., note: _Optional[str] = ...) -> None: ...

class ApproveRiskAlertResponse(_message.Message):
    __slots__ = ("alert", "transaction")
    ALERT_FIELD_NUMBER: _ClassVar[int]
    TRANSACTION_FIELD_NUMBER: _ClassVar[int]
    alert: _risk_pb2.RiskAlert
    transaction: _transaction_pb2.Transaction
    def __init__(self, alert: _Optional[_Union[_risk_pb2.RiskAlert, _Mapping]] = ..., transaction: _Optional[_Union[_transaction_pb2.Transaction, _Mapping]] = ...) -> None: ...

class RejectRiskAlertRequest(_message.Message):
    __slots__ = ("alert_id", "note")
    ALERT_ID_FIELD_NUMBER: _ClassVar[int]
    NOTE_FIELD_NUMBER: _ClassVar[int]
    alert_id: str
    note: str
    def __init__(self, alert_id: _Optional[str] = ..., note: _Optional[str] = ...) -> None: ...

class RejectRiskAlertResponse(_message.Message):
    __slots__ = ("alert", "transaction")
    ALERT_FIELD_NUMBER: _ClassVar[int]
    TRANSACTION_FIELD_NUMBER: _ClassVar[int]
    alert: _risk_pb2.RiskAlert
    transaction: _transaction_pb2.Transaction
    def __init__(self, alert: _Optional[_Union[_risk_pb2.RiskAlert, _Mapping]] = ..., transaction: _Optional[_Union[_transaction_pb2.Transaction, _Mapping]] = ...) -> None: ...

class GetClientTrustRequest(_message.Message):
    __slots__ = ("client_id",)
    CLIENT_ID_FIELD_NUMBER: _ClassVar[int]
    client_id: str
    def __init__(self, client_id: _Optional[str] = ...) -> None: ...

class SetClientTrustRequest(_message.Message):
    __slots__ = ("client_id", "trusted")
    CLIENT_ID_FIELD_NUMBER: _ClassVar[int]
    TRUSTED_FIELD_NUMBER: _ClassVar[int]
    client_id: str
    trusted: bool
    def __init__(self, client_id: _Optional[str] = ..., trusted: _Optional[bool] = ...) -> None: ...

class GetClientTrustResponse(_message.Message):
    __slots__ = ("client_id", "trusted")
    CLIENT_ID_FIELD_NUMBER: _ClassVar[int]
    TRUSTED_FIELD_NUMBER: _ClassVar[int]
    client_id: str
    trusted: bool
    def __init__(self, client_id: _Optional[str] = ..., trusted: _Optional[bool] = ...) -> None: ...

class SetClientTrustResponse(_message.Message):
    __slots__ = ("client_id", "trusted")
    CLIENT_ID_FIELD_NUMBER: _ClassVar[int]
    TRUSTED_FIELD_NUMBER: _ClassVar[int]
    client_id: str
    trusted: bool
    def __init__(self, client_id: _Optional[str] = ..., trusted: _Optional[bool] = ...) -> None: ...
