import datetime

from google.protobuf import timestamp_pb2 as _timestamp_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class RiskRule(_message.Message):
    __slots__ = ("id", "name", "kind", "action", "score", "enabled", "window_seconds", "max_count", "amount", "history_multiple", "history_size", "currency", "description", "created_at", "updated_at", "history_floor")
    ID_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    KIND_FIELD_NUMBER: _ClassVar[int]
    ACTION_FIELD_NUMBER: _ClassVar[int]
    SCORE_FIELD_NUMBER: _ClassVar[int]
    ENABLED_FIELD_NUMBER: _ClassVar[int]
    WINDOW_SECONDS_FIELD_NUMBER: _ClassVar[int]
    MAX_COUNT_FIELD_NUMBER: _ClassVar[int]
    AMOUNT_FIELD_NUMBER: _ClassVar[int]
    HISTORY_MULTIPLE_FIELD_NUMBER: _ClassVar[int]
    HISTORY_SIZE_FIELD_NUMBER: _ClassVar[int]
    CURRENCY_FIELD_NUMBER: _ClassVar[int]
    DESCRIPTION_FIELD_NUMBER: _ClassVar[int]
    CREATED_AT_FIELD_NUMBER: _ClassVar[int]
    UPDATED_AT_FIELD_NUMBER: _ClassVar[int]
    HISTORY_FLOOR_FIELD_NUMBER: _ClassVar[int]
    id: str
    name: str
    kind: RiskRuleKindEnum.RiskRuleKind
    action: RiskActionEnum.RiskAction
    score: int
    enabled: bool
    window_seconds: int
    max_count: int
    amount: float
    history_multiple: int
    history_size: int
    currency: str
    description: str
    created_at: _timestamp_pb2.Timestamp
    updated_at: _timestamp_pb2.Timestamp
    history_floor: float
    def __init__(self, id: _Optional[str] = ..., name: _Optional[str] = ..., kind: _Optional[_Union[RiskRuleKindEnum.RiskRuleKind, str]] = ..., action: _Optional[_Union[RiskActionEnum.RiskAction, str]] = ..., score: _Optional[int] = ..., enabled: _Optional[bool] = ..., window_seconds: _Optional[int] = ..., max_count: _Optional[int] = ..., amount: _Optional[float] = ..., history_multiple: _Optional[int] = ..., history_size: _Optional[int] = ..., currency: _Optional[str] = ..., description: _Optional[str] = ..., created_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., updated_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., history_floor: _Optional[float] = ...) -> None: ...

class RiskRuleKindEnum(_message.Message):
    __slots__ = ()
    class RiskRuleKind(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
        __slots__ = ()
        RISK_RULE_KIND_UNSPECIFIED: _ClassVar[RiskRuleKindEnum.RiskRuleKind]
        VELOCITY_COUNT: _ClassVar[RiskRuleKindEnum.RiskRuleKind]
        VELOCITY_AMOUNT: _ClassVar[RiskRuleKindEnum.RiskRuleKind]
        AMOUNT_VS_HISTORY: _ClassVar[RiskRuleKindEnum.RiskRuleKind]
        NEW_PAYEE_AMOUNT: _ClassVar[RiskRuleKindEnum.RiskRuleKind]
        NEW_DEVICE: _ClassVar[RiskRuleKindEnum.RiskRuleKind]
    RISK_RULE_KIND_UNSPECIFIED: RiskRuleKindEnum.RiskRuleKind
    VELOCITY_COUNT: RiskRuleKindEnum.RiskRuleKind
    VELOCITY_AMOUNT: RiskRuleKindEnum.RiskRuleKind
    AMOUNT_VS_HISTORY: RiskRuleKindEnum.RiskRuleKind
    NEW_PAYEE_AMOUNT: RiskRuleKindEnum.RiskRuleKind
    NEW_DEVICE: RiskRuleKindEnum.RiskRuleKind
    def __init__(self) -> None: ...

class RiskActionEnum(_message.Message):
    __slots__ = ()
    class RiskAction(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
        __slots__ = ()
        RISK_ACTION_UNSPECIFIED: _ClassVar[RiskActionEnum.RiskAction]
        ALLOW: _ClassVar[RiskActionEnum.RiskAction]
        REVIEW: _ClassVar[RiskActionEnum.RiskAction]
        DECLINE: _ClassVar[RiskActionEnum.RiskAction]
    RISK_ACTION_UNSPECIFIED: RiskActionEnum.RiskAction
    ALLOW: RiskActionEnum.RiskAction
    REVIEW: RiskActionEnum.RiskAction
    DECLINE: RiskActionEnum.RiskAction
    def __init__(self) -> None: ...

class RiskAlert(_message.Message):
    __slots__ = ("id", "status", "transaction_id", "account_id", "transaction_type", "amount", "currency", "rule_id", "rule_kind", "score", "fired", "created_at", "decided_at", "decided_by", "note")
    ID_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    TRANSACTION_ID_FIELD_NUMBER: _ClassVar[int]
    ACCOUNT_ID_FIELD_NUMBER: _ClassVar[int]
    TRANSACTION_TYPE_FIELD_NUMBER: _ClassVar[int]
    AMOUNT_FIELD_NUMBER: _ClassVar[int]
    CURRENCY_FIELD_NUMBER: _ClassVar[int]
    RULE_ID_FIELD_NUMBER: _ClassVar[int]
    RULE_KIND_FIELD_NUMBER: _ClassVar[int]
    SCORE_FIELD_NUMBER: _ClassVar[int]
    FIRED_FIELD_NUMBER: _ClassVar[int]
    CREATED_AT_FIELD_NUMBER: _ClassVar[int]
    DECIDED_AT_FIELD_NUMBER: _ClassVar[int]
    DECIDED_BY_FIELD_NUMBER: _ClassVar[int]
    NOTE_FIELD_NUMBER: _ClassVar[int]
    id: str
    status: RiskAlertStatusEnum.RiskAlertStatus
    transaction_id: str
    account_id: str
    transaction_type: str
    amount: float
    currency: str
    rule_id: str
    rule_kind: RiskRuleKindEnum.RiskRuleKind
    score: int
    fired: _containers.RepeatedScalarFieldContainer[str]
    created_at: _timestamp_pb2.Timestamp
    decided_at: _timestamp_pb2.Timestamp
    decided_by: str
    note: str
    def __init__(self, id: _Optional[str] = ..., status: _Optional[_Union[RiskAlertStatusEnum.RiskAlertStatus, str]] = ..., transaction_id: _Optional[str] = ..., account_id: _Optional[str] = ..., transaction_type: _Optional[str] = ..., amount: _Optional[float] = ..., currency: _Optional[str] = ..., rule_id: _Optional[str] = ..., rule_kind: _Optional[_Union[RiskRuleKindEnum.RiskRuleKind, str]] = ..., score: _Optional[int] = ..., fired: _Optional[_Iterable[str]] = ..., created_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., decided_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., decided_by: _Optional[str] = ..., note: _Optional[str] = ...) -> None: ...

class RiskAlertStatusEnum(_message.Message):
    __slots__ = ()
    class RiskAlertStatus(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
        __slots__ = ()
        RISK_ALERT_STATUS_UNSPECIFIED: _ClassVar[RiskAlertStatusEnum.RiskAlertStatus]
        OPEN: _ClassVar[RiskAlertStatusEnum.RiskAlertStatus]
        APPROVED: _ClassVar[RiskAlertStatusEnum.RiskAlertStatus]
        REJECTED: _ClassVar[RiskAlertStatusEnum.RiskAlertStatus]
    RISK_ALERT_STATUS_UNSPECIFIED: RiskAlertStatusEnum.RiskAlertStatus
    OPEN: RiskAlertStatusEnum.RiskAlertStatus
    APPROVED: RiskAlertStatusEnum.RiskAlertStatus
    REJECTED: RiskAlertStatusEnum.RiskAlertStatus
    def __init__(self) -> None: ...
