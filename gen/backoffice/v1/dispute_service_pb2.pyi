from backoffice.v1 import annotations_pb2 as _annotations_pb2
from backoffice.v1 import common_pb2 as _common_pb2
from backoffice.v1 import dispute_pb2 as _dispute_pb2
from backoffice.v1 import transaction_pb2 as _transaction_pb2
from google.api import annotations_pb2 as _annotations_pb2_1
from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class CreateDisputeRequest(_message.Message):
    __slots__ = ("transaction_id", "reason", "description", "amount")
    TRANSACTION_ID_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    DESCRIPTION_FIELD_NUMBER: _ClassVar[int]
    AMOUNT_FIELD_NUMBER: _ClassVar[int]
    transaction_id: str
    reason: _dispute_pb2.DisputeReasonEnum.DisputeReason
    description: str
    amount: float
    def __init__(self, transaction_id: _Optional[str] = ..., reason: _Optional[_Union[_dispute_pb2.DisputeReasonEnum.DisputeReason, str]] = ..., description: _Optional[str] = ..., amount: _Optional[float] = ...) -> None: ...

class CreateDisputeResponse(_message.Message):
    __slots__ = ("dispute",)
    DISPUTE_FIELD_NUMBER: _ClassVar[int]
    dispute: _dispute_pb2.Dispute
    def __init__(self, dispute: _Optional[_Union[_dispute_pb2.Dispute, _Mapping]] = ...) -> None: ...

class ListDisputesRequest(_message.Message):
    __slots__ = ("status", "account_id", "transaction_id", "sort_order", "page", "limit", "page_token")
    STATUS_FIELD_NUMBER: _ClassVar[int]
    ACCOUNT_ID_FIELD_NUMBER: _ClassVar[int]
    TRANSACTION_ID_FIELD_NUMBER: _ClassVar[int]
    SORT_ORDER_FIELD_NUMBER: _ClassVar[int]
    PAGE_FIELD_NUMBER: _ClassVar[int]
    LIMIT_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    status: _dispute_pb2.DisputeStatusEnum.DisputeStatus
    account_id: str
    transaction_id: str
    sort_order: str
    page: int
    limit: int
    page_token: str
    def __init__(self, status: _Optional[_Union[_dispute_pb2.DisputeStatusEnum.DisputeStatus, str]] = ..., account_id: _Optional[str] = ..., transaction_id: _Optional[str] = ..., sort_order: _Optional[str] = ..., page: _Optional[int] = ..., limit: _Optional[int] = ..., page_token: _Optional[str] = ...) -> None: ...

class ListDisputesResponse(_message.Message):
    __slots__ = ("disputes", "pagination", "next_page_token")
    DISPUTES_FIELD_NUMBER: _ClassVar[int]
    PAGINATION_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    disputes: _containers.RepeatedCompositeFieldContainer[_dispute_pb2.Dispute]
    pagination: _common_pb2.Pagination
    next_page_token: str
    def __init__(self, disputes: _Optional[_Iterable[_Union[_dispute_pb2.Dispute, _Mapping]]] = ..., pagination: _Optional[_Union[_common_pb2.Pagination, _Mapping]] = ..., next_page_token: _Optional[str] = ...) -> None: ...

class GetDisputeRequest(_message.Message):
    __slots__ = ("dispute_id",)
    DISPUTE_ID_FIELD_NUMBER: _ClassVar[int]
    dispute_id: str
    def __init__(self, dispute_id: _Optional[str] = ...) -> None: ...

class GetDisputeResponse(_message.Message):
    __slots__ = ("dispute",)
    DISPUTE_FIELD_NUMBER: _ClassVar[int]
    dispute: _dispute_pb2.Dispute
    def __init__(self, dispute: _Optional[_Union[_dispute_pb2.Dispute, _Mapping]] = ...) -> None: ...

class ResolveDisputeRequest(_message.Message):
    __slots__ = ("dispute_id", "outcome", "note")
    DISPUTE_ID_FIELD_NUMBER: _ClassVar[int]
    OUTCOME_FIELD_NUMBER: _ClassVar[int]
    NOTE_FIELD_NUMBER: _ClassVar[int]
    dispute_id: str
    outcome: _dispute_pb2.DisputeOutcomeEnum.DisputeOutcome
    note: str
    def __init__(self, dispute_id: _Optional[str] = ..., outcome: _Optional[_Union[_dispute_pb2.DisputeOutcomeEnum.DisputeOutcome, str]] = ..., note: _Optional[str] = ...) -> None: ...

class ResolveDisputeResponse(_message.Message):
    __slots__ = ("dispute", "transaction")
    DISPUTE_FIELD_NUMBER: _ClassVar[int]
    TRANSACTION_FIELD_NUMBER: _ClassVar[int]
    dispute: _dispute_pb2.Dispute
    transaction: _transaction_pb2.Transaction
    def __init__(self, dispute: _Optional[_Union[_dispute_pb2.Dispute, _Mapping]] = ..., transaction: _Optional[_Union[_transaction_pb2.Transaction, _Mapping]] = ...) -> None: ...
