import datetime

from backoffice.v1 import common_pb2 as _common_pb2
from backoffice.v1 import transaction_pb2 as _transaction_pb2
from google.protobuf import timestamp_pb2 as _timestamp_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class Report(_message.Message):
    __slots__ = ("id", "type", "status", "period", "currency", "account_ids", "transaction_types", "group_by", "format", "summary", "totals_by_type", "groups", "requested_by", "created_at", "completed_at", "expires_at", "failure_reason", "download_url", "as_of")
    ID_FIELD_NUMBER: _ClassVar[int]
    TYPE_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    PERIOD_FIELD_NUMBER: _ClassVar[int]
    CURRENCY_FIELD_NUMBER: _ClassVar[int]
    ACCOUNT_IDS_FIELD_NUMBER: _ClassVar[int]
    TRANSACTION_TYPES_FIELD_NUMBER: _ClassVar[int]
    GROUP_BY_FIELD_NUMBER: _ClassVar[int]
    FORMAT_FIELD_NUMBER: _ClassVar[int]
    SUMMARY_FIELD_NUMBER: _ClassVar[int]
    TOTALS_BY_TYPE_FIELD_NUMBER: _ClassVar[int]
    GROUPS_FIELD_NUMBER: _ClassVar[int]
    REQUESTED_BY_FIELD_NUMBER: _ClassVar[int]
    CREATED_AT_FIELD_NUMBER: _ClassVar[int]
    COMPLETED_AT_FIELD_NUMBER: _ClassVar[int]
    EXPIRES_AT_FIELD_NUMBER: _ClassVar[int]
    FAILURE_REASON_FIELD_NUMBER: _ClassVar[int]
    DOWNLOAD_URL_FIELD_NUMBER: _ClassVar[int]
    AS_OF_FIELD_NUMBER: _ClassVar[int]
    id: str
    type: ReportTypeEnum.ReportType
    status: ReportStatusEnum.ReportStatus
    period: _common_pb2.DateRange
    currency: str
    account_ids: _containers.RepeatedScalarFieldContainer[str]
    transaction_types: _containers.RepeatedScalarFieldContainer[_transaction_pb2.TransactionTypeEnum.TransactionType]
    group_by: ReportGroupByEnum.ReportGroupBy
    format: str
    summary: ReportSummary
    totals_by_type: _containers.RepeatedCompositeFieldContainer[ReportTypeTotal]
    groups: _containers.RepeatedCompositeFieldContainer[ReportGroup]
    requested_by: str
    created_at: _timestamp_pb2.Timestamp
    completed_at: _timestamp_pb2.Timestamp
    expires_at: _timestamp_pb2.Timestamp
    failure_reason: str
    download_url: str
    as_of: _timestamp_pb2.Timestamp
    def __init__(self, id: _Optional[str] = ..., type: _Optional[_Union[ReportTypeEnum.ReportType, str]] = ..., status: _Optional[_Union[ReportStatusEnum.ReportStatus, str]] = ..., period: _Optional[_Union[_common_pb2.DateRange, _Mapping]] = ..., currency: _Optional[str] = ..., account_ids: _Optional[_Iterable[str]] = ..., transaction_types: _Optional[_Iterable[_Union[_transaction_pb2.TransactionTypeEnum.TransactionType, str]]] = ..., group_by: _Optional[_Union[ReportGroupByEnum.ReportGroupBy, str]] = ..., format: _Optional[str] = ..., summary: _Optional[_Union[ReportSummary, _Mapping]] = ..., totals_by_type: _Optional[_Iterable[_Union[ReportTypeTotal, _Mapping]]] = ..., groups: _Optional[_Iterable[_Union[ReportGroup, _Mapping]]] = ..., requested_by: _Optional[str] = ..., created_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., completed_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., expires_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., failure_reason: _Optional[str] = ..., download_url: _Optional[str] = ..., as_of: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class ReportSummary(_message.Message):
    __slots__ = ("transaction_count", "total_debits", "total_credits", "net_change", "fees_collected", "new_accounts", "closed_accounts", "opening_balance", "closing_balance", "debit_count", "credit_count", "failed_count", "cancelled_count", "holds_outstanding_count", "holds_outstanding_amount")
    TRANSACTION_COUNT_FIELD_NUMBER: _ClassVar[int]
    TOTAL_DEBITS_FIELD_NUMBER: _ClassVar[int]
    TOTAL_CREDITS_FIELD_NUMBER: _ClassVar[int]
    NET_CHANGE_FIELD_NUMBER: _ClassVar[int]
    FEES_COLLECTED_FIELD_NUMBER: _ClassVar[int]
    NEW_ACCOUNTS_FIELD_NUMBER: _ClassVar[int]
    CLOSED_ACCOUNTS_FIELD_NUMBER: _ClassVar[int]
    OPENING_BALANCE_FIELD_NUMBER: _ClassVar[int]
    CLOSING_BALANCE_FIELD_NUMBER: _ClassVar[int]
    DEBIT_COUNT_FIELD_NUMBER: _ClassVar[int]
    CREDIT_COUNT_FIELD_NUMBER: _ClassVar[int]
    FAILED_COUNT_FIELD_NUMBER: _ClassVar[int]
    CANCELLED_COUNT_FIELD_NUMBER: _ClassVar[int]
    HOLDS_OUTSTANDING_COUNT_FIELD_NUMBER: _ClassVar[int]
    HOLDS_OUTSTANDING_AMOUNT_FIELD_NUMBER: _ClassVar[int]
    transaction_count: int
    total_debits: float
    total_credits: float
    net_change: float
    fees_collected: float
    new_accounts: int
    closed_accounts: int
    opening_balance: float
    closing_balance: float
    debit_count: int
    credit_count: int
    failed_count: int
    cancelled_count: int
    holds_outstanding_count: int
    holds_outstanding_amount: float
    def __init__(self, transaction_count: _Optional[int] = ..., total_debits: _Optional[float] = ..., total_credits: _Optional[float] = ..., net_change: _Optional[float] = ..., fees_collected: _Optional[float] = ..., new_accounts: _Optional[int] = ..., closed_accounts: _Optional[int] = ..., opening_balance: _Optional[float] = ..., closing_balance: _Optional[float] = ..., debit_count: _Optional[int] = ..., credit_count: _Optional[int] = ..., failed_count: _Optional[int] = ..., cancelled_count: _Optional[int] = ..., holds_outstanding_count: _Optional[int] = ..., holds_outstanding_amount: _Optional[float] = ...) -> None: ...

class ReportTypeTotal(_message.Message):
    __slots__ = ("transaction_type", "transaction_count", "total_debits", "total_credits", "net_change", "debit_count", "credit_count")
    TRANSACTION_TYPE_FIELD_NUMBER: _ClassVar[int]
    TRANSACTION_COUNT_FIELD_NUMBER: _ClassVar[int]
    TOTAL_DEBITS_FIELD_NUMBER: _ClassVar[int]
    TOTAL_CREDITS_FIELD_NUMBER: _ClassVar[int]
    NET_CHANGE_FIELD_NUMBER: _ClassVar[int]
    DEBIT_COUNT_FIELD_NUMBER: _ClassVar[int]
    CREDIT_COUNT_FIELD_NUMBER: _ClassVar[int]
    transaction_type: _transaction_pb2.TransactionTypeEnum.TransactionType
    transaction_count: int
    total_debits: float
    total_credits: float
    net_change: float
    debit_count: int
    credit_count: int
    def __init__(self, transaction_type: _Optional[_Union[_transaction_pb2.TransactionTypeEnum.TransactionType, str]] = ..., transaction_count: _Optional[int] = ..., total_debits: _Optional[float] = ..., total_credits: _Optional[float] = ..., net_change: _Optional[float] = ..., debit_count: _Optional[int] = ..., credit_count: _Optional[int] = ...) -> None: ...

class ReportGroup(_message.Message):
    __slots__ = ("key", "transaction_count", "total_debits", "total_credits", "net_change", "fees_collected", "closing_balance", "debit_count", "credit_count")
    KEY_FIELD_NUMBER: _ClassVar[int]
    TRANSACTION_COUNT_FIELD_NUMBER: _ClassVar[int]
    TOTAL_DEBITS_FIELD_NUMBER: _ClassVar[int]
    TOTAL_CREDITS_FIELD_NUMBER: _ClassVar[int]
    NET_CHANGE_FIELD_NUMBER: _ClassVar[int]
    FEES_COLLECTED_FIELD_NUMBER: _ClassVar[int]
    CLOSING_BALANCE_FIELD_NUMBER: _ClassVar[int]
    DEBIT_COUNT_FIELD_NUMBER: _ClassVar[int]
    CREDIT_COUNT_FIELD_NUMBER: _ClassVar[int]
    key: str
    transaction_count: int
    total_debits: float
    total_credits: float
    net_change: float
    fees_collected: float
    closing_balance: float
    debit_count: int
    credit_count: int
    def __init__(self, key: _Optional[str] = ..., transaction_count: _Optional[int] = ..., total_debits: _Optional[float] = ..., total_credits: _Optional[float] = ..., net_change: _Optional[float] = ..., fees_collected: _Optional[float] = ..., closing_balance: _Optional[float] = ..., debit_count: _Optional[int] = ..., credit_count: _Optional[int] = ...) -> None: ...

class ReportTypeEnum(_message.Message):
    __slots__ = ()
    class ReportType(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
        __slots__ = ()
        REPORT_TYPE_UNSPECIFIED: _ClassVar[ReportTypeEnum.ReportType]
        DAILY: _ClassVar[ReportTypeEnum.ReportType]
        MONTHLY: _ClassVar[ReportTypeEnum.ReportType]
        CUSTOM: _ClassVar[ReportTypeEnum.ReportType]
    REPORT_TYPE_UNSPECIFIED: ReportTypeEnum.ReportType
    DAILY: ReportTypeEnum.ReportType
    MONTHLY: ReportTypeEnum.ReportType
    CUSTOM: ReportTypeEnum.ReportType
    def __init__(self) -> None: ...

class ReportStatusEnum(_message.Message):
    __slots__ = ()
    class ReportStatus(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
        __slots__ = ()
        REPORT_STATUS_UNSPECIFIED: _ClassVar[ReportStatusEnum.ReportStatus]
        PENDING: _ClassVar[ReportStatusEnum.ReportStatus]
        PROCESSING: _ClassVar[ReportStatusEnum.ReportStatus]
        COMPLETED: _ClassVar[ReportStatusEnum.ReportStatus]
        FAILED: _ClassVar[ReportStatusEnum.ReportStatus]
    REPORT_STATUS_UNSPECIFIED: ReportStatusEnum.ReportStatus
    PENDING: ReportStatusEnum.ReportStatus
    PROCESSING: ReportStatusEnum.ReportStatus
    COMPLETED: ReportStatusEnum.ReportStatus
    FAILED: ReportStatusEnum.ReportStatus
    def __init__(self) -> None: ...

class ReportGroupByEnum(_message.Message):
    __slots__ = ()
    class ReportGroupBy(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
        __slots__ = ()
        REPORT_GROUP_BY_UNSPECIFIED: _ClassVar[ReportGroupByEnum.ReportGroupBy]
        DAY: _ClassVar[ReportGroupByEnum.ReportGroupBy]
        WEEK: _ClassVar[ReportGroupByEnum.ReportGroupBy]
        MONTH: _ClassVar[ReportGroupByEnum.ReportGroupBy]
        TYPE: _ClassVar[ReportGroupByEnum.ReportGroupBy]
        ACCOUNT: _ClassVar[ReportGroupByEnum.ReportGroupBy]
    REPORT_GROUP_BY_UNSPECIFIED: ReportGroupByEnum.ReportGroupBy
    DAY: ReportGroupByEnum.ReportGroupBy
    WEEK: ReportGroupByEnum.ReportGroupBy
    MONTH: ReportGroupByEnum.ReportGroupBy
    TYPE: ReportGroupByEnum.ReportGroupBy
    ACCOUNT: ReportGroupByEnum.ReportGroupBy
    def __init__(self) -> None: ...
