from backoffice.v1 import annotations_pb2 as _annotations_pb2
from backoffice.v1 import common_pb2 as _common_pb2
from backoffice.v1 import refund_pb2 as _refund_pb2
from backoffice.v1 import transaction_pb2 as _transaction_pb2
from google.api import annotations_pb2 as _annotations_pb2_1
from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class ListRefundRequestsRequest(_message.Message):
    __slots__ = ("status", "account_id", "transaction_id", "sort_order", "page", "limit", "page_token")
    STATUS_FIELD_NUMBER: _ClassVar[int]
    ACCOUNT_ID_FIELD_NUMBER: _ClassVar[int]
    TRANSACTION_ID_FIELD_NUMBER: _ClassVar[int]
    SORT_ORDER_FIELD_NUMBER: _ClassVar[int]
    PAGE_FIELD_NUMBER: _ClassVar[int]
    LIMIT_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    status: _refund_pb2.RefundRequestStatusEnum.RefundRequestStatus
    account_id: str
    transaction_id: str
    sort_order: str
    page: int
    limit: int
    page_token: str
    def __init__(self, status: _Optional[_Union[_refund_pb2.RefundRequestStatusEnum.RefundRequestStatus, str]] = ..., account_id: _Optional[str] = ..., transaction_id: _Optional[str] = ..., sort_order: _Optional[str] = ..., page: _Optional[int] = ..., limit: _Optional[int] = ..., page_token: _Optional[str] = ...) -> None: ...

class ListRefundRequestsResponse(_message.Message):
    __slots__ = ("refund_requests", "pagination", "next_page_token")
    REFUND_REQUESTS_FIELD_NUMBER: _ClassVar[int]
    PAGINATION_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    refund_requests: _containers.RepeatedCompositeFieldContainer[_refund_pb2.RefundRequest]
    pagination: _common_pb2.Pagination
    next_page_token: str
    def __init__(self, refund_requests: _Optional[_Iterable[_Union[_refund_pb2.RefundRequest, _Mapping]]] = ..., pagination: _Optional[_Union[_common_pb2.Pagination, _Mapping]] = ..., next_page_token: _Optional[str] = ...) -> None: ...

class GetRefundRequestRequest(_message.Message):
    __slots__ = ("refund_request_id",)
    REFUND_REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    refund_request_id: str
    def __init__(self, refund_request_id: _Optional[str] = ...) -> None: ...

class GetRefundRequestResponse(_message.Message):
    __slots__ = ("refund_request",)
    REFUND_REQUEST_FIELD_NUMBER: _ClassVar[int]
    refund_request: _refund_pb2.RefundRequest
    def __init__(self, refund_request: _Optional[_Union[_refund_pb2.RefundRequest, _Mapping]] = ...) -> None: ...

class ApproveRefundRequestRequest(_message.Message):
    __slots__ = ("refund_request_id", "notes", "amount")
    REFUND_REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    NOTES_FIELD_NUMBER: _ClassVar[int]
    AMOUNT_FIELD_NUMBER: _ClassVar[int]
    refund_request_id: str
    notes: str
    amount: float
    def __init__(self, refund_request_id: _Optional[str] = ..., notes: _Optional[str] = ..., amount: _Optional[float] = ...) -> None: ...

class ApproveRefundRequestResponse(_message.Message):
    __slots__ = ("refund_request", "transaction")
    REFUND_REQUEST_FIELD_NUMBER: _ClassVar[int]
    TRANSACTION_FIELD_NUMBER: _ClassVar[int]
    refund_request: _refund_pb2.RefundRequest
    transaction: _transaction_pb2.Transaction
    def __init__(self, refund_request: _Optional[_Union[_refund_pb2.RefundRequest, _Mapping]] = ..., transaction: _Optional[_Union[_transaction_pb2.Transaction, _Mapping]] = ...) -> None: ...

class RejectRefundRequestRequest(_message.Message):
    __slots__ = ("refund_request_id", "reason")
    REFUND_REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    refund_request_id: str
    reason: str
    def __init__(self, refund_request_id: _Optional[str] = ..., reason: _Optional[str] = ...) -> None: ...

class RejectRefundRequestResponse(_message.Message):
    __slots__ = ("refund_request",)
    REFUND_REQUEST_FIELD_NUMBER: _ClassVar[int]
    refund_request: _refund_pb2.RefundRequest
    def __init__(self, refund_request: _Optional[_Union[_refund_pb2.RefundRequest, _Mapping]] = ...) -> None: ...
