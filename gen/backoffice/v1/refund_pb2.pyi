import datetime

from google.protobuf import timestamp_pb2 as _timestamp_pb2
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class RefundRequest(_message.Message):
    __slots__ = ("id", "original_transaction", "amount", "currency", "reason", "description", "status", "expected_resolution", "account_id", "requested_by", "reviewed_by", "reviewed_at", "review_notes", "rejection_reason", "refund_transaction_id", "created_at", "completed_at", "approved_amount")
    ID_FIELD_NUMBER: _ClassVar[int]
    ORIGINAL_TRANSACTION_FIELD_NUMBER: _ClassVar[int]
    AMOUNT_FIELD_NUMBER: _ClassVar[int]
    CURRENCY_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    DESCRIPTION_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    EXPECTED_RESOLUTION_FIELD_NUMBER: _ClassVar[int]
    ACCOUNT_ID_FIELD_NUMBER: _ClassVar[int]
    REQUESTED_BY_FIELD_NUMBER: _ClassVar[int]
    REVIEWED_BY_FIELD_NUMBER: _ClassVar[int]
    REVIEWED_AT_FIELD_NUMBER: _ClassVar[int]
    REVIEW_NOTES_FIELD_NUMBER: _ClassVar[int]
    REJECTION_REASON_FIELD_NUMBER: _ClassVar[int]
    REFUND_TRANSACTION_ID_FIELD_NUMBER: _ClassVar[int]
    CREATED_AT_FIELD_NUMBER: _ClassVar[int]
    COMPLETED_AT_FIELD_NUMBER: _ClassVar[int]
    APPROVED_AMOUNT_FIELD_NUMBER: _ClassVar[int]
    id: str
    original_transaction: str
    amount: float
    currency: str
    reason: RefundReasonEnum.RefundReason
    description: str
    status: RefundRequestStatusEnum.RefundRequestStatus
    expected_resolution: _timestamp_pb2.Timestamp
    account_id: str
    requested_by: str
    reviewed_by: str
    reviewed_at: _timestamp_pb2.Timestamp
    review_notes: str
    rejection_reason: str
    refund_transaction_id: str
    created_at: _timestamp_pb2.Timestamp
    completed_at: _timestamp_pb2.Timestamp
    approved_amount: float
    def __init__(self, id: _Optional[str] = ..., original_transaction: _Optional[str] = ..., amount: _Optional[float] = ..., currency: _Optional[str] = ..., reason: _Optional[_Union[RefundReasonEnum.RefundReason, str]] = ..., description: _Optional[str] = ..., status: _Optional[_Union[RefundRequestStatusEnum.RefundRequestStatus, str]] = ..., expected_resolution: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., account_id: _Optional[str] = ..., requested_by: _Optional[str] = ..., reviewed_by: _Optional[str] = ..., reviewed_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., review_notes: _Optional[str] = ..., rejection_reason: _Optional[str] = ..., refund_transaction_id: _Optional[str] = ..., created_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., completed_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., approved_amount: _Optional[float] = ...) -> None: ...

class RefundReasonEnum(_message.Message):
    __slots__ = ()
    class RefundReason(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
        __slots__ = ()
        REFUND_REASON_UNSPECIFIED: _ClassVar[RefundReasonEnum.RefundReason]
        DUPLICATE_PAYMENT: _ClassVar[RefundReasonEnum.RefundReason]
        SERVICE_NOT_RECEIVED: _ClassVar[RefundReasonEnum.RefundReason]
        INCORRECT_AMOUNT: _ClassVar[RefundReasonEnum.RefundReason]
        UNAUTHORIZED_TRANSACTION: _ClassVar[RefundReasonEnum.RefundReason]
        MERCHANT_ERROR: _ClassVar[RefundReasonEnum.RefundReason]
    REFUND_REASON_UNSPECIFIED: RefundReasonEnum.RefundReason
    DUPLICATE_PAYMENT: RefundReasonEnum.RefundReason
    SERVICE_NOT_RECEIVED: RefundReasonEnum.RefundReason
    INCORRECT_AMOUNT: RefundReasonEnum.RefundReason
    UNAUTHORIZED_TRANSACTION: RefundReasonEnum.RefundReason
    MERCHANT_ERROR: RefundReasonEnum.RefundReason
    def __init__(self) -> None: ...

class RefundRequestStatusEnum(_message.Message):
    __slots__ = ()
    class RefundRequestStatus(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
        __slots__ = ()
        REFUND_REQUEST_STATUS_UNSPECIFIED: _ClassVar[RefundRequestStatusEnum.RefundRequestStatus]
        PENDING_REVIEW: _ClassVar[RefundRequestStatusEnum.RefundRequestStatus]
        APPROVED: _ClassVar[RefundRequestStatusEnum.RefundRequestStatus]
        REJECTED: _ClassVar[RefundRequestStatusEnum.RefundRequestStatus]
        COMPLETED: _ClassVar[RefundRequestStatusEnum.RefundRequestStatus]
    REFUND_REQUEST_STATUS_UNSPECIFIED: RefundRequestStatusEnum.RefundRequestStatus
    PENDING_REVIEW: RefundRequestStatusEnum.RefundRequestStatus
    APPROVED: RefundRequestStatusEnum.RefundRequestStatus
    REJECTED: RefundRequestStatusEnum.RefundRequestStatus
    COMPLETED: RefundRequestStatusEnum.RefundRequestStatus
    def __init__(self) -> None: ...
