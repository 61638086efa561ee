import datetime

from backoffice.v1 import account_pb2 as _account_pb2
from google.protobuf import timestamp_pb2 as _timestamp_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class TrialBalance(_message.Message):
    __slots__ = ("as_of", "currency", "lines", "totals", "balanced")
    AS_OF_FIELD_NUMBER: _ClassVar[int]
    CURRENCY_FIELD_NUMBER: _ClassVar[int]
    LINES_FIELD_NUMBER: _ClassVar[int]
    TOTALS_FIELD_NUMBER: _ClassVar[int]
    BALANCED_FIELD_NUMBER: _ClassVar[int]
    as_of: _timestamp_pb2.Timestamp
    currency: str
    lines: _containers.RepeatedCompositeFieldContainer[TrialBalanceLine]
    totals: _containers.RepeatedCompositeFieldContainer[TrialBalanceTotal]
    balanced: bool
    def __init__(self, as_of: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., currency: _Optional[str] = ..., lines: _Optional[_Iterable[_Union[TrialBalanceLine, _Mapping]]] = ..., totals: _Optional[_Iterable[_Union[TrialBalanceTotal, _Mapping]]] = ..., balanced: _Optional[bool] = ...) -> None: ...

class TrialBalanceLine(_message.Message):
    __slots__ = ("kind", "code", "name", "currency", "account_id", "account_type", "account_count", "debit", "credit", "net")
    KIND_FIELD_NUMBER: _ClassVar[int]
    CODE_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    CURRENCY_FIELD_NUMBER: _ClassVar[int]
    ACCOUNT_ID_FIELD_NUMBER: _ClassVar[int]
    ACCOUNT_TYPE_FIELD_NUMBER: _ClassVar[int]
    ACCOUNT_COUNT_FIELD_NUMBER: _ClassVar[int]
    DEBIT_FIELD_NUMBER: _ClassVar[int]
    CREDIT_FIELD_NUMBER: _ClassVar[int]
    NET_FIELD_NUMBER: _ClassVar[int]
    kind: TrialBalanceLineKindEnum.TrialBalanceLineKind
    code: str
    name: str
    currency: str
    account_id: str
    account_type: _account_pb2.AccountTypeEnum.AccountType
    account_count: int
    debit: float
    credit: float
    net: float
    def __init__(self, kind: _Optional[_Union[TrialBalanceLineKindEnum.TrialBalanceLineKind, str]] = ..., code: _Optional[str] = ..., name: _Optional[str] = ..., currency: _Optional[str] = ..., account_id: _Optional[str] = ..., account_type: _Optional[_Union[_account_pb2.AccountTypeEnum.AccountType, str]] = ..., account_count: _Optional[int] = ..., debit: _Optional[float] = ..., credit: _Optional[float] = ..., net: _Optional[float] = ...) -> None: ...

class TrialBalanceTotal(_message.Message):
    __slots__ = ("currency", "total_debits", "total_credits", "difference")
    CURRENCY_FIELD_NUMBER: _ClassVar[int]
    TOTAL_DEBITS_FIELD_NUMBER: _ClassVar[int]
    TOTAL_CREDITS_FIELD_NUMBER: _ClassVar[int]
    DIFFERENCE_FIELD_NUMBER: _ClassVar[int]
    currency: str
    total_debits: float
    total_credits: float
    difference: float
    def __init__(self, currency: _Optional[str] = ..., total_debits: _Optional[float] = ..., total_credits: _Optional[float] = ..., difference: _Optional[float] = ...) -> None: ...

class TrialBalanceLineKindEnum(_message.Message):
    __slots__ = ()
    class TrialBalanceLineKind(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
        __slots__ = ()
        TRIAL_BALANCE_LINE_KIND_UNSPECIFIED: _ClassVar[TrialBalanceLineKindEnum.TrialBalanceLineKind]
        CUSTOMER_DEPOSITS: _ClassVar[TrialBalanceLineKindEnum.TrialBalanceLineKind]
        BANK: _ClassVar[TrialBalanceLineKindEnum.TrialBalanceLineKind]
    TRIAL_BALANCE_LINE_KIND_UNSPECIFIED: TrialBalanceLineKindEnum.TrialBalanceLineKind
    CUSTOMER_DEPOSITS: TrialBalanceLineKindEnum.TrialBalanceLineKind
    BANK: TrialBalanceLineKindEnum.TrialBalanceLineKind
    def __init__(self) -> None: ...
