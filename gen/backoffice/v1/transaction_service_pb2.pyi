import datetime

from backoffice.v1 import annotations_pb2 as _annotations_pb2
from backoffice.v1 import challenge_pb2 as _challenge_pb2
from backoffice.v1 import common_pb2 as _common_pb2
from backoffice.v1 import refund_pb2 as _refund_pb2
from backoffice.v1 import transaction_pb2 as _transaction_pb2
from google.api import annotations_pb2 as _annotations_pb2_1
from google.api import httpbody_pb2 as _httpbody_pb2
from google.protobuf import timestamp_pb2 as _timestamp_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class ListTransactionsRequest(_message.Message):
    __slots__ = ("account_id", "type", "status", "start_date", "end_date", "date_from", "date_to", "min_amount", "max_amount", "search", "page", "limit", "sort_by", "sort_order", "sort", "order", "page_token")
    ACCOUNT_ID_FIELD_NUMBER: _ClassVar[int]
    TYPE_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    START_DATE_FIELD_NUMBER: _ClassVar[int]
    END_DATE_FIELD_NUMBER: _ClassVar[int]
    DATE_FROM_FIELD_NUMBER: _ClassVar[int]
    DATE_TO_FIELD_NUMBER: _ClassVar[int]
    MIN_AMOUNT_FIELD_NUMBER: _ClassVar[int]
    MAX_AMOUNT_FIELD_NUMBER: _ClassVar[int]
    SEARCH_FIELD_NUMBER: _ClassVar[int]
    PAGE_FIELD_NUMBER: _ClassVar[int]
    LIMIT_FIELD_NUMBER: _ClassVar[int]
    SORT_BY_FIELD_NUMBER: _ClassVar[int]
    SORT_ORDER_FIELD_NUMBER: _ClassVar[int]
    SORT_FIELD_NUMBER: _ClassVar[int]
    ORDER_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    account_id: str
    type: _transaction_pb2.TransactionTypeEnum.TransactionType
    status: _transaction_pb2.TransactionStatusEnum.TransactionStatus
    start_date: str
    end_date: str
    date_from: str
    date_to: str
    min_amount: float
    max_amount: float
    search: str
    page: int
    limit: int
    sort_by: str
    sort_order: str
    sort: str
    order: str
    page_token: str
    def __init__(self, account_id: _Optional[str] = ..., type: _Optional[_Union[_transaction_pb2.TransactionTypeEnum.TransactionType, str]] = ..., status: _Optional[_Union[_transaction_pb2.TransactionStatusEnum.TransactionStatus, str]] = ..., start_date: _Optional[str] = ..., end_date: _Optional[str] = ..., date_from: _Optional[str] = ..., date_to: _Optional[str] = ..., min_amount: _Optional[float] = ..., max_amount: _Optional[float] = ..., search: _Optional[str] = ..., page: _Optional[int] = ..., limit: _Optional[int] = ..., sort_by: _Optional[str] = ..., sort_order: _Optional[str] = ..., sort: _Optional[str] = ..., order: _Optional[str] = ..., page_token: _Optional[str] = ...) -> None: ...

class ListTransactionsResponse(_message.Message):
    __slots__ = ("transactions", "pagination", "summary", "next_page_token")
    TRANSACTIONS_FIELD_NUMBER: _ClassVar[int]
    PAGINATION_FIELD_NUMBER: _ClassVar[int]
    SUMMARY_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    transactions: _containers.RepeatedCompositeFieldContainer[_transaction_pb2.TransactionListItem]
    pagination: _common_pb2.Pagination
    summary: _transaction_pb2.TransactionTotals
    next_page_token: str
    def __init__(self, transactions: _Optional[_Iterable[_Union[_transaction_pb2.TransactionListItem, _Mapping]]] = ..., pagination: _Optional[_Union[_common_pb2.Pagination, _Mapping]] = ..., summary: _Optional[_Union[_transaction_pb2.TransactionTotals, _Mapping]] = ..., next_page_token: _Optional[str] = ...) -> None: ...

class CreateTransactionRequest(_message.Message):
    __slots__ = ("type", "from_account_id", "to_account_id", "account_id", "amount", "currency", "description", "reference", "scheduled", "scheduled_date", "beneficiary", "purpose", "rail", "method", "location", "location_country", "pin", "card_number", "payee_id", "payment_date", "account_number", "memo", "original_transaction_id", "reversal_reason", "notes", "direction")
    TYPE_FIELD_NUMBER: _ClassVar[int]
    FROM_ACCOUNT_ID_FIELD_NUMBER: _ClassVar[int]
    TO_ACCOUNT_ID_FIELD_NUMBER: _ClassVar[int]
    ACCOUNT_ID_FIELD_NUMBER: _ClassVar[int]
    AMOUNT_FIELD_NUMBER: _ClassVar[int]
    CURRENCY_FIELD_NUMBER: _ClassVar[int]
    DESCRIPTION_FIELD_NUMBER: _ClassVar[int]
    REFERENCE_FIELD_NUMBER: _ClassVar[int]
    SCHEDULED_FIELD_NUMBER: _ClassVar[int]
    SCHEDULED_DATE_FIELD_NUMBER: _ClassVar[int]
    BENEFICIARY_FIELD_NUMBER: _ClassVar[int]
    PURPOSE_FIELD_NUMBER: _ClassVar[int]
    RAIL_FIELD_NUMBER: _ClassVar[int]
    METHOD_FIELD_NUMBER: _ClassVar[int]
    LOCATION_FIELD_NUMBER: _ClassVar[int]
    LOCATION_COUNTRY_FIELD_NUMBER: _ClassVar[int]
    PIN_FIELD_NUMBER: _ClassVar[int]
    CARD_NUMBER_FIELD_NUMBER: _ClassVar[int]
    PAYEE_ID_FIELD_NUMBER: _ClassVar[int]
    PAYMENT_DATE_FIELD_NUMBER: _ClassVar[int]
    ACCOUNT_NUMBER_FIELD_NUMBER: _ClassVar[int]
    MEMO_FIELD_NUMBER: _ClassVar[int]
    ORIGINAL_TRANSACTION_ID_FIELD_NUMBER: _ClassVar[int]
    REVERSAL_REASON_FIELD_NUMBER: _ClassVar[int]
    NOTES_FIELD_NUMBER: _ClassVar[int]
    DIRECTION_FIELD_NUMBER: _ClassVar[int]
    type: _transaction_pb2.TransactionTypeEnum.TransactionType
    from_account_id: str
    to_account_id: str
    account_id: str
    amount: float
    currency: str
    description: str
    reference: str
    scheduled: bool
    scheduled_date: str
    beneficiary: _transaction_pb2.Beneficiary
    purpose: _transaction_pb2.TransferPurposeEnum.TransferPurpose
    rail: _transaction_pb2.TransferRailEnum.TransferRail
    method: _transaction_pb2.TransactionMethodEnum.TransactionMethod
    location: str
    location_country: str
    pin: str
    card_number: str
    payee_id: str
    payment_date: str
    account_number: str
    memo: str
    original_transaction_id: str
    reversal_reason: _transaction_pb2.TransactionReversalReasonEnum.TransactionReversalReason
    notes: str
    direction: _transaction_pb2.TransactionDirectionEnum.TransactionDirection
    def __init__(self, type: _Optional[_Union[_transaction_pb2.TransactionTypeEnum.TransactionType, str]] = ..., from_account_id: _Optional[str] = ..., to_account_id: _Optional[str] = ..., account_id: _Optional[str] = ..., amount: _Optional[float] = ..., currency: _Optional[str] = ..., description: _Optional[str] = ..., reference: _Optional[str] = ..., scheduled: _Optional[bool] = ..., scheduled_date: _Optional[str] = ..., beneficiary: _Optional[_Union[_transaction_pb2.Beneficiary, _Mapping]] = ..., purpose: _Optional[_Union[_transaction_pb2.TransferPurposeEnum.TransferPurpose, str]] = ..., rail: _Optional[_Union[_transaction_pb2.TransferRailEnum.TransferRail, str]] = ..., method: _Optional[_Union[_transaction_pb2.TransactionMethodEnum.TransactionMethod, str]] = ..., location: _Optional[str] = ..., location_country: _Optional[str] = ..., pin: _Optional[str] = ..., card_number: _Optional[str] = ..., payee_id: _Optional[str] = ..., payment_date: _Optional[str] = ..., account_number: _Optional[str] = ..., memo: _Optional[str] = ..., original_transaction_id: _Optional[str] = ..., reversal_reason: _Optional[_Union[_transaction_pb2.TransactionReversalReasonEnum.TransactionReversalReason, str]] = ..., notes: _Optional[str] = ..., direction: _Optional[_Union[_transaction_pb2.TransactionDirectionEnum.TransactionDirection, str]] = ...) -> None: ...

class CreateTransactionResponse(_message.Message):
    __slots__ = ("transaction", "challenge")
    TRANSACTION_FIELD_NUMBER: _ClassVar[int]
    CHALLENGE_FIELD_NUMBER: _ClassVar[int]
    transaction: _transaction_pb2.Transaction
    challenge: _challenge_pb2.Challenge
    def __init__(self, transaction: _Optional[_Union[_transaction_pb2.Transaction, _Mapping]] = ..., challenge: _Optional[_Union[_challenge_pb2.Challenge, _Mapping]] = ...) -> None: ...

class CreateTransferRequest(_message.Message):
    __slots__ = ("from_account_id", "to_account_id", "amount", "currency", "description", "reference", "scheduled", "scheduled_date")
    FROM_ACCOUNT_ID_FIELD_NUMBER: _ClassVar[int]
    TO_ACCOUNT_ID_FIELD_NUMBER: _ClassVar[int]
    AMOUNT_FIELD_NUMBER: _ClassVar[int]
    CURRENCY_FIELD_NUMBER: _ClassVar[int]
    DESCRIPTION_FIELD_NUMBER: _ClassVar[int]
    REFERENCE_FIELD_NUMBER: _ClassVar[int]
    SCHEDULED_FIELD_NUMBER: _ClassVar[int]
    SCHEDULED_DATE_FIELD_NUMBER: _ClassVar[int]
    from_account_id: str
    to_account_id: str
    amount: float
    currency: str
    description: str
    reference: str
    scheduled: bool
    scheduled_date: str
    def __init__(self, from_account_id: _Optional[str] = ..., to_account_id: _Optional[str] = ..., amount: _Optional[float] = ..., currency: _Optional[str] = ..., description: _Optional[str] = ..., reference: _Optional[str] = ..., scheduled: _Optional[bool] = ..., scheduled_date: _Optional[str] = ...) -> None: ...

class CreateTransferResponse(_message.Message):
    __slots__ = ("transaction", "challenge")
    TRANSACTION_FIELD_NUMBER: _ClassVar[int]
    CHALLENGE_FIELD_NUMBER: _ClassVar[int]
    transaction: _transaction_pb2.Transaction
    challenge: _challenge_pb2.Challenge
    def __init__(self, transaction: _Optional[_Union[_transaction_pb2.Transaction, _Mapping]] = ..., challenge: _Optional[_Union[_challenge_pb2.Challenge, _Mapping]] = ...) -> None: ...

class BatchCreateTransfersRequest(_message.Message):
    __slots__ = ("requests",)
    REQUESTS_FIELD_NUMBER: _ClassVar[int]
    requests: _containers.RepeatedCompositeFieldContainer[BatchTransferItem]
    def __init__(self, requests: _Optional[_Iterable[_Union[BatchTransferItem, _Mapping]]] = ...) -> None: ...

class BatchTransferItem(_message.Message):
    __slots__ = ("from_account_id", "to_account_id", "amount", "currency", "description", "reference", "idempotency_key")
    FROM_ACCOUNT_ID_FIELD_NUMBER: _ClassVar[int]
    TO_ACCOUNT_ID_FIELD_NUMBER: _ClassVar[int]
    AMOUNT_FIELD_NUMBER: _ClassVar[int]
    CURRENCY_FIELD_NUMBER: _ClassVar[int]
    DESCRIPTION_FIELD_NUMBER: _ClassVar[int]
    REFERENCE_FIELD_NUMBER: _ClassVar[int]
    IDEMPOTENCY_KEY_FIELD_NUMBER: _ClassVar[int]
    from_account_id: str
    to_account_id: str
    amount: float
    currency: str
    description: str
    reference: str
    idempotency_key: str
    def __init__(self, from_account_id: _Optional[str] = ..., to_account_id: _Optional[str] = ..., amount: _Optional[float] = ..., currency: _Optional[str] = ..., description: _Optional[str] = ..., reference: _Optional[str] = ..., idempotency_key: _Optional[str] = ...) -> None: ...

class BatchCreateTransfersResponse(_message.Message):
    __slots__ = ("results",)
    RESULTS_FIELD_NUMBER: _ClassVar[int]
    results: _containers.RepeatedCompositeFieldContainer[BatchTransferResult]
    def __init__(self, results: _Optional[_Iterable[_Union[BatchTransferResult, _Mapping]]] = ...) -> None: ...

class BatchTransferResult(_message.Message):
    __slots__ = ("transaction", "error", "replayed")
    TRANSACTION_FIELD_NUMBER: _ClassVar[int]
    ERROR_FIELD_NUMBER: _ClassVar[int]
    REPLAYED_FIELD_NUMBER: _ClassVar[int]
    transaction: _transaction_pb2.Transaction
    error: BatchItemError
    replayed: bool
    def __init__(self, transaction: _Optional[_Union[_transaction_pb2.Transaction, _Mapping]] = ..., error: _Optional[_Union[BatchItemError, _Mapping]] = ..., replayed: _Optional[bool] = ...) -> None: ...

class BatchItemError(_message.Message):
    __slots__ = ("code", "message", "field", "metadata")
    class MetadataEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: str
        def __init__(self, key: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...
    CODE_FIELD_NUMBER: _ClassVar[int]
    MESSAGE_FIELD_NUMBER: _ClassVar[int]
    FIELD_FIELD_NUMBER: _ClassVar[int]
    METADATA_FIELD_NUMBER: _ClassVar[int]
    code: str
    message: str
    field: str
    metadata: _containers.ScalarMap[str, str]
    def __init__(self, code: _Optional[str] = ..., message: _Optional[str] = ..., field: _Optional[str] = ..., metadata: _Optional[_Mapping[str, str]] = ...) -> None: ...

class CreateExternalTransferRequest(_message.Message):
    __slots__ = ("from_account_id", "beneficiary", "amount", "currency", "description", "purpose", "rail", "reference")
    FROM_ACCOUNT_ID_FIELD_NUMBER: _ClassVar[int]
    BENEFICIARY_FIELD_NUMBER: _ClassVar[int]
    AMOUNT_FIELD_NUMBER: _ClassVar[int]
    CURRENCY_FIELD_NUMBER: _ClassVar[int]
    DESCRIPTION_FIELD_NUMBER: _ClassVar[int]
    PURPOSE_FIELD_NUMBER: _ClassVar[int]
    RAIL_FIELD_NUMBER: _ClassVar[int]
    REFERENCE_FIELD_NUMBER: _ClassVar[int]
    from_account_id: str
    beneficiary: _transaction_pb2.Beneficiary
    amount: float
    currency: str
    description: str
    purpose: _transaction_pb2.TransferPurposeEnum.TransferPurpose
    rail: _transaction_pb2.TransferRailEnum.TransferRail
    reference: str
    def __init__(self, from_account_id: _Optional[str] = ..., beneficiary: _Optional[_Union[_transaction_pb2.Beneficiary, _Mapping]] = ..., amount: _Optional[float] = ..., currency: _Optional[str] = ..., description: _Optional[str] = ..., purpose: _Optional[_Union[_transaction_pb2.TransferPurposeEnum.TransferPurpose, str]] = ..., rail: _Optional[_Union[_transaction_pb2.TransferRailEnum.TransferRail, str]] = ..., reference: _Optional[str] = ...) -> None: ...

class CreateExternalTransferResponse(_message.Message):
    __slots__ = ("transaction", "challenge")
    TRANSACTION_FIELD_NUMBER: _ClassVar[int]
    CHALLENGE_FIELD_NUMBER: _ClassVar[int]
    transaction: _transaction_pb2.Transaction
    challenge: _challenge_pb2.Challenge
    def __init__(self, transaction: _Optional[_Union[_transaction_pb2.Transaction, _Mapping]] = ..., challenge: _Optional[_Union[_challenge_pb2.Challenge, _Mapping]] = ...) -> None: ...

class CreateDepositRequest(_message.Message):
    __slots__ = ("account_id", "amount", "currency", "method", "location", "reference", "description")
    ACCOUNT_ID_FIELD_NUMBER: _ClassVar[int]
    AMOUNT_FIELD_NUMBER: _ClassVar[int]
    CURRENCY_FIELD_NUMBER: _ClassVar[int]
    METHOD_FIELD_NUMBER: _ClassVar[int]
    LOCATION_FIELD_NUMBER: _ClassVar[int]
    REFERENCE_FIELD_NUMBER: _ClassVar[int]
    DESCRIPTION_FIELD_NUMBER: _ClassVar[int]
    account_id: str
    amount: float
    currency: str
    method: _transaction_pb2.DepositMethodEnum.DepositMethod
    location: str
    reference: str
    description: str
    def __init__(self, account_id: _Optional[str] = ..., amount: _Optional[float] = ..., currency: _Optional[str] = ..., method: _Optional[_Union[_transaction_pb2.DepositMethodEnum.DepositMethod, str]] = ..., location: _Optional[str] = ..., reference: _Optional[str] = ..., description: _Optional[str] = ...) -> None: ...

class CreateDepositResponse(_message.Message):
    __slots__ = ("transaction",)
    TRANSACTION_FIELD_NUMBER: _ClassVar[int]
    transaction: _transaction_pb2.Transaction
    def __init__(self, transaction: _Optional[_Union[_transaction_pb2.Transaction, _Mapping]] = ...) -> None: ...

class CreateWithdrawalRequest(_message.Message):
    __slots__ = ("account_id", "amount", "currency", "method", "location", "location_country", "pin", "card_number", "description")
    ACCOUNT_ID_FIELD_NUMBER: _ClassVar[int]
    AMOUNT_FIELD_NUMBER: _ClassVar[int]
    CURRENCY_FIELD_NUMBER: _ClassVar[int]
    METHOD_FIELD_NUMBER: _ClassVar[int]
    LOCATION_FIELD_NUMBER: _ClassVar[int]
    LOCATION_COUNTRY_FIELD_NUMBER: _ClassVar[int]
    PIN_FIELD_NUMBER: _ClassVar[int]
    CARD_NUMBER_FIELD_NUMBER: _ClassVar[int]
    DESCRIPTION_FIELD_NUMBER: _ClassVar[int]
    account_id: str
    amount: float
    currency: str
    method: _transaction_pb2.WithdrawalMethodEnum.WithdrawalMethod
    location: str
    location_country: str
    pin: str
    card_number: str
    description: str
    def __init__(self, account_id: _Optional[str] = ..., amount: _Optional[float] = ..., currency: _Optional[str] = ..., method: _Optional[_Union[_transaction_pb2.WithdrawalMethodEnum.WithdrawalMethod, str]] = ..., location: _Optional[str] = ..., location_country: _Optional[str] = ..., pin: _Optional[str] = ..., card_number: _Optional[str] = ..., description: _Optional[str] = ...) -> None: ...

class CreateWithdrawalResponse(_message.Message):
    __slots__ = ("transaction",)
    TRANSACTION_FIELD_NUMBER: _ClassVar[int]
    transaction: _transaction_pb2.Transaction
    def __init__(self, transaction: _Optional[_Union[_transaction_pb2.Transaction, _Mapping]] = ...) -> None: ...

class CreatePaymentRequest(_message.Message):
    __slots__ = ("from_account_id", "payee_id", "amount", "currency", "payment_date", "account_number", "memo")
    FROM_ACCOUNT_ID_FIELD_NUMBER: _ClassVar[int]
    PAYEE_ID_FIELD_NUMBER: _ClassVar[int]
    AMOUNT_FIELD_NUMBER: _ClassVar[int]
    CURRENCY_FIELD_NUMBER: _ClassVar[int]
    PAYMENT_DATE_FIELD_NUMBER: _ClassVar[int]
    ACCOUNT_NUMBER_FIELD_NUMBER: _ClassVar[int]
    MEMO_FIELD_NUMBER: _ClassVar[int]
    from_account_id: str
    payee_id: str
    amount: float
    currency: str
    payment_date: str
    account_number: str
    memo: str
    def __init__(self, from_account_id: _Optional[str] = ..., payee_id: _Optional[str] = ..., amount: _Optional[float] = ..., currency: _Optional[str] = ..., payment_date: _Optional[str] = ..., account_number: _Optional[str] = ..., memo: _Optional[str] = ...) -> None: ...

class CreatePaymentResponse(_message.Message):
    __slots__ = ("transaction", "challenge")
    TRANSACTION_FIELD_NUMBER: _ClassVar[int]
    CHALLENGE_FIELD_NUMBER: _ClassVar[int]
    transaction: _transaction_pb2.Transaction
    challenge: _challenge_pb2.Challenge
    def __init__(self, transaction: _Optional[_Union[_transaction_pb2.Transaction, _Mapping]] = ..., challenge: _Optional[_Union[_challenge_pb2.Challenge, _Mapping]] = ...) -> None: ...

class GetTransactionRequest(_message.Message):
    __slots__ = ("transaction_id",)
    TRANSACTION_ID_FIELD_NUMBER: _ClassVar[int]
    transaction_id: str
    def __init__(self, transaction_id: _Optional[str] = ...) -> None: ...

class GetTransactionResponse(_message.Message):
    __slots__ = ("transaction",)
    TRANSACTION_FIELD_NUMBER: _ClassVar[int]
    transaction: _transaction_pb2.Transaction
    def __init__(self, transaction: _Optional[_Union[_transaction_pb2.Transaction, _Mapping]] = ...) -> None: ...

class SearchTransactionsRequest(_message.Message):
    __slots__ = ("account_id", "filters", "page", "limit", "page_token", "sort_by", "sort_order", "sort", "order")
    class Filters(_message.Message):
        __slots__ = ("types", "status", "date_range", "amount_range", "keywords")
        TYPES_FIELD_NUMBER: _ClassVar[int]
        STATUS_FIELD_NUMBER: _ClassVar[int]
        DATE_RANGE_FIELD_NUMBER: _ClassVar[int]
        AMOUNT_RANGE_FIELD_NUMBER: _ClassVar[int]
        KEYWORDS_FIELD_NUMBER: _ClassVar[int]
        types: _containers.RepeatedScalarFieldContainer[_transaction_pb2.TransactionTypeEnum.TransactionType]
        status: _containers.RepeatedScalarFieldContainer[_transaction_pb2.TransactionStatusEnum.TransactionStatus]
        date_range: _common_pb2.DateRange
        amount_range: _common_pb2.AmountRange
        keywords: _containers.RepeatedScalarFieldContainer[str]
        def __init__(self, types: _Optional[_Iterable[_Union[_transaction_pb2.TransactionTypeEnum.TransactionType, str]]] = ..., status: _Optional[_Iterable[_Union[_transaction_pb2.TransactionStatusEnum.TransactionStatus, str]]] = ..., date_range: _Optional[_Union[_common_pb2.DateRange, _Mapping]] = ..., amount_range: _Optional[_Union[_common_pb2.AmountRange, _Mapping]] = ..., keywords: _Optional[_Iterable[str]] = ...) -> None: ...
    ACCOUNT_ID_FIELD_NUMBER: _ClassVar[int]
    FILTERS_FIELD_NUMBER: _ClassVar[int]
    PAGE_FIELD_NUMBER: _ClassVar[int]
    LIMIT_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    SORT_BY_FIELD_NUMBER: _ClassVar[int]
    SORT_ORDER_FIELD_NUMBER: _ClassVar[int]
    SORT_FIELD_NUMBER: _ClassVar[int]
    ORDER_FIELD_NUMBER: _ClassVar[int]
    account_id: str
    filters: SearchTransactionsRequest.Filters
    page: int
    limit: int
    page_token: str
    sort_by: str
    sort_order: str
    sort: str
    order: str
    def __init__(self, account_id: _Optional[str] = ..., filters: _Optional[_Union[SearchTransactionsRequest.Filters, _Mapping]] = ..., page: _Optional[int] = ..., limit: _Optional[int] = ..., page_token: _Optional[str] = ..., sort_by: _Optional[str] = ..., sort_order: _Optional[str] = ..., sort: _Optional[str] = ..., order: _Optional[str] = ...) -> None: ...

class SearchTransactionsResponse(_message.Message):
    __slots__ = ("transactions", "pagination", "summary", "next_page_token")
    TRANSACTIONS_FIELD_NUMBER: _ClassVar[int]
    PAGINATION_FIELD_NUMBER: _ClassVar[int]
    SUMMARY_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    transactions: _containers.RepeatedCompositeFieldContainer[_transaction_pb2.TransactionListItem]
    pagination: _common_pb2.Pagination
    summary: _transaction_pb2.TransactionTotals
    next_page_token: str
    def __init__(self, transactions: _Optional[_Iterable[_Union[_transaction_pb2.TransactionListItem, _Mapping]]] = ..., pagination: _Optional[_Union[_common_pb2.Pagination, _Mapping]] = ..., summary: _Optional[_Union[_transaction_pb2.TransactionTotals, _Mapping]] = ..., next_page_token: _Optional[str] = ...) -> None: ...

class CancelTransactionRequest(_message.Message):
    __slots__ = ("transaction_id", "reason", "notes")
    TRANSACTION_ID_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    NOTES_FIELD_NUMBER: _ClassVar[int]
    transaction_id: str
    reason: _transaction_pb2.TransactionCancelReasonEnum.TransactionCancelReason
    notes: str
    def __init__(self, transaction_id: _Optional[str] = ..., reason: _Optional[_Union[_transaction_pb2.TransactionCancelReasonEnum.TransactionCancelReason, str]] = ..., notes: _Optional[str] = ...) -> None: ...

class CancelTransactionResponse(_message.Message):
    __slots__ = ("transaction_id", "status", "cancelled_at", "refund_amount")
    TRANSACTION_ID_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    CANCELLED_AT_FIELD_NUMBER: _ClassVar[int]
    REFUND_AMOUNT_FIELD_NUMBER: _ClassVar[int]
    transaction_id: str
    status: _transaction_pb2.TransactionStatusEnum.TransactionStatus
    cancelled_at: _timestamp_pb2.Timestamp
    refund_amount: float
    def __init__(self, transaction_id: _Optional[str] = ..., status: _Optional[_Union[_transaction_pb2.TransactionStatusEnum.TransactionStatus, str]] = ..., cancelled_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., refund_amount: _Optional[float] = ...) -> None: ...

class RefundTransactionRequest(_message.Message):
    __slots__ = ("transaction_id", "reason", "amount", "description")
    TRANSACTION_ID_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    AMOUNT_FIELD_NUMBER: _ClassVar[int]
    DESCRIPTION_FIELD_NUMBER: _ClassVar[int]
    transaction_id: str
    reason: _refund_pb2.RefundReasonEnum.RefundReason
    amount: float
    description: str
    def __init__(self, transaction_id: _Optional[str] = ..., reason: _Optional[_Union[_refund_pb2.RefundReasonEnum.RefundReason, str]] = ..., amount: _Optional[float] = ..., description: _Optional[str] = ...) -> None: ...

class RefundTransactionResponse(_message.Message):
    __slots__ = ("refund_request",)
    REFUND_REQUEST_FIELD_NUMBER: _ClassVar[int]
    refund_request: _refund_pb2.RefundRequest
    def __init__(self, refund_request: _Optional[_Union[_refund_pb2.RefundRequest, _Mapping]] = ...) -> None: ...

class ReverseTransactionRequest(_message.Message):
    __slots__ = ("transaction_id", "reason", "notes")
    TRANSACTION_ID_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    NOTES_FIELD_NUMBER: _ClassVar[int]
    transaction_id: str
    reason: _transaction_pb2.TransactionReversalReasonEnum.TransactionReversalReason
    notes: str
    def __init__(self, transaction_id: _Optional[str] = ..., reason: _Optional[_Union[_transaction_pb2.TransactionReversalReasonEnum.TransactionReversalReason, str]] = ..., notes: _Optional[str] = ...) -> None: ...

class ReverseTransactionResponse(_message.Message):
    __slots__ = ("transaction", "original_transaction")
    TRANSACTION_FIELD_NUMBER: _ClassVar[int]
    ORIGINAL_TRANSACTION_FIELD_NUMBER: _ClassVar[int]
    transaction: _transaction_pb2.Transaction
    original_transaction: _transaction_pb2.Transaction
    def __init__(self, transaction: _Optional[_Union[_transaction_pb2.Transaction, _Mapping]] = ..., original_transaction: _Optional[_Union[_transaction_pb2.Transaction, _Mapping]] = ...) -> None: ...

class ExportTransactionsRequest(_message.Message):
    __slots__ = ("account_id", "format", "start_date", "end_date")
    ACCOUNT_ID_FIELD_NUMBER: _ClassVar[int]
    FORMAT_FIELD_NUMBER: _ClassVar[int]
    START_DATE_FIELD_NUMBER: _ClassVar[int]
    END_DATE_FIELD_NUMBER: _ClassVar[int]
    account_id: str
    format: str
    start_date: str
    end_date: str
    def __init__(self, account_id: _Optional[str] = ..., format: _Optional[str] = ..., start_date: _Optional[str] = ..., end_date: _Optional[str] = ...) -> None: ...

class CreateRecurringTransactionRequest(_message.Message):
    __slots__ = ("from_account_id", "to_account_id", "payee_id", "amount", "currency", "description", "frequency", "start_date", "end_date", "day_of_month", "account_number")
    FROM_ACCOUNT_ID_FIELD_NUMBER: _ClassVar[int]
    TO_ACCOUNT_ID_FIELD_NUMBER: _ClassVar[int]
    PAYEE_ID_FIELD_NUMBER: _ClassVar[int]
    AMOUNT_FIELD_NUMBER: _ClassVar[int]
    CURRENCY_FIELD_NUMBER: _ClassVar[int]
    DESCRIPTION_FIELD_NUMBER: _ClassVar[int]
    FREQUENCY_FIELD_NUMBER: _ClassVar[int]
    START_DATE_FIELD_NUMBER: _ClassVar[int]
    END_DATE_FIELD_NUMBER: _ClassVar[int]
    DAY_OF_MONTH_FIELD_NUMBER: _ClassVar[int]
    ACCOUNT_NUMBER_FIELD_NUMBER: _ClassVar[int]
    from_account_id: str
    to_account_id: str
    payee_id: str
    amount: float
    currency: str
    description: str
    frequency: _transaction_pb2.RecurringFrequencyEnum.RecurringFrequency
    start_date: str
    end_date: str
    day_of_month: int
    account_number: str
    def __init__(self, from_account_id: _Optional[str] = ..., to_account_id: _Optional[str] = ..., payee_id: _Optional[str] = ..., amount: _Optional[float] = ..., currency: _Optional[str] = ..., description: _Optional[str] = ..., frequency: _Optional[_Union[_transaction_pb2.RecurringFrequencyEnum.RecurringFrequency, str]] = ..., start_date: _Optional[str] = ..., end_date: _Optional[str] = ..., day_of_month: _Optional[int] = ..., account_number: _Optional[str] = ...) -> None: ...

class CreateRecurringTransactionResponse(_message.Message):
    __slots__ = ("recurring_transaction", "challenge")
    RECURRING_TRANSACTION_FIELD_NUMBER: _ClassVar[int]
    CHALLENGE_FIELD_NUMBER: _ClassVar[int]
    recurring_transaction: _transaction_pb2.RecurringTransaction
    challenge: _challenge_pb2.Challenge
    def __init__(self, recurring_transaction: _Optional[_Union[_transaction_pb2.RecurringTransaction, _Mapping]] = ..., challenge: _Optional[_Union[_challenge_pb2.Challenge, _Mapping]] = ...) -> None: ...

class ListRecurringTransactionsRequest(_message.Message):
    __slots__ = ("account_id", "status", "page", "limit", "page_token")
    ACCOUNT_ID_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    PAGE_FIELD_NUMBER: _ClassVar[int]
    LIMIT_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    account_id: str
    status: _transaction_pb2.RecurringTransactionStatusEnum.RecurringTransactionStatus
    page: int
    limit: int
    page_token: str
    def __init__(self, account_id: _Optional[str] = ..., status: _Optional[_Union[_transaction_pb2.RecurringTransactionStatusEnum.RecurringTransactionStatus, str]] = ..., page: _Optional[int] = ..., limit: _Optional[int] = ..., page_token: _Optional[str] = ...) -> None: ...

class ListRecurringTransactionsResponse(_message.Message):
    __slots__ = ("recurring_transactions", "pagination", "next_page_token")
    RECURRING_TRANSACTIONS_FIELD_NUMBER: _ClassVar[int]
    PAGINATION_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    recurring_transactions: _containers.RepeatedCompositeFieldContainer[_transaction_pb2.RecurringTransaction]
    pagination: _common_pb2.Pagination
    next_page_token: str
    def __init__(self, recurring_transactions: _Optional[_Iterable[_Union[_transaction_pb2.RecurringTransaction, _Mapping]]] = ..., pagination: _Optional[_Union[_common_pb2.Pagination, _Mapping]] = ..., next_page_token: _Optional[str] = ...) -> None: ...

class GetRecurringTransactionRequest(_message.Message):
    __slots__ = ("recurring_id",)
    RECURRING_ID_FIELD_NUMBER: _ClassVar[int]
    recurring_id: str
    def __init__(self, recurring_id: _Optional[str] = ...) -> None: ...

class GetRecurringTransactionResponse(_message.Message):
    __slots__ = ("recurring_transaction",)
    RECURRING_TRANSACTION_FIELD_NUMBER: _ClassVar[int]
    recurring_transaction: _transaction_pb2.RecurringTransaction
    def __init__(self, recurring_transaction: _Optional[_Union[_transaction_pb2.RecurringTransaction, _Mapping]] = ...) -> None: ...

class CancelRecurringTransactionRequest(_message.Message):
    __slots__ = ("recurring_id",)
    RECURRING_ID_FIELD_NUMBER: _ClassVar[int]
    recurring_id: str
    def __init__(self, recurring_id: _Optional[str] = ...) -> None: ...

class CancelRecurringTransactionResponse(_message.Message):
    __slots__ = ("recurring_transaction",)
    RECURRING_TRANSACTION_FIELD_NUMBER: _ClassVar[int]
    recurring_transaction: _transaction_pb2.RecurringTransaction
    def __init__(self, recurring_transaction: _Optional[_Union[_transaction_pb2.RecurringTransaction, _Mapping]] = ...) -> None: ...
