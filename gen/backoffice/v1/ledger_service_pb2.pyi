import datetime

from backoffice.v1 import annotations_pb2 as _annotations_pb2
from backoffice.v1 import ledger_pb2 as _ledger_pb2
from google.api import annotations_pb2 as _annotations_pb2_1
from google.protobuf import timestamp_pb2 as _timestamp_pb2
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class GetTrialBalanceRequest(_message.Message):
    __slots__ = ("as_of", "currency")
    AS_OF_FIELD_NUMBER: _ClassVar[int]
    CURRENCY_FIELD_NUMBER: _ClassVar[int]
    as_of: _timestamp_pb2.Timestamp
    currency: str
    def __init__(self, as_of: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., currency: _Optional[str] = ...) -> None: ...

class GetTrialBalanceResponse(_message.Message):
    __slots__ = ("trial_balance",)
    TRIAL_BALANCE_FIELD_NUMBER: _ClassVar[int]
    trial_balance: _ledger_pb2.TrialBalance
    def __init__(self, trial_balance: _Optional[_Union[_ledger_pb2.TrialBalance, _Mapping]] = ...) -> None: ...
