import datetime

from google.protobuf import timestamp_pb2 as _timestamp_pb2
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class Dispute(_message.Message):
    __slots__ = ("id", "transaction_id", "account_id", "amount", "currency", "reason", "description", "status", "investigation_deadline", "provisional_credit_status", "provisional_credit_amount", "provisional_credit_due", "provisional_credit_transaction_id", "provisional_credited_at", "credit_reversal_transaction_id", "outcome", "resolution_note", "resolved_by", "resolved_at", "opened_by", "created_at", "updated_at")
    ID_FIELD_NUMBER: _ClassVar[int]
    TRANSACTION_ID_FIELD_NUMBER: _ClassVar[int]
    ACCOUNT_ID_FIELD_NUMBER: _ClassVar[int]
    AMOUNT_FIELD_NUMBER: _ClassVar[int]
    CURRENCY_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    DESCRIPTION_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    INVESTIGATION_DEADLINE_FIELD_NUMBER: _ClassVar[int]
    PROVISIONAL_CREDIT_STATUS_FIELD_NUMBER: _ClassVar[int]
    PROVISIONAL_CREDIT_AMOUNT_FIELD_NUMBER: _ClassVar[int]
    PROVISIONAL_CREDIT_DUE_FIELD_NUMBER: _ClassVar[int]
    PROVISIONAL_CREDIT_TRANSACTION_ID_FIELD_NUMBER: _ClassVar[int]
    PROVISIONAL_CREDITED_AT_FIELD_NUMBER: _ClassVar[int]
    CREDIT_REVERSAL_TRANSACTION_ID_FIELD_NUMBER: _ClassVar[int]
    OUTCOME_FIELD_NUMBER: _ClassVar[int]
    RESOLUTION_NOTE_FIELD_NUMBER: _ClassVar[int]
    RESOLVED_BY_FIELD_NUMBER: _ClassVar[int]
    RESOLVED_AT_FIELD_NUMBER: _ClassVar[int]
    OPENED_BY_FIELD_NUMBER: _ClassVar[int]
    CREATED_AT_FIELD_NUMBER: _ClassVar[int]
    UPDATED_AT_FIELD_NUMBER: _ClassVar[int]
    id: str
    transaction_id: str
    account_id: str
    amount: float
    currency: str
    reason: DisputeReasonEnum.DisputeReason
    description: str
    status: DisputeStatusEnum.DisputeStatus
    investigation_deadline: _timestamp_pb2.Timestamp
    provisional_credit_status: ProvisionalCreditStatusEnum.ProvisionalCreditStatus
    provisional_credit_amount: float
    provisional_credit_due: _timestamp_pb2.Timestamp
    provisional_credit_transaction_id: str
    provisional_credited_at: _timestamp_pb2.Timestamp
    credit_reversal_transaction_id: str
    outcome: DisputeOutcomeEnum.DisputeOutcome
    resolution_note: str
    resolved_by: str
    resolved_at: _timestamp_pb2.Timestamp
    opened_by: str
    created_at: _timestamp_pb2.Timestamp
    updated_at: _timestamp_pb2.Timestamp
    def __init__(self, id: _Optional[str] = ..., transaction_id: _Optional[str] = ..., account_id: _Optional[str] = ..., amount: _Optional[float] = ..., currency: _Optional[str] = ..., reason: _Optional[_Union[DisputeReasonEnum.DisputeReason, str]] = ..., description: _Optional[str] = ..., status: _Optional[_Union[DisputeStatusEnum.DisputeStatus, str]] = ..., investigation_deadline: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., provisional_credit_status: _Optional[_Union[ProvisionalCreditStatusEnum.ProvisionalCreditStatus, str]] = ..., provisional_credit_amount: _Optional[float] = ..., provisional_credit_due: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., provisional_credit_transaction_id: _Optional[str] = ..., provisional_credited_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., credit_reversal_transaction_id: _Optional[str] = ..., outcome: _Optional[_Union[DisputeOutcomeEnum.DisputeOutcome, str]] = ..., resolution_note: _Optional[str] = ..., resolved_by: _Optional[str] = ..., resolved_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., opened_by: _Optional[str] = ..., created_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., updated_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class DisputeReasonEnum(_message.Message):
    __slots__ = ()
    class DisputeReason(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
        __slots__ = ()
        DISPUTE_REASON_UNSPECIFIED: _ClassVar[DisputeReasonEnum.DisputeReason]
        DUPLICATE_PAYMENT: _ClassVar[DisputeReasonEnum.DisputeReason]
        SERVICE_NOT_RECEIVED: _ClassVar[DisputeReasonEnum.DisputeReason]
        INCORRECT_AMOUNT: _ClassVar[DisputeReasonEnum.DisputeReason]
        UNAUTHORIZED_TRANSACTION: _ClassVar[DisputeReasonEnum.DisputeReason]
        MERCHANT_ERROR: _ClassVar[DisputeReasonEnum.DisputeReason]
    DISPUTE_REASON_UNSPECIFIED: DisputeReasonEnum.DisputeReason
    DUPLICATE_PAYMENT: DisputeReasonEnum.DisputeReason
    SERVICE_NOT_RECEIVED: DisputeReasonEnum.DisputeReason
    INCORRECT_AMOUNT: DisputeReasonEnum.DisputeReason
    UNAUTHORIZED_TRANSACTION: DisputeReasonEnum.DisputeReason
    MERCHANT_ERROR: DisputeReasonEnum.DisputeReason
    def __init__(self) -> None: ...

class DisputeStatusEnum(_message.Message):
    __slots__ = ()
    class DisputeStatus(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
        __slots__ = ()
        DISPUTE_STATUS_UNSPECIFIED: _ClassVar[DisputeStatusEnum.DisputeStatus]
        OPEN: _ClassVar[DisputeStatusEnum.DisputeStatus]
        RESOLVED: _ClassVar[DisputeStatusEnum.DisputeStatus]
    DISPUTE_STATUS_UNSPECIFIED: DisputeStatusEnum.DisputeStatus
    OPEN: DisputeStatusEnum.DisputeStatus
    RESOLVED: DisputeStatusEnum.DisputeStatus
    def __init__(self) -> None: ...

class DisputeOutcomeEnum(_message.Message):
    __slots__ = ()
    class DisputeOutcome(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
        __slots__ = ()
        DISPUTE_OUTCOME_UNSPECIFIED: _ClassVar[DisputeOutcomeEnum.DisputeOutcome]
        CUSTOMER_FAVOR: _ClassVar[DisputeOutcomeEnum.DisputeOutcome]
        MERCHANT_FAVOR: _ClassVar[DisputeOutcomeEnum.DisputeOutcome]
    DISPUTE_OUTCOME_UNSPECIFIED: DisputeOutcomeEnum.DisputeOutcome
    CUSTOMER_FAVOR: DisputeOutcomeEnum.DisputeOutcome
    MERCHANT_FAVOR: DisputeOutcomeEnum.DisputeOutcome
    def __init__(self) -> None: ...

class ProvisionalCreditStatusEnum(_message.Message):
    __slots__ = ()
    class ProvisionalCreditStatus(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
        __slots__ = ()
        PROVISIONAL_CREDIT_STATUS_UNSPECIFIED: _ClassVar[ProvisionalCreditStatusEnum.ProvisionalCreditStatus]
        PENDING: _ClassVar[ProvisionalCreditStatusEnum.ProvisionalCreditStatus]
        CREDITED: _ClassVar[ProvisionalCreditStatusEnum.ProvisionalCreditStatus]
        FINAL: _ClassVar[ProvisionalCreditStatusEnum.ProvisionalCreditStatus]
        REVERSED: _ClassVar[ProvisionalCreditStatusEnum.ProvisionalCreditStatus]
        NOT_CREDITED: _ClassVar[ProvisionalCreditStatusEnum.ProvisionalCreditStatus]
    PROVISIONAL_CREDIT_STATUS_UNSPECIFIED: ProvisionalCreditStatusEnum.ProvisionalCreditStatus
    PENDING: ProvisionalCreditStatusEnum.ProvisionalCreditStatus
    CREDITED: ProvisionalCreditStatusEnum.ProvisionalCreditStatus
    FINAL: ProvisionalCreditStatusEnum.ProvisionalCreditStatus
    REVERSED: ProvisionalCreditStatusEnum.ProvisionalCreditStatus
    NOT_CREDITED: ProvisionalCreditStatusEnum.ProvisionalCreditStatus
    def __init__(self) -> None: ...
