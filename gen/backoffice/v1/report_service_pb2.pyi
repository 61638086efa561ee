from backoffice.v1 import annotations_pb2 as _annotations_pb2
from backoffice.v1 import common_pb2 as _common_pb2
from backoffice.v1 import report_pb2 as _report_pb2
from backoffice.v1 import transaction_pb2 as _transaction_pb2
from google.api import annotations_pb2 as _annotations_pb2_1
from google.api import httpbody_pb2 as _httpbody_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class GetDailyReportRequest(_message.Message):
    __slots__ = ("date", "account_id", "currency")
    DATE_FIELD_NUMBER: _ClassVar[int]
    ACCOUNT_ID_FIELD_NUMBER: _ClassVar[int]
    CURRENCY_FIELD_NUMBER: _ClassVar[int]
    date: str
    account_id: str
    currency: str
    def __init__(self, date: _Optional[str] = ..., account_id: _Optional[str] = ..., currency: _Optional[str] = ...) -> None: ...

class GetDailyReportResponse(_message.Message):
    __slots__ = ("report", "reports")
    REPORT_FIELD_NUMBER: _ClassVar[int]
    REPORTS_FIELD_NUMBER: _ClassVar[int]
    report: _report_pb2.Report
    reports: _containers.RepeatedCompositeFieldContainer[_report_pb2.Report]
    def __init__(self, report: _Optional[_Union[_report_pb2.Report, _Mapping]] = ..., reports: _Optional[_Iterable[_Union[_report_pb2.Report, _Mapping]]] = ...) -> None: ...

class GetMonthlyReportRequest(_message.Message):
    __slots__ = ("month", "account_id", "currency")
    MONTH_FIELD_NUMBER: _ClassVar[int]
    ACCOUNT_ID_FIELD_NUMBER: _ClassVar[int]
    CURRENCY_FIELD_NUMBER: _ClassVar[int]
    month: str
    account_id: str
    currency: str
    def __init__(self, month: _Optional[str] = ..., account_id: _Optional[str] = ..., currency: _Optional[str] = ...) -> None: ...

class GetMonthlyReportResponse(_message.Message):
    __slots__ = ("report", "reports")
    REPORT_FIELD_NUMBER: _ClassVar[int]
    REPORTS_FIELD_NUMBER: _ClassVar[int]
    report: _report_pb2.Report
    reports: _containers.RepeatedCompositeFieldContainer[_report_pb2.Report]
    def __init__(self, report: _Optional[_Union[_report_pb2.Report, _Mapping]] = ..., reports: _Optional[_Iterable[_Union[_report_pb2.Report, _Mapping]]] = ...) -> None: ...

class CreateCustomReportRequest(_message.Message):
    __slots__ = ("date_range", "account_ids", "types", "group_by", "format", "currency")
    DATE_RANGE_FIELD_NUMBER: _ClassVar[int]
    ACCOUNT_IDS_FIELD_NUMBER: _ClassVar[int]
    TYPES_FIELD_NUMBER: _ClassVar[int]
    GROUP_BY_FIELD_NUMBER: _ClassVar[int]
    FORMAT_FIELD_NUMBER: _ClassVar[int]
    CURRENCY_FIELD_NUMBER: _ClassVar[int]
    date_range: _common_pb2.DateRange
    account_ids: _containers.RepeatedScalarFieldContainer[str]
    types: _containers.RepeatedScalarFieldContainer[_transaction_pb2.TransactionTypeEnum.TransactionType]
    group_by: _report_pb2.ReportGroupByEnum.ReportGroupBy
    format: str
    currency: str
    def __init__(self, date_range: _Optional[_Union[_common_pb2.DateRange, _Mapping]] = ..., account_ids: _Optional[_Iterable[str]] = ..., types: _Optional[_Iterable[_Union[_transaction_pb2.TransactionTypeEnum.TransactionType, str]]] = ..., group_by: _Optional[_Union[_report_pb2.ReportGroupByEnum.ReportGroupBy, str]] = ..., format: _Optional[str] = ..., currency: _Optional[str] = ...) -> None: ...

class CreateCustomReportResponse(_message.Message):
    __slots__ = ("report",)
    REPORT_FIELD_NUMBER: _ClassVar[int]
    report: _report_pb2.Report
    def __init__(self, report: _Optional[_Union[_report_pb2.Report, _Mapping]] = ...) -> None: ...

class GetReportRequest(_message.Message):
    __slots__ = ("report_id",)
    REPORT_ID_FIELD_NUMBER: _ClassVar[int]
    report_id: str
    def __init__(self, report_id: _Optional[str] = ...) -> None: ...

class GetReportResponse(_message.Message):
    __slots__ = ("report",)
    REPORT_FIELD_NUMBER: _ClassVar[int]
    report: _report_pb2.Report
    def __init__(self, report: _Optional[_Union[_report_pb2.Report, _Mapping]] = ...) -> None: ...

class DownloadReportRequest(_message.Message):
    __slots__ = ("report_id",)
    REPORT_ID_FIELD_NUMBER: _ClassVar[int]
    report_id: str
    def __init__(self, report_id: _Optional[str] = ...) -> None: ...
